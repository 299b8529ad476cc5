package dev.junction.afxdp.tap;

import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * The Internet checksum (RFC 1071) over off-heap or on-heap Agrona buffers, eight bytes a step.
 *
 * <p>A big-endian 64-bit read is added as two 32-bit halves into a 64-bit accumulator: since
 * 2^16 is 1 modulo 0xffff, a sum of 32-bit words folds to the same 16-bit ones-complement sum as
 * the 16-bit words would, and 64 KiB of input cannot overflow 64 bits (8,192 steps of < 2^33).
 * Sums are partial (unfolded, uninverted) so that pseudo-headers and pieces can be added up.
 */
public final class InternetChecksum
{
    private InternetChecksum()
    {
    }

    /** Adds {@code length} bytes from {@code offset} to {@code sum}; an odd last byte is a high byte. */
    public static long sum(final DirectBuffer buffer, final int offset, final int length, final long sum)
    {
        long acc = sum;
        int i = offset;
        final int end = offset + length;
        while (end - i >= 8)
        {
            final long v = buffer.getLong(i, ByteOrder.BIG_ENDIAN);
            acc += (v >>> 32) + (v & 0xffff_ffffL);
            i += 8;
        }
        if (end - i >= 4)
        {
            acc += buffer.getInt(i, ByteOrder.BIG_ENDIAN) & 0xffff_ffffL;
            i += 4;
        }
        if (end - i >= 2)
        {
            acc += buffer.getShort(i, ByteOrder.BIG_ENDIAN) & 0xffff;
            i += 2;
        }
        if (i < end)
        {
            acc += (buffer.getByte(i) & 0xff) << 8;
        }
        return acc;
    }

    /** Folds a partial sum to 16 bits (not inverted). */
    public static int fold(final long sum)
    {
        long s = sum;
        while ((s >>> 16) != 0)
        {
            s = (s & 0xffff) + (s >>> 16);
        }
        return (int)s;
    }

    /** The checksum field's value for a partial sum: folded and inverted. */
    public static int finish(final long sum)
    {
        return ~fold(sum) & 0xffff;
    }

    /**
     * The TCP/UDP pseudo-header sum of an IPv4 header at {@code ipOffset}: addresses, protocol and
     * the given L4 length.
     */
    public static long pseudoHeaderV4(final DirectBuffer buffer, final int ipOffset, final int protocol, final int l4Length)
    {
        return sum(buffer, ipOffset + 12, 8, 0) + protocol + l4Length;
    }

    /** The same for an IPv6 header at {@code ipOffset}. */
    public static long pseudoHeaderV6(final DirectBuffer buffer, final int ipOffset, final int protocol, final int l4Length)
    {
        return sum(buffer, ipOffset + 8, 32, 0) + protocol + l4Length;
    }
}
