package dev.junction.bench;

import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.flows.IncrementalCompiler;
import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.EndpointSlice;
import dev.junction.control.k8s.Pod;
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
import java.util.ArrayList;
import java.util.List;
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
 * <p>{@code podAdded} / {@code podRemoved}: {@link IncrementalCompiler#update} with one pod more
 * (a replica of a local pod's app, scheduled on the compiled node, listed as a ready endpoint
 * of its service's slice) / one pod less than the compiler's current model; an untimed
 * per-invocation setup puts the compiler back into the state before the change, so the state
 * does not grow. Average time in ms; the target is at most 10 ms.
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

    private ClusterGenerator generator;
    private ClusterModel model;
    private String node;
    private FlowCompiler.Compiled last;

    @Setup(Level.Trial)
    public void setUp()
    {
        final long before = usedAfterGc();
        final long start = System.nanoTime();
        generator = new ClusterGenerator(nodes, pods, services, policies, seed);
        model = generator.model();
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
        if (last == null)
        {
            return;
        }
        if (last.flows().size() == 0)
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

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2, time = 2)
    @Measurement(iterations = 3, time = 2)
    public IncrementalCompiler.Delta podAdded(final PodAdd change)
    {
        return change.apply(true);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2, time = 2)
    @Measurement(iterations = 3, time = 2)
    public IncrementalCompiler.Delta podRemoved(final PodRemove change)
    {
        return change.apply(false);
    }

    /** An incremental compiler of the node and the model with and without one more pod. */
    public abstract static class PodChange
    {
        private IncrementalCompiler compiler;
        private ClusterModel without;
        private ClusterModel with;
        private boolean present;

        void init(final ControlScaleBenchmark b)
        {
            without = b.model;
            with = withOneMorePod(b);
            final long before = usedAfterGc();
            final long start = System.nanoTime();
            compiler = new IncrementalCompiler(without, b.node);
            final long compiled = System.nanoTime() - start;
            final long after = usedAfterGc();
            report(String.format("incremental compiler of %s: %d flows, full compile %.2f s, heap held %.1f MiB",
                b.node, compiler.current().flows().size(), compiled / 1e9, (after - before) / 1048576.0));
            present = false;
            final IncrementalCompiler.Delta added = apply(true);
            final IncrementalCompiler.Delta removed = apply(false);
            if (added.added().isEmpty() || removed.removed().isEmpty())
            {
                throw new IllegalStateException("one pod more changed no flow");
            }
            report(String.format("one pod added: %d flows removed, %d added, %d owners recomputed; removed: %d removed, %d added",
                added.removed().size(), added.added().size(), added.owners().size(), removed.removed().size(),
                removed.added().size()));
        }

        void ensure(final boolean wanted)
        {
            if (present != wanted)
            {
                apply(wanted);
            }
        }

        IncrementalCompiler.Delta apply(final boolean wanted)
        {
            final IncrementalCompiler.Delta d = compiler.update(wanted ? with : without);
            present = wanted;
            return d;
        }
    }

    @State(Scope.Benchmark)
    public static class PodAdd extends PodChange
    {
        @Setup(Level.Trial)
        public void setUp(final ControlScaleBenchmark b)
        {
            init(b);
        }

        @Setup(Level.Invocation)
        public void absent()
        {
            ensure(false);
        }
    }

    @State(Scope.Benchmark)
    public static class PodRemove extends PodChange
    {
        @Setup(Level.Trial)
        public void setUp(final ControlScaleBenchmark b)
        {
            init(b);
        }

        @Setup(Level.Invocation)
        public void present()
        {
            ensure(true);
        }
    }

    /** The model plus one replica of the first local pod's app on the compiled node, a ready endpoint of its slice. */
    private static ClusterModel withOneMorePod(final ControlScaleBenchmark b)
    {
        final ClusterModel m = b.model;
        final Pod template = m.pods().stream().filter(p -> b.node.equals(p.nodeName())).findFirst().orElseThrow();
        final Pod added = new Pod(template.namespace(), template.name() + "-x", template.labels(), b.node,
            List.of(b.generator.nextPodIp(0)), false, "Running", template.ports());
        final List<Pod> pods = new ArrayList<>(m.pods());
        pods.add(added);
        final List<EndpointSlice> slices = new ArrayList<>();
        for (final EndpointSlice s : m.endpointSlices())
        {
            if (s.namespace().equals(added.namespace()) && s.serviceName().equals(added.labels().get("app")))
            {
                final List<EndpointSlice.Endpoint> endpoints = new ArrayList<>(s.endpoints());
                endpoints.add(new EndpointSlice.Endpoint(added.ips(), true, true, false, b.node,
                    new EndpointSlice.ObjectRef("Pod", added.namespace(), added.name())));
                slices.add(new EndpointSlice(s.namespace(), s.name(), s.serviceName(), s.addressType(), endpoints, s.ports()));
            }
            else
            {
                slices.add(s);
            }
        }
        return new ClusterModel(m.namespaces(), m.nodes(), pods, m.services(), slices, m.networkPolicies(),
            m.egressFirewalls(), m.egressIps());
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
