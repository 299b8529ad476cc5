package dev.junction.geneve;

import dev.junction.flowtable.Packet;
import dev.junction.flowtable.xlate.OdpActions;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Executes a tunnel push on the packet path: copies the prebuilt outer headers in front of a
 * copy of the inner frame and fills what depends on the packet (OVS's netdev_tnl_push_udp_header):
 * IP total or payload length, the IPv4 header checksum, the UDP length, the entropy source port
 * from the packet's RSS hash, and the UDP checksum when the port asks for one. Allocation-free
 * once {@code out}'s buffer has grown to the largest frame.
 */
public final class Encapsulator
{
    private Encapsulator()
    {
    }

    /** Header length of the tunnel push at {@code at} (the opcode's index). */
    public static int headerLength(final OdpActions acts, final int at)
    {
        return (int)(acts.get(at + 3) & 0xff);
    }

    /**
     * Writes into {@code out} the encapsulation of {@code in} by the tunnel push at {@code at};
     * returns the outer frame's length.
     */
    public static int push(final Packet in, final Packet out, final OdpActions acts, final int at, final int rssHash)
    {
        final long desc = acts.get(at + 3);
        final int hlen = (int)(desc & 0xff);
        final int l4 = (int)(desc >>> 8) & 0xff;
        final boolean v6 = (desc & (1 << 16)) != 0;
        final boolean csum = (desc & (1 << 17)) != 0;
        final int total = hlen + in.length;
        if (out.buf.length < Packet.HEADROOM + total + 8)
        {
            out.buf = new byte[Packet.HEADROOM + Math.max(total, 2048)];
        }
        final byte[] b = out.buf;
        final int s = Packet.HEADROOM;
        // Whole 8-byte words of the header: the last one may run up to 7 bytes past it, into
        // the inner frame's room (or the 8 spare bytes), which the copy below overwrites.
        for (int i = 0; i < hlen; i += 8)
        {
            LONG_BE.set(b, s + i, acts.get(at + 4 + i / 8));
        }
        System.arraycopy(in.buf, in.start, b, s + hlen, in.length);
        out.start = s;
        out.length = total;
        out.l3 = s + 14;
        out.l4 = s + l4;
        out.l2Pad = 0;
        out.timestampNanos = in.timestampNanos;
        out.inPort = in.inPort;
        final int ip = s + 14;
        if (v6)
        {
            put16(b, ip + 4, total - 14 - 40);
        }
        else
        {
            put16(b, ip + 2, total - 14);
            b[ip + 10] = 0;
            b[ip + 11] = 0;
            put16(b, ip + 10, ~fold(sum(b, ip, 20, 0)) & 0xffff);
        }
        final int udp = s + l4;
        final int udpLen = total - l4;
        put16(b, udp, Tunnels.sourcePort(rssHash));
        put16(b, udp + 4, udpLen);
        b[udp + 6] = 0;
        b[udp + 7] = 0;
        if (csum)
        {
            long sum = v6 ? sum(b, ip + 8, 32, 0) : sum(b, ip + 12, 8, 0);
            sum += 17 + udpLen;
            sum = sum(b, udp, udpLen, sum);
            int c = ~fold(sum) & 0xffff;
            put16(b, udp + 6, c == 0 ? 0xffff : c);
        }
        return total;
    }

    private static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    /**
     * Adds {@code len} bytes at {@code from} to an unfolded one's complement sum, as 16-bit
     * big-endian words (an odd last byte is the high half of a word). Eight bytes at a time: the
     * two 32-bit halves of a big-endian long are two 16-bit words each and 2^16 = 1 mod 0xffff,
     * so {@link #fold} gives exactly what the 16-bit word sum gives (and 0 only when every byte
     * is 0). A 1400-byte datagram is 175 loads instead of 700.
     */
    static long sum(final byte[] b, final int from, final int len, final long initial)
    {
        long sum = initial;
        int i = from;
        final int end8 = from + (len & ~7);
        for (; i < end8; i += 8)
        {
            final long v = (long)LONG_BE.get(b, i);
            sum += (v >>> 32) + (v & 0xffffffffL);
        }
        final int end = from + len;
        for (; i + 1 < end; i += 2)
        {
            sum += (b[i] & 0xff) << 8 | (b[i + 1] & 0xff);
        }
        if (i < end)
        {
            sum += (b[i] & 0xff) << 8;
        }
        return sum;
    }

    static int fold(long sum)
    {
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int)sum;
    }

    private static void put16(final byte[] b, final int at, final int v)
    {
        b[at] = (byte)(v >>> 8);
        b[at + 1] = (byte)v;
    }
}
