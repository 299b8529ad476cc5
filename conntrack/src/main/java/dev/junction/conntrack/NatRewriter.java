package dev.junction.conntrack;

import dev.junction.flowtable.Packet;

/**
 * Rewrites a packet's addresses and ports for a NATed connection, as OVS's {@code nat_packet},
 * {@code nat_inner_packet} and {@code pat_packet} with the {@code packet_set_*} helpers of
 * lib/packets.c: incremental (RFC 1624) checksum updates of the IPv4 header and the TCP/UDP/
 * ICMPv6 checksums, a zero IPv4 UDP checksum left zero (and a computed zero sent as 0xffff),
 * and for an ICMP error the quoted header translated back with the ICMP checksum recomputed.
 *
 * <p>OVS quirks kept on purpose, so the bytes match: the IPv6 L4 checksum fix-up picks the
 * checksum field by the <em>connection's</em> protocol even when the packet is an ICMPv6 error
 * quoting it; port writes into a truncated quoted header go wherever the offsets point (here:
 * only while inside the buffer).
 */
final class NatRewriter
{
    private final ConnKey scratch = new ConnKey();
    private final KeyExtractor innerFinder = new KeyExtractor();

    /**
     * Translates the packet in its direction; {@code key} is the connection's key of the
     * <em>other</em> direction (OVS's {@code conn->key_node[reply ? FWD : REV]}), {@code action}
     * the NAT in the packet's direction. Returns the ct_state NAT bit to set.
     */
    int natPacket(final Packet p, final ConnKey key, final int action, final boolean related)
    {
        final int bit = (action & NatSpec.SRC) != 0 ? 0x40 : (action & NatSpec.DST) != 0 ? 0x80 : 0;
        final int tail = p.end() - p.l2Pad;
        if (!key.v6)
        {
            natIpv4(p, p.l3, p.l4, tail, key, action);
        }
        else
        {
            natIpv6(p, p.l3, p.l4, tail, key, action);
        }
        if ((action & (NatSpec.SRC | NatSpec.DST)) != 0)
        {
            if (related)
            {
                natInner(p, key, NatSpec.reverse(action), tail);
            }
            else
            {
                patPacket(p, p.l4, key);
            }
        }
        return bit;
    }

    private void natInner(final Packet p, final ConnKey key, final int action, final int tail)
    {
        innerFinder.locateInner(p, key.v6);
        final int l3 = innerFinder.innerL3;
        final int l4 = innerFinder.innerL4;
        final ConnKey rev = scratch;
        rev.copyFrom(key);
        rev.reverse();
        patPacket(p, l4, rev);
        final int icmp = p.l4;
        if (!key.v6)
        {
            natIpv4(p, l3, l4, tail, rev, action);
            p.put16(icmp + 2, 0);
            p.put16(icmp + 2, Checksums.csum(p.buf, icmp, tail - icmp));
        }
        else
        {
            natIpv6(p, l3, l4, tail, rev, action);
            p.put16(icmp + 2, 0);
            p.put16(icmp + 2, Checksums.upperLayerV6(p.buf, p.l3, KeyExtractor.IPPROTO_ICMPV6, icmp, tail - icmp));
        }
    }

    private static void natIpv4(final Packet p, final int l3, final int l4, final int tail, final ConnKey key,
        final int action)
    {
        if ((action & NatSpec.SRC) != 0)
        {
            setIpv4Addr(p, l3, l4, tail, l3 + 12, key.dstLo);
        }
        else if ((action & NatSpec.DST) != 0)
        {
            setIpv4Addr(p, l3, l4, tail, l3 + 16, key.srcLo);
        }
    }

    private static void natIpv6(final Packet p, final int l3, final int l4, final int tail, final ConnKey key,
        final int action)
    {
        if ((action & NatSpec.SRC) != 0)
        {
            setIpv6Addr(p, key.proto, l4, tail, l3 + 8, key.dstHi, key.dstLo);
        }
        else if ((action & NatSpec.DST) != 0)
        {
            setIpv6Addr(p, key.proto, l4, tail, l3 + 24, key.srcHi, key.srcLo);
        }
    }

