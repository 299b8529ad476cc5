package dev.junction.control.diff;

import dev.junction.control.cli.JunctionCli;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded differential test: for each generated case, Open vSwitch (through {@code ovs-oracle})
 * and {@code junction replay} get the same flows and pcaps; Junction must refuse what OVS
 * refuses and otherwise send byte-identical packets on every port.
 *
 * <p>System properties: {@code junction.diff.seed} (default 0x5EED; decimal or 0x-hex),
 * {@code junction.diff.cases} (default 300) and {@code junction.diff.only} (comma-separated case
 * indices, to rerun just the failing ones). A failing case keeps its directory (flows, inputs,
 * both outputs, oracle logs); a passing one is deleted.
 */
class DifferentialOracleTest
{
    static final long SEED = parseSeed(System.getProperty("junction.diff.seed", "0x5EED"));
    static final int CASES = Integer.getInteger("junction.diff.cases", 300);

    static IntStream caseIndices()
    {
        final String only = System.getProperty("junction.diff.only", "").trim();
        if (!only.isEmpty())
        {
            return Arrays.stream(only.split(",")).map(String::trim).mapToInt(Integer::parseInt);
        }
        return IntStream.range(0, CASES);
    }

    @ParameterizedTest(name = "case {0}")
    @MethodSource("caseIndices")
    void replayMatchesOpenVswitch(final int caseIndex) throws Exception
    {
        final FlowCaseGenerator.FlowCase flowCase = new FlowCaseGenerator(SEED).generate(caseIndex);
        verifyAgainstOracle(flowCase, String.format(
            "mvn -pl control test -Dtest=DifferentialOracleTest -Djunction.diff.seed=0x%x -Djunction.diff.only=%d",
            SEED, caseIndex));
    }

    /**
     * Runs {@code flowCase} through the oracle and through {@code JunctionCli.execute("replay", ...)}
     * and fails with a full report unless Junction agrees with OVS.
     */
    static void verifyAgainstOracle(final FlowCaseGenerator.FlowCase flowCase, final String reproduce)
        throws Exception
    {
        final OracleRunner oracle = OracleRunner.require();
        final Path dir = Files.createTempDirectory(
            "junction-diff-" + flowCase.name().replaceAll("[^A-Za-z0-9]+", "-") + "-");
        boolean passed = false;
        try
        {
            final List<String> inputArgs = flowCase.writeTo(dir);
            final Path expected = dir.resolve("expected");
            // Not created here: like the oracle, replay must create --out itself.
            final Path actual = dir.resolve("actual");

            // The oracle is a separate process: let it work while Junction runs in this JVM.
            final OracleRunner.Running running = oracle.start(replayArgs(inputArgs, expected), dir);
            final JunctionRun junction = runJunction(replayArgs(inputArgs, actual));
            final OracleRunner.Result ovs = running.await(OracleRunner.DEFAULT_TIMEOUT);

            final String failure = judge(ovs, junction, expected, actual);
            if (failure != null)
            {
                fail(report(flowCase, reproduce, dir, failure, ovs, junction));
            }
            passed = true;
        }
        finally
        {
            if (passed)
            {
                deleteRecursively(dir);
            }
        }
    }

