package dev.junction.conntrack;

import static dev.junction.conntrack.CtHarness.SEC;
import static dev.junction.conntrack.CtHarness.Spec.commit;
import static dev.junction.conntrack.CtHarness.Spec.ct;
import static dev.junction.conntrack.Frames.ip;
import static dev.junction.flowtable.ct.CtState.EST;
import static dev.junction.flowtable.ct.CtState.NEW;
import static dev.junction.flowtable.ct.CtState.RPL;
import static dev.junction.flowtable.ct.CtState.TRK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** Global and per-zone limits, timeouts and expiry, flush, memory bound, concurrent use. */
class LimitsAndTimeoutsTest
{
    static final int A = ip("10.0.0.1");
    static final int B = ip("10.0.0.2");

    private static byte[] flow(final int i)
    {
        return Frames.udp(A + (i >>> 15), B, 1024 + (i & 0x7fff), 53, new byte[1]);
    }

    private static byte[] reply(final int i)
    {
        return Frames.udp(B, A + (i >>> 15), 53, 1024 + (i & 0x7fff), new byte[1]);
    }

    @Test
    void globalLimitRefusesAndCounts()
    {
        final CtHarness h = new CtHarness(new Conntrack(new ConntrackConfig(2)));
        h.run(flow(1), commit(), SEC);
        h.run(flow(2), commit(), SEC);
        assertEquals(TRK | NEW, h.run(flow(3), commit().mark(7, 0xffffffffL), SEC));
        assertEquals(0, h.key.ctMark()); // no connection, so no mark
        assertEquals(2, h.ct.connections());
        assertEquals(1, h.ct.refusedByMaxConnections());
        assertEquals(TRK | NEW, h.run(flow(3), ct(), SEC)); // was not stored
        // Existing connections still work.
        assertEquals(TRK | EST | RPL, h.run(Frames.udp(B, A, 53, 1025, new byte[1]), ct(), SEC));
        h.ct.setMaxConnections(3);
        h.run(flow(3), commit(), SEC);
        assertEquals(3, h.ct.connections());
    }

    @Test
    void zoneLimitsOwnAndDefault()
    {
        final CtHarness h = new CtHarness();
        h.ct.setZoneLimit(5, 1);
        h.ct.setZoneLimit(-1, 2); // default, shared by zones without their own
        h.run(flow(1), commit().zone(5), SEC);
        assertEquals(TRK | NEW, h.run(flow(2), commit().zone(5), SEC));
        assertEquals(1, h.ct.connections(5));
        h.run(flow(3), commit().zone(6), SEC);
        h.run(flow(4), commit().zone(7), SEC);
        h.run(flow(5), commit().zone(8), SEC);
        assertEquals(0, h.ct.connections(8));
        assertEquals(2, h.ct.zoneLimitCount(-1));
        assertEquals(2, h.ct.refusedByZoneLimit());
        // Flushing zone 6 frees a default-limit admission.
        h.ct.flush(6);
        assertEquals(1, h.ct.zoneLimitCount(-1));
        h.run(flow(5), commit().zone(8), SEC);
        assertEquals(1, h.ct.connections(8));
        // A limit of 0 admits nothing (OVS 3.1).
        h.ct.setZoneLimit(9, 0);
        assertEquals(TRK | NEW, h.run(flow(6), commit().zone(9), SEC));
        assertEquals(0, h.ct.connections(9));
        // Deleting and re-creating a limit starts a new count; old connections do not decrement it.
        h.ct.deleteZoneLimit(5);
        h.ct.setZoneLimit(5, 1);
        h.run(flow(7), commit().zone(5), SEC);
        h.ct.flush(5);
        assertEquals(0, h.ct.zoneLimitCount(5));
    }

