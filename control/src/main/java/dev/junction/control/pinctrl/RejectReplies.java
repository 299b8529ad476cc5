package dev.junction.control.pinctrl;

import dev.junction.datapath.exec.Checksum;

import static dev.junction.control.pinctrl.BigEndian.put16;
import static dev.junction.control.pinctrl.BigEndian.put32;

/**
 * The answers OVN's pinctrl gives a rejected packet ({@code pinctrl_handle_reject}), sent back to
 * the client as if from the address it tried: a TCP segment gets a RST, anything else ICMP
 * destination unreachable (port unreachable for UDP, host unreachable otherwise; ICMPv6 type 1,
 * code 4 or 1) quoting the original IP header and as much of the packet as fits in 576 bytes
 * (IPv4) or 1280 (IPv6). MACs and addresses are the packet's, swapped; an 802.1Q tag is kept.
 * A RST, an ICMP destination unreachable or an SCTP packet (OVN answers with an ABORT, not done
 * here) gets nothing: no error answers an error.
 *
 * <p>The RST's numbers are Linux's (tcp_v4_send_reset), which for a SYN are also OVN's: a segment
 * with ACK gets {@code seq = its ack}, flags RST; one without gets {@code seq 0}, {@code ack = its
 * seq + its length} (SYN and FIN count one), flags RST+ACK. OVN's IPv4 header: TTL 63 (RST) or
 * 255 (ICMP), DSCP CS6, DF; IPv6: hop limit 63 or 255.
 */
final class RejectReplies
{
    private static final int ETH = 14;
    private static final int IPV4 = 20;
    private static final int IPV6 = 40;
    private static final int ICMP_HEADER = 8;
    private static final int IPV4_ROOM = 576 - (ETH + IPV4 + ICMP_HEADER);
    private static final int IPV6_ROOM = 1280 - (ETH + IPV6 + ICMP_HEADER);

    private RejectReplies()
    {
    }

    /** The answer to {@code h}'s packet, or null when it gets none. */
    static byte[] reply(final FrameHeaders h)
    {
        if (h.proto() == FrameHeaders.TCP)
        {
            return h.hasL4(20) && (h.frame()[h.l4() + 13] & FrameHeaders.TCP_RST) == 0 ? tcpReset(h) : null;
        }
        if (h.proto() == FrameHeaders.SCTP || isUnreachable(h))
        {
            return null;
        }
        return unreachable(h);
    }

    private static boolean isUnreachable(final FrameHeaders h)
    {
        final boolean icmp = h.ipv6() ? h.proto() == FrameHeaders.ICMPV6 : h.proto() == FrameHeaders.ICMP;
        return icmp && (!h.hasL4(1) || (h.frame()[h.l4()] & 0xff) == (h.ipv6() ? 1 : 3));
    }

    private static byte[] tcpReset(final FrameHeaders h)
    {
        final byte[] in = h.frame();
        final int inFlags = in[h.l4() + 13] & 0xff;
        final int segment = h.l4Length() - ((in[h.l4() + 12] & 0xf0) >>> 2)
            + ((inFlags & FrameHeaders.TCP_SYN) != 0 ? 1 : 0) + ((inFlags & FrameHeaders.TCP_FIN) != 0 ? 1 : 0);
        final byte[] f = header(h, FrameHeaders.TCP, 63, 20);
        final int l4 = f.length - 20;
        put16(f, l4, h.destinationPort());
        put16(f, l4 + 2, h.sourcePort());
        final int flags;
        if ((inFlags & FrameHeaders.TCP_ACK) != 0)
        {
            put32(f, l4 + 4, FrameHeaders.u32(in, h.l4() + 8));
            flags = FrameHeaders.TCP_RST;
        }
        else
        {
            put32(f, l4 + 8, (FrameHeaders.u32(in, h.l4() + 4) + segment) & 0xffff_ffffL);
            flags = FrameHeaders.TCP_RST | FrameHeaders.TCP_ACK;
        }
        put16(f, l4 + 12, 5 << 12 | flags);
        transportChecksum(f, h.ipv6(), FrameHeaders.TCP, l4, 20, l4 + 16);
        return f;
    }

    private static byte[] unreachable(final FrameHeaders h)
    {
        final boolean udp = h.proto() == FrameHeaders.UDP;
        return icmpError(h, h.ipv6() ? 1 : 3, h.ipv6() ? (udp ? 4 : 1) : (udp ? 3 : 1), 0, h.frame(), 0, h.destinationAt());
    }

