package dev.junction.control.pinctrl;

import dev.junction.datapath.TokenBucket;

import java.util.HashMap;
import java.util.Map;

import static dev.junction.control.pinctrl.BigEndian.put16;
import static dev.junction.control.pinctrl.BigEndian.put32;

/**
 * What OVN's {@code arp{}} and {@code nd_ns{}} actions send when a gateway router does not know
 * its next hop's MAC: a broadcast ARP request (RFC 826) or a neighbour solicitation (RFC 4861
 * 4.3) to the target's solicited-node multicast group with the router's source link-layer
 * address option, hop limit 255, out of the external port. The packet that asked is dropped.
 *
 * <p>Rate-limited per target on packet time ({@link TokenBucket}): a stream of packets to an
 * unresolved next hop asks {@link #RATE} times a second, not once per packet. Thread-safe.
 */
final class NeighbourRequests
{
    /** Requests a second per target; the first of a burst goes at once. */
    static final int RATE = 1;
    static final int BURST = 3;
    private static final int ETH = 14;
    private static final int ARP = 28;
    private static final int IPV6 = 40;
    /** Neighbour solicitation: ICMPv6 header, reserved, target, source link-layer address option. */
    private static final int NS = 4 + 4 + 16 + 8;

    private final Map<String, TokenBucket> buckets = new HashMap<>();

    /** Whether a request for {@code userdata}'s target may go at {@code nowNanos}. */
    synchronized boolean allowed(final byte[] userdata, final long nowNanos)
    {
        final int addressLength = addressLength(userdata);
        final String target = java.util.HexFormat.of().formatHex(userdata, ControllerOps.HEADER,
            ControllerOps.HEADER + 10 + 2 * addressLength);
        return buckets.computeIfAbsent(target, t -> new TokenBucket(RATE, BURST)).take(nowNanos);
    }

    /** The out port the op's data names. */
    static int port(final byte[] userdata)
    {
        return (int)FrameHeaders.u32(userdata, ControllerOps.HEADER);
    }

    /** The request {@code userdata} describes (see {@link ControllerOps#neighbourRequestAction}), or null when malformed. */
    static byte[] request(final byte[] userdata)
    {
        final int addressLength = addressLength(userdata);
        if (addressLength == 0)
        {
            return null;
        }
        final int macAt = ControllerOps.HEADER + 4;
        final int sourceAt = macAt + 6;
        final int targetAt = sourceAt + addressLength;
        return addressLength == 4 ? arp(userdata, macAt, sourceAt, targetAt) : solicitation(userdata, macAt, sourceAt, targetAt);
    }

    /** 4 or 16 from the data's length, 0 when it fits neither. */
    private static int addressLength(final byte[] userdata)
    {
        final int data = userdata.length - ControllerOps.HEADER - 10;
        return data == 8 ? 4 : data == 32 ? 16 : 0;
    }

    private static byte[] arp(final byte[] u, final int macAt, final int sourceAt, final int targetAt)
    {
        final byte[] f = new byte[ETH + ARP];
        for (int i = 0; i < 6; i++)
        {
            f[i] = (byte)0xff;
        }
        System.arraycopy(u, macAt, f, 6, 6);
        put16(f, 12, 0x0806);
        put16(f, ETH, 1);
        put16(f, ETH + 2, 0x0800);
        f[ETH + 4] = 6;
        f[ETH + 5] = 4;
        put16(f, ETH + 6, 1);
        System.arraycopy(u, macAt, f, ETH + 8, 6);
        System.arraycopy(u, sourceAt, f, ETH + 14, 4);
        // Target hardware address zero: unknown, which is what is asked.
        System.arraycopy(u, targetAt, f, ETH + 24, 4);
        return f;
    }

    private static byte[] solicitation(final byte[] u, final int macAt, final int sourceAt, final int targetAt)
    {
        final byte[] f = new byte[ETH + IPV6 + NS];
        // Solicited-node multicast ff02::1:ffXX:XXXX (RFC 4291 2.7.1) and its MAC 33:33 + its low 32 bits.
        final byte[] group = new byte[16];
        group[0] = (byte)0xff;
        group[1] = 0x02;
        group[11] = 0x01;
        group[12] = (byte)0xff;
        System.arraycopy(u, targetAt + 13, group, 13, 3);
        f[0] = 0x33;
        f[1] = 0x33;
        System.arraycopy(group, 12, f, 2, 4);
        System.arraycopy(u, macAt, f, 6, 6);
        put16(f, 12, 0x86dd);
        put32(f, ETH, 0x60000000L);
        put16(f, ETH + 4, NS);
        f[ETH + 6] = 58;
        f[ETH + 7] = (byte)255;
        System.arraycopy(u, sourceAt, f, ETH + 8, 16);
        System.arraycopy(group, 0, f, ETH + 24, 16);
        final int l4 = ETH + IPV6;
        f[l4] = (byte)135;
        System.arraycopy(u, targetAt, f, l4 + 8, 16);
        f[l4 + 24] = 1;
        f[l4 + 25] = 1;
        System.arraycopy(u, macAt, f, l4 + 26, 6);
        put16(f, l4 + 2, InternetChecksum.transport(f, ETH + 8, ETH + 24, 16, 58, l4, NS));
        return f;
    }
}
