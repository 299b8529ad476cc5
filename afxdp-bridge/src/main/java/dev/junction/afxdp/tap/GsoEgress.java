package dev.junction.afxdp.tap;

import org.agrona.MutableDirectBuffer;

/**
 * How a received frame leaves on a TAP port: a super-frame goes out whole, behind its
 * virtio_net_hdr, when the egress accepts GSO of its kind (no per-segment work at all, the
 * receiving stack takes it as one large packet); otherwise it is cut by a {@link TcpSegmenter}
 * into MSS-sized segments with complete checksums. A non-GSO frame whose checksum is still
 * partial (RX left it so) is passed with its header where the egress takes partial checksums,
 * else completed first. One instance per sending thread; allocation-free.
 */
public final class GsoEgress
{
    private final TcpSegmenter segmenter = new TcpSegmenter();
    /** Bound once: a lambda capturing the egress per call would allocate. */
    private final TcpSegmenter.SegmentSink segmentSink = this::sendSegment;
    private TapDevice target;
    private boolean segmentFailed;
    private boolean forceSegmentation;
    private long framesSegmented;
    private long segmentsSent;
    private long refused;

    /** Treat every egress as unable to take GSO (tests, and egresses known to mishandle it). */
    public GsoEgress forceSegmentation(final boolean force)
    {
        forceSegmentation = force;
        return this;
    }

    /**
     * Sends one frame as received (buffer, offset, length and header as an {@link RxSink} got them).
     *
     * @return false when the frame, or any of its segments, was not sent
     */
    public boolean send(final TapDevice egress, final MutableDirectBuffer buffer, final int offset, final int length,
        final VirtioNetHeader header)
    {
        if (header.isGso())
        {
            if (!forceSegmentation && egress.acceptsGso(header.gsoType()))
            {
                return egress.send(buffer, offset, length, header);
            }
            if (!header.isTcpGso())
            {
                refused++; // UDP fragmentation offload: never negotiated, so never expected
                return false;
            }
            target = egress;
            segmentFailed = false;
            final int n = segmenter.segment(buffer, offset, length, header.gsoSize(), segmentSink);
            target = null;
            if (n == TcpSegmenter.MALFORMED)
            {
                refused++;
                return false;
            }
            framesSegmented++;
            return !segmentFailed;
        }
        if (header.needsChecksum())
        {
            if (egress.acceptsPartialChecksum())
            {
                return egress.send(buffer, offset, length, header);
            }
            if (!header.completeChecksum(buffer, offset, length))
            {
                refused++;
                return false;
            }
        }
        return egress.send(buffer, offset, length);
    }

    private void sendSegment(final MutableDirectBuffer buffer, final int offset, final int length)
    {
        if (target.send(buffer, offset, length))
        {
            segmentsSent++;
        }
        else
        {
            segmentFailed = true;
        }
    }

    /** Super-frames cut into segments. Read from the sending thread. */
    public long framesSegmented()
    {
        return framesSegmented;
    }

    public long segmentsSent()
    {
        return segmentsSent;
    }

    /** Frames refused: malformed super-frames, GSO kinds other than TCP, bad checksum offsets. */
    public long refused()
    {
        return refused;
    }
}
