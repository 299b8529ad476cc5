package dev.junction.conntrack;

import static dev.junction.conntrack.CtHarness.SEC;
import static dev.junction.conntrack.CtHarness.Spec.commit;
import static dev.junction.conntrack.CtHarness.Spec.ct;
import static dev.junction.conntrack.Frames.ip;
import static dev.junction.flowtable.ct.CtState.EST;
import static dev.junction.flowtable.ct.CtState.INV;
import static dev.junction.flowtable.ct.CtState.NEW;
import static dev.junction.flowtable.ct.CtState.REL;
import static dev.junction.flowtable.ct.CtState.RPL;
import static dev.junction.flowtable.ct.CtState.TRK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.junction.flowtable.FlowKey;

/** ICMP echo and errors, UDP, checksums, fragments, and the metadata words write_ct_md sets. */
class IcmpAndMetadataTest
{
    static final int A = ip("10.0.0.1");
    static final int B = ip("10.0.0.2");
    static final int R = ip("10.0.0.254");

    private final CtHarness h = new CtHarness();

    @Test
    void echoRequestAndReply()
    {
        assertEquals(TRK | NEW, h.run(Frames.icmpEcho(A, B, 8, 77, 1), commit(), SEC));
        assertEquals(1, h.ctNwProto());
        assertEquals(8, h.ctTpSrc()); // type in ct_tp_src, code in ct_tp_dst
        assertEquals(0, h.ctTpDst());
        assertEquals(TRK | NEW, h.run(Frames.icmpEcho(A, B, 8, 77, 2), commit(), SEC)); // still one-way
        assertEquals(TRK | EST | RPL, h.run(Frames.icmpEcho(B, A, 0, 77, 1), commit(), SEC));
        assertEquals(TRK | EST, h.run(Frames.icmpEcho(A, B, 8, 77, 3), commit(), SEC));
        assertEquals(TRK | NEW, h.run(Frames.icmpEcho(A, B, 8, 78, 1), ct(), SEC)); // other id: other connection
        assertEquals(TRK | INV, h.run(Frames.icmpEcho(B, A, 0, 79, 1), commit(), SEC)); // reply cannot start one
    }

    @Test
    void icmpErrorsRelateToTheQuotedConnection()
    {
        final byte[] req = Frames.udp(A, B, 5000, 53, new byte[20]);
        h.run(req, commit(), SEC);
        // A router tells A its packet to B could not be delivered: related, reply direction.
        assertEquals(TRK | REL | RPL, h.run(Frames.icmpError(R, A, 3, 1, req, 8), commit(), SEC));
        // The orig tuple is the connection's.
        assertEquals((long)A << 32 | (B & 0xffffffffL), h.ctNw());
        assertEquals(17, h.ctNwProto());
        assertEquals(5000, h.ctTpSrc());
        assertEquals(53, h.ctTpDst());
        // About a reply-direction packet, sent to B: related, original direction.
        final byte[] rsp = Frames.udp(B, A, 53, 5000, new byte[20]);
        assertEquals(TRK | REL, h.run(Frames.icmpError(R, B, 11, 0, rsp, 8), commit(), SEC));
        // Quoting an unknown connection: invalid, never a new connection.
        final byte[] other = Frames.udp(A, B, 5001, 53, new byte[20]);
        assertEquals(TRK | INV, h.run(Frames.icmpError(R, A, 3, 1, other, 8), commit(), SEC));
        assertEquals(1, h.ct.connections());
        // Inner source must be the outer destination.
        assertEquals(TRK | INV, h.run(Frames.icmpError(R, B, 3, 1, req, 8), commit(), SEC));
        // Too short a quote (fewer than 8 L4 bytes).
        assertEquals(TRK | INV, h.run(Frames.icmpError(R, A, 3, 1, req, 4), commit(), SEC));
    }

    @Test
    void udpFirstSingleMultiple()
    {
        assertEquals(TRK | NEW, h.run(Frames.udp(A, B, 1, 2, new byte[1]), commit(), 0));
        assertEquals(TRK | NEW, h.run(Frames.udp(A, B, 1, 2, new byte[1]), commit(), SEC));
        assertEquals(TRK | EST | RPL, h.run(Frames.udp(B, A, 2, 1, new byte[1]), commit(), SEC));
        assertEquals(TRK | EST, h.run(Frames.udp(A, B, 1, 2, new byte[1]), commit(), SEC));
        // Bidirectional: 30 s.
        assertEquals(1, h.ct.dump(-1, 31 * SEC - 1).size());
        assertEquals(0, h.ct.dump(-1, 31 * SEC).size());
    }

