package dev.junction.datapath.exec;

/** Incremental Internet checksum updates (RFC 1624), computed exactly as OVS's lib/csum.c. */
public final class Checksum
{
    private Checksum()
    {
    }

    public static int finish(long partial)
    {
        while ((partial >>> 16) != 0)
        {
            partial = (partial & 0xffff) + (partial >>> 16);
        }
        return (int)(~partial & 0xffff);
    }

    public static int recalc16(final int oldCsum, final int oldU16, final int newU16)
    {
        final long sum = (~oldCsum & 0xffff) + (~oldU16 & 0xffff) + (newU16 & 0xffff);
        return finish(sum);
    }

    /** Old and new 32-bit values in network order; the low half first, as OVS on little-endian hosts. */
    public static int recalc32(final int oldCsum, final long oldU32, final long newU32)
    {
        final int c = recalc16(oldCsum, (int)(oldU32 >>> 16) & 0xffff, (int)(newU32 >>> 16) & 0xffff);
        return recalc16(c, (int)oldU32 & 0xffff, (int)newU32 & 0xffff);
    }
}
