package dev.junction.bench;

import org.junit.jupiter.api.Test;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.PrintStream;
import java.io.OutputStream;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs every benchmark of the module once, with the quick settings {@code bin/junction-bench
 * --quick} uses, so a benchmark that throws in setup or measures nothing fails the build. The
 * list comes from JMH's generated BenchmarkList: a new benchmark class is covered by dropping it in.
 */
final class BenchmarksRunTest
{
    private static final String PACKAGE = Pattern.quote(BenchmarksRunTest.class.getPackageName() + ".");
    private static final String GC_NORM = "gc.alloc.rate.norm";

    @Test
    void everyBenchmarkRunsAndTheFastPathAllocatesNothing() throws RunnerException
    {
        // One fork (not zero): the GC profiler's per-op figure must not include what this JVM's
        // test framework allocates, and the fork gets the benchmarks' own JVM flags.
        final Options options = new OptionsBuilder()
            .include("^" + PACKAGE)
            .forks(1)
            .warmupIterations(1)
            .warmupTime(TimeValue.milliseconds(200))
            .measurementIterations(1)
            .measurementTime(TimeValue.milliseconds(300))
            .addProfiler(GCProfiler.class)
            // ControlScaleBenchmark on a small cluster (its defaults are the full 1,000-node scale).
            .param("nodes", "10")
            .param("pods", "300")
            .param("services", "50")
            .param("policies", "50")
            .shouldFailOnError(true)
            .verbosity(VerboseMode.NORMAL)
            .build();
        final Collection<RunResult> results = new Runner(options).run();

        final Set<String> ran = new TreeSet<>();
        for (final RunResult r : results)
        {
            final String name = r.getParams().getBenchmark() + " " + r.getParams();
            final double score = r.getPrimaryResult().getScore();
            assertTrue(score > 0 && Double.isFinite(score), name + ": score " + score);
            ran.add(r.getParams().getBenchmark());
        }
        assertEquals(listedBenchmarks(), ran, "every listed benchmark produced a result");

        // Millions of ops per iteration make JMH's own per-iteration allocation vanish in the
        // per-op figure, so below 1 B/op means the measured code allocates nothing. (The upcall
        // runs a few thousand ops per iteration, where that overhead alone reaches ~2 B/op: it
        // is checked per op with the thread's allocation counter in AllocationTest instead.)
        for (final RunResult r : results)
        {
            final String benchmark = r.getParams().getBenchmark();
            // The pipeline is left out: an idle worker parking on the blocking wait strategy's
            // condition allocates a queue node per park, which is not per packet.
            if (benchmark.endsWith(".ParseBenchmark.parse") || benchmark.endsWith(".DatapathBenchmark.burst")
                || benchmark.endsWith(".EmcHitBenchmark.burst") || benchmark.endsWith(".MegaflowHitBenchmark.burst")
                || benchmark.contains(".GeneveBenchmark.") || benchmark.endsWith(".OverlayBenchmark.burst"))
            {
                final Result<?> norm = r.getSecondaryResults().get(GC_NORM);
                assertNotNull(norm, benchmark + ": no " + GC_NORM + " (GC profiler unavailable?)");
                assertTrue(norm.getScore() < 1.0, benchmark + " " + r.getParams() + ": " + norm.getScore() + " B/op");
            }
        }
    }

    private static Set<String> listedBenchmarks()
    {
        final Set<String> names = new TreeSet<>();
        final PrintStream discard = new PrintStream(OutputStream.nullOutputStream());
        for (final BenchmarkListEntry e : BenchmarkList.defaultList()
            .find(OutputFormatFactory.createFormatInstance(discard, VerboseMode.SILENT), List.of("^" + PACKAGE), List.of()))
        {
            names.add(e.getUsername());
        }
        assertFalse(names.isEmpty(), "no benchmarks in META-INF/BenchmarkList");
        assertTrue(names.contains(ParseBenchmark.class.getName() + ".parse"), names.toString());
        return names;
    }
}
