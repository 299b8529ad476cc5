package dev.junction.flowtable;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A frame in a buffer with headroom for pushed headers, and the layer offsets the parser found
 * (as OVS's {@code dp_packet}): actions use the offsets, never re-parse. Offsets are -1 when the
 * layer is absent. {@code l2Pad} counts trailing bytes beyond the IP length (Ethernet padding),
 * which belong to no layer and are never changed.
 */
public final class Packet
{
    public static final int HEADROOM = 64;

    // Network byte order views of the buffer: one bounds-checked load per field instead of a
    // shift-and-or per byte, which the JIT does not merge on its own.
    private static final VarHandle BE16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle BE32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle BE64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    public byte[] buf;
    /** Start of the Ethernet header in {@link #buf}. */
    public int start;
    public int length;
    public int l3 = -1;
    public int l4 = -1;
    public int l2Pad;
    public long timestampNanos;
    public int inPort;

    public Packet(final int capacity)
    {
        buf = new byte[HEADROOM + capacity];
        start = HEADROOM;
    }

    /** Copies a frame in, leaving headroom. */
    public void wrap(final byte[] frame, final int off, final int len)
    {
        if (buf.length < HEADROOM + len)
        {
            buf = new byte[HEADROOM + len];
        }
        start = HEADROOM;
        System.arraycopy(frame, off, buf, start, len);
        length = len;
        l3 = -1;
        l4 = -1;
        l2Pad = 0;
    }

    public void copyFrom(final Packet p)
    {
        if (buf.length < p.buf.length)
        {
            buf = new byte[p.buf.length];
        }
        System.arraycopy(p.buf, p.start, buf, p.start, p.length);
        start = p.start;
        length = p.length;
        l3 = p.l3;
        l4 = p.l4;
        l2Pad = p.l2Pad;
        timestampNanos = p.timestampNanos;
        inPort = p.inPort;
    }

    public int end()
    {
        return start + length;
    }

    /** Bytes from the L4 header to the end of the IP payload (padding excluded), 0 when no L4. */
    public int l4Size()
    {
        return l4 < 0 ? 0 : end() - l4 - l2Pad;
    }

    public int u8(final int at)
    {
        return buf[at] & 0xff;
    }

    public int u16(final int at)
    {
        return (short)BE16.get(buf, at) & 0xffff;
    }

    public long u32(final int at)
    {
        return (int)BE32.get(buf, at) & 0xffff_ffffL;
    }

    public long u48(final int at)
    {
        return ((long)u16(at) << 32) | u32(at + 2);
    }

    public long u64(final int at)
    {
        return (long)BE64.get(buf, at);
    }

    public void put8(final int at, final int v)
    {
        buf[at] = (byte)v;
    }

    public void put16(final int at, final int v)
    {
        BE16.set(buf, at, (short)v);
    }

    public void put32(final int at, final long v)
    {
        BE32.set(buf, at, (int)v);
    }

    public void put48(final int at, final long v)
    {
        put16(at, (int)(v >>> 32));
        put32(at + 2, v);
    }

    public void put64(final int at, final long v)
    {
        BE64.set(buf, at, v);
    }

    /** True when {@code n} bytes at {@code at} lie inside the buffer (frame or its tailroom). */
    public boolean inBuffer(final int at, final int n)
    {
        return at >= 0 && at + n <= buf.length;
    }
}
