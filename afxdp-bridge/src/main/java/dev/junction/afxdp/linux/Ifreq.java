package dev.junction.afxdp.linux;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * {@code struct ifreq} (40 bytes on 64-bit Linux) in off-heap memory: the interface name, then a
 * union of which the ports use the flags ({@code short}) and the MTU ({@code int}), both at 16.
 * One instance per setup call site; not for the packet path.
 */
public final class Ifreq
{
    public static final int SIZE = 40;
    /** IFNAMSIZ: 15 characters and the terminating NUL. */
    public static final int NAME_SIZE = 16;
    private static final int UNION_OFFSET = 16;

    private final UnsafeBuffer buffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(SIZE, 8));

    /** Zeroes the struct and sets the name; checked here so the kernel's EINVAL is not the first word. */
    public Ifreq name(final String name)
    {
        checkName(name);
        buffer.setMemory(0, SIZE, (byte)0);
        final byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
        buffer.putBytes(0, bytes);
        return this;
    }

    public String name()
    {
        int end = 0;
        while (end < NAME_SIZE && buffer.getByte(end) != 0)
        {
            end++;
        }
        return buffer.getStringWithoutLengthAscii(0, end);
    }

    public Ifreq flags(final int flags)
    {
        buffer.putShort(UNION_OFFSET, (short)flags, ByteOrder.nativeOrder());
        return this;
    }

    public int flags()
    {
        return buffer.getShort(UNION_OFFSET, ByteOrder.nativeOrder()) & 0xffff;
    }

    public Ifreq intValue(final int value)
    {
        buffer.putInt(UNION_OFFSET, value, ByteOrder.nativeOrder());
        return this;
    }

    public int intValue()
    {
        return buffer.getInt(UNION_OFFSET, ByteOrder.nativeOrder());
    }

    /** {@code ifr_data}: the address of the request's own struct (SIOCETHTOOL). */
    public Ifreq data(final long address)
    {
        buffer.putLong(UNION_OFFSET, address, ByteOrder.nativeOrder());
        return this;
    }

    public long address()
    {
        return buffer.addressOffset();
    }

    /**
     * A Linux interface name: 1 to 15 characters, none of them '/', ':', whitespace or NUL, and
     * not "." or "..". An empty name is allowed only where the kernel picks one (see TapConfig).
     */
    public static void checkName(final String name)
    {
        if (name == null || name.isEmpty() || name.length() >= NAME_SIZE)
        {
            throw new IllegalArgumentException("interface name must be 1 to " + (NAME_SIZE - 1)
                + " characters: '" + name + "'");
        }
        if (name.equals(".") || name.equals(".."))
        {
            throw new IllegalArgumentException("bad interface name '" + name + "'");
        }
        for (int i = 0; i < name.length(); i++)
        {
            final char c = name.charAt(i);
            if (c == '/' || c == ':' || c <= ' ' || c > '~')
            {
                throw new IllegalArgumentException("bad interface name '" + name + "': character '"
                    + c + "' at " + i + " (no '/', ':', whitespace or non-ASCII)");
            }
        }
    }
}
