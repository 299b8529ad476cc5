package dev.junction.datapath;

import dev.junction.datapath.cache.CacheConfig;
import dev.junction.datapath.pipeline.TestFrames;
import dev.junction.flowtable.Packet;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Upcall budgets per port: a port that misses on every packet spends its own budget and its
 * further misses are counted drops, while its established flows (cache hits) and other ports'
 * upcalls go on.
 */
class UpcallLimiterTest
{
    private static final long MS = 1_000_000L;

    @Test
    void aBucketRefillsAtItsRateUpToItsBurst()
    {
        final UpcallLimiter l = new UpcallLimiter(100, 10);
        final long t0 = 5_000 * MS;
        int granted = 0;
        for (int i = 0; i < 50; i++)
        {
            granted += l.tryAcquire(1, t0) ? 1 : 0;
        }
        assertEquals(10, granted, "a quiet port may make its burst at once");
        assertEquals(40, l.refused(1));
        granted = 0;
        for (int i = 0; i < 50; i++)
        {
            granted += l.tryAcquire(1, t0 + 50 * MS) ? 1 : 0;
        }
        assertEquals(5, granted, "50 ms at 100/s refill 5");
        assertTrue(l.tryAcquire(2, t0 + 50 * MS), "another port has its own budget");
        granted = 0;
        for (int i = 0; i < 50; i++)
        {
            granted += l.tryAcquire(1, t0 + 3_600_000 * MS) ? 1 : 0;
        }
        assertEquals(10, granted, "an hour idle refills to the burst, no more (and no overflow)");
        assertTrue(UpcallLimiter.UNLIMITED.tryAcquire(1, t0));
        assertThrows(IllegalArgumentException.class, () -> new UpcallLimiter(100, 0));
        assertThrows(IllegalArgumentException.class, () -> new UpcallLimiter(-1, 1));
    }

    @Test
    void aStormingPortSpendsOnlyItsOwnBudget()
    {
        final List<Integer> sent = new ArrayList<>();
        final AtomicLong clock = new AtomicLong(1_000 * MS);
        // The move reads all of nw_src: each flow (its own nw_src) needs its own megaflow, i.e. an upcall.
        final Datapath dp = new Datapath(TestFrames.tables("ip,actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG0[],output:3"),
            new int[] {1, 2, 3}, (port, p) -> sent.add(port), Datapath.DEFAULT_MTU, 1, CacheConfig.DEFAULTS, clock::get)
            .upcallLimiter(new UpcallLimiter(1_000, 10));

        receive(dp, 1, 0, 0); // an established flow of the storming port
        final long upcallsBefore = dp.upcalls();
        for (int flow = 3; flow < 3 * 200; flow += 3) // 199 new IPv4 flows at one instant
        {
            receive(dp, 1, flow, 0);
        }
        assertEquals(9, dp.upcalls() - upcallsBefore, "the rest of the burst of 10");
        assertEquals(190, dp.drops(DropReason.UPCALL_LIMIT));
        assertEquals(0, dp.drops(DropReason.NO_OUTPUT), "a refused miss is counted once, under its own reason");
        assertEquals(10, sent.size());

        for (int seq = 1; seq <= 20; seq++)
        {
            receive(dp, 1, 0, seq);
        }
        assertEquals(30, sent.size(), "the port's established flow is a cache hit: no budget needed");

        receive(dp, 2, 3 * 1000, 0);
        assertEquals(31, sent.size(), "another port's new flow is translated: its budget is its own");
        assertEquals(190, dp.drops(DropReason.UPCALL_LIMIT));

        clock.addAndGet(100 * MS); // refills 10 (the burst) at 1,000/s; the clock is read every 32 packets
        for (int i = 0; i < 32; i++)
        {
            receive(dp, 1, 0, 100 + i);
        }
        final long refusedBefore = dp.drops(DropReason.UPCALL_LIMIT);
        for (int flow = 3 * 300; flow < 3 * 320; flow += 3)
        {
            receive(dp, 1, flow, 0);
        }
        assertEquals(10, dp.drops(DropReason.UPCALL_LIMIT) - refusedBefore, "20 new flows, 10 translated after the refill");
        assertFalse(dp.upcallLimiter().refused(2) > 0);
    }

    private static void receive(final Datapath dp, final int port, final int flow, final int seq)
    {
        final byte[] frame = TestFrames.frame(flow, seq);
        final Packet p = new Packet(frame.length);
        p.wrap(frame, 0, frame.length);
        p.inPort = port;
        dp.receive(p, null);
    }
}
