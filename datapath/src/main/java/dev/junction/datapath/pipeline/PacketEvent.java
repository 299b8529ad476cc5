package dev.junction.datapath.pipeline;

import dev.junction.flowtable.Packet;

/**
 * One slot of the ring: a packet buffer allocated once, when the ring is built, and refilled by
 * every RX that claims the slot. The owning worker processes the packet in place (rewrites,
 * pushed headers use the buffer's headroom), so nothing on the way from RX to TX allocates.
 */
public final class PacketEvent
{
    /** The frame, copied in at RX; its {@code inPort} and {@code timestampNanos} are set too. */
    public final Packet packet;
    /** The port the frame was received on. */
    public int port;
    /** Computed at RX from the raw frame; picks the worker ({@code hash % workers}). */
    public int rssHash;
    public long timestampNanos;
    /**
     * A control request instead of a packet (null for packets): run by worker
     * {@link #controlWorker} between packets, so it sees that worker's caches consistently.
     */
    java.util.function.Consumer<dev.junction.datapath.Datapath> control;
    int controlWorker;

    PacketEvent(final int maxFrame)
    {
        packet = new Packet(maxFrame);
    }

    /** Copies a frame in; the caller has checked that it fits, so the buffer is never replaced. */
    void fill(final int port, final byte[] frame, final int offset, final int length, final long timestampNanos)
    {
        control = null;
        packet.wrap(frame, offset, length);
        packet.inPort = port;
        packet.timestampNanos = timestampNanos;
        this.port = port;
        this.timestampNanos = timestampNanos;
        rssHash = RssHash.hash(frame, offset, length);
    }
}
