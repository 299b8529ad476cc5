package dev.junction.datapath.pipeline;

import dev.junction.datapath.Datapath;
import dev.junction.flowtable.ofp.FlowTables;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The revalidator thread: a worker holding 50,000 megaflows keeps forwarding while they are all
 * translated again for a new table version, and no packet received after the publish takes the
 * old version's path. The same scene with the worker revalidating itself shows the stall this
 * removes: the worker's longest pause between two TX batches is the whole revalidation.
 */
class RevalidatorTest
{
    private static final Duration IDLE = Duration.ofSeconds(60);
    private static final int MEGAFLOWS = 50_000;
    private static final int HOT_FLOWS = 32;
    /** Reading the source address into a register makes every source its own megaflow. */
    private static final FlowTables OLD = TestFrames.tables("ip actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG0[],output:2");
    private static final FlowTables NEW = TestFrames.tables("ip actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG0[],output:3");

    @Test
    void workerKeepsForwardingWhileItsMegaflowsAreRevalidated() throws Exception
    {
        final Scene inline = run(false);
        final Scene offloaded = run(true);
        System.out.printf("revalidating %,d megaflows: on the worker, longest TX gap %.1f ms; "
                + "on the revalidator thread, revalidation %.1f ms, longest TX gap %.1f ms, %,d packets forwarded meanwhile, "
                + "%,d translated by the worker while stale%n", MEGAFLOWS, inline.maxGapNanos / 1e6,
            offloaded.revalidationNanos / 1e6, offloaded.maxGapNanos / 1e6, offloaded.forwardedDuring,
            offloaded.staleHits);
        // On the worker, one pause holds the whole revalidation and nothing is forwarded during it:
        // what must not happen. Off it, packets flow throughout; the bounds leave room for a GC
        // pause or a descheduled thread on a loaded two-core machine (seen: 8 to 100 ms).
        assertTrue(inline.maxGapNanos > 20_000_000L, "inline revalidation too fast to tell: " + inline.maxGapNanos);
        assertTrue(offloaded.maxGapNanos * 2 < offloaded.revalidationNanos,
            "the worker paused " + offloaded.maxGapNanos + " ns of a " + offloaded.revalidationNanos + " ns revalidation");
        assertTrue(offloaded.forwardedDuring > 1_000, "forwarded during the revalidation: " + offloaded.forwardedDuring);
        assertTrue(offloaded.staleHits > 0, "stale megaflows were translated, not trusted");
    }

    /** Idle megaflows expire through the revalidator thread too (by the worker's wall clock). */
    @Test
    void idleMegaflowsExpireOffTheWorker() throws Exception
    {
        final AtomicLong clock = new AtomicLong();
        final dev.junction.datapath.Bridge bridge = new dev.junction.datapath.Bridge(OLD);
        final PipelineConfig config = new PipelineConfig().workers(1).revalidator(true)
            .port(1, TestFrames.discard()).port(2, TestFrames.discard()).port(3, TestFrames.discard());
        try (Pipeline pipeline = new Pipeline(config, (worker, tx) -> new Datapath(bridge, TestFrames.DATAPATH_PORTS, tx,
            Datapath.DEFAULT_MTU, 1, new dev.junction.datapath.cache.CacheConfig(true, 8192, 100, 200_000, 10), clock::get)))
        {
            pipeline.start();
            for (int f = 0; f < 100; f++)
            {
                final byte[] frame = frame(f, 0);
                assertTrue(pipeline.receiveWaiting(1, frame, 0, frame.length, 0));
            }
            assertTrue(pipeline.awaitIdle(IDLE));
            assertEquals(100, (int)pipeline.control(0, dp -> dp.megaflows().size()).get(10, TimeUnit.SECONDS));
            clock.set(TimeUnit.MILLISECONDS.toNanos(20)); // past the 10 ms idle limit
            final long deadline = System.nanoTime() + IDLE.toNanos();
            while (pipeline.control(0, dp -> dp.megaflows().size()).get(10, TimeUnit.SECONDS) > 0)
            {
                assertTrue(System.nanoTime() < deadline, "idle megaflows never expired");
                Thread.sleep(50);
            }
            assertEquals(100L, (long)pipeline.control(0, Datapath::expiredMegaflows).get(10, TimeUnit.SECONDS));
        }
    }

    private record Scene(long maxGapNanos, long revalidationNanos, long forwardedDuring, long staleHits)
    {
    }

