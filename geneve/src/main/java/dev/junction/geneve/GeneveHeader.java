package dev.junction.geneve;

/**
 * Layout of the Geneve header (RFC 8926, section 3.4) and its options, over a byte array, in
 * the spirit of a flyweight: offsets and accessors, no state.
 *
 * <pre>
 *  0                   1                   2                   3
 *  |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
 *  |        Virtual Network Identifier (VNI)       |    Reserved   |
 *  |                    Variable-Length Options                    |
 * option: | Option Class (16) | Type (8) |R|R|R| Length (5) | data (Length x 4 bytes) |
 * </pre>
 */
public final class GeneveHeader
{
    public static final int LENGTH = 8;
    public static final int OPTION_HEADER = 4;
    public static final int PROTO_TEB = 0x6558;
    public static final int FLAG_OAM = 0x80;
    public static final int FLAG_CRITICAL = 0x40;
    /** An option type with this bit set must be understood by the receiver, or the packet dropped. */
    public static final int TYPE_CRITICAL = 0x80;

    private GeneveHeader()
    {
    }

    public static int version(final byte[] b, final int at)
    {
        return (b[at] & 0xff) >>> 6;
    }

    /** Length of the options in bytes. */
    public static int optionsLength(final byte[] b, final int at)
    {
        return (b[at] & 0x3f) * 4;
    }

    public static int flags(final byte[] b, final int at)
    {
        return b[at + 1] & 0xff;
    }

    public static int protocol(final byte[] b, final int at)
    {
        return (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
    }

    public static int vni(final byte[] b, final int at)
    {
        return (b[at + 4] & 0xff) << 16 | (b[at + 5] & 0xff) << 8 | (b[at + 6] & 0xff);
    }

    public static void write(final byte[] b, final int at, final int optionsLength, final int flags, final int vni)
    {
        b[at] = (byte)(optionsLength / 4);
        b[at + 1] = (byte)flags;
        b[at + 2] = (byte)(PROTO_TEB >>> 8);
        b[at + 3] = (byte)PROTO_TEB;
        b[at + 4] = (byte)(vni >>> 16);
        b[at + 5] = (byte)(vni >>> 8);
        b[at + 6] = (byte)vni;
        b[at + 7] = 0;
    }

    public static int optionClass(final byte[] b, final int opt)
    {
        return (b[opt] & 0xff) << 8 | (b[opt + 1] & 0xff);
    }

    public static int optionType(final byte[] b, final int opt)
    {
        return b[opt + 2] & 0xff;
    }

    /** Data length of an option in bytes. */
    public static int optionDataLength(final byte[] b, final int opt)
    {
        return (b[opt + 3] & 0x1f) * 4;
    }

    public static void writeOption(final byte[] b, final int opt, final int optClass, final int type, final int dataLength,
        final long value)
    {
        b[opt] = (byte)(optClass >>> 8);
        b[opt + 1] = (byte)optClass;
        b[opt + 2] = (byte)type;
        b[opt + 3] = (byte)(dataLength / 4);
        for (int i = 0; i < dataLength; i++)
        {
            b[opt + 4 + i] = (byte)(value >>> (8 * (dataLength - 1 - i)));
        }
    }
}