    /**
     * An ICMP (ICMPv6) error of {@code type} and {@code code} about {@code h}'s packet, its second
     * header word {@code rest} (e.g. the next-hop MTU), quoting as much of the packet as RFC 1812
     * (576 bytes in all) or RFC 4443 (1280) allow, to the packet's sender from the MAC at
     * {@code from[macAt]} and the address at {@code from[addressAt]}; TTL (hop limit) 255.
     */
    static byte[] icmpError(final FrameHeaders h, final int type, final int code, final long rest, final byte[] from,
        final int macAt, final int addressAt)
    {
        final int quoted = Math.min(h.ipLength(), h.ipv6() ? IPV6_ROOM : IPV4_ROOM);
        final int proto = h.ipv6() ? FrameHeaders.ICMPV6 : FrameHeaders.ICMP;
        final byte[] f = header(h, proto, 255, ICMP_HEADER + quoted, from, macAt, addressAt);
        final int l4 = f.length - ICMP_HEADER - quoted;
        f[l4] = (byte)type;
        f[l4 + 1] = (byte)code;
        put32(f, l4 + 4, rest);
        System.arraycopy(h.frame(), h.l3(), f, l4 + ICMP_HEADER, quoted);
        if (h.ipv6())
        {
            transportChecksum(f, true, proto, l4, ICMP_HEADER + quoted, l4 + 2);
        }
        else
        {
            put16(f, l4 + 2, Checksum.finish(InternetChecksum.sum(f, l4, ICMP_HEADER + quoted, 0)));
        }
        return f;
    }

    /** True when {@code h}'s packet is itself an ICMP (ICMPv6) error, or too short to tell: no error answers an error. */
    static boolean isIcmpError(final FrameHeaders h)
    {
        if (h.proto() != (h.ipv6() ? FrameHeaders.ICMPV6 : FrameHeaders.ICMP))
        {
            return false;
        }
        if (!h.hasL4(1))
        {
            return true;
        }
        final int type = h.frame()[h.l4()] & 0xff;
        return h.ipv6() ? type < 128 : type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
    }

    /** Ethernet (tag kept) and IP headers back to the client as from the address it tried, room for {@code payload} bytes. */
    private static byte[] header(final FrameHeaders h, final int proto, final int ttl, final int payload)
    {
        return header(h, proto, ttl, payload, h.frame(), 0, h.destinationAt());
    }

    /**
     * Ethernet (tag kept) and IP headers back to the sender of {@code h}'s packet, from the MAC at
     * {@code from[macAt]} and the address at {@code from[addressAt]}, room for {@code payload} bytes.
     */
    private static byte[] header(final FrameHeaders h, final int proto, final int ttl, final int payload, final byte[] from,
        final int macAt, final int addressAt)
    {
        final byte[] in = h.frame();
        final int l2 = h.vlanTci() >= 0 ? 18 : ETH;
        final int l3Length = h.ipv6() ? IPV6 : IPV4;
        final byte[] f = new byte[l2 + l3Length + payload];
        System.arraycopy(from, macAt, f, 6, 6);
        System.arraycopy(in, 6, f, 0, 6);
        if (h.vlanTci() >= 0)
        {
            put16(f, 12, 0x8100);
            put16(f, 14, h.vlanTci());
        }
        put16(f, l2 - 2, h.ipv6() ? 0x86dd : 0x0800);
        final int alen = h.addressLength();
        if (h.ipv6())
        {
            f[l2] = 0x60;
            put16(f, l2 + 4, payload);
            f[l2 + 6] = (byte)proto;
            f[l2 + 7] = (byte)ttl;
        }
        else
        {
            f[l2] = 0x45;
            f[l2 + 1] = (byte)0xc0;
            put16(f, l2 + 2, IPV4 + payload);
            put16(f, l2 + 6, 0x4000);
            f[l2 + 8] = (byte)ttl;
            f[l2 + 9] = (byte)proto;
        }
        final int src = l2 + (h.ipv6() ? 8 : 12);
        System.arraycopy(from, addressAt, f, src, alen);
        System.arraycopy(in, h.sourceAt(), f, src + alen, alen);
        if (!h.ipv6())
        {
            put16(f, l2 + 10, Checksum.finish(InternetChecksum.sum(f, l2, IPV4, 0)));
        }
        return f;
    }

    private static void transportChecksum(final byte[] f, final boolean ipv6, final int proto, final int l4, final int length,
        final int at)
    {
        final int l3 = l4 - (ipv6 ? IPV6 : IPV4);
        final int alen = ipv6 ? 16 : 4;
        final int src = l3 + (ipv6 ? 8 : 12);
        put16(f, at, InternetChecksum.transport(f, src, src + alen, alen, proto, l4, length));
    }
}
