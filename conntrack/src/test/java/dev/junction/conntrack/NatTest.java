package dev.junction.conntrack;

import static dev.junction.conntrack.CtHarness.SEC;
import static dev.junction.conntrack.CtHarness.Spec.commit;
import static dev.junction.conntrack.CtHarness.Spec.ct;
import static dev.junction.conntrack.Frames.ip;
import static dev.junction.flowtable.ct.CtState.DNAT;
import static dev.junction.flowtable.ct.CtState.EST;
import static dev.junction.flowtable.ct.CtState.INV;
import static dev.junction.flowtable.ct.CtState.NEW;
import static dev.junction.flowtable.ct.CtState.REL;
import static dev.junction.flowtable.ct.CtState.RPL;
import static dev.junction.flowtable.ct.CtState.SNAT;
import static dev.junction.flowtable.ct.CtState.TRK;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

/** NAT: tuple choice as nat_get_unique_tuple, packet rewrites with checksums, reverse NAT of replies and ICMP errors. */
class NatTest
{
    static final int A = ip("10.0.0.1");
    static final int B = ip("10.0.0.2");
    static final int C = ip("10.0.0.3");
    static final int N = ip("192.168.1.1");
    static final int R = ip("10.0.0.254");

    private final CtHarness h = new CtHarness();

    private static void assertFrame(final byte[] f, final int src, final int dst, final int sp, final int dp)
    {
        assertEquals(src & 0xffffffffL, Frames.u32(f, 26), "src");
        assertEquals(dst & 0xffffffffL, Frames.u32(f, 30), "dst");
        if (sp >= 0)
        {
            assertEquals(sp, Frames.u16(f, 34), "sport");
            assertEquals(dp, Frames.u16(f, 36), "dport");
        }
        assertTrue(Frames.checksumsValid(f, 14), "checksums");
    }

    @Test
    void snatTcpBothWays()
    {
        assertEquals(TRK | NEW | SNAT, h.run(Frames.tcp(A, B, 1234, 80, 1000, 0, Frames.SYN), commit().snat(N, N), SEC));
        assertFrame(h.frame(), N, B, 1234, 80);
        assertEquals(TRK | EST | RPL | DNAT, h.run(Frames.tcp(B, N, 80, 1234, 5000, 1001, Frames.SYN | Frames.ACK), ct().nat(), SEC));
        assertFrame(h.frame(), B, A, 80, 1234);
        // The orig tuple is the pre-NAT one.
        assertEquals((long)A << 32 | (B & 0xffffffffL), h.ctNw());
        assertEquals(TRK | EST | SNAT, h.run(Frames.tcp(A, B, 1234, 80, 1001, 5001, Frames.ACK), ct().nat(), SEC));
        assertFrame(h.frame(), N, B, 1234, 80);
        // Without nat in the action the packet is tracked but left alone.
        assertEquals(TRK | EST, h.run(Frames.tcp(A, B, 1234, 80, 1001, 5001, Frames.ACK), ct(), SEC));
        assertFrame(h.frame(), A, B, 1234, 80);
        assertEquals("tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1234,dport=80),"
            + "reply=(src=10.0.0.2,dst=192.168.1.1,sport=80,dport=1234),protoinfo=(state=ESTABLISHED)", h.ct.dump(-1).get(0));
    }

    @Test
    void natIsAppliedOncePerZone()
    {
        h.run(Frames.udp(A, B, 1000, 2000, new byte[3]), commit().snat(N, N), SEC);
        final byte[] once = h.frame();
        // The same packet through ct(nat) again in the zone: found by its reverse tuple, not translated twice.
        assertEquals(TRK | NEW | SNAT, h.again(ct().nat(), SEC));
        assertArrayEquals(once, h.frame());
    }

