package dev.junction.bench;

/**
 * Builds well-formed Ethernet frames for benchmarks, with valid IPv4 header and transport
 * checksums: the executor fixes checksums incrementally, so a frame that starts valid stays
 * valid and the benchmark exercises the same arithmetic as real traffic. Setup-time only.
 */
public final class Frames
{
    public static final int ETH_IPV4 = 0x0800;
    public static final int ETH_IPV6 = 0x86dd;
    public static final int ETH_ARP = 0x0806;
    public static final int ETH_VLAN = 0x8100;
    public static final int PROTO_TCP = 6;
    public static final int PROTO_UDP = 17;

    private static final int ETH_HEADER = 14;
    private static final int IPV4_HEADER = 20;
    private static final int IPV6_HEADER = 40;
    private static final int TCP_HEADER = 20;
    private static final int UDP_HEADER = 8;
    private static final int ARP_BODY = 28;
    /** Ethernet's minimum frame without FCS: shorter frames are padded, as a NIC would. */
    private static final int MIN_FRAME = 60;

    private Frames()
    {
    }

    /** A TCP/IPv4 frame of exactly {@code frameBytes} (at least 54), payload zero-filled. */
    public static byte[] tcp4(final long srcMac, final long dstMac, final int srcIp, final int dstIp,
        final int srcPort, final int dstPort, final int frameBytes)
    {
        return ipv4(srcMac, dstMac, srcIp, dstIp, PROTO_TCP, srcPort, dstPort, frameBytes);
    }

    /** A UDP/IPv4 frame of exactly {@code frameBytes} (at least 60). */
    public static byte[] udp4(final long srcMac, final long dstMac, final int srcIp, final int dstIp,
        final int srcPort, final int dstPort, final int frameBytes)
    {
        return ipv4(srcMac, dstMac, srcIp, dstIp, PROTO_UDP, srcPort, dstPort, frameBytes);
    }

    /** A UDP/IPv6 frame of exactly {@code frameBytes} (at least 62). */
    public static byte[] udp6(final long srcMac, final long dstMac, final long[] srcIp, final long[] dstIp,
        final int srcPort, final int dstPort, final int frameBytes)
    {
        final int l4Bytes = frameBytes - ETH_HEADER - IPV6_HEADER;
        require(l4Bytes >= UDP_HEADER, "frame too short for UDP/IPv6");
        final byte[] f = new byte[frameBytes];
        ethernet(f, dstMac, srcMac, ETH_IPV6);
        final int ip = ETH_HEADER;
        put32(f, ip, 0x6000_0000L);
        put16(f, ip + 4, l4Bytes);
        f[ip + 6] = (byte)PROTO_UDP;
        f[ip + 7] = 64;
        put64(f, ip + 8, srcIp[0]);
        put64(f, ip + 16, srcIp[1]);
        put64(f, ip + 24, dstIp[0]);
        put64(f, ip + 32, dstIp[1]);
        final int l4 = ip + IPV6_HEADER;
        put16(f, l4, srcPort);
        put16(f, l4 + 2, dstPort);
        put16(f, l4 + 4, l4Bytes);
        final long sum = sum(f, ip + 8, 32) + l4Bytes + PROTO_UDP + sum(f, l4, l4Bytes);
        final int csum = fold(sum);
        // UDP over IPv6 must carry a checksum; 0 is sent as 0xffff (RFC 8200).
        put16(f, l4 + 6, csum == 0 ? 0xffff : csum);
        return f;
    }

    /** An ARP request (Ethernet broadcast) padded to the minimum frame size. */
    public static byte[] arpRequest(final long srcMac, final int senderIp, final int targetIp)
    {
        final byte[] f = new byte[MIN_FRAME];
        ethernet(f, 0xffff_ffff_ffffL, srcMac, ETH_ARP);
        final int a = ETH_HEADER;
        put16(f, a, 1);
        put16(f, a + 2, ETH_IPV4);
        f[a + 4] = 6;
        f[a + 5] = 4;
        put16(f, a + 6, 1);
        put48(f, a + 8, srcMac);
        put32(f, a + 14, senderIp & 0xffff_ffffL);
        put32(f, a + 24, targetIp & 0xffff_ffffL);
        require(a + ARP_BODY <= f.length, "ARP frame");
        return f;
    }

