package dev.junction.conntrack;

import static dev.junction.conntrack.CtHarness.SEC;
import static dev.junction.conntrack.CtHarness.Spec.commit;
import static dev.junction.conntrack.CtHarness.Spec.ct;
import static dev.junction.conntrack.Frames.ip;
import static dev.junction.flowtable.ct.CtState.EST;
import static dev.junction.flowtable.ct.CtState.INV;
import static dev.junction.flowtable.ct.CtState.NEW;
import static dev.junction.flowtable.ct.CtState.RPL;
import static dev.junction.flowtable.ct.CtState.TRK;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;

/**
 * Checkpoint and restore: a connection table taken from one Conntrack and put into a fresh one
 * (another packet clock, some downtime) dumps the same and gives the next packets of every
 * connection, both ways, the verdicts and rewrites the first one gives them.
 */
class CheckpointTest
{
    static final int B = ip("10.0.0.2");
    static final int N = ip("192.168.1.1");
    static final int VIP = ip("10.96.0.10");
    static final long WALL = 1_700_000_000_000L;
    /** The first process's clock: connections set up at T0, checkpoint at T0 + 1 s. */
    static final long T0 = 1000 * SEC;
    /** The restarted process's clock (another origin: times in a checkpoint must be relative). */
    static final long R0 = 7 * SEC;

    record Step(byte[] frame, CtHarness.Spec spec)
    {
    }

    /** A connection: the packets that set it up, and its next packets after the checkpoint. */
    record Conn(String kind, List<Step> setup, List<Step> next)
    {
    }

