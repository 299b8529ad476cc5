package dev.junction.control.pinctrl;

/** Network byte order writes into frames being built. */
public final class BigEndian
{
    private BigEndian()
    {
    }

    public static void put16(final byte[] f, final int at, final int v)
    {
        f[at] = (byte)(v >>> 8);
        f[at + 1] = (byte)v;
    }

    public static void put32(final byte[] f, final int at, final long v)
    {
        put16(f, at, (int)(v >>> 16));
        put16(f, at + 2, (int)v);
    }
}
