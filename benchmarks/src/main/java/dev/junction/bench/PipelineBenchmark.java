package dev.junction.bench;

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.YieldingWaitStrategy;
import dev.junction.datapath.Datapath;
import dev.junction.datapath.pipeline.Pipeline;
import dev.junction.datapath.pipeline.PipelineConfig;
import dev.junction.datapath.pipeline.RxBurst;
import dev.junction.flowtable.ofp.FlowParseException;
import dev.junction.flowtable.ofp.FlowParser;
import dev.junction.flowtable.ofp.FlowTables;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The whole pipeline: the benchmark thread is the RX port, publishing bursts of 32 frames into
 * the Disruptor ring; {@code workers} worker threads parse, look up (EMC/megaflows warm), rewrite
 * (two-pods routing: MACs, TTL, checksum) and hand TX batches to port 2. The RX side keeps at most
 * an eighth of the ring unfinished, so the figure is what the workers complete, not what the ring absorbs;
 * nothing is dropped. On this 2-core machine the RX thread and the workers share the cores.
 * One op is one packet.
 *
 * <p>Not final: JMH generates subclasses of {@code @State} benchmark classes.
 */
@State(Scope.Thread)
public class PipelineBenchmark extends PacketBenchmark
{
    static final int BURST = 32;
    static final int RING = 2048;
    static final int FLOWS = 256;

    @Param({"1", "2"})
    public int workers;

    @Param({"64", "1500"})
    public int frameBytes;

    /** How idle workers wait: the pipeline's default (blocking) or yielding (cores to spare). */
    @Param({"blocking", "yielding"})
    public String wait;

    private Pipeline pipeline;
    private final AtomicLong transmitted = new AtomicLong();
    private final RxBurst[] bursts = new RxBurst[FLOWS / BURST];
    private long published;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws FlowParseException
    {
        final FlowTables tables = new FlowTables(new FlowParser("two-pods").parseAll(DatapathBenchmark.TWO_PODS_FLOWS));
        final PipelineConfig config = new PipelineConfig().workers(workers).ringSize(RING)
            .waitStrategy("yielding".equals(wait) ? YieldingWaitStrategy::new : BlockingWaitStrategy::new)
            .port(1, (worker, batch) -> { })
            .port(2, (worker, batch) -> transmitted.addAndGet(batch.size()));
        final dev.junction.datapath.Bridge bridge = new dev.junction.datapath.Bridge(tables);
        pipeline = new Pipeline(config, (worker, tx) -> new Datapath(bridge, new int[] {1, 2}, tx, Datapath.DEFAULT_MTU, 1,
            dev.junction.datapath.cache.CacheConfig.DEFAULTS, System::nanoTime));
        final long podA = Frames.mac(0x0a, 0x58, 0x0a, 0xf4, 0x00, 0x05);
        final long routerA = Frames.mac(0x0a, 0x58, 0x0a, 0xf4, 0x00, 0x01);
        for (int b = 0; b < bursts.length; b++)
        {
            bursts[b] = new RxBurst();
            for (int i = 0; i < BURST; i++)
            {
                // Flows differ in source port, so the RSS hash spreads them over the workers.
                final byte[] frame = Frames.tcp4(podA, routerA, Frames.ipv4(10, 244, 0, 5), Frames.ipv4(10, 244, 1, 6),
                    20_000 + b * BURST + i, 80, frameBytes);
                bursts[b].add(frame, 0, frame.length, 0);
            }
        }
        pipeline.start();
        for (int i = 0; i < 64; i++)
        {
            burst();
        }
        drain();
        if (transmitted.get() != published)
        {
            throw new IllegalStateException("sent " + published + " but port 2 got " + transmitted.get());
        }
    }

    @Benchmark
    @OperationsPerInvocation(BURST)
    public long burst()
    {
        // Keep at most an eighth of the ring unfinished: measure completed work, never ring-full
        // drops. A slot is free only once every worker has passed it, so with a lagging worker the
        // ring holds more than what is unfinished (the other worker's done events too).
        while (published - transmitted.get() > RING / 8)
        {
            // Yield, not spin: on two cores a spinning RX thread takes the core a worker needs.
            Thread.yield();
        }
        final int accepted = pipeline.receive(1, bursts[next]);
        if (accepted != BURST)
        {
            throw new IllegalStateException("ring refused " + (BURST - accepted) + " frames");
        }
        published += accepted;
        next = (next + 1) % bursts.length;
        return published;
    }

    private void drain()
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (transmitted.get() < published && System.nanoTime() < deadline)
        {
            Thread.onSpinWait();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        drain();
        pipeline.close();
    }
}
