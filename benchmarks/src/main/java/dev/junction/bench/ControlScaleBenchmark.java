package dev.junction.bench;

import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.scale.ClusterGenerator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.concurrent.TimeUnit;

/**
 * The control plane at the scale: {@link FlowCompiler#node} of one node of a
 * {@link ClusterGenerator} cluster (1,000 nodes, 30,000 pods, 5,000 services, 5,000 policies by
 * default; the target is at most 10 s). One op is one full compilation, timed once per
 * iteration (single shot). The model is generated once per trial, outside the measurement.
 *
 * <p>Memory: the trial setup prints the heap the model holds, and every iteration's teardown
 * the heap the compiled result holds (used heap after a full GC with the result reachable,
 * minus the same without it), with the flow and group counts, as {@code [control-scale]} lines
 * on the fork's stdout.
 *
 * <p>{@code -p nodes=10 -p pods=300 -p services=50 -p policies=50} is a small cluster for a quick
 * run (what {@code bin/junction-bench --quick} and {@code BenchmarksRunTest} use).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {BenchDefaults.ADD_OPENS, BenchDefaults.JDK_INTERNAL_MISC})
@Warmup(iterations = 1)
@Measurement(iterations = 3)
public class ControlScaleBenchmark
{
    @Param("1000")
    public int nodes;

    @Param("30000")
    public int pods;

    @Param("5000")
    public int services;

    @Param("5000")
    public int policies;

    @Param("1")
    public long seed;

    private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

    private ClusterModel model;
    private String node;
    private FlowCompiler.Compiled last;

    @Setup(Level.Trial)
    public void setUp()
    {
        final long before = usedAfterGc();
        final long start = System.nanoTime();
        model = new ClusterGenerator(nodes, pods, services, policies, seed).model();
        final long generated = System.nanoTime() - start;
        final long after = usedAfterGc();
        node = ClusterGenerator.nodeName(0);
        final long local = model.pods().stream().filter(p -> node.equals(p.nodeName())).count();
        if (local == 0)
        {
            throw new IllegalStateException("no pod on " + node + ": nothing to compile");
        }
        report(String.format("model: %d nodes, %d pods (%d on %s), %d services, %d policies; generated in %.2f s, "
            + "heap held by the model %.1f MiB", nodes, pods, local, node, services, policies, generated / 1e9,
            (after - before) / 1048576.0));
    }

    @Benchmark
    public FlowCompiler.Compiled fullCompile()
    {
        last = FlowCompiler.node(model, node);
        return last;
    }

    @TearDown(Level.Iteration)
    public void reportCompiled()
    {
        if (last == null || last.flows().size() == 0)
        {
            throw new IllegalStateException("nothing compiled");
        }
        final int flows = last.flows().size();
        final int groups = last.groups().size();
        final int ports = last.layout().ports().size();
        final long with = usedAfterGc();
        last = null;
        final long without = usedAfterGc();
        report(String.format("compiled %s: %d flows, %d groups, %d local ports; heap held by the result %.1f MiB "
            + "(heap used with it %.1f MiB)", node, flows, groups, ports, (with - without) / 1048576.0, with / 1048576.0));
    }

    private static long usedAfterGc()
    {
        for (int i = 0; i < 3; i++)
        {
            System.gc();
        }
        return MEMORY.getHeapMemoryUsage().getUsed();
    }

    private static void report(final String line)
    {
        System.out.println();
        System.out.println("[control-scale] " + line);
    }
}
