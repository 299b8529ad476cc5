package dev.junction.afxdp.tap;

import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * Software TCP segmentation of a GSO super-frame (Ethernet, optional VLAN tags, IPv4 or IPv6,
 * TCP), for an egress that cannot take GSO: as the kernel's {@code tcp_gso_segment}, each
 * segment gets a copy of the headers and up to MSS bytes of payload; the IP length, the IPv4
 * identification (first segment keeps the frame's, then +1 each), the TCP sequence number
 * (+MSS each) are set; FIN and PSH stay on the last segment only, CWR on the first only; the IPv4
 * header checksum and the TCP checksum (pseudo-header included) are computed in full, so
 * segments are valid whatever the super-frame's checksum field held.
 *
 * <p>Each segment is built in one preallocated scratch buffer and handed to the sink before the
 * next is built: nothing is allocated per frame. One instance per thread.
 *
 * <p>Refused ({@link #MALFORMED}, nothing sent): a protocol other than TCP, IPv4 fragments, IPv6
 * extension headers between the IPv6 and TCP headers, IPv6 jumbograms (BIG TCP), lengths that
 * disagree with the frame, an MSS of 0. IPv4 and TCP options are copied into every segment.
 */
public final class TcpSegmenter
{
    /** Receives each segment; the buffer is reused for the next one once this returns. */
    @FunctionalInterface
    public interface SegmentSink
    {
        void onSegment(MutableDirectBuffer buffer, int offset, int length);
    }

    public static final int MALFORMED = -1;
    /** Largest super-frame: an IP datagram of 65,535 bytes behind Ethernet and two VLAN tags. */
    public static final int MAX_FRAME = 14 + 8 + 65_535;

    private static final int ETH_P_IP = 0x0800;
    private static final int ETH_P_IPV6 = 0x86dd;
    private static final int ETH_P_8021Q = 0x8100;
    private static final int ETH_P_8021AD = 0x88a8;
    private static final int IPPROTO_TCP = 6;
    private static final int TCP_FIN = 0x01;
    private static final int TCP_PSH = 0x08;
    private static final int TCP_CWR = 0x80;
    private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;

    private final UnsafeBuffer scratch = new UnsafeBuffer(BufferUtil.allocateDirectAligned(align(MAX_FRAME), 64));

    /**
     * Cuts the frame into segments of at most {@code mss} payload bytes and hands each to the
     * sink, in order. A frame with no more than {@code mss} payload bytes becomes one segment
     * (its checksums completed).
     *
     * @return the number of segments, or {@link #MALFORMED} (nothing handed to the sink)
     */
    public int segment(final DirectBuffer frame, final int offset, final int length, final int mss, final SegmentSink sink)
    {
        final int end = offset + length;
        if (mss <= 0 || length < 14 || length > MAX_FRAME)
        {
            return MALFORMED;
        }
        int l3 = offset + 14;
        int etherType = frame.getShort(offset + 12, BE) & 0xffff;
        while ((etherType == ETH_P_8021Q || etherType == ETH_P_8021AD) && l3 + 4 <= end)
        {
            etherType = frame.getShort(l3 + 2, BE) & 0xffff;
            l3 += 4;
        }

        final boolean v4;
        final int l4;
        final int ipEnd;
        if (etherType == ETH_P_IP && l3 + 20 <= end)
        {
            v4 = true;
            final int ihl = (frame.getByte(l3) & 0x0f) * 4;
            final int fragment = frame.getShort(l3 + 6, BE) & 0x3fff; // MF and the offset
            if (ihl < 20 || fragment != 0 || (frame.getByte(l3 + 9) & 0xff) != IPPROTO_TCP)
            {
                return MALFORMED;
            }
            l4 = l3 + ihl;
            ipEnd = l3 + (frame.getShort(l3 + 2, BE) & 0xffff);
        }
        else if (etherType == ETH_P_IPV6 && l3 + 40 <= end)
        {
            v4 = false;
            final int payloadLength = frame.getShort(l3 + 4, BE) & 0xffff;
            if ((frame.getByte(l3 + 6) & 0xff) != IPPROTO_TCP || payloadLength == 0)
            {
                return MALFORMED;
            }
            l4 = l3 + 40;
            ipEnd = l4 + payloadLength;
        }
        else
        {
            return MALFORMED;
        }
        if (ipEnd > end || l4 + 20 > ipEnd)
        {
            return MALFORMED;
        }
        final int tcpHeader = ((frame.getByte(l4 + 12) & 0xf0) >>> 4) * 4;
        final int payloadStart = l4 + tcpHeader;
        if (tcpHeader < 20 || payloadStart > ipEnd)
        {
            return MALFORMED;
        }

        final int headers = payloadStart - offset;
        final int payload = ipEnd - payloadStart;
        final int segments = payload == 0 ? 1 : (payload + mss - 1) / mss;
        // Offsets within a segment (headers are copied to scratch offset 0).
        final int ip = l3 - offset;
        final int tcp = l4 - offset;
        final int firstId = frame.getShort(l3 + 4, BE) & 0xffff;
        final long firstSeq = frame.getInt(l4 + 4, BE) & 0xffff_ffffL;
        final int flags = frame.getByte(l4 + 13) & 0xff;

        for (int i = 0; i < segments; i++)
        {
            final int chunk = Math.min(mss, payload - i * mss);
            final int tcpLength = tcpHeader + chunk;
            scratch.putBytes(0, frame, offset, headers);
            scratch.putBytes(headers, frame, payloadStart + i * mss, chunk);

            if (v4)
            {
                final int ihl = tcp - ip;
                scratch.putShort(ip + 2, (short)(ihl + tcpLength), BE);
                scratch.putShort(ip + 4, (short)(firstId + i), BE);
                scratch.putShort(ip + 10, (short)0, BE);
                scratch.putShort(ip + 10, (short)InternetChecksum.finish(InternetChecksum.sum(scratch, ip, ihl, 0)), BE);
            }
            else
            {
                scratch.putShort(ip + 4, (short)tcpLength, BE);
            }

            scratch.putInt(tcp + 4, (int)(firstSeq + (long)i * mss), BE);
            int segmentFlags = flags;
            if (i < segments - 1)
            {
                segmentFlags &= ~(TCP_FIN | TCP_PSH);
            }
            if (i > 0)
            {
                segmentFlags &= ~TCP_CWR;
            }
            scratch.putByte(tcp + 13, (byte)segmentFlags);

            scratch.putShort(tcp + 16, (short)0, BE);
            final long pseudo = v4
                ? InternetChecksum.pseudoHeaderV4(scratch, ip, IPPROTO_TCP, tcpLength)
                : InternetChecksum.pseudoHeaderV6(scratch, ip, IPPROTO_TCP, tcpLength);
            final int csum = InternetChecksum.finish(InternetChecksum.sum(scratch, tcp, tcpLength, pseudo));
            scratch.putShort(tcp + 16, (short)csum, BE);

            sink.onSegment(scratch, 0, headers + chunk);
        }
        return segments;
    }

    private static int align(final int n)
    {
        return (n + 63) & ~63;
    }
}