    /** Oracle run (OVS 3.1): snat to one address keeps the source port when free, else walks up from it. */
    @Test
    void snatPortChoiceMatchesOvs()
    {
        h.run(Frames.udp(C, B, 1000, 2000, new byte[1]), commit().zone(3).snat(ip("10.9.9.9"), ip("10.9.9.9")), SEC);
        h.run(Frames.udp(ip("10.0.0.4"), B, 1000, 2000, new byte[1]), commit().zone(3).snat(ip("10.9.9.9"), ip("10.9.9.9")), SEC);
        assertFrame(h.frame(), ip("10.9.9.9"), B, 1001, 2000);
        h.run(Frames.udp(ip("10.0.0.5"), B, 80, 2000, new byte[1]), commit().zone(3).snat(ip("10.9.9.9"), ip("10.9.9.9")), SEC);
        h.run(Frames.udp(ip("10.0.0.6"), B, 80, 2000, new byte[1]), commit().zone(3).snat(ip("10.9.9.9"), ip("10.9.9.9")), SEC);
        final List<String> d = h.ct.dump(3);
        d.sort(null);
        assertEquals(List.of(
            "udp,orig=(src=10.0.0.3,dst=10.0.0.2,sport=1000,dport=2000),reply=(src=10.0.0.2,dst=10.9.9.9,sport=2000,dport=1000),zone=3",
            "udp,orig=(src=10.0.0.4,dst=10.0.0.2,sport=1000,dport=2000),reply=(src=10.0.0.2,dst=10.9.9.9,sport=2000,dport=1001),zone=3",
            "udp,orig=(src=10.0.0.5,dst=10.0.0.2,sport=80,dport=2000),reply=(src=10.0.0.2,dst=10.9.9.9,sport=2000,dport=80),zone=3",
            "udp,orig=(src=10.0.0.6,dst=10.0.0.2,sport=80,dport=2000),reply=(src=10.0.0.2,dst=10.9.9.9,sport=2000,dport=81),zone=3"), d);
    }

    /** Oracle run (OVS 3.1): bare nat on a commit makes a reply tuple of zero address and port. */
    @Test
    void bareNatOnCommitIsOvsExact()
    {
        assertEquals(TRK | NEW, h.run(Frames.udp(A, B, 1000, 2000, new byte[1]), commit().nat(), SEC));
        assertFrame(h.frame(), A, B, 1000, 2000);
        assertEquals(TRK | NEW, h.run(Frames.udp(B, A, 2000, 1000, new byte[1]), ct().nat(), SEC));
        assertEquals(List.of("udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1000,dport=2000),reply=(src=0.0.0.0,dst=10.0.0.1,sport=2000,dport=0)"),
            h.ct.dump(-1));
    }

    @Test
    void dnatWithPort()
    {
        final int vip = ip("172.16.0.10");
        assertEquals(TRK | NEW | DNAT, h.run(Frames.tcp(A, vip, 40000, 80, 1, 0, Frames.SYN), commit().dnat(B, B).ports(8080, 8080), SEC));
        assertFrame(h.frame(), A, B, 40000, 8080);
        assertEquals(TRK | EST | RPL | SNAT, h.run(Frames.tcp(B, A, 8080, 40000, 7, 2, Frames.SYN | Frames.ACK), ct().nat(), SEC));
        assertFrame(h.frame(), vip, A, 80, 40000);
    }

    /**
     * OVS 3.1.0 (the oracle): a retransmitted SYN DNATed by ct(nat), then ct(commit,force)
     * without nat, is taken for a reply; the connection is kept and the SYN runs through the
     * server's half, so the server's SYN+ACK is invalid (and, ct(nat) asked, still un-NATed).
     */
    @Test
    void forceOnANatedRetransmitTakesItForAReply()
    {
        final int vip = ip("172.16.0.10");
        final int force = dev.junction.flowtable.ct.CtAction.F_FORCE;
        h.run(Frames.tcp(A, vip, 40000, 80, 1, 0, Frames.SYN), ct().nat(), SEC);
        h.again(commit().flag(force).dnat(B, B).ports(8080, 8080), SEC);
        assertEquals(TRK | NEW | DNAT, h.run(Frames.tcp(A, vip, 40000, 80, 1, 0, Frames.SYN), ct().nat(), SEC));
        assertEquals(TRK | NEW | DNAT, h.again(commit().flag(force), SEC));
        assertFrame(h.frame(), A, B, 40000, 8080);
        assertEquals(1, h.ct.connections());
        assertEquals(TRK | INV | SNAT, h.run(Frames.tcp(B, A, 8080, 40000, 0x10000000L, 2, Frames.SYN | Frames.ACK), ct().nat(), SEC));
        assertTrue(h.ct.dump(-1).get(0).endsWith("protoinfo=(state=SYN_SENT)"), h.ct.dump(-1).get(0));
    }

