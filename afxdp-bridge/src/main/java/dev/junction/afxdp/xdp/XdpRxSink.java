package dev.junction.afxdp.xdp;

import org.agrona.MutableDirectBuffer;

/**
 * Receives each frame an {@link AfXdpPort#receive} burst takes from the RX ring. The buffer is
 * the port's UMEM and the frame is not copied: it stays in its UMEM frame, lent to the sink
 * until {@code onFrame} returns, then goes back to the kernel on the fill ring. Copy, or send
 * on, before returning; the frame may be rewritten in place (not beyond {@code length}).
 *
 * <p>Unlike the TAP port's {@code RxSink} there is no virtio header: AF_XDP carries frames only,
 * never a GSO super-frame, and says nothing about their checksums.
 */
@FunctionalInterface
public interface XdpRxSink
{
    /**
     * @param buffer the port's whole UMEM
     * @param offset where the Ethernet frame starts in it
     * @param length the frame's length
     */
    void onFrame(MutableDirectBuffer buffer, int offset, int length);
}
