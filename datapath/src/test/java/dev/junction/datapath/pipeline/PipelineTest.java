package dev.junction.datapath.pipeline;

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.SleepingWaitStrategy;
import com.lmax.disruptor.WaitStrategy;
import dev.junction.flowtable.ofp.FlowTables;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static dev.junction.datapath.pipeline.TestFrames.frame;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class PipelineTest
{
    private static final Duration IDLE = Duration.ofSeconds(20);

    static Stream<Arguments> workersAndWaits()
    {
        final Supplier<WaitStrategy> blocking = BlockingWaitStrategy::new;
        final Supplier<WaitStrategy> sleeping = SleepingWaitStrategy::new;
        return Stream.of(
            Arguments.of(1, blocking, 11L),
            Arguments.of(2, blocking, 12L),
            Arguments.of(2, sleeping, 13L),
            Arguments.of(3, blocking, 14L));
    }

    /**
     * Packets of many flows from two RX threads (ports 1 and 3), in a seeded random interleaving,
     * through a ring small enough to fill: senders resend what a full ring refused, so every packet
     * must come out of port 2 exactly once and each flow's packets in the order sent.
     */
    @ParameterizedTest(name = "{0} workers, {1}")
    @MethodSource("workersAndWaits")
    void everyPacketArrivesOnceAndFlowsKeepTheirOrder(
        final int workers, final Supplier<WaitStrategy> wait, final long seed) throws Exception
    {
        final int flows = 200;
        final int perFlow = 20;
        final TestFrames.Collector out = new TestFrames.Collector();
        final PipelineConfig config = new PipelineConfig()
            .workers(workers).ringSize(256).waitStrategy(wait)
            .port(1, TestFrames.discard()).port(2, out).port(3, TestFrames.discard());
        try (Pipeline pipeline = new Pipeline(config, TestFrames.factory(TestFrames.tables("actions=output:2"))))
        {
            pipeline.start();
            final Thread port1 = sender(pipeline, 1, interleave(flows, perFlow, 0, seed));
            final Thread port3 = sender(pipeline, 3, interleave(flows, perFlow, 1, seed + 100));
            port1.start();
            port3.start();
            port1.join(IDLE.toMillis());
            port3.join(IDLE.toMillis());
            assertFalse(port1.isAlive() || port3.isAlive(), "senders stuck");
            assertTrue(pipeline.awaitIdle(IDLE));

            final int total = flows * perFlow;
            final List<long[]> sent = out.snapshot();
            assertEquals(total, sent.size(), "frames out of port 2");
            final Map<Long, Long> lastSeq = new HashMap<>();
            final Map<Long, Long> workerOf = new HashMap<>();
            for (final long[] r : sent)
            {
                final long previous = lastSeq.getOrDefault(r[0], -1L);
                assertEquals(previous + 1, r[1], "flow " + r[0] + ": out of order, lost or duplicated");
                lastSeq.put(r[0], r[1]);
                assertEquals(workerOf.computeIfAbsent(r[0], f -> r[2]), r[2], "flow " + r[0] + " changed worker");
            }
            assertEquals(flows, lastSeq.size());
            lastSeq.values().forEach(last -> assertEquals(perFlow - 1, last));

            assertEquals(total, pipeline.rxPackets(1) + pipeline.rxPackets(3));
            assertEquals(total, pipeline.txPackets(2));
            long processed = 0;
            for (int w = 0; w < workers; w++)
            {
                processed += pipeline.processed(w);
                assertTrue(pipeline.processed(w) > 0, "worker " + w + " got no flow");
                assertEquals(0, pipeline.errors(w));
            }
            assertEquals(total, processed);
            assertEquals(0, pipeline.txDrops(2));
            assertEquals(0, pipeline.txUnknownPort());
        }
    }

    /**
     * A worker stuck in its TX port leaves the ring full: RX must drop and count, never wait, and
     * every frame must be either accepted or counted as dropped.
     */
    @Test
    void fullRingDropsAtRxAndCountsEveryFrame() throws Exception
    {
        final CountDownLatch release = new CountDownLatch(1);
        final TestFrames.Collector collected = new TestFrames.Collector();
        final TxPort stuck = (worker, batch) ->
        {
            try
            {
                release.await();
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            collected.send(worker, batch);
        };
        final PipelineConfig config = new PipelineConfig()
            .workers(1).ringSize(8).port(1, TestFrames.discard()).port(2, stuck);
        try (Pipeline pipeline = new Pipeline(config, TestFrames.factory(TestFrames.tables("actions=output:2"))))
        {
            pipeline.start();
            final int[] sent = {0};
            assertTimeoutPreemptively(Duration.ofSeconds(10), () ->
            {
                final RxBurst burst = new RxBurst();
                for (int round = 0; round < 500; round++)
                {
                    burst.clear();
                    for (int i = 0; i < 4; i++)
                    {
                        final byte[] f = frame(round % 10, sent[0]++);
                        burst.add(f, 0, f.length, round);
                    }
                    pipeline.receive(1, burst);
                    final byte[] single = frame(round % 10, sent[0]++);
                    pipeline.receive(1, single, 0, single.length, round);
                }
            });
            assertTrue(pipeline.rxDrops(1) > 0, "a full ring must drop");
            assertTrue(pipeline.rxPackets(1) < sent[0]);
            assertEquals(sent[0], pipeline.rxPackets(1) + pipeline.rxDrops(1), "received + dropped == sent");

            release.countDown();
            assertTrue(pipeline.awaitIdle(IDLE));
            assertEquals(pipeline.rxPackets(1), pipeline.processed(0));
            assertEquals(pipeline.rxPackets(1), pipeline.txPackets(2));
            assertEquals(pipeline.rxPackets(1), collected.snapshot().size());
            assertEquals(0, pipeline.rxOversize(1));
        }
    }

    /**
     * A new table published while packets flow: everything received after the publish follows it,
     * and each flow switches once (no packet of a flow goes by the old table after one went by the
     * new one). With a revalidator thread too: until its batches are in, a worker translates the
     * packets that hit a megaflow of the old version.
     */
    @ParameterizedTest(name = "revalidator thread: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void newTableVersionAppliesToPacketsAfterThePublish(final boolean revalidator) throws Exception
    {
        final int flows = 64;
        final int perFlow = 60;
        final int switchAt = 30;
        final TestFrames.Collector two = new TestFrames.Collector();
        final TestFrames.Collector three = new TestFrames.Collector();
        final PipelineConfig config = new PipelineConfig()
            .workers(2).ringSize(1024).revalidator(revalidator).port(1, TestFrames.discard()).port(2, two).port(3, three);
        try (Pipeline pipeline = new Pipeline(config, TestFrames.factory(TestFrames.tables("actions=output:2"))))
        {
            pipeline.start();
            final RxBurst burst = new RxBurst();
            for (int seq = 0; seq < perFlow; seq++)
            {
                if (seq == switchAt)
                {
                    pipeline.publish(TestFrames.tables("priority=10,ip actions=output:3", "priority=5 actions=output:3"));
                }
                burst.clear();
                for (int f = 0; f < flows; f++)
                {
                    final byte[] frame = frame(f, seq);
                    burst.add(frame, 0, frame.length, seq);
                    if (burst.isFull())
                    {
                        sendAll(pipeline, 1, burst);
                        burst.clear();
                    }
                }
                sendAll(pipeline, 1, burst);
            }
            assertTrue(pipeline.awaitIdle(IDLE));

            final long[] lastOld = new long[flows];
            final long[] firstNew = new long[flows];
            java.util.Arrays.fill(lastOld, -1);
            java.util.Arrays.fill(firstNew, Long.MAX_VALUE);
            for (final long[] r : two.snapshot())
            {
                lastOld[(int)r[0]] = Math.max(lastOld[(int)r[0]], r[1]);
                assertTrue(r[1] < switchAt, "flow " + r[0] + " seq " + r[1] + " took the old table after the publish");
            }
            for (final long[] r : three.snapshot())
            {
                firstNew[(int)r[0]] = Math.min(firstNew[(int)r[0]], r[1]);
            }
            for (int f = 0; f < flows; f++)
            {
                assertTrue(lastOld[f] < firstNew[f], "flow " + f + " went back to the old table");
            }
            assertEquals((long)flows * perFlow, two.snapshot().size() + three.snapshot().size());
            assertEquals((long)flows * (perFlow - switchAt), three.snapshot().stream().filter(r -> r[1] >= switchAt).count());
            assertEquals(pipeline.txPackets(2) + pipeline.txPackets(3), (long)flows * perFlow);
        }
    }

    @Test
    void closeIsIdempotentAndLeavesNoWorkerThreads() throws Exception
    {
        final TestFrames.Collector out = new TestFrames.Collector();
        final PipelineConfig config = new PipelineConfig()
            .workers(2).ringSize(64).port(1, TestFrames.discard()).port(2, out);
        final Pipeline pipeline = new Pipeline(config, TestFrames.factory(TestFrames.tables("actions=output:2")));
        pipeline.start();
        assertEquals(2, workerThreads());
        assertThrows(IllegalStateException.class, pipeline::start);
        for (int i = 0; i < 40; i++)
        {
            final byte[] f = frame(i, 0);
            assertTrue(pipeline.receive(1, f, 0, f.length, i));
        }
        assertTimeoutPreemptively(Duration.ofSeconds(10), pipeline::close);
        // Close drains what the ring held before halting.
        assertEquals(40, out.snapshot().size());
        assertEquals(0, workerThreads());
        assertTimeoutPreemptively(Duration.ofSeconds(10), pipeline::close);
        assertEquals(0, workerThreads());

        final byte[] late = frame(1, 1);
        assertFalse(pipeline.receive(1, late, 0, late.length, 0));
        assertEquals(1, pipeline.rxDrops(1));
        assertThrows(IllegalStateException.class, pipeline::start);

        // Never started: close has nothing to join.
        final Pipeline unstarted = new Pipeline(config, TestFrames.factory(TestFrames.tables("actions=output:2")));
        unstarted.close();
        unstarted.close();
        assertEquals(0, workerThreads());
    }

    @Test
    void oversizeFramesAreCountedNotCopied() throws Exception
    {
        final TestFrames.Collector out = new TestFrames.Collector();
        final PipelineConfig config = new PipelineConfig()
            .workers(1).maxFrame(100).port(1, TestFrames.discard()).port(2, out);
        try (Pipeline pipeline = new Pipeline(config, TestFrames.factory(TestFrames.tables("actions=output:2"))))
        {
            pipeline.start();
            final RxBurst burst = new RxBurst();
            final byte[] small = frame(0, 0);
            final byte[] big = new byte[101];
            System.arraycopy(small, 0, big, 0, small.length);
            burst.add(big, 0, big.length, 0);
            burst.add(small, 0, small.length, 0);
            assertEquals(1, pipeline.receive(1, burst));
            assertTrue(pipeline.awaitIdle(IDLE));
            assertEquals(1, pipeline.rxOversize(1));
            assertEquals(1, pipeline.rxPackets(1));
            assertEquals(0, pipeline.rxDrops(1));
            assertEquals(1, out.snapshot().size());
            assertThrows(IllegalArgumentException.class, () -> pipeline.receive(9, burst));
        }
    }

    private static long workerThreads()
    {
        return Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.getName().startsWith(Pipeline.THREAD_NAME_PREFIX) && t.isAlive())
            .count();
    }

    /** Flows of one parity (ports get disjoint flows), each in sequence order, randomly interleaved. */
    static List<byte[]> interleave(final int flows, final int perFlow, final int parity, final long seed)
    {
        final SplittableRandom rnd = new SplittableRandom(seed);
        final List<Integer> pending = new ArrayList<>();
        final int[] next = new int[flows];
        for (int f = parity; f < flows; f += 2)
        {
            pending.add(f);
        }
        final List<byte[]> frames = new ArrayList<>();
        while (!pending.isEmpty())
        {
            final int pick = rnd.nextInt(pending.size());
            final int f = pending.get(pick);
            frames.add(frame(f, next[f]++));
            if (next[f] == perFlow)
            {
                pending.remove(pick);
            }
        }
        return frames;
    }

    private static Thread sender(final Pipeline pipeline, final int port, final List<byte[]> frames)
    {
        final Thread t = new Thread(() ->
        {
            final RxBurst burst = new RxBurst();
            final AtomicInteger i = new AtomicInteger();
            while (i.get() < frames.size())
            {
                burst.clear();
                while (i.get() < frames.size() && !burst.isFull())
                {
                    final byte[] f = frames.get(i.getAndIncrement());
                    burst.add(f, 0, f.length, System.nanoTime());
                }
                sendAll(pipeline, port, burst);
            }
        }, "sender-" + port);
        t.setDaemon(true);
        return t;
    }

    /** Sends a burst, resending the refused tail until the ring takes all of it. */
    private static void sendAll(final Pipeline pipeline, final int port, final RxBurst burst)
    {
        final RxBurst rest = new RxBurst();
        int from = 0;
        final long deadline = System.nanoTime() + IDLE.toNanos();
        while (from < burst.size())
        {
            rest.clear();
            for (int i = from; i < burst.size(); i++)
            {
                rest.add(burst.frame(i), burst.offset(i), burst.length(i), burst.timestampNanos(i));
            }
            from += pipeline.receive(port, rest);
            if (from < burst.size())
            {
                if (System.nanoTime() > deadline)
                {
                    fail("ring never drained");
                }
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(50));
            }
        }
    }
}