    @Test
    void badChecksumsAreInvalid()
    {
        final byte[] f = Frames.udp(A, B, 1, 2, new byte[4]);
        f[14 + 10] ^= 1; // IP header checksum
        assertEquals(TRK | INV, h.run(f, commit(), SEC));
        final byte[] g = Frames.tcp(A, B, 1, 2, 1, 0, Frames.SYN);
        g[14 + 20 + 16] ^= 1;
        assertEquals(TRK | INV, h.run(g, commit(), SEC));
        final byte[] i = Frames.icmpEcho(A, B, 8, 1, 1);
        i[14 + 20 + 2] ^= 1;
        assertEquals(TRK | INV, h.run(i, commit(), SEC));
        assertEquals(0, h.ct.connections());
        assertEquals(3, h.ct.invalid());
        // Invalid packets carry no tuple, mark or label.
        assertEquals(0, h.ctNw());
        assertEquals(0, h.ctNwProto());
    }

    @Test
    void udpZeroChecksumIsValidOnlyOnIpv4()
    {
        final byte[] f = Frames.udp(A, B, 1, 2, new byte[4]);
        Frames.put16(f, 14 + 20 + 6, 0);
        assertEquals(TRK | NEW, h.run(f, ct(), SEC));
        final long[] a6 = Frames.ip6("2001:db8::1");
        final long[] b6 = Frames.ip6("2001:db8::2");
        final byte[] g = Frames.udp6(a6, b6, 1, 2, new byte[4]);
        Frames.put16(g, 14 + 40 + 6, 0);
        assertEquals(TRK | INV, h.run(g, ct(), SEC));
    }

    @Test
    void portZeroIsInvalid()
    {
        assertEquals(TRK | INV, h.run(Frames.udp(A, B, 0, 2, new byte[1]), commit(), SEC));
    }

    @Test
    void fragmentsAreDroppedAndCounted()
    {
        final byte[] f = Frames.udp(A, B, 1, 2, new byte[16]);
        Frames.put16(f, 14 + 6, 0x2000); // MF
        Frames.put16(f, 14 + 10, 0);
        Frames.put16(f, 14 + 10, Checksums.csum(f, 14, 20));
        h.run(f, commit(), SEC);
        assertFalse(h.lastResult);
        assertEquals(1, h.ct.fragmentsDropped());
        assertEquals(0, h.ct.connections());
    }

    @Test
    void markAndLabelAreWrittenOnlyToAConnection()
    {
        // Uncommitted: nothing to write to; the packet's mark and label are zero, whatever it had.
        h.packet.wrap(new byte[0], 0, 0);
        h.run(Frames.udp(A, B, 1, 2, new byte[1]), ct().mark(5, 0xffffffffL), SEC);
        assertEquals(0, h.key.ctMark());
        h.key.words[FlowKey.W_CT] |= 9; // a stale mark from before must not survive
        h.again(ct().zone(0), SEC);
        assertEquals(0, h.key.ctMark());

        assertEquals(TRK | NEW, h.run(Frames.udp(A, B, 1, 2, new byte[1]),
            commit().zone(3).mark(0x15, 0xff).label(0, 0x1234, 0, 0xffff), SEC));
        assertEquals(0x15, h.key.ctMark());
        assertEquals(3, h.key.ctZone());
        assertEquals(0x1234, h.key.words[FlowKey.W_CT_LABEL + 1]);
        // Later packets carry the connection's mark and label without setting them.
        assertEquals(TRK | EST | RPL, h.run(Frames.udp(B, A, 2, 1, new byte[1]), ct().zone(3), SEC));
        assertEquals(0x15, h.key.ctMark());
        assertEquals(0x1234, h.key.words[FlowKey.W_CT_LABEL + 1]);
        // Masked update keeps the other bits.
        h.run(Frames.udp(B, A, 2, 1, new byte[1]), commit().zone(3).mark(0x200, 0xf00), SEC);
        assertEquals(0x215, h.key.ctMark());
        assertTrue(h.ct.dump(3).get(0).contains(",zone=3,mark=533,labels=0x1234"), h.ct.dump(3).toString());
        // Other zones do not see it.
        assertEquals(TRK | NEW, h.run(Frames.udp(B, A, 2, 1, new byte[1]), ct().zone(4), SEC));
    }

