package dev.junction.conntrack;

import java.nio.ByteBuffer;

/**
 * Builds Ethernet frames (IPv4/IPv6 with TCP, UDP, ICMP, ICMPv6) with valid checksums, and
 * verifies checksums from scratch, for tests. Addresses: IPv4 as int, IPv6 as {hi, lo}.
 */
final class Frames
{
    static final int FIN = 0x01;
    static final int SYN = 0x02;
    static final int RST = 0x04;
    static final int PSH = 0x08;
    static final int ACK = 0x10;

    private Frames()
    {
    }

    static int ip(final String dotted)
    {
        final String[] p = dotted.split("\\.");
        return Integer.parseInt(p[0]) << 24 | Integer.parseInt(p[1]) << 16 | Integer.parseInt(p[2]) << 8
            | Integer.parseInt(p[3]);
    }

    static long[] ip6(final String text)
    {
        try
        {
            final byte[] b = java.net.InetAddress.getByName(text).getAddress();
            final ByteBuffer bb = ByteBuffer.wrap(b);
            return new long[] { bb.getLong(), bb.getLong() };
        }
        catch (final java.net.UnknownHostException e)
        {
            throw new IllegalArgumentException(e);
        }
    }

    static byte[] tcp(final int src, final int dst, final int sp, final int dp, final long seq, final long ack,
        final int flags, final int win, final byte[] payload)
    {
        return ipv4(src, dst, 6, tcpSegment(sp, dp, seq, ack, flags, win, payload, null));
    }

    static byte[] tcp(final int src, final int dst, final int sp, final int dp, final long seq, final long ack,
        final int flags)
    {
        return tcp(src, dst, sp, dp, seq, ack, flags, 65535, new byte[0]);
    }

    static byte[] tcpSegment(final int sp, final int dp, final long seq, final long ack, final int flags, final int win,
        final byte[] payload, final byte[] options)
    {
        final int optLen = options == null ? 0 : options.length;
        final ByteBuffer b = ByteBuffer.allocate(20 + optLen + payload.length);
        b.putShort((short)sp).putShort((short)dp).putInt((int)seq).putInt((int)ack);
        b.put((byte)(((20 + optLen) / 4) << 4)).put((byte)flags).putShort((short)win).putShort((short)0)
            .putShort((short)0);
        if (options != null)
        {
            b.put(options);
        }
        b.put(payload);
        return b.array();
    }

    static byte[] udp(final int src, final int dst, final int sp, final int dp, final byte[] payload)
    {
        return ipv4(src, dst, 17, udpSegment(sp, dp, payload));
    }

    static byte[] udpSegment(final int sp, final int dp, final byte[] payload)
    {
        final ByteBuffer b = ByteBuffer.allocate(8 + payload.length);
        b.putShort((short)sp).putShort((short)dp).putShort((short)(8 + payload.length)).putShort((short)0);
        b.put(payload);
        return b.array();
    }

    static byte[] icmpEcho(final int src, final int dst, final int type, final int id, final int seq)
    {
        final ByteBuffer b = ByteBuffer.allocate(12);
        b.put((byte)type).put((byte)0).putShort((short)0).putShort((short)id).putShort((short)seq).putInt(0x61626364);
        return ipv4(src, dst, 1, b.array());
    }

    /** An ICMP error (type/code) quoting the IP packet of {@code quotedFrame} (from its L3), first {@code n} bytes after its IP header. */
    static byte[] icmpError(final int src, final int dst, final int type, final int code, final byte[] quotedFrame,
        final int l4Bytes)
    {
        final int ihl = (quotedFrame[14] & 0xf) * 4;
        final int qlen = Math.min(quotedFrame.length - 14, ihl + l4Bytes);
        final ByteBuffer b = ByteBuffer.allocate(8 + qlen);
        b.put((byte)type).put((byte)code).putShort((short)0).putInt(0);
        b.put(quotedFrame, 14, qlen);
        return ipv4(src, dst, 1, b.array());
    }

    static byte[] ipv4(final int src, final int dst, final int proto, final byte[] l4)
    {
        final ByteBuffer b = ByteBuffer.allocate(14 + 20 + l4.length);
        b.put(new byte[] { 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 8, 0 });
        b.put((byte)0x45).put((byte)0).putShort((short)(20 + l4.length)).putShort((short)1).putShort((short)0);
        b.put((byte)64).put((byte)proto).putShort((short)0).putInt(src).putInt(dst);
        b.put(l4);
        final byte[] f = b.array();
        put16(f, 24, Checksums.csum(f, 14, 20));
        fixL4(f, 14);
        return f;
    }

    static byte[] ipv6(final long[] src, final long[] dst, final int proto, final byte[] l4)
    {
        final ByteBuffer b = ByteBuffer.allocate(14 + 40 + l4.length);
        b.put(new byte[] { 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, (byte)0x86, (byte)0xdd });
        b.putInt(6 << 28).putShort((short)l4.length).put((byte)proto).put((byte)64);
        b.putLong(src[0]).putLong(src[1]).putLong(dst[0]).putLong(dst[1]);
        b.put(l4);
        final byte[] f = b.array();
        fixL4(f, 14);
        return f;
    }

