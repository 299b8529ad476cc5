package dev.junction.afxdp.testing;

import java.nio.ByteBuffer;

/**
 * Hand-built test frames and a deliberately naive checksum (16-bit words, one at a time, over
 * byte arrays), independent of {@link InternetChecksum}.
 */
public final class Frames
{
    public static final int TCP_FIN = 0x01;
    public static final int TCP_SYN = 0x02;
    public static final int TCP_PSH = 0x08;
    public static final int TCP_ACK = 0x10;
    public static final int TCP_ECE = 0x40;
    public static final int TCP_CWR = 0x80;

    private Frames()
    {
    }

    public static int naiveSum(final byte[] b, final int off, final int len)
    {
        long sum = 0;
        for (int i = 0; i < len; i += 2)
        {
            final int hi = b[off + i] & 0xff;
            final int lo = i + 1 < len ? b[off + i + 1] & 0xff : 0;
            sum += (hi << 8) | lo;
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int)sum;
    }

    public static int add(final int a, final int b)
    {
        int s = a + b;
        s = (s & 0xffff) + (s >>> 16);
        return s & 0xffff;
    }

    /** Ones-complement sum of the pseudo-header of an IPv4 or IPv6 packet at {@code ip}. */
    public static int pseudoSum(final byte[] f, final int ip, final boolean v6, final int proto, final int l4Length)
    {
        int s = v6 ? naiveSum(f, ip + 8, 32) : naiveSum(f, ip + 12, 8);
        s = add(s, proto);
        s = add(s, l4Length & 0xffff);
        s = add(s, l4Length >>> 16);
        return s;
    }

    /** True when the L4 checksum over [l4, l4+len) with its pseudo-header verifies. */
    public static boolean l4ChecksumValid(final byte[] f, final int ip, final boolean v6, final int proto, final int l4, final int len)
    {
        return add(pseudoSum(f, ip, v6, proto, len), naiveSum(f, l4, len)) == 0xffff;
    }

    public static boolean ipv4HeaderValid(final byte[] f, final int ip)
    {
        return naiveSum(f, ip, (f[ip] & 0x0f) * 4) == 0xffff;
    }

    public static int u16(final byte[] f, final int i)
    {
        return ((f[i] & 0xff) << 8) | (f[i + 1] & 0xff);
    }

    public static long u32(final byte[] f, final int i)
    {
        return ((long)u16(f, i) << 16) | u16(f, i + 2);
    }

    /**
     * An Ethernet (optionally one VLAN tag) + IPv4/IPv6 + TCP frame with {@code payload} bytes of
     * a recognisable pattern, TCP options of {@code optionBytes} (multiple of 4), and the TCP
     * checksum field left holding {@code tcpCsumField}.
     */
    public static byte[] tcp(final boolean v6, final boolean vlan, final int payload, final int flags, final long seq,
        final int ipId, final int optionBytes)
    {
        final int l2 = vlan ? 18 : 14;
        final int ipLen = v6 ? 40 : 20;
        final int tcpLen = 20 + optionBytes;
        final byte[] f = new byte[l2 + ipLen + tcpLen + payload];
        final ByteBuffer b = ByteBuffer.wrap(f);
        b.put(new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1});
        if (vlan)
        {
            b.putShort((short)0x8100).putShort((short)42);
        }
        b.putShort((short)(v6 ? 0x86dd : 0x0800));
        final int ip = b.position();
        if (v6)
        {
            b.putInt(0x6000_0000).putShort((short)(tcpLen + payload)).put((byte)6).put((byte)64);
            b.put(new byte[] {(byte)0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
            b.put(new byte[] {(byte)0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte)0xbe, (byte)0xef});
        }
        else
        {
            b.put((byte)0x45).put((byte)0).putShort((short)(ipLen + tcpLen + payload)).putShort((short)ipId)
                .putShort((short)0x4000).put((byte)64).put((byte)6).putShort((short)0)
                .put(new byte[] {10, 77, 0, 1}).put(new byte[] {10, 77, 0, 2});
            b.putShort(ip + 10, (short)(~naiveSum(f, ip, 20) & 0xffff));
        }
        final int l4 = b.position();
        b.putShort((short)40000).putShort((short)5201).putInt((int)seq).putInt(0x1234_5678)
            .put((byte)((tcpLen / 4) << 4)).put((byte)flags).putShort((short)502).putShort((short)0).putShort((short)0);
        for (int i = 0; i < optionBytes; i++)
        {
            b.put((byte)(i % 4 == 3 ? 0 : 1)); // NOPs and an end-of-options byte: any bytes do
        }
        for (int i = 0; i < payload; i++)
        {
            b.put((byte)(i * 7 + i / 251));
        }
        // A complete checksum; tests that want a partial one overwrite it.
        final int csum = ~add(pseudoSum(f, ip, v6, 6, tcpLen + payload), naiveSum(f, l4, tcpLen + payload)) & 0xffff;
        b.putShort(l4 + 16, (short)csum);
        return f;
    }

    /** A UDP datagram in Ethernet + IPv4/IPv6 with a complete checksum. */
    public static byte[] udp(final boolean v6, final int payload)
    {
        final int ipLen = v6 ? 40 : 20;
        final byte[] f = new byte[14 + ipLen + 8 + payload];
        final ByteBuffer b = ByteBuffer.wrap(f);
        b.put(new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1});
        b.putShort((short)(v6 ? 0x86dd : 0x0800));
        final int ip = 14;
        if (v6)
        {
            b.putInt(0x6000_0000).putShort((short)(8 + payload)).put((byte)17).put((byte)64);
            b.put(new byte[] {(byte)0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
            b.put(new byte[] {(byte)0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
        }
        else
        {
            b.put((byte)0x45).put((byte)0).putShort((short)(28 + payload)).putShort((short)1)
                .putShort((short)0).put((byte)64).put((byte)17).putShort((short)0)
                .put(new byte[] {10, 77, 0, 1}).put(new byte[] {10, 77, 0, 2});
            b.putShort(ip + 10, (short)(~naiveSum(f, ip, 20) & 0xffff));
        }
        final int l4 = b.position();
        b.putShort((short)5000).putShort((short)5201).putShort((short)(8 + payload)).putShort((short)0);
        for (int i = 0; i < payload; i++)
        {
            b.put((byte)(i * 13));
        }
        final int csum = ~add(pseudoSum(f, ip, v6, 17, 8 + payload), naiveSum(f, l4, 8 + payload)) & 0xffff;
        b.putShort(l4 + 6, (short)(csum == 0 ? 0xffff : csum));
        return f;
    }

    /**
     * Turns the L4 checksum field into what a sender with checksum offload leaves there: the
     * folded pseudo-header sum (not inverted), as Linux's {@code ~tcp_v4_check(len, s, d, 0)}.
     */
    public static void makePartial(final byte[] f, final int ip, final boolean v6, final int proto, final int l4, final int csumField)
    {
        final int len = f.length - l4;
        final int pseudo = pseudoSum(f, ip, v6, proto, len);
        f[csumField] = (byte)(pseudo >>> 8);
        f[csumField + 1] = (byte)pseudo;
    }
}