    /** Seeded connections of every kind: TCP, TCP with SNAT, UDP with DNAT, UDP with mark and label, ICMP; zones 0, 3, 7. */
    static List<Conn> connections(final long seed, final int n)
    {
        final Random rnd = new Random(seed);
        final List<Conn> out = new ArrayList<>();
        final Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < n; i++)
        {
            int sp;
            do
            {
                sp = 20000 + rnd.nextInt(40000);
            }
            while (!ports.add(sp));
            final int a = ip("10.1." + rnd.nextInt(200) + "." + (1 + rnd.nextInt(250)));
            final int zone = new int[] {0, 3, 7}[rnd.nextInt(3)];
            final long cs = rnd.nextInt() & 0xffffffffL;
            final long ss = rnd.nextInt() & 0xffffffffL;
            final int kind = rnd.nextInt(5);
            final List<Step> setup = new ArrayList<>();
            final List<Step> next = new ArrayList<>();
            switch (kind)
            {
                case 0, 1 ->
                {
                    final boolean snat = kind == 1;
                    final int seen = snat ? N : a; // where B's replies go
                    final Supplier<CtHarness.Spec> on = () -> snat ? ct().zone(zone).nat() : ct().zone(zone);
                    setup.add(new Step(Frames.tcp(a, B, sp, 80, cs, 0, Frames.SYN),
                        snat ? commit().zone(zone).snat(N, N) : commit().zone(zone).mark(i, 0xffffffffL)));
                    setup.add(new Step(Frames.tcp(B, seen, 80, sp, ss, cs + 1, Frames.SYN | Frames.ACK), on.get()));
                    setup.add(new Step(Frames.tcp(a, B, sp, 80, cs + 1, ss + 1, Frames.ACK), on.get()));
                    setup.add(new Step(Frames.tcp(a, B, sp, 80, cs + 1, ss + 1, Frames.ACK, 65535, new byte[100]), on.get()));
                    next.add(new Step(Frames.tcp(a, B, sp, 80, cs + 101, ss + 1, Frames.ACK, 65535, new byte[200]), on.get()));
                    next.add(new Step(Frames.tcp(B, seen, 80, sp, ss + 1, cs + 301, Frames.ACK, 65535, new byte[50]), on.get()));
                    next.add(new Step(Frames.tcp(a, B, sp, 80, cs + 301, ss + 51, Frames.ACK), on.get()));
                    next.add(new Step(Frames.tcp(a, B, sp, 80, cs + 301, ss + 51, Frames.FIN | Frames.ACK), on.get()));
                }
                case 2 ->
                {
                    setup.add(new Step(Frames.udp(a, VIP, sp, 53, new byte[20]), commit().zone(zone).dnat(B, B)));
                    next.add(new Step(Frames.udp(B, a, 53, sp, new byte[40]), ct().zone(zone).nat()));
                    next.add(new Step(Frames.udp(a, VIP, sp, 53, new byte[20]), ct().zone(zone).nat()));
                }
                case 3 ->
                {
                    setup.add(new Step(Frames.udp(a, B, sp, 4789, new byte[8]),
                        commit().zone(zone).mark(0x5a00 | i, 0xffff).label(i, 0x77L << 32 | i, -1L, -1L)));
                    setup.add(new Step(Frames.udp(B, a, 4789, sp, new byte[8]), ct().zone(zone)));
                    next.add(new Step(Frames.udp(a, B, sp, 4789, new byte[8]), ct().zone(zone)));
                    next.add(new Step(Frames.udp(B, a, 4789, sp, new byte[8]), ct().zone(zone)));
                }
                default ->
                {
                    setup.add(new Step(Frames.icmpEcho(a, B, 8, sp & 0xffff, 1), commit().zone(zone)));
                    next.add(new Step(Frames.icmpEcho(B, a, 0, sp & 0xffff, 1), ct().zone(zone)));
                    next.add(new Step(Frames.icmpEcho(a, B, 8, sp & 0xffff, 2), ct().zone(zone)));
                }
            }
            out.add(new Conn(new String[] {"tcp", "tcp-snat", "udp-dnat", "udp-mark-label", "icmp"}[kind], setup, next));
        }
        return out;
    }

    private static CtHarness established(final List<Conn> conns)
    {
        final CtHarness h = new CtHarness();
        for (final Conn c : conns)
        {
            for (final Step s : c.setup())
            {
                h.run(s.frame().clone(), s.spec(), T0);
            }
        }
        return h;
    }

    private static List<String> sortedDump(final Conntrack ct)
    {
        final List<String> d = new ArrayList<>(ct.dump(-1));
        d.sort(null);
        return d;
    }

    @Test
    void restoredTableDumpsTheSameAndGivesTheSameVerdicts()
    {
        final List<Conn> conns = connections(42, 60);
        final CtHarness before = established(conns);
        final Checkpoint cp = Checkpoint.decode(before.ct.checkpoint(T0 + SEC, WALL).encode());
        assertEquals(60, cp.connections());

        final CtHarness after = new CtHarness();
        final Checkpoint.Restored r = after.ct.restore(cp, R0, WALL + 2000);
        assertEquals(new Checkpoint.Restored(60, 0, 0, r.nanos()), r);
        assertEquals(60, after.ct.connections());
        assertEquals(sortedDump(before.ct), sortedDump(after.ct));
        for (final int zone : new int[] {0, 3, 7})
        {
            assertEquals(before.ct.connections(zone), after.ct.connections(zone), "zone " + zone);
        }

        int estReplies = 0;
        for (final Conn c : conns)
        {
            for (final Step s : c.next())
            {
                final int want = before.run(s.frame().clone(), s.spec(), T0 + 3 * SEC);
                final int got = after.run(s.frame().clone(), s.spec(), R0 + SEC);
                assertEquals(want, got, c.kind() + ": ct_state of " + s);
                assertArrayEquals(before.frame(), after.frame(), c.kind() + ": the packet as NAT left it");
                assertEquals(before.key.ctMark(), after.key.ctMark(), c.kind() + ": ct_mark");
                assertTrue((got & (INV | NEW)) == 0, c.kind() + ": the next packets belong to the connection");
                estReplies += (got & (EST | RPL)) == (EST | RPL) ? 1 : 0;
            }
        }
        assertTrue(estReplies >= 30, "replies seen as +est+rpl: " + estReplies);
        assertEquals(sortedDump(before.ct), sortedDump(after.ct));
    }

    @Test
    void restoredTcpLearnsItsWindowsAgainFromTheNextPackets()
    {
        final int a = ip("10.1.0.1");
        final CtHarness h = new CtHarness();
        h.run(Frames.tcp(a, B, 40000, 5201, 1000, 0, Frames.SYN), commit(), T0);
        h.run(Frames.tcp(B, a, 5201, 40000, 9000, 1001, Frames.SYN | Frames.ACK), ct(), T0);
        h.run(Frames.tcp(a, B, 40000, 5201, 1001, 9001, Frames.ACK), ct(), T0);
        final Checkpoint cp = h.ct.checkpoint(T0, WALL);

        // Meanwhile 50 MB went by (the checkpoint did not see it): far outside the stored windows.
        final long seq = 1001 + 50_000_000L;
        final byte[] data = Frames.tcp(a, B, 40000, 5201, seq, 9001, Frames.ACK, 65535, new byte[1000]);
        final byte[] ack = Frames.tcp(B, a, 5201, 40000, 9001, seq + 1000, Frames.ACK);
        assertEquals(TRK | INV, h.run(data.clone(), ct(), T0 + SEC), "the stale windows refuse the packet");

        final CtHarness after = new CtHarness();
        assertEquals(1, after.ct.restore(cp, R0, WALL + 500).restored());
        assertEquals(TRK | EST, after.run(data.clone(), ct(), R0 + SEC));
        assertEquals(TRK | EST | RPL, after.run(ack.clone(), ct(), R0 + SEC));
        assertEquals(TRK | EST, after.run(Frames.tcp(a, B, 40000, 5201, seq + 1000, 9001, Frames.ACK, 65535, new byte[1000]),
            ct(), R0 + SEC));
        // Learnt once each way: the usual checks are back, and a segment 1 GB ahead is +inv again.
        assertEquals(TRK | INV, after.run(Frames.tcp(a, B, 40000, 5201, seq + 1_000_000_000L, 9001, Frames.ACK, 65535,
            new byte[1000]), ct(), R0 + SEC));
        assertTrue(after.ct.dump(-1).get(0).contains("state=ESTABLISHED"), after.ct.dump(-1).toString());
    }

    @Test
    void downtimeIsTakenOffTheTimeLeft()
    {
        final int a = ip("10.1.0.1");
        final CtHarness h = new CtHarness();
        h.run(Frames.udp(a, B, 1000, 2000, new byte[1]), commit(), T0); // UDP first packet: 60 s
        final Checkpoint cp = h.ct.checkpoint(T0 + 10 * SEC, WALL); // 50 s left

        final CtHarness late = new CtHarness();
        assertEquals(new Checkpoint.Restored(0, 1, 0, 0), zeroNanos(late.ct.restore(cp, R0, WALL + 50_001)));
        assertTrue(late.ct.dump(-1).isEmpty());
        assertEquals(TRK | NEW, late.run(Frames.udp(a, B, 1000, 2000, new byte[1]), ct(), R0));

        final CtHarness early = new CtHarness();
        assertEquals(1, early.ct.restore(cp, R0, WALL + 40_000).restored()); // 10 s left
        assertEquals(1, early.ct.dump(-1, R0 + 9 * SEC).size());
        assertEquals(0, early.ct.dump(-1, R0 + 11 * SEC).size());
        assertEquals(1, early.ct.sweep(R0 + 11 * SEC));
    }

    private static Checkpoint.Restored zeroNanos(final Checkpoint.Restored r)
    {
        return new Checkpoint.Restored(r.restored(), r.expired(), r.refused(), 0);
    }

    @Test
    void limitsAndTakenTuplesRefuseWithoutFailing()
    {
        final List<Conn> conns = connections(7, 30);
        final CtHarness before = established(conns);
        final Checkpoint cp = before.ct.checkpoint(T0, WALL);
        final int inZone3 = before.ct.connections(3);
        assertTrue(inZone3 >= 3, "seed gives zone 3 connections: " + inZone3);

        final CtHarness after = new CtHarness();
        after.ct.setZoneLimit(3, 2);
        final Checkpoint.Restored r = after.ct.restore(cp, R0, WALL);
        assertEquals(30 - (inZone3 - 2), r.restored());
        assertEquals(inZone3 - 2, r.refused());
        assertEquals(2, after.ct.zoneLimitCount(3));
        assertEquals(2, after.ct.connections(3));

        // The same checkpoint again: every tuple is taken now.
        assertEquals(new Checkpoint.Restored(0, 0, 30, 0), zeroNanos(after.ct.restore(cp, R0, WALL)));
        assertEquals(30 - (inZone3 - 2), after.ct.connections());

        final CtHarness full = new CtHarness();
        full.ct.setMaxConnections(10);
        final Checkpoint.Restored f = full.ct.restore(cp, R0, WALL);
        assertEquals(10, f.restored());
        assertEquals(20, f.refused());
    }

    @Test
    void restoredNatBindingsKeepTheirTuples()
    {
        final int a = ip("10.1.0.1");
        final int c = ip("10.1.0.3");
        final CtHarness before = new CtHarness();
        before.run(Frames.udp(a, B, 1234, 53, new byte[4]), commit().snat(N, N), T0);
        final Checkpoint cp = before.ct.checkpoint(T0, WALL);

        final CtHarness after = new CtHarness();
        after.ct.restore(cp, R0, WALL);
        // Another source with the same port: the restored binding holds N:1234, so both pick the next one.
        before.run(Frames.udp(c, B, 1234, 53, new byte[4]), commit().snat(N, N), T0 + SEC);
        after.run(Frames.udp(c, B, 1234, 53, new byte[4]), commit().snat(N, N), R0 + SEC);
        assertArrayEquals(before.frame(), after.frame());
        assertNotEquals(1234, Frames.u16(after.frame(), 34), "N:1234 is the restored connection's");
        assertEquals(sortedDump(before.ct), sortedDump(after.ct));
    }

    /** A big table: every connection comes back, and what checkpoint and restore cost is printed. */
    @Test
    void aHundredThousandConnections()
    {
        final CtHarness h = new CtHarness();
        final int n = 100_000;
        for (int i = 0; i < n; i++)
        {
            h.run(Frames.udp(ip("10.2.0.0") + (i >>> 14), B, 1024 + (i & 0x3fff), 53, new byte[4]), commit().zone(i & 7), T0);
        }
        Checkpoint cp = null;
        long best = Long.MAX_VALUE;
        for (int round = 0; round < 5; round++)
        {
            final long t = System.nanoTime();
            cp = h.ct.checkpoint(T0 + SEC, WALL);
            best = Math.min(best, System.nanoTime() - t);
        }
        final long e = System.nanoTime();
        final byte[] bytes = cp.encode();
        final long encoded = System.nanoTime() - e;
        final CtHarness after = new CtHarness();
        final Checkpoint.Restored r = after.ct.restore(Checkpoint.decode(bytes), R0, WALL + 1000);
        System.out.printf("Checkpoint: %d connections, checkpoint %.1f ms (best of 5, the table lock held for 4096 slots"
                + " at a time), encode %.1f ms, %d bytes, restore %.1f ms%n", cp.connections(), best / 1e6, encoded / 1e6,
            bytes.length, r.nanos() / 1e6);
        assertEquals(n, r.restored());
        assertEquals(n / 8, after.ct.connections(5));
        assertEquals(TRK | EST | RPL, after.run(Frames.udp(B, ip("10.2.0.0") + 3, 53, 1024 + 77, new byte[4]),
            ct().zone((3 << 14 | 77) & 7), R0 + SEC));
    }

    @Test
    void tornOrDamagedBytesAreRefused()
    {
        final byte[] bytes = established(connections(3, 5)).ct.checkpoint(T0, WALL).encode();
        assertEquals(5, Checkpoint.decode(bytes).connections());
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.decode(java.util.Arrays.copyOf(bytes, bytes.length - 1)));
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.decode(java.util.Arrays.copyOf(bytes, 10)));
        final byte[] flipped = bytes.clone();
        flipped[40] ^= 1;
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.decode(flipped));
    }
}