    @Test
    void origTupleIsThePacketsForANewPacketAndTheConnectionsOtherwise()
    {
        h.run(Frames.udp(A, B, 1111, 2222, new byte[1]), ct(), SEC);
        assertEquals((long)A << 32 | (B & 0xffffffffL), h.ctNw());
        assertEquals(1111, h.ctTpSrc());
        h.run(Frames.udp(A, B, 1111, 2222, new byte[1]), commit(), SEC);
        h.run(Frames.udp(B, A, 2222, 1111, new byte[1]), ct(), SEC);
        assertEquals((long)A << 32 | (B & 0xffffffffL), h.ctNw());
        assertEquals(1111, h.ctTpSrc());
        assertEquals(2222, h.ctTpDst());
        // dp_hash is not conntrack's: it is left alone.
        h.key.words[FlowKey.W_DP_HASH] = 0xabcdL;
        h.again(ct(), SEC);
        assertEquals(0xabcdL, h.key.words[FlowKey.W_DP_HASH]);
    }

    @Test
    void ipv6EchoAndOrigTuple()
    {
        final long[] a6 = Frames.ip6("fe80::1");
        final long[] b6 = Frames.ip6("2001:db8::2");
        assertEquals(TRK | NEW, h.run(Frames.icmp6Echo(a6, b6, 128, 9, 1), commit().zone(2), SEC));
        assertEquals(a6[0], h.key.words[FlowKey.W_CT_IPV6_SRC]);
        assertEquals(b6[1], h.key.words[FlowKey.W_CT_IPV6_DST + 1]);
        assertEquals(0, h.ctNw());
        assertEquals(58, h.ctNwProto());
        assertEquals(128, h.ctTpSrc());
        assertEquals(TRK | EST | RPL, h.run(Frames.icmp6Echo(b6, a6, 129, 9, 1), ct().zone(2), SEC));
        final byte[] req = Frames.udp6(a6, b6, 4000, 53, new byte[8]);
        h.run(req, commit().zone(2), SEC);
        assertEquals(TRK | REL | RPL, h.run(Frames.icmp6Error(b6, a6, 1, 4, req, 8), ct().zone(2), SEC));
        assertEquals("icmpv6,orig=(src=fe80::1,dst=2001:db8::2,id=9,type=128,code=0),"
            + "reply=(src=2001:db8::2,dst=fe80::1,id=9,type=129,code=0),zone=2", h.ct.dump(2).stream()
            .filter(l -> l.startsWith("icmpv6")).findFirst().orElseThrow());
    }

    @Test
    void enteringAnotherZoneResetsTheState()
    {
        h.run(Frames.udp(A, B, 1, 2, new byte[1]), commit().zone(1), SEC);
        h.run(Frames.udp(B, A, 2, 1, new byte[1]), ct().zone(1), SEC);
        assertEquals(TRK | EST | RPL, h.key.ctState());
        assertEquals(TRK | NEW, h.again(ct().zone(2), SEC));
        assertEquals(2, h.key.ctZone());
    }

    @Test
    void forceEndsAConnectionSeenInTheReplyDirection()
    {
        h.run(Frames.udp(A, B, 1, 2, new byte[1]), commit(), SEC);
        assertEquals(TRK | NEW, h.run(Frames.udp(B, A, 2, 1, new byte[1]), ct().flag(dev.junction.flowtable.ct.CtAction.F_FORCE), SEC));
        assertEquals(2, h.ct.connections()); // the old one is expired, awaiting the sweep
        h.ct.sweep(SEC);
        assertEquals(1, h.ct.connections());
        assertEquals("udp,orig=(src=10.0.0.2,dst=10.0.0.1,sport=2,dport=1),reply=(src=10.0.0.1,dst=10.0.0.2,sport=1,dport=2)",
            h.ct.dump(-1).get(0));
        // In the original direction force does nothing special.
        assertEquals(TRK | NEW, h.run(Frames.udp(B, A, 2, 1, new byte[1]), ct().flag(dev.junction.flowtable.ct.CtAction.F_FORCE), SEC));
        assertEquals(1, h.ct.connections());
    }
}
