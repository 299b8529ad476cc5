package dev.junction.conntrack;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Internet checksum arithmetic exactly as OVS's {@code lib/csum.c} and the pseudo-header sums of
 * {@code lib/packets.c}. The incremental forms are RFC 1624's, which OVS uses for every NAT
 * rewrite; keeping the same formula keeps the output bytes identical, including the 0x0000 /
 * 0xffff representation a from-scratch sum could choose differently.
 */
final class Checksums
{
    private Checksums()
    {
    }

    private static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT_BE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

    /**
     * Adds {@code n} bytes at {@code at} to a partial (unfolded) sum, as {@code csum_continue}.
     * Eight bytes at a time: a big-endian 32-bit word is two 16-bit words and 2^16 = 1 mod
     * 0xffff, so adding the 32-bit halves gives a sum that {@link #finish} folds to exactly the
     * value the 16-bit word sum gives (the one's complement sum is zero only when every word is).
     */
    static long add(final byte[] b, final int at, final int n, final long partial)
    {
        long sum = partial;
        int i = at;
        final int end8 = at + (n & ~7);
        for (; i < end8; i += 8)
        {
            final long v = (long)LONG_BE.get(b, i);
            sum += (v >>> 32) + (v & 0xffffffffL);
        }
        if ((n & 4) != 0)
        {
            sum += (int)INT_BE.get(b, i) & 0xffffffffL;
            i += 4;
        }
        if ((n & 2) != 0)
        {
            sum += ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
            i += 2;
        }
        if ((n & 1) != 0)
        {
            sum += (b[i] & 0xff) << 8;
        }
        return sum;
    }

    /** Folds and complements a partial sum, as {@code csum_finish}. */
    static int finish(final long partial)
    {
        long s = partial;
        while ((s >>> 16) != 0)
        {
            s = (s & 0xffff) + (s >>> 16);
        }
        return (int)~s & 0xffff;
    }

    /** The checksum of {@code n} bytes, as {@code csum}. */
    static int csum(final byte[] b, final int at, final int n)
    {
        return finish(add(b, at, n, 0));
    }

    /** RFC 1624 update of a checksum for one 16-bit word changing, as {@code recalc_csum16}. */
    static int recalc16(final int oldCsum, final int oldU16, final int newU16)
    {
        final long sum = (~oldCsum & 0xffff) + (~oldU16 & 0xffff) + (newU16 & 0xffff);
        return finish(sum);
    }

    /** As {@code recalc_csum32}: the half that comes first on the wire is applied first. */
    static int recalc32(final int oldCsum, final long oldU32, final long newU32)
    {
        final int c = recalc16(oldCsum, (int)(oldU32 >>> 16) & 0xffff, (int)(newU32 >>> 16) & 0xffff);
        return recalc16(c, (int)oldU32 & 0xffff, (int)newU32 & 0xffff);
    }

    /** As {@code recalc_csum128}: four 32-bit words of an IPv6 address, in wire order. */
    static int recalc128(final int oldCsum, final long oldHi, final long oldLo, final long newHi, final long newLo)
    {
        int c = recalc32(oldCsum, oldHi >>> 32, newHi >>> 32);
        c = recalc32(c, oldHi & 0xffffffffL, newHi & 0xffffffffL);
        c = recalc32(c, oldLo >>> 32, newLo >>> 32);
        return recalc32(c, oldLo & 0xffffffffL, newLo & 0xffffffffL);
    }

    /** The IPv4 pseudo-header partial sum, as {@code packet_csum_pseudoheader}: length from the IP header. */
    static long pseudoV4(final byte[] b, final int l3)
    {
        final int ihl = (b[l3] & 0x0f) * 4;
        final int totLen = ((b[l3 + 2] & 0xff) << 8) | (b[l3 + 3] & 0xff);
        long sum = add(b, l3 + 12, 8, 0);
        sum += b[l3 + 9] & 0xff;
        sum += (totLen - ihl) & 0xffff;
        return sum;
    }

    /** The IPv6 upper-layer checksum, as {@code packet_csum_upperlayer6}: 0 when valid. */
    static int upperLayerV6(final byte[] b, final int l3, final int proto, final int l4, final int size)
    {
        long sum = add(b, l3 + 8, 32, 0);
        sum += (size >>> 16) & 0xffff;
        sum += size & 0xffff;
        sum += proto & 0xff;
        return finish(add(b, l4, size, sum));
    }
}
