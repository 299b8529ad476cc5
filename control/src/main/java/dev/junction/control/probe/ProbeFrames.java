package dev.junction.control.probe;

import dev.junction.datapath.exec.Checksum;

import java.net.InetAddress;

import static dev.junction.control.pinctrl.BigEndian.put16;
import static dev.junction.control.pinctrl.BigEndian.put32;
import static dev.junction.control.pinctrl.InternetChecksum.sum;

/**
 * The frames a probe sends: Ethernet, IPv4 or IPv6, TCP or UDP, with correct checksums
 * (conntrack marks a packet with a bad one invalid, as OVS's does).
 */
final class ProbeFrames
{
    static final int TCP_SYN = 0x02;
    static final int TCP_ACK = 0x10;
    static final int PROTO_TCP = 6;
    static final int PROTO_UDP = 17;
    private static final int PAYLOAD = 8;

    private ProbeFrames()
    {
    }

    /** A TCP segment ({@code flags}, sequence and acknowledgement numbers) or, with flags < 0, a UDP datagram. */
    static byte[] frame(final String srcMac, final String dstMac, final InetAddress src, final InetAddress dst, final int proto,
        final int sport, final int dport, final int flags, final long seq, final long ack)
    {
        final boolean v6 = src.getAddress().length == 16;
        final int l4Len = proto == PROTO_TCP ? 20 : 8 + PAYLOAD;
        final int l3Len = v6 ? 40 : 20;
        final byte[] f = new byte[14 + l3Len + l4Len];
        putMac(f, 0, dstMac);
        putMac(f, 6, srcMac);
        put16(f, 12, v6 ? 0x86dd : 0x0800);
        final int l3 = 14;
        if (v6)
        {
            f[l3] = 0x60;
            put16(f, l3 + 4, l4Len);
            f[l3 + 6] = (byte)proto;
            f[l3 + 7] = 64;
            System.arraycopy(src.getAddress(), 0, f, l3 + 8, 16);
            System.arraycopy(dst.getAddress(), 0, f, l3 + 24, 16);
        }
        else
        {
            f[l3] = 0x45;
            put16(f, l3 + 2, l3Len + l4Len);
            put16(f, l3 + 6, 0x4000);
            f[l3 + 8] = 64;
            f[l3 + 9] = (byte)proto;
            System.arraycopy(src.getAddress(), 0, f, l3 + 12, 4);
            System.arraycopy(dst.getAddress(), 0, f, l3 + 16, 4);
            put16(f, l3 + 10, Checksum.finish(sum(f, l3, 20, 0)));
        }
        final int l4 = l3 + l3Len;
        put16(f, l4, sport);
        put16(f, l4 + 2, dport);
        if (proto == PROTO_TCP)
        {
            put32(f, l4 + 4, seq);
            put32(f, l4 + 8, ack);
            f[l4 + 12] = 0x50;
            f[l4 + 13] = (byte)flags;
            put16(f, l4 + 14, 64240);
        }
        else
        {
            put16(f, l4 + 4, l4Len);
            for (int i = 0; i < PAYLOAD; i++)
            {
                f[l4 + 8 + i] = (byte)('a' + i);
            }
        }
        long pseudo = sum(src.getAddress(), 0, src.getAddress().length, 0);
        pseudo = sum(dst.getAddress(), 0, dst.getAddress().length, pseudo);
        pseudo += proto + l4Len;
        int c = Checksum.finish(sum(f, l4, l4Len, pseudo));
        if (proto == PROTO_UDP && c == 0)
        {
            c = 0xffff;
        }
        put16(f, l4 + (proto == PROTO_TCP ? 16 : 6), c);
        return f;
    }

    private static void putMac(final byte[] f, final int at, final String mac)
    {
        final String[] parts = mac.split(":");
        for (int i = 0; i < 6; i++)
        {
            f[at + i] = (byte)Integer.parseInt(parts[i], 16);
        }
    }
}
