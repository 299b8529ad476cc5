package dev.junction.afxdp.tap;

import org.agrona.MutableDirectBuffer;

/**
 * Receives each frame a {@link TapDevice#receive} burst reads. The buffer and the header are
 * the device's own and are overwritten by the next read: copy, or send on, before returning.
 * The frame may be rewritten in place.
 */
@FunctionalInterface
public interface RxSink
{
    /**
     * @param buffer the device's RX buffer
     * @param offset where the Ethernet frame starts in it
     * @param length the frame's length (a GSO super-frame may be up to 64 KiB)
     * @param header the frame's virtio_net_hdr: {@link VirtioNetHeader#isGso()} tells a super-frame;
     *               a non-GSO frame's partial checksum has already been completed (unless the
     *               device was configured not to)
     */
    void onFrame(MutableDirectBuffer buffer, int offset, int length, VirtioNetHeader header);
}
