package dev.junction.control.pinctrl;

import dev.junction.datapath.exec.Checksum;

/** RFC 1071 sums over frames being built, and the IPv4/IPv6 pseudo-headers transport checksums cover. */
public final class InternetChecksum
{
    private InternetChecksum()
    {
    }

    /** Adds {@code len} bytes at {@code off}, as 16-bit big-endian words (an odd last byte padded), to {@code start}. */
    public static long sum(final byte[] b, final int off, final int len, final long start)
    {
        long s = start;
        for (int i = 0; i + 1 < len; i += 2)
        {
            s += (b[off + i] & 0xff) << 8 | (b[off + i + 1] & 0xff);
        }
        if ((len & 1) != 0)
        {
            s += (b[off + len - 1] & 0xff) << 8;
        }
        return s;
    }

    /**
     * The checksum of the transport header and payload at {@code l4} ({@code l4Length} bytes) with
     * the pseudo-header of the addresses at {@code srcAt} and {@code dstAt} ({@code addressLength} each).
     */
    public static int transport(final byte[] f, final int srcAt, final int dstAt, final int addressLength, final int proto,
        final int l4, final int l4Length)
    {
        long s = sum(f, srcAt, addressLength, 0);
        s = sum(f, dstAt, addressLength, s);
        s += proto + l4Length;
        return Checksum.finish(sum(f, l4, l4Length, s));
    }
}