    /** Null when Junction agrees with OVS, else what went wrong. */
    private static String judge(
        final OracleRunner.Result ovs, final JunctionRun junction, final Path expected, final Path actual)
        throws IOException
    {
        if (ovs.timedOut())
        {
            return "the oracle timed out after " + ovs.millis() + " ms";
        }
        if (!ovs.ok() && !ovs.refused())
        {
            return "the oracle itself failed (exit " + ovs.exitCode() + "), so nothing can be judged";
        }
        if (junction.thrown() != null)
        {
            return "Junction threw instead of " + (ovs.refused() ? "refusing the flows (exit != 0)" : "replaying");
        }
        if (ovs.refused())
        {
            return junction.exitCode() != 0 ? null :
                "OVS refused the flows (oracle exit 3) but Junction accepted them (exit 0)";
        }
        if (junction.exitCode() != 0)
        {
            return "OVS accepted the flows but Junction exited " + junction.exitCode();
        }
        final PcapCompare.Report report = PcapCompare.compare(expected, actual);
        if (!report.identical())
        {
            return "outputs differ\n" + report.text();
        }
        // Megaflows: per trace Junction must not install more than OVS (its masks must be as wide);
        // totals are reported over the suite (below).
        final long ours = megaflowCount(actual.resolve("megaflows.txt"));
        final long theirs = megaflowCount(expected.resolve("megaflows.txt"));
        MEGAFLOWS_OURS.addAndGet(ours);
        MEGAFLOWS_OVS.addAndGet(theirs);
        if (ours > theirs)
        {
            SURPLUS.add(expected.getParent().getFileName() + ": " + ours + " vs " + theirs);
            return "Junction installed more megaflows than OVS: " + ours + " > " + theirs + "\n"
                + megaflowLines("OVS", expected.resolve("megaflows.txt"))
                + megaflowLines("Junction", actual.resolve("megaflows.txt"));
        }
        return MegaflowActionsText.compare(expected.resolve("megaflows.txt"), actual.resolve("megaflows.txt"));
    }

    private static String megaflowLines(final String who, final Path file) throws IOException
    {
        final StringBuilder s = new StringBuilder(who).append(" megaflows.txt:\n");
        try (var lines = Files.lines(file))
        {
            lines.filter(l -> l.startsWith("recirc_id(") || l.startsWith("tunnel("))
                .forEach(l -> s.append("  ").append(l).append('\n'));
        }
        return s.toString();
    }

    static final java.util.List<String> SURPLUS = java.util.Collections.synchronizedList(new ArrayList<>());