    private static Scene run(final boolean offload) throws Exception
    {
        final GapMeter oldPort = new GapMeter();
        final GapMeter newPort = new GapMeter();
        final dev.junction.datapath.Bridge bridge = new dev.junction.datapath.Bridge(OLD);
        final PipelineConfig config = new PipelineConfig().workers(1).ringSize(1024).revalidator(offload)
            .port(1, TestFrames.discard()).port(2, oldPort).port(3, newPort);
        try (Pipeline pipeline = new Pipeline(config, (worker, tx) -> new Datapath(bridge, TestFrames.DATAPATH_PORTS, tx,
            Datapath.DEFAULT_MTU, 1, dev.junction.datapath.cache.CacheConfig.DEFAULTS, System::nanoTime)))
        {
            pipeline.start();
            for (int f = 0; f < MEGAFLOWS; f++)
            {
                final byte[] frame = frame(f, 0);
                assertTrue(pipeline.receiveWaiting(1, frame, 0, frame.length, 0));
            }
            assertTrue(pipeline.awaitIdle(IDLE));
            assertEquals(MEGAFLOWS, (int)pipeline.control(0, dp -> dp.megaflows().size()).get(10, TimeUnit.SECONDS));
            assertEquals(MEGAFLOWS, oldPort.frames.get());

            final AtomicBoolean stop = new AtomicBoolean();
            final Thread sender = new Thread(() ->
            {
                final byte[][] hot = new byte[HOT_FLOWS][];
                for (int f = 0; f < HOT_FLOWS; f++)
                {
                    hot[f] = frame(f, 1);
                }
                while (!stop.get())
                {
                    for (final byte[] f : hot)
                    {
                        pipeline.receiveWaiting(1, f, 0, f.length, 0);
                    }
                    LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(100));
                }
            }, "revalidator-test-sender");
            final long before = pipeline.revalidations(0);
            final long start = System.nanoTime();
            newPort.start(start);
            pipeline.publish(NEW);
            sender.start();
            long end;
            if (offload)
            {
                final long deadline = start + IDLE.toNanos();
                while (pipeline.revalidations(0) == before)
                {
                    assertTrue(System.nanoTime() < deadline, "revalidation never completed");
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                }
                end = System.nanoTime();
            }
            else
            {
                // The first packet after the publish revalidates on the worker; give it time to.
                Thread.sleep(1_500);
                end = System.nanoTime();
            }
            final long forwarded = newPort.frames.get();
            final long gap = newPort.maxGap(end);
            stop.set(true);
            sender.join();
            assertTrue(pipeline.awaitIdle(IDLE));
            assertEquals(MEGAFLOWS, oldPort.frames.get(), "no packet after the publish took the old version's path");
            assertEquals(MEGAFLOWS, (int)pipeline.control(0, dp -> dp.megaflows().size()).get(10, TimeUnit.SECONDS),
                "every megaflow kept, retargeted");
            final long stale = pipeline.control(0, Datapath::staleHits).get(10, TimeUnit.SECONDS);
            return new Scene(gap, end - start, forwarded, stale);
        }
    }

    /** UDP/IPv4 from a source address of its own per flow (up to 2^24 flows); the last 8 bytes say which packet. */
    private static byte[] frame(final int flow, final int seq)
    {
        final ByteBuffer b = ByteBuffer.allocate(14 + 20 + 8 + 16);
        b.putShort((short)0x0200).putInt(2).putShort((short)0x0200).putInt(1).putShort((short)0x0800);
        b.put((byte)0x45).put((byte)0).putShort((short)44).putInt(0x4000).put((byte)64).put((byte)17).putShort((short)0);
        b.putInt(0x0b000000 | flow).putInt(0x0a000002);
        b.putShort((short)4000).putShort((short)53).putShort((short)24).putShort((short)0);
        b.putLong(0).putInt(flow).putInt(seq);
        return b.array();
    }

    /** Records when the worker handed it a batch: the longest time between two, after a start. */
    private static final class GapMeter implements TxPort
    {
        final AtomicLong frames = new AtomicLong();
        private final Object lock = new Object();
        private long start;
        private long last;
        private long maxGap;

        void start(final long nanos)
        {
            synchronized (lock)
            {
                start = nanos;
                last = nanos;
                maxGap = 0;
            }
        }

        @Override
        public void send(final int worker, final TxBatch batch)
        {
            final long now = System.nanoTime();
            frames.addAndGet(batch.size());
            synchronized (lock)
            {
                if (start != 0)
                {
                    maxGap = Math.max(maxGap, now - last);
                    last = now;
                }
            }
        }

        /** The longest gap up to {@code end}, counting the one still open then. */
        long maxGap(final long end)
        {
            synchronized (lock)
            {
                return Math.max(maxGap, end - last);
            }
        }
    }
}
