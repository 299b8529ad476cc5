package dev.junction.datapath.pipeline;

import java.util.Arrays;

/**
 * Up to {@link #MAX_BURST} frames a port received in one poll, handed to
 * {@link Pipeline#receive(int, RxBurst)} together. The burst holds references to the port's own
 * buffers, not copies: the pipeline copies each frame into a ring slot, so the port may reuse its
 * buffers as soon as {@code receive} returns. A port keeps one burst and clears it after each poll.
 */
public final class RxBurst
{
    /** As OVS's {@code NETDEV_MAX_BURST}. */
    public static final int MAX_BURST = 32;

    private final byte[][] frames;
    private final int[] offsets;
    private final int[] lengths;
    private final long[] timestamps;
    private int size;

    public RxBurst()
    {
        this(MAX_BURST);
    }

    public RxBurst(final int capacity)
    {
        frames = new byte[capacity][];
        offsets = new int[capacity];
        lengths = new int[capacity];
        timestamps = new long[capacity];
    }

    /** Adds a frame; false when the burst is full. */
    public boolean add(final byte[] frame, final int offset, final int length, final long timestampNanos)
    {
        if (size == frames.length)
        {
            return false;
        }
        frames[size] = frame;
        offsets[size] = offset;
        lengths[size] = length;
        timestamps[size] = timestampNanos;
        size++;
        return true;
    }

    public void clear()
    {
        // References are dropped so a cleared burst does not keep a port's old buffers reachable.
        Arrays.fill(frames, 0, size, null);
        size = 0;
    }

    public int size()
    {
        return size;
    }

    public boolean isFull()
    {
        return size == frames.length;
    }

    public byte[] frame(final int i)
    {
        return frames[i];
    }

    public int offset(final int i)
    {
        return offsets[i];
    }

    public int length(final int i)
    {
        return lengths[i];
    }

    public long timestampNanos(final int i)
    {
        return timestamps[i];
    }
}