    /** As {@code packet_set_ipv4_addr}: L4 checksum by the header's protocol, then the header checksum. */
    static void setIpv4Addr(final Packet p, final int l3, final int l4, final int tail, final int at,
        final long newAddr)
    {
        final long old = p.u32(at);
        final int l4Size = tail - l4;
        final int proto = p.u8(l3 + 9);
        if (proto == KeyExtractor.IPPROTO_TCP && l4Size >= 20)
        {
            p.put16(l4 + 16, Checksums.recalc32(p.u16(l4 + 16), old, newAddr));
        }
        else if (proto == KeyExtractor.IPPROTO_UDP && l4Size >= 8)
        {
            final int c = p.u16(l4 + 6);
            if (c != 0)
            {
                final int n = Checksums.recalc32(c, old, newAddr);
                p.put16(l4 + 6, n == 0 ? 0xffff : n);
            }
        }
        p.put16(l3 + 10, Checksums.recalc32(p.u16(l3 + 10), old, newAddr));
        p.put32(at, newAddr);
    }

    /** As {@code packet_set_ipv6_addr} with {@code packet_update_csum128}: {@code proto} picks the checksum. */
    static void setIpv6Addr(final Packet p, final int proto, final int l4, final int tail, final int at,
        final long hi, final long lo)
    {
        final long oHi = p.u64(at);
        final long oLo = p.u64(at + 8);
        final int l4Size = tail - l4;
        if (proto == KeyExtractor.IPPROTO_TCP && l4Size >= 20)
        {
            p.put16(l4 + 16, Checksums.recalc128(p.u16(l4 + 16), oHi, oLo, hi, lo));
        }
        else if (proto == KeyExtractor.IPPROTO_UDP && l4Size >= 8)
        {
            final int c = p.u16(l4 + 6);
            if (c != 0)
            {
                final int n = Checksums.recalc128(c, oHi, oLo, hi, lo);
                p.put16(l4 + 6, n == 0 ? 0xffff : n);
            }
        }
        else if (proto == KeyExtractor.IPPROTO_ICMPV6 && l4Size >= 4)
        {
            p.put16(l4 + 2, Checksums.recalc128(p.u16(l4 + 2), oHi, oLo, hi, lo));
        }
        p.put64(at, hi);
        p.put64(at + 8, lo);
    }

    /** As {@code pat_packet}: ports from {@code key} reversed (source = key's dst port). */
    static void patPacket(final Packet p, final int l4, final ConnKey key)
    {
        final int src = key.dstTp >>> 16;
        final int dst = key.srcTp >>> 16;
        if (key.proto == KeyExtractor.IPPROTO_TCP)
        {
            setPort(p, l4, src, l4 + 16);
            setPort(p, l4 + 2, dst, l4 + 16);
        }
        else if (key.proto == KeyExtractor.IPPROTO_UDP)
        {
            if (p.inBuffer(l4 + 6, 2) && p.u16(l4 + 6) != 0)
            {
                setPort(p, l4, src, l4 + 6);
                setPort(p, l4 + 2, dst, l4 + 6);
                if (p.u16(l4 + 6) == 0)
                {
                    p.put16(l4 + 6, 0xffff);
                }
            }
            else
            {
                p.put16(l4, src);
                p.put16(l4 + 2, dst);
            }
        }
    }

    private static void setPort(final Packet p, final int at, final int port, final int csumAt)
    {
        final int old = p.u16(at);
        if (old != port)
        {
            if (p.inBuffer(csumAt, 2))
            {
                p.put16(csumAt, Checksums.recalc16(p.u16(csumAt), old, port));
            }
            p.put16(at, port);
        }
    }
}
