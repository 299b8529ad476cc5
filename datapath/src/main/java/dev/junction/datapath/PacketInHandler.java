package dev.junction.datapath;

/**
 * Takes the packets controller actions send, in the role ovn-controller's pinctrl plays for OVS:
 * it may answer with packet-outs, frames sent out of a port.
 *
 * <p>Threading: {@link #packetIn} runs on the thread processing the packet (the caller of
 * {@link Datapath#receive}, or a pipeline worker), in the middle of the packet's action list,
 * synchronously: it must not block, and the worker's other packets wait while it runs. One
 * handler given to several workers' datapaths is called from all of them at once, so it must be
 * thread-safe then. Packet-outs are queued ({@link Datapath#PACKET_OUT_QUEUE} per packet) and sent
 * after the current packet's own outputs, on the same thread, straight out of their port (they
 * do not go through the flow tables, so they never come back as packet-ins); a packet-out that
 * does not fit the queue is a counted drop ({@link DropReason#PACKET_OUT_OVERFLOW}).
 */
@FunctionalInterface
public interface PacketInHandler
{
    /** Where a handler sends its answers. */
    @FunctionalInterface
    interface PacketOuts
    {
        /** Queues {@code frame} (copied) to leave on OpenFlow port {@code port}; false when the queue is full. */
        boolean send(int port, byte[] frame);
    }

    void packetIn(PacketIn packetIn, PacketOuts out);
}