    static byte[] udp6(final long[] src, final long[] dst, final int sp, final int dp, final byte[] payload)
    {
        return ipv6(src, dst, 17, udpSegment(sp, dp, payload));
    }

    static byte[] tcp6(final long[] src, final long[] dst, final int sp, final int dp, final long seq, final long ack,
        final int flags)
    {
        return ipv6(src, dst, 6, tcpSegment(sp, dp, seq, ack, flags, 65535, new byte[0], null));
    }

    static byte[] icmp6Echo(final long[] src, final long[] dst, final int type, final int id, final int seq)
    {
        final ByteBuffer b = ByteBuffer.allocate(12);
        b.put((byte)type).put((byte)0).putShort((short)0).putShort((short)id).putShort((short)seq).putInt(0x61626364);
        return ipv6(src, dst, 58, b.array());
    }

    static byte[] icmp6Error(final long[] src, final long[] dst, final int type, final int code,
        final byte[] quotedFrame, final int l4Bytes)
    {
        final int qlen = Math.min(quotedFrame.length - 14, 40 + l4Bytes);
        final ByteBuffer b = ByteBuffer.allocate(8 + qlen);
        b.put((byte)type).put((byte)code).putShort((short)0).putInt(0);
        b.put(quotedFrame, 14, qlen);
        return ipv6(src, dst, 58, b.array());
    }

    /** Computes the L4 checksum of the packet whose IP header is at {@code l3} (IPv4 or IPv6, no extension headers). */
    static void fixL4(final byte[] f, final int l3)
    {
        final int at = csumOffset(f, l3);
        if (at < 0)
        {
            return;
        }
        put16(f, at, 0);
        int c = computeL4(f, l3);
        if (c == 0 && proto(f, l3) == 17)
        {
            c = 0xffff;
        }
        put16(f, at, c);
    }

    private static int proto(final byte[] f, final int l3)
    {
        return (f[l3] & 0xf0) == 0x40 ? f[l3 + 9] & 0xff : f[l3 + 6] & 0xff;
    }

    private static int l4Offset(final byte[] f, final int l3)
    {
        return (f[l3] & 0xf0) == 0x40 ? l3 + (f[l3] & 0xf) * 4 : l3 + 40;
    }

    private static int l4Length(final byte[] f, final int l3)
    {
        return (f[l3] & 0xf0) == 0x40 ? u16(f, l3 + 2) - (f[l3] & 0xf) * 4 : u16(f, l3 + 4);
    }

    private static int csumOffset(final byte[] f, final int l3)
    {
        final int l4 = l4Offset(f, l3);
        switch (proto(f, l3))
        {
            case 6: return l4 + 16;
            case 17: return l4 + 6;
            case 1: case 58: return l4 + 2;
            default: return -1;
        }
    }

    /** The L4 checksum computed from scratch over the packet as it is (0 when it verifies). */
    static int computeL4(final byte[] f, final int l3)
    {
        final int l4 = l4Offset(f, l3);
        final int len = l4Length(f, l3);
        final int proto = proto(f, l3);
        long sum = 0;
        if (proto == 1 && (f[l3] & 0xf0) == 0x40)
        {
            return Checksums.csum(f, l4, len);
        }
        if ((f[l3] & 0xf0) == 0x40)
        {
            sum = Checksums.add(f, l3 + 12, 8, 0) + proto + len;
        }
        else
        {
            sum = Checksums.add(f, l3 + 8, 32, 0) + proto + len;
        }
        return Checksums.finish(Checksums.add(f, l4, len, sum));
    }

    /** Asserts-friendly: true when the IPv4 header checksum (if IPv4) and the L4 checksum verify (UDPv4 zero accepted). */
    static boolean checksumsValid(final byte[] f, final int l3)
    {
        if ((f[l3] & 0xf0) == 0x40 && Checksums.csum(f, l3, (f[l3] & 0xf) * 4) != 0)
        {
            return false;
        }
        final int at = csumOffset(f, l3);
        if (at < 0)
        {
            return true;
        }
        if (proto(f, l3) == 17 && (f[l3] & 0xf0) == 0x40 && u16(f, at) == 0)
        {
            return true;
        }
        return computeL4(f, l3) == 0;
    }

    static int u16(final byte[] f, final int at)
    {
        return (f[at] & 0xff) << 8 | (f[at + 1] & 0xff);
    }

    static long u32(final byte[] f, final int at)
    {
        return ((long)u16(f, at) << 16) | u16(f, at + 2);
    }

    static void put16(final byte[] f, final int at, final int v)
    {
        f[at] = (byte)(v >>> 8);
        f[at + 1] = (byte)v;
    }
}