    static final java.util.concurrent.atomic.AtomicLong MEGAFLOWS_OURS = new java.util.concurrent.atomic.AtomicLong();
    static final java.util.concurrent.atomic.AtomicLong MEGAFLOWS_OVS = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Over the suite Junction must not install more megaflows than OVS (each trace is also held
     * to that in {@link #judge}); the totals and any trace over OVS's count are printed.
     */
    @org.junit.jupiter.api.AfterAll
    static void megaflowsNoMoreThanOvs()
    {
        if (MEGAFLOWS_OVS.get() == 0)
        {
            return;
        }
        System.out.printf("megaflows over the differential suite: Junction %d, OVS %d, ratio %.3f; "
            + "traces where Junction installed more: %d %s%n", MEGAFLOWS_OURS.get(), MEGAFLOWS_OVS.get(),
            (double)MEGAFLOWS_OURS.get() / MEGAFLOWS_OVS.get(), SURPLUS.size(), SURPLUS);
        System.out.println("megaflows whose actions were compared with OVS's text, per kind: "
            + MegaflowActionsText.summary());
        org.junit.jupiter.api.Assertions.assertTrue(MEGAFLOWS_OURS.get() <= MEGAFLOWS_OVS.get(),
            "Junction installed more megaflows than OVS over the suite: " + MEGAFLOWS_OURS + " > " + MEGAFLOWS_OVS);
        if (System.getProperty("junction.diff.only", "").isBlank() && CASES >= 300)
        {
            // The whole suite has these actions (SCTP aside): a comparison that judged none would
            // prove nothing.
            for (int k = 0; k < MegaflowActionsText.KINDS.length - 1; k++)
            {
                org.junit.jupiter.api.Assertions.assertTrue(MegaflowActionsText.COMPARED[k].get() > 0,
                    "no megaflow with " + MegaflowActionsText.KINDS[k] + " was compared with OVS's");
            }
        }
    }

    private static long megaflowCount(final Path file) throws IOException
    {
        if (!Files.exists(file))
        {
            throw new IOException(file + " missing: replay must write the datapath's megaflows");
        }
        try (var lines = Files.lines(file))
        {
            return lines.filter(l -> l.startsWith("recirc_id(")).count();
        }
    }

    static List<String> replayArgs(final List<String> inputArgs, final Path out)
    {
        final List<String> args = new ArrayList<>(inputArgs);
        args.add("--out");
        args.add(out.toString());
        args.add("--ports");
        args.add(FlowCaseGenerator.PORTS_ARG);
        return args;
    }

    record JunctionRun(int exitCode, String output, Throwable thrown)
    {
    }

    /**
     * Worker counts the replay is also run with through the Disruptor pipeline, after the
     * single-thread run the oracle judges ({@code junction.replay.pipelineWorkers}, default 1,2;
     * empty for none): each must write the same files byte for byte, so every oracle case also
     * holds for the pipeline.
     */
    static final int[] PIPELINE_WORKERS = Arrays.stream(
        System.getProperty("junction.replay.pipelineWorkers", "1,2").split(",")).map(String::strip)
        .filter(w -> !w.isEmpty()).mapToInt(Integer::parseInt).toArray();

    /**
     * For suites whose packets of different flows meet in shared state (conntrack connections
     * whose directions hash to different workers, conntrack sweeps on each worker's packet time,
     * MAC learning, learned flows, the underlay's neighbour resolution): with several workers the result depends on which worker gets
     * there first, as with OVS's PMD threads, so only one worker can match the one-at-a-time
     * contract. One worker still runs every case through the ring, RX and TX of the pipeline.
     */
    static final int[] SHARED_STATE_WORKERS = Arrays.stream(PIPELINE_WORKERS).filter(w -> w == 1).toArray();

    private static final java.util.regex.Pattern COMPARED = java.util.regex.Pattern.compile(
        "\\d+\\.pcap|flow-stats\\.txt|conntrack\\.txt");

    /**
     * Runs {@code junction replay} in-process (see {@link #runCli}), then again through the
     * pipeline with each of {@link #PIPELINE_WORKERS} workers into a sibling of the output
     * directory: per-port pcaps, flow-stats.txt and conntrack.txt must equal the single-thread
     * run's byte for byte (megaflows.txt differs by design: each worker has its own cache). A
     * difference is reported as a failed run naming the file and the directory kept.
     */
    static JunctionRun runJunction(final List<String> args)
    {
        return runJunction(args, PIPELINE_WORKERS);
    }

    /** As {@link #runJunction(List)}, through the pipeline with each of {@code pipelineWorkers} workers. */
    static JunctionRun runJunction(final List<String> args, final int[] pipelineWorkers)
    {
        final JunctionRun single = runCli(args);
        final int at = args.indexOf("--out");
        if (single.thrown() != null || single.exitCode() != 0 || at < 0)
        {
            return single;
        }
        final Path out = Path.of(args.get(at + 1));
        for (final int workers : pipelineWorkers)
        {
            final Path piped = out.resolveSibling(out.getFileName() + "-workers-" + workers);
            final List<String> pipedArgs = new ArrayList<>(args);
            pipedArgs.set(at + 1, piped.toString());
            pipedArgs.add("--workers");
            pipedArgs.add(Integer.toString(workers));
            final JunctionRun run = runCli(pipedArgs);
            String difference = run.thrown() != null ? "threw " + run.thrown()
                : run.exitCode() != 0 ? "exited " + run.exitCode() : null;
            try
            {
                if (difference == null)
                {
                    difference = sameFiles(out, piped);
                }
                if (difference == null)
                {
                    deleteRecursively(piped);
                    continue;
                }
            }
            catch (final IOException ex)
            {
                difference = ex.toString();
            }
            final String message = "replay through the pipeline with " + workers + " worker(s) (" + piped
                + ") differs from the single-thread replay: " + difference;
            return new JunctionRun(-1, single.output() + "\n" + message, new AssertionError(message));
        }
        return single;
    }

    /** Null when both directories hold the same compared files with the same bytes, else the first difference. */
    private static String sameFiles(final Path expected, final Path actual) throws IOException
    {
        final List<String> names;
        final List<String> others;
        try (Stream<Path> a = Files.list(expected); Stream<Path> b = Files.list(actual))
        {
            names = a.map(f -> f.getFileName().toString()).filter(n -> COMPARED.matcher(n).matches()).sorted().toList();
            others = b.map(f -> f.getFileName().toString()).filter(n -> COMPARED.matcher(n).matches()).sorted().toList();
        }
        if (!names.equals(others))
        {
            return "files " + others + " instead of " + names;
        }
        for (final String name : names)
        {
            final long mismatch = Files.mismatch(expected.resolve(name), actual.resolve(name));
            if (mismatch >= 0)
            {
                return name + " differs from byte " + mismatch;
            }
        }
        return null;
    }

    /**
     * Runs the CLI in-process, teeing what it prints so the failure report can quote it. The
     * tests run sequentially, so swapping System.out/err for the call is safe.
     */
    static JunctionRun runCli(final List<String> args)
    {
        final String[] argv = Stream.concat(Stream.of("replay"), args.stream()).toArray(String[]::new);
        final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        final PrintStream originalOut = System.out;
        final PrintStream originalErr = System.err;
        System.setOut(new PrintStream(new TeeStream(originalOut, captured), true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(new TeeStream(originalErr, captured), true, StandardCharsets.UTF_8));
        try
        {
            final int exit = JunctionCli.execute(argv);
            return new JunctionRun(exit, captured.toString(StandardCharsets.UTF_8), null);
        }
        catch (final Throwable ex)
        {
            return new JunctionRun(-1, captured.toString(StandardCharsets.UTF_8), ex);
        }
        finally
        {
            System.out.flush();
            System.err.flush();
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
    }

    private static String report(
        final FlowCaseGenerator.FlowCase flowCase,
        final String reproduce,
        final Path dir,
        final String failure,
        final OracleRunner.Result ovs,
        final JunctionRun junction)
    {
        final StringBuilder s = new StringBuilder();
        s.append("Junction disagrees with Open vSwitch: ").append(failure.strip()).append("\n\n");
        s.append("case:      ").append(flowCase.name()).append('\n');
        s.append("kept in:   ").append(dir).append("  (flows.txt, in-N.pcap, expected/ = OVS, actual/ = Junction)\n");
        s.append("reproduce: ").append(reproduce).append('\n');
        s.append("oracle:    exit ").append(ovs.exitCode()).append(", ").append(ovs.millis()).append(" ms\n");
        s.append("junction:  exit ").append(junction.exitCode()).append('\n');
        if (!flowCase.notes().isEmpty())
        {
            s.append("notes:\n");
            flowCase.notes().forEach(n -> s.append("  ").append(n).append('\n'));
        }
        s.append("\nflows.txt:\n");
        final String[] lines = flowCase.flows().split("\n");
        for (int i = 0; i < lines.length; i++)
        {
            s.append(String.format("  %3d  %s%n", i + 1, lines[i]));
        }
        s.append("\ninputs:\n").append(flowCase.describeInputs());
        appendQuoted(s, "oracle stdout", ovs.stdout());
        appendQuoted(s, "oracle stderr", ovs.stderr());
        appendQuoted(s, "junction output", junction.output());
        if (junction.thrown() != null)
        {
            final StringWriter trace = new StringWriter();
            junction.thrown().printStackTrace(new PrintWriter(trace));
            appendQuoted(s, "junction threw", trace.toString());
        }
        return s.toString();
    }

    private static void appendQuoted(final StringBuilder s, final String title, final String text)
    {
        if (text != null && !text.isBlank())
        {
            s.append('\n').append(title).append(":\n");
            text.strip().lines().limit(60).forEach(line -> s.append("  ").append(line).append('\n'));
        }
    }

    static long parseSeed(final String text)
    {
        final String t = text.trim();
        return t.startsWith("0x") || t.startsWith("0X") ? Long.parseUnsignedLong(t.substring(2), 16) : Long.parseLong(t);
    }

    static void deleteRecursively(final Path dir) throws IOException
    {
        if (!Files.exists(dir))
        {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir))
        {
            for (final Path p : paths.sorted(Comparator.reverseOrder()).toList())
            {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Writes to two streams: the real console and the capture buffer. */
    private static final class TeeStream extends OutputStream
    {
        private final OutputStream first;
        private final OutputStream second;

        TeeStream(final OutputStream first, final OutputStream second)
        {
            this.first = first;
            this.second = second;
        }

        @Override
        public void write(final int b) throws IOException
        {
            first.write(b);
            second.write(b);
        }

        @Override
        public void write(final byte[] b, final int off, final int len) throws IOException
        {
            first.write(b, off, len);
            second.write(b, off, len);
        }

        @Override
        public void flush() throws IOException
        {
            first.flush();
            second.flush();
        }
    }
}