    /** The same frame with an 802.1Q tag (TPID 0x8100, PCP 0) for {@code vid} after the MACs. */
    public static byte[] vlanTagged(final byte[] frame, final int vid)
    {
        final byte[] f = new byte[frame.length + 4];
        System.arraycopy(frame, 0, f, 0, 12);
        put16(f, 12, ETH_VLAN);
        put16(f, 14, vid & 0x0fff);
        System.arraycopy(frame, 12, f, 16, frame.length - 12);
        return f;
    }

    /** A 48-bit MAC as a long, for the builders' arguments. */
    public static long mac(final int b0, final int b1, final int b2, final int b3, final int b4, final int b5)
    {
        return (long)b0 << 40 | (long)b1 << 32 | (long)b2 << 24 | (long)b3 << 16 | (long)b4 << 8 | b5;
    }

    public static int ipv4(final int a, final int b, final int c, final int d)
    {
        return a << 24 | b << 16 | c << 8 | d;
    }

    private static byte[] ipv4(final long srcMac, final long dstMac, final int srcIp, final int dstIp,
        final int proto, final int srcPort, final int dstPort, final int frameBytes)
    {
        final int frame = Math.max(frameBytes, MIN_FRAME);
        final int l4Header = proto == PROTO_TCP ? TCP_HEADER : UDP_HEADER;
        // Frames under the minimum carry Ethernet padding after the IP datagram, as on a wire.
        final int totalLength = frameBytes - ETH_HEADER;
        final int l4Bytes = totalLength - IPV4_HEADER;
        require(l4Bytes >= l4Header, "frame too short for the transport header");
        final byte[] f = new byte[frame];
        ethernet(f, dstMac, srcMac, ETH_IPV4);
        final int ip = ETH_HEADER;
        f[ip] = 0x45;
        put16(f, ip + 2, totalLength);
        put16(f, ip + 4, 0x1234);
        put16(f, ip + 6, 0x4000);
        f[ip + 8] = 64;
        f[ip + 9] = (byte)proto;
        put32(f, ip + 12, srcIp & 0xffff_ffffL);
        put32(f, ip + 16, dstIp & 0xffff_ffffL);
        put16(f, ip + 10, fold(sum(f, ip, IPV4_HEADER)));
        final int l4 = ip + IPV4_HEADER;
        put16(f, l4, srcPort);
        put16(f, l4 + 2, dstPort);
        final int checksumAt;
        if (proto == PROTO_TCP)
        {
            put32(f, l4 + 4, 0x0102_0304L);
            f[l4 + 12] = 0x50;
            f[l4 + 13] = 0x18; // PSH|ACK: a data segment of an established connection
            put16(f, l4 + 14, 0xffff);
            checksumAt = l4 + 16;
        }
        else
        {
            put16(f, l4 + 4, l4Bytes);
            checksumAt = l4 + 6;
        }
        final long sum = sum(f, ip + 12, 8) + proto + l4Bytes + sum(f, l4, l4Bytes);
        final int csum = fold(sum);
        put16(f, checksumAt, proto == PROTO_UDP && csum == 0 ? 0xffff : csum);
        return f;
    }

    private static void ethernet(final byte[] f, final long dst, final long src, final int type)
    {
        put48(f, 0, dst);
        put48(f, 6, src);
        put16(f, 12, type);
    }

    private static long sum(final byte[] f, final int off, final int len)
    {
        long s = 0;
        for (int i = 0; i < len; i += 2)
        {
            final int hi = f[off + i] & 0xff;
            final int lo = i + 1 < len ? f[off + i + 1] & 0xff : 0;
            s += hi << 8 | lo;
        }
        return s;
    }

    private static int fold(final long sum)
    {
        long s = sum;
        while ((s >>> 16) != 0)
        {
            s = (s & 0xffff) + (s >>> 16);
        }
        return (int)(~s & 0xffff);
    }

    private static void put16(final byte[] f, final int at, final int v)
    {
        f[at] = (byte)(v >>> 8);
        f[at + 1] = (byte)v;
    }

    private static void put32(final byte[] f, final int at, final long v)
    {
        put16(f, at, (int)(v >>> 16));
        put16(f, at + 2, (int)v);
    }

    private static void put48(final byte[] f, final int at, final long v)
    {
        put16(f, at, (int)(v >>> 32));
        put32(f, at + 2, v);
    }

    private static void put64(final byte[] f, final int at, final long v)
    {
        put32(f, at, v >>> 32);
        put32(f, at + 4, v);
    }

    private static void require(final boolean ok, final String what)
    {
        if (!ok)
        {
            throw new IllegalArgumentException(what);
        }
    }
}
