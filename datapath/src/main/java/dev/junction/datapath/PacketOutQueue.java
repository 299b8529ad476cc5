package dev.junction.datapath;

import dev.junction.flowtable.Packet;

/**
 * Packet-outs a handler produced while a packet's actions ran, held until the packet is done so
 * they never run inside its action execution: a fixed number of preallocated slots, in order.
 */
final class PacketOutQueue implements PacketInHandler.PacketOuts
{
    private final Packet[] slots;
    private final int[] ports;
    private int size;
    /** The datapath's drop counters: an overflow counts as {@link DropReason#PACKET_OUT_OVERFLOW}. */
    private final long[] drops;

    PacketOutQueue(final int capacity, final long[] drops)
    {
        this.drops = drops;
        slots = new Packet[capacity];
        ports = new int[capacity];
        for (int i = 0; i < capacity; i++)
        {
            slots[i] = new Packet(2048);
        }
    }

    @Override
    public boolean send(final int port, final byte[] frame)
    {
        if (size == slots.length)
        {
            drops[DropReason.PACKET_OUT_OVERFLOW.ordinal()]++;
            return false;
        }
        slots[size].wrap(frame, 0, frame.length);
        ports[size] = port;
        size++;
        return true;
    }

    /** Hands every queued frame to {@code sink}, in order, and empties the queue. */
    void drain(final long timestampNanos, final dev.junction.datapath.exec.ActionExecutor.OutputSink sink)
    {
        for (int i = 0; i < size; i++)
        {
            slots[i].timestampNanos = timestampNanos;
            sink.output(ports[i], slots[i]);
        }
        size = 0;
    }
}