    /** OVS 3.1.0: force passes over a reply to a NATed connection (its un-NAT entry reports the original direction). */
    @Test
    void forceKeepsANatedConnectionSeenInTheReplyDirection()
    {
        final int vip = ip("172.16.0.10");
        final int force = dev.junction.flowtable.ct.CtAction.F_FORCE;
        h.run(Frames.tcp(A, vip, 40000, 80, 1, 0, Frames.SYN), commit().dnat(B, B).ports(8080, 8080), SEC);
        assertEquals(TRK | EST | RPL, h.run(Frames.tcp(B, A, 8080, 40000, 7, 2, Frames.SYN | Frames.ACK),
            commit().flag(force), SEC));
        assertEquals(1, h.ct.connections());
        assertEquals(TRK | EST | DNAT, h.run(Frames.tcp(A, vip, 40000, 80, 2, 8, Frames.ACK), ct().nat(), SEC));
    }

    /** Bare nat translates nothing: OVS's un-NAT entry shares the connection's hash chain, behind it, and force ends the connection. */
    @Test
    void forceEndsAnUntranslatedNatConnectionSeenInTheReplyDirection()
    {
        final int force = dev.junction.flowtable.ct.CtAction.F_FORCE;
        h.run(Frames.udp(A, B, 1, 2, new byte[1]), commit().nat(), SEC);
        assertEquals(TRK | NEW, h.run(Frames.udp(B, A, 2, 1, new byte[1]), ct().flag(force), SEC));
        assertEquals(2, h.ct.connections()); // the old one is expired, awaiting the sweep
    }

    @Test
    void dnatClashFallsBackToTheSourcePort()
    {
        // Two clients' connections DNATed to the same server tuple with the same source port.
        final int vip1 = ip("172.16.0.10");
        final int vip2 = ip("172.16.0.11");
        h.run(Frames.udp(A, vip1, 5555, 53, new byte[1]), commit().dnat(B, B), SEC);
        h.run(Frames.udp(A, vip2, 5555, 53, new byte[1]), commit().dnat(B, B), SEC);
        assertFrame(h.frame(), A, B, 5556, 53);
    }

    @Test
    void exhaustedPortRangeLeavesThePacketNewAndUntranslated()
    {
        h.run(Frames.udp(A, B, 1000, 2000, new byte[1]), commit().snat(N, N).ports(5000, 5000), SEC);
        assertFrame(h.frame(), N, B, 5000, 2000);
        assertEquals(TRK | NEW, h.run(Frames.udp(C, B, 1000, 2000, new byte[1]), commit().snat(N, N).ports(5000, 5000), SEC));
        assertFrame(h.frame(), C, B, 1000, 2000);
        assertEquals(1, h.ct.natExhausted());
        assertEquals(1, h.ct.connections());
    }

    @Test
    void zeroUdpChecksumStaysZero()
    {
        final byte[] f = Frames.udp(A, B, 1000, 2000, new byte[5]);
        Frames.put16(f, 40, 0);
        h.run(f, commit().snat(N, N).ports(7000, 7000), SEC);
        final byte[] o = h.frame();
        assertEquals(0, Frames.u16(o, 40));
        assertFrame(o, N, B, 7000, 2000);
    }

    @Test
    void icmpErrorIsReverseTranslatedInsideAndOut()
    {
        final byte[] orig = Frames.udp(A, B, 1000, 2000, new byte[12]);
        h.run(orig, commit().snat(N, N).ports(3333, 3333), SEC);
        final byte[] natted = h.frame();
        // A router answers the translated packet: to N, quoting N:3333 -> B:2000.
        final byte[] err = Frames.icmpError(R, N, 3, 3, natted, 8);
        assertEquals(TRK | REL | RPL | DNAT, h.run(err, ct().nat(), SEC));
        final byte[] out = h.frame();
        assertFrame(out, R, A, -1, -1);
        // The quote is again what A sent: header (checksum included) and UDP ports and checksum.
        assertArrayEquals(Arrays.copyOfRange(orig, 14, 14 + 28), Arrays.copyOfRange(out, 42, 42 + 28));
    }

