package dev.junction.afxdp.tap;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Flyweight over a {@code struct virtio_net_hdr_v1} (12 bytes, little-endian: the TAP is set to
 * little-endian with {@code TUNSETVNETLE}), the header the kernel puts before every frame a
 * {@code IFF_VNET_HDR} TAP reads or writes. It says whether the frame's L4 checksum is left
 * partial ({@link #F_NEEDS_CSUM}: the field at {@code csum_start + csum_offset} holds only the
 * pseudo-header sum) and whether the frame is a GSO super-frame to be cut into
 * {@code gso_size}-byte TCP segments.
 *
 * <p>12 bytes, not the legacy 10: the v1 layout (with {@code num_buffers}) is what every virtio
 * 1.0 device and vhost backend uses, so a header read here can be handed on unchanged to such a
 * port later. The TAP ignores {@code num_buffers} on write and leaves it untouched on read, so
 * it is never trusted.
 */
public final class VirtioNetHeader
{
    public static final int LENGTH = 12;

    public static final int F_NEEDS_CSUM = 1;
    public static final int F_DATA_VALID = 2;

    public static final int GSO_NONE = 0;
    public static final int GSO_TCPV4 = 1;
    public static final int GSO_UDP = 3;
    public static final int GSO_TCPV6 = 4;
    public static final int GSO_UDP_L4 = 5;
    /** Added to gso_type when the super-frame carries CWR (set on the first segment only). */
    public static final int GSO_ECN = 0x80;

    private static final int FLAGS = 0;
    private static final int GSO_TYPE = 1;
    private static final int HDR_LEN = 2;
    private static final int GSO_SIZE = 4;
    private static final int CSUM_START = 6;
    private static final int CSUM_OFFSET = 8;
    private static final int NUM_BUFFERS = 10;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private MutableDirectBuffer buffer;
    private int offset;

    public VirtioNetHeader wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    public MutableDirectBuffer buffer()
    {
        return buffer;
    }

    public int offset()
    {
        return offset;
    }

    public int flags()
    {
        return buffer.getByte(offset + FLAGS) & 0xff;
    }

    public VirtioNetHeader flags(final int flags)
    {
        buffer.putByte(offset + FLAGS, (byte)flags);
        return this;
    }

    /** The raw gso_type, ECN bit included. */
    public int gsoType()
    {
        return buffer.getByte(offset + GSO_TYPE) & 0xff;
    }

    public VirtioNetHeader gsoType(final int gsoType)
    {
        buffer.putByte(offset + GSO_TYPE, (byte)gsoType);
        return this;
    }

    /** Only a hint from the kernel ({@code skb_headlen}, may reach into the payload): never trusted. */
    public int hdrLen()
    {
        return buffer.getShort(offset + HDR_LEN, LE) & 0xffff;
    }

    public VirtioNetHeader hdrLen(final int hdrLen)
    {
        buffer.putShort(offset + HDR_LEN, (short)hdrLen, LE);
        return this;
    }

    /** The MSS: payload bytes per segment. */
    public int gsoSize()
    {
        return buffer.getShort(offset + GSO_SIZE, LE) & 0xffff;
    }

    public VirtioNetHeader gsoSize(final int gsoSize)
    {
        buffer.putShort(offset + GSO_SIZE, (short)gsoSize, LE);
        return this;
    }

    /** Where the checksummed L4 part starts, from the frame's first byte. */
    public int csumStart()
    {
        return buffer.getShort(offset + CSUM_START, LE) & 0xffff;
    }

    public VirtioNetHeader csumStart(final int csumStart)
    {
        buffer.putShort(offset + CSUM_START, (short)csumStart, LE);
        return this;
    }

    /** Where the checksum field is, from {@link #csumStart()} (16 for TCP, 6 for UDP). */
    public int csumOffset()
    {
        return buffer.getShort(offset + CSUM_OFFSET, LE) & 0xffff;
    }

    public VirtioNetHeader csumOffset(final int csumOffset)
    {
        buffer.putShort(offset + CSUM_OFFSET, (short)csumOffset, LE);
        return this;
    }

    public int numBuffers()
    {
        return buffer.getShort(offset + NUM_BUFFERS, LE) & 0xffff;
    }

    public boolean needsChecksum()
    {
        return (flags() & F_NEEDS_CSUM) != 0;
    }

    public boolean isGso()
    {
        return (gsoType() & ~GSO_ECN) != GSO_NONE;
    }

    /** TCPv4 or TCPv6 GSO, the kinds {@link TcpSegmenter} cuts. */
    public boolean isTcpGso()
    {
        final int type = gsoType() & ~GSO_ECN;
        return type == GSO_TCPV4 || type == GSO_TCPV6;
    }

    /** Zeroes the header: a plain frame, checksums complete, no GSO. */
    public VirtioNetHeader clear()
    {
        buffer.setMemory(offset, LENGTH, (byte)0);
        return this;
    }

    /** Copies the 10 bytes that mean something (not {@code num_buffers}) from another header. */
    public VirtioNetHeader copyFrom(final VirtioNetHeader other)
    {
        buffer.putBytes(offset, other.buffer, other.offset, NUM_BUFFERS);
        buffer.putShort(offset + NUM_BUFFERS, (short)0, LE);
        return this;
    }

    /**
     * Completes the partial checksum of a {@link #F_NEEDS_CSUM} frame in place, as the kernel's
     * {@code skb_checksum_help}: the ones-complement sum from {@code csum_start} to the frame's end
     * (which includes the pseudo-header sum the sender left in the checksum field), folded and
     * inverted, is stored at {@code csum_start + csum_offset}; a result of 0 is stored as 0xffff
     * (0 would mean "no checksum" to UDP, and is the same value for TCP). Then clears
     * {@link #F_NEEDS_CSUM}. Does nothing when the flag is not set.
     *
     * @return false when csum_start/csum_offset point outside the frame (the frame is left as it was)
     */
    public boolean completeChecksum(final MutableDirectBuffer frame, final int frameOffset, final int frameLength)
    {
        if (!needsChecksum())
        {
            return true;
        }
        final int start = csumStart();
        final int field = start + csumOffset();
        if (field + 2 > frameLength || start >= frameLength)
        {
            return false;
        }
        final long sum = InternetChecksum.sum(frame, frameOffset + start, frameLength - start, 0);
        final int csum = InternetChecksum.finish(sum);
        frame.putShort(frameOffset + field, (short)(csum == 0 ? 0xffff : csum), ByteOrder.BIG_ENDIAN);
        flags(flags() & ~F_NEEDS_CSUM);
        return true;
    }

    @Override
    public String toString()
    {
        return "virtio_net_hdr{flags=" + flags() + ", gso_type=" + gsoType() + ", hdr_len=" + hdrLen()
            + ", gso_size=" + gsoSize() + ", csum_start=" + csumStart() + ", csum_offset=" + csumOffset() + "}";
    }
}
