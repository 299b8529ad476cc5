package dev.junction.datapath.pipeline;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RX copies frames into preallocated slots and workers batch outputs into preallocated TX buffers:
 * in steady state neither the RX thread nor a worker allocates per packet.
 */
class AllocationTest
{
    @Test
    void neitherRxNorWorkersAllocatePerPacket()
    {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final PipelineConfig config = new PipelineConfig()
            .workers(1).ringSize(1024).port(1, TestFrames.discard()).port(2, TestFrames.discard());
        try (Pipeline pipeline = new Pipeline(config, TestFrames.factory(TestFrames.tables("actions=output:2"))))
        {
            pipeline.start();
            final RxBurst burst = new RxBurst();
            for (int i = 0; i < RxBurst.MAX_BURST; i++)
            {
                final byte[] f = TestFrames.frame(i, 0);
                burst.add(f, 0, f.length, i);
            }
            final int rounds = 5_000;
            receive(pipeline, burst, rounds); // warm up: JIT compiles the path
            assertTrue(pipeline.awaitIdle(Duration.ofSeconds(20)));
            final Thread worker = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(Pipeline.THREAD_NAME_PREFIX + "0") && t.isAlive())
                .findFirst().orElseThrow();
            final long workerBefore = threads.getThreadAllocatedBytes(worker.getId());
            final long id = Thread.currentThread().getId();
            final long before = threads.getThreadAllocatedBytes(id);
            receive(pipeline, burst, rounds);
            final long allocated = threads.getThreadAllocatedBytes(id) - before;
            assertTrue(pipeline.awaitIdle(Duration.ofSeconds(20)));
            // A few hundred bytes of slack for the occasional lock queue node when a worker waits.
            final long workerAllocated = threads.getThreadAllocatedBytes(worker.getId()) - workerBefore;
            final int packets = rounds * RxBurst.MAX_BURST;
            assertTrue(allocated < 4096, "RX thread: " + allocated + " bytes for " + packets + " packets");
            assertTrue(workerAllocated < 4096, "worker: " + workerAllocated + " bytes for " + packets + " packets");
        }
    }

    private static void receive(final Pipeline pipeline, final RxBurst burst, final int rounds)
    {
        for (int r = 0; r < rounds; r++)
        {
            pipeline.receive(1, burst);
        }
    }
}