    @Test
    void icmpEchoSnatTranslatesAddressOnly()
    {
        assertEquals(TRK | NEW | SNAT, h.run(Frames.icmpEcho(A, B, 8, 42, 1), commit().snat(N, N), SEC));
        assertFrame(h.frame(), N, B, -1, -1);
        assertEquals(42, Frames.u16(h.frame(), 38));
        assertEquals(TRK | EST | RPL | DNAT, h.run(Frames.icmpEcho(B, N, 0, 42, 1), ct().nat(), SEC));
        assertFrame(h.frame(), B, A, -1, -1);
    }

    @Test
    void ipv6SnatTcpUdpIcmp()
    {
        final long[] a = Frames.ip6("2001:db8::1");
        final long[] b = Frames.ip6("2001:db8:1::2");
        final long[] n = Frames.ip6("2001:db8:ffff::99");
        h.run(Frames.tcp6(a, b, 1234, 443, 1, 0, Frames.SYN), commit().snat6(n), SEC);
        byte[] f = h.frame();
        assertEquals(n[1], Frames6.src(f)[1]);
        assertTrue(Frames.checksumsValid(f, 14));
        assertEquals(TRK | EST | RPL | DNAT, h.run(Frames.tcp6(b, n, 443, 1234, 9, 2, Frames.SYN | Frames.ACK), ct().nat(), SEC));
        f = h.frame();
        assertArrayEquals(a, Frames6.dst(f));
        assertTrue(Frames.checksumsValid(f, 14));

        h.run(Frames.udp6(a, b, 53, 53, new byte[7]), commit().snat6(n), SEC);
        assertTrue(Frames.checksumsValid(h.frame(), 14));
        assertArrayEquals(n, Frames6.src(h.frame()));

        h.run(Frames.icmp6Echo(a, b, 128, 5, 1), commit().snat6(n), SEC);
        assertTrue(Frames.checksumsValid(h.frame(), 14));
        assertArrayEquals(n, Frames6.src(h.frame()));
        assertEquals(TRK | EST | RPL | DNAT, h.run(Frames.icmp6Echo(b, n, 129, 5, 1), ct().nat(), SEC));
        assertTrue(Frames.checksumsValid(h.frame(), 14));
        assertArrayEquals(a, Frames6.dst(h.frame()));
    }

    @Test
    void ipv6DnatIcmpErrorInner()
    {
        final long[] a = Frames.ip6("2001:db8::1");
        final long[] vip = Frames.ip6("2001:db8::100");
        final long[] s = Frames.ip6("2001:db8::200");
        final byte[] orig = Frames.udp6(a, vip, 4000, 53, new byte[8]);
        h.run(orig, commit().dnat6(s), SEC);
        final byte[] natted = h.frame();
        assertArrayEquals(s, Frames6.dst(natted));
        // The server says "port unreachable" about a->s: outer to a, quoting a->s.
        final byte[] err = Frames.icmp6Error(s, a, 1, 4, natted, 8);
        assertEquals(TRK | REL | RPL | SNAT, h.run(err, ct().nat(), SEC));
        final byte[] out = h.frame();
        assertArrayEquals(vip, Frames6.src(out));
        assertTrue(Frames.checksumsValid(out, 14));
        // The quoted header's destination is the VIP again.
        final long[] innerDst = { Frames6.u64(out, 14 + 48 + 24), Frames6.u64(out, 14 + 48 + 32) };
        assertArrayEquals(vip, innerDst);
    }

    /** IPv6 address helpers. */
    static final class Frames6
    {
        static long u64(final byte[] f, final int at)
        {
            return Frames.u32(f, at) << 32 | Frames.u32(f, at + 4);
        }

        static long[] src(final byte[] f)
        {
            return new long[] { u64(f, 22), u64(f, 30) };
        }

        static long[] dst(final byte[] f)
        {
            return new long[] { u64(f, 38), u64(f, 46) };
        }
    }
}