    @Test
    void perZoneTimeoutPolicy()
    {
        final CtHarness h = new CtHarness();
        h.ct.setTimeoutPolicy(4, TimeoutPolicy.DEFAULT.with("udp_first", 5).with(TimeoutPolicy.UDP_SINGLE, 7));
        h.run(flow(1), commit().zone(4), 0);
        h.run(flow(1), commit().zone(0), 0);
        assertEquals(2, h.ct.dump(-1, 4_999_999_999L).size());
        assertEquals(1, h.ct.dump(-1, 5 * SEC).size());
        assertEquals(1, h.ct.sweep(5 * SEC));
        assertEquals(1, h.ct.expired());
        assertEquals(0, h.ct.connections(4));
        // After the expiry the packet is new again; the default-zone one lives 60 s.
        assertEquals(TRK | NEW, h.run(flow(1), ct().zone(4), 5 * SEC));
        assertEquals(TRK | NEW, h.run(flow(1), ct().zone(0), 59 * SEC)); // FIRST -> MULTIPLE, one-way: still new
        assertEquals(0, h.ct.sweep(59 * SEC + 59 * SEC));
        assertEquals(1, h.ct.sweep(59 * SEC + 60 * SEC));
    }

    @Test
    void sweepReclaimsSlotsSoMemoryStaysBounded()
    {
        final CtHarness h = new CtHarness(new Conntrack(new ConntrackConfig(10_000)));
        for (int round = 0; round < 5; round++)
        {
            final long t = round * 100 * SEC;
            for (int i = 0; i < 10_000; i++)
            {
                h.run(flow(round * 10_000 + i), commit(), t);
            }
            assertEquals(10_000, h.ct.connections());
            assertEquals(0, h.ct.refusedCommits());
            assertEquals(10_000, h.ct.sweep(t + 61 * SEC));
        }
        assertTrue(h.ct.footprintBytes() <= 10_000L * 200, "footprint " + h.ct.footprintBytes());
    }

    @Test
    void memoryPerConnectionAtScale()
    {
        final int n = 1 << 18;
        final Conntrack ct = new Conntrack(new ConntrackConfig(n));
        final CtHarness h = new CtHarness(ct);
        for (int i = 0; i < n; i++)
        {
            h.run(flow(i), commit(), SEC);
        }
        assertEquals(n, ct.connections());
        final double perConn = (double)ct.footprintBytes() / n;
        assertTrue(perConn <= 200, "bytes per connection " + perConn);
        assertEquals(TRK | NEW, h.run(flow(n), commit(), SEC));
        assertEquals(1, ct.refusedCommits());
    }

    @Test
    void concurrentWorkersEachOwnTheirFlows() throws Exception
    {
        final Conntrack ct = new Conntrack(ConntrackConfig.defaults());
        final int threads = 4;
        final int perThread = 3000;
        final AtomicInteger bad = new AtomicInteger();
        final List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++)
        {
            final int base = t * perThread;
            ts.add(new Thread(() ->
            {
                final CtHarness h = new CtHarness(ct);
                for (int i = 0; i < perThread; i++)
                {
                    if (h.run(flow(base + i), commit(), SEC) != (TRK | NEW))
                    {
                        bad.incrementAndGet();
                    }
                    if (h.run(reply(base + i), ct(), SEC) != (TRK | EST | RPL))
                    {
                        bad.incrementAndGet();
                    }
                }
            }));
        }
        ts.forEach(Thread::start);
        for (final Thread t : ts)
        {
            t.join();
        }
        assertEquals(0, bad.get());
        assertEquals(threads * perThread, ct.connections());
        assertEquals(threads * perThread, ct.commits());
    }

    @Test
    void flushAll()
    {
        final CtHarness h = new CtHarness();
        h.run(flow(1), commit().zone(1), SEC);
        h.run(flow(2), commit().zone(2), SEC);
        h.ct.flush(-1);
        assertEquals(0, h.ct.connections());
        assertTrue(h.ct.dump(-1).isEmpty());
        assertEquals(TRK | NEW, h.run(flow(1), ct().zone(1), SEC));
    }
}
