package dev.junction.conntrack;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * Every live connection of a {@link Conntrack} at one moment, to be put back into another one
 * after a restart ({@link Conntrack#checkpoint}, {@link Conntrack#restore}): what conntrackd
 * keeps for Linux, here as one flat array of {@link #ENTRY} ints per connection.
 *
 * <p>Times are relative, because a connection's expiry is on the packet clock of the process
 * that took it (System.nanoTime of that JVM): each entry holds the time it had left, and the
 * checkpoint the wall-clock time it was taken, so a restore can take the downtime off.
 *
 * <p>Entry layout (int offsets):
 * <pre>
 *  0 meta (used, label set, v6, reply indexed, NAT action, zone, protocol: ConnTable's bits)
 *  1 mark   2-3 time left (ms, hi lo)
 *  4-11 original addresses: srcHi srcLo dstHi dstLo (each hi lo)   12 original srcTp   13 original dstTp
 *  14-21 reply addresses   22 reply srcTp   23 reply dstTp
 *  24-30 protocol state (ConnTable.L4_INTS ints, TcpTracker's layout)
 *  31-34 label hi lo (each hi lo)
 * </pre>
 * {@link #encode} adds a header (magic, wall-clock time, count) and a CRC32, so that a
 * truncated or damaged copy is refused by {@link #decode} rather than restored in part.
 */
public final class Checkpoint
{
    static final int ENTRY = 35;
    static final int META = 0;
    static final int MARK = 1;
    static final int LEFT = 2;
    static final int KEY0 = 4;
    static final int TP0 = 12;
    static final int KEY1 = 14;
    static final int TP1 = 22;
    static final int L4 = 24;
    static final int LABEL = 31;

    /** 'JCT1'. */
    private static final int MAGIC = 0x4A435431;
    private static final int HEADER = 4 + 8 + 4;

    private final long wallMillis;
    private final int count;
    private final int[] entries;

    Checkpoint(final long wallMillis, final int count, final int[] entries)
    {
        this.wallMillis = wallMillis;
        this.count = count;
        this.entries = entries;
    }

    /** The wall-clock time (ms since the epoch) at which it was taken. */
    public long wallMillis()
    {
        return wallMillis;
    }

    /** Connections held. */
    public int connections()
    {
        return count;
    }

    int[] entries()
    {
        return entries;
    }

    /** The bytes of this checkpoint: header, entries, CRC32 of everything before it. */
    public byte[] encode()
    {
        final ByteBuffer b = ByteBuffer.allocate(HEADER + count * ENTRY * 4 + 4);
        b.putInt(MAGIC).putLong(wallMillis).putInt(count);
        for (int i = 0, n = count * ENTRY; i < n; i++)
        {
            b.putInt(entries[i]);
        }
        final CRC32 crc = new CRC32();
        crc.update(b.array(), 0, b.position());
        b.putInt((int)crc.getValue());
        return b.array();
    }

    /**
     * A checkpoint from {@link #encode}'s bytes.
     *
     * @throws IllegalArgumentException when they are not a whole checkpoint (torn, damaged, foreign).
     */
    public static Checkpoint decode(final byte[] bytes)
    {
        if (bytes.length < HEADER + 4)
        {
            throw new IllegalArgumentException("conntrack checkpoint: " + bytes.length + " bytes, shorter than a header");
        }
        final ByteBuffer b = ByteBuffer.wrap(bytes);
        if (b.getInt() != MAGIC)
        {
            throw new IllegalArgumentException("conntrack checkpoint: bad magic");
        }
        final long wall = b.getLong();
        final int count = b.getInt();
        if (count < 0 || (long)count * ENTRY * 4 != bytes.length - HEADER - 4)
        {
            throw new IllegalArgumentException("conntrack checkpoint: " + count + " connections do not fit "
                + bytes.length + " bytes");
        }
        final CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length - 4);
        if ((int)crc.getValue() != ByteBuffer.wrap(bytes, bytes.length - 4, 4).getInt())
        {
            throw new IllegalArgumentException("conntrack checkpoint: CRC mismatch");
        }
        final int[] entries = new int[count * ENTRY];
        try
        {
            b.asIntBuffer().get(entries);
        }
        catch (final BufferUnderflowException ex)
        {
            throw new IllegalArgumentException("conntrack checkpoint: truncated", ex);
        }
        return new Checkpoint(wall, count, entries);
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof Checkpoint c && c.wallMillis == wallMillis && c.count == count
            && Arrays.equals(entries, 0, count * ENTRY, c.entries, 0, c.count * ENTRY);
    }

    @Override
    public int hashCode()
    {
        return Long.hashCode(wallMillis) * 31 + Arrays.hashCode(Arrays.copyOf(entries, count * ENTRY));
    }

    /**
     * What {@link Conntrack#restore} did with a checkpoint's connections.
     *
     * @param restored  put back, findable by their next packets
     * @param expired   whose time left was shorter than the downtime
     * @param refused   not put back: a limit (global or zone) full, a tuple already taken, a malformed entry
     * @param nanos     how long the restore held the table
     */
    public record Restored(int restored, int expired, int refused, long nanos)
    {
    }
}
