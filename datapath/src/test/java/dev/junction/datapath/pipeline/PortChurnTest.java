package dev.junction.datapath.pipeline;

import dev.junction.datapath.Bridge;
import dev.junction.datapath.Datapath;
import dev.junction.datapath.cache.CacheConfig;
import dev.junction.flowtable.ofp.FlowTables;
import dev.junction.flowtable.xlate.BridgePorts;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static dev.junction.datapath.pipeline.TestFrames.frame;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ports added to and removed from a running pipeline, as a node's pods come and go: traffic
 * between the ports that stay loses nothing and keeps its order, a removed port's TxPort is never
 * called once {@link Pipeline#removePort} has returned (its device may then be closed), and an
 * added port sends and receives under the flows that name it.
 */
class PortChurnTest
{
    private static final Duration IDLE = Duration.ofSeconds(20);
    private static final int POD = 5;

    /** A device that may be closed: a send after its close is what would write to a closed fd or unmapped UMEM. */
    private static final class Device implements TxPort
    {
        final AtomicBoolean closed = new AtomicBoolean();
        final AtomicLong sent = new AtomicLong();
        final AtomicLong sentAfterClose;

        Device(final AtomicLong sentAfterClose)
        {
            this.sentAfterClose = sentAfterClose;
        }

        @Override
        public void send(final int worker, final TxBatch batch)
        {
            if (closed.get())
            {
                sentAfterClose.addAndGet(batch.size());
            }
            sent.addAndGet(batch.size());
        }
    }

    /** A new table version (equal rules, a new object): what makes the workers' megaflows revalidate. */
    private static FlowTables flows()
    {
        return TestFrames.tables("in_port=1,actions=output:2,output:" + POD, "in_port=" + POD + ",actions=output:2");
    }

    @Test
    void portsComeAndGoWhileTheOthersLoseNothing() throws Exception
    {
        final TestFrames.Collector out = new TestFrames.Collector();
        final BridgePorts bridgePorts = new BridgePorts(new int[] {1, 2});
        final Bridge bridge = new Bridge(flows());
        final PipelineConfig config = new PipelineConfig().workers(2).ringSize(1024).revalidator(true)
            .port(1, TestFrames.discard()).port(2, out);
        final AtomicLong sentAfterClose = new AtomicLong();
        final int flowCount = 64;
        final int perFlow = 3000;
        // Flows 0, 2, 4...: the even half of flowCount.
        final List<byte[]> frames = PipelineTest.interleave(flowCount, perFlow, 0, 7L);
        try (Pipeline pipeline = new Pipeline(config, (w, tx) -> new Datapath(bridge, bridgePorts, tx,
            Datapath.DEFAULT_MTU, 1, CacheConfig.DEFAULTS, System::nanoTime)))
        {
            pipeline.start();
            final Thread sender = new Thread(() ->
            {
                for (final byte[] f : frames)
                {
                    while (!pipeline.receive(1, f, 0, f.length, System.nanoTime()))
                    {
                        Thread.onSpinWait(); // ring full: resend, as the test needs every frame through
                    }
                }
            }, "sender-1");
            sender.start();
            final List<Device> devices = new ArrayList<>();
            int cycles = 0;
            while (sender.isAlive() || cycles < 3)
            {
                final Device d = new Device(sentAfterClose);
                devices.add(d);
                pipeline.addPort(POD, d);
                bridgePorts.set(new int[] {1, 2, POD});
                bridge.publish(flows());
                // The new port receives at once: a frame from it goes out of port 2.
                final byte[] hello = frame(10_000 + cycles, 0);
                while (!pipeline.receive(POD, hello, 0, hello.length, System.nanoTime()))
                {
                    Thread.onSpinWait();
                }
                Thread.sleep(1);
                bridgePorts.set(new int[] {1, 2});
                bridge.publish(flows());
                assertTrue(pipeline.removePort(POD, IDLE), "the workers passed the removal");
                d.closed.set(true);
                cycles++;
            }
            assertTrue(pipeline.awaitIdle(IDLE));
            System.out.printf("%d add/remove cycles of port %d under %d frames from port 1%n", cycles, POD, frames.size());
            assertFalse(pipeline.hasPort(POD));
            assertThrows(IllegalArgumentException.class, () -> pipeline.rxPackets(POD), "a removed port has no counters");

            assertEquals(0, sentAfterClose.get(), "no worker sent to a port after its removal returned");
            final long helloes = out.snapshot().stream().filter(r -> r[0] >= 10_000).count();
            final long fromPort1 = checkedInOrder(out.snapshot(), flowCount, perFlow);
            assertEquals((long)flowCount / 2 * perFlow, fromPort1, "every frame of port 1 came out of port 2 once");
            assertEquals(fromPort1 + helloes, pipeline.txPackets(2));
            assertEquals(cycles, helloes, "every frame received on an added port was forwarded");
            assertTrue(devices.stream().mapToLong(d -> d.sent.get()).sum() > 0,
                "outputs to an added port reached it (" + cycles + " cycles)");
            assertEquals(0, pipeline.txDrops(2));
        }
    }

    @Test
    void aPortNumberCannotBeAddedTwiceNorRemovedWhenAbsent()
    {
        final PipelineConfig config = new PipelineConfig().workers(1).port(1, TestFrames.discard());
        try (Pipeline pipeline = new Pipeline(config, TestFrames.factory(flows())))
        {
            pipeline.start();
            assertThrows(IllegalArgumentException.class, () -> pipeline.addPort(1, TestFrames.discard()));
            assertThrows(IllegalArgumentException.class, () -> pipeline.removePort(3, IDLE));
            pipeline.addPort(3, TestFrames.discard());
            final byte[] f = frame(1, 0);
            assertTrue(pipeline.receive(3, f, 0, f.length, 0));
            assertEquals(1, pipeline.rxPackets(3));
            assertTrue(pipeline.removePort(3, IDLE));
            pipeline.addPort(3, TestFrames.discard());
            assertEquals(0, pipeline.rxPackets(3), "a port added again starts its counters at zero");
            assertEquals(0, pipeline.rxPackets(1), "port 1's counters are its own");
        }
    }

    /** Checks each flow's frames came in order without gaps or duplicates; returns how many there were. */
    private static long checkedInOrder(final List<long[]> sent, final int flows, final int perFlow)
    {
        final Map<Long, Long> last = new HashMap<>();
        long n = 0;
        for (final long[] r : sent)
        {
            if (r[0] >= 10_000)
            {
                continue;
            }
            final long previous = last.getOrDefault(r[0], -1L);
            assertEquals(previous + 1, r[1], "flow " + r[0] + ": out of order, lost or duplicated");
            last.put(r[0], r[1]);
            n++;
        }
        assertEquals(flows / 2, last.size());
        last.values().forEach(l -> assertEquals(perFlow - 1, l));
        return n;
    }
}
