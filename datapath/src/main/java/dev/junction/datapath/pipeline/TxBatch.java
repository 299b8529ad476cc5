package dev.junction.datapath.pipeline;

import dev.junction.flowtable.Packet;

/**
 * A worker's pending output frames for one port, in preallocated buffers. Output frames are
 * copied here because the datapath keeps rewriting the same packet for its next output action
 * (and the ring slot is reused after the batch), so a reference would not do.
 */
public final class TxBatch
{
    private final int port;
    private final byte[][] frames;
    private final int[] lengths;
    /** Per frame: the ring sequence and timestamp of the received packet it came from. */
    private final long[] sequences;
    private final long[] timestamps;
    private int size;

    TxBatch(final int port, final int capacity, final int frameCapacity)
    {
        this.port = port;
        frames = new byte[capacity][frameCapacity];
        lengths = new int[capacity];
        sequences = new long[capacity];
        timestamps = new long[capacity];
    }

    /** Copies the frame in; false when it does not fit a buffer (the caller counts the drop). */
    boolean add(final Packet p, final long sequence, final long timestampNanos)
    {
        final byte[] dst = frames[size];
        if (p.length > dst.length)
        {
            return false;
        }
        System.arraycopy(p.buf, p.start, dst, 0, p.length);
        lengths[size] = p.length;
        sequences[size] = sequence;
        timestamps[size] = timestampNanos;
        size++;
        return true;
    }

    boolean isFull()
    {
        return size == frames.length;
    }

    void clear()
    {
        size = 0;
    }

    public int port()
    {
        return port;
    }

    public int size()
    {
        return size;
    }

    /** Frame {@code i}, from offset 0 of the returned buffer for {@link #length(int)} bytes. */
    public byte[] frame(final int i)
    {
        return frames[i];
    }

    public int length(final int i)
    {
        return lengths[i];
    }

    /**
     * The ring sequence of the received packet frame {@code i} came from: a port that must order
     * the outputs of several workers as one thread would have sent them (a replay) sorts by it.
     */
    public long sequence(final int i)
    {
        return sequences[i];
    }

    /** The receive timestamp of the packet frame {@code i} came from. */
    public long timestampNanos(final int i)
    {
        return timestamps[i];
    }
}
