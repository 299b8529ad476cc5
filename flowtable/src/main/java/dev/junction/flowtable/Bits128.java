package dev.junction.flowtable;

/**
 * Bit-range arithmetic on 128-bit values held as (hi, lo) longs, for load/move on IPv6-sized
 * fields. Results come back through a two-element array the caller owns, so nothing allocates.
 */
public final class Bits128
{
    private Bits128()
    {
    }

    /** out = (hi, lo) >>> n, for 0 <= n < 128. */
    public static void shr(final long hi, final long lo, final int n, final long[] out)
    {
        if (n == 0)
        {
            out[0] = hi;
            out[1] = lo;
        }
        else if (n < 64)
        {
            out[0] = hi >>> n;
            out[1] = (lo >>> n) | (hi << (64 - n));
        }
        else
        {
            out[0] = 0;
            out[1] = hi >>> (n - 64);
        }
    }

    /** out = (hi, lo) << n, for 0 <= n < 128. */
    public static void shl(final long hi, final long lo, final int n, final long[] out)
    {
        if (n == 0)
        {
            out[0] = hi;
            out[1] = lo;
        }
        else if (n < 64)
        {
            out[0] = (hi << n) | (lo >>> (64 - n));
            out[1] = lo << n;
        }
        else
        {
            out[0] = lo << (n - 64);
            out[1] = 0;
        }
    }

    /** out = a mask of the low {@code nBits} bits, for 1 <= nBits <= 128. */
    public static void lowMask(final int nBits, final long[] out)
    {
        out[0] = nBits >= 128 ? -1L : nBits > 64 ? (1L << (nBits - 64)) - 1 : 0;
        out[1] = nBits >= 64 ? -1L : (1L << nBits) - 1;
    }
}
