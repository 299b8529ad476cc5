package dev.junction.afxdp.xdp;

import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * A flyweight over one AF_XDP ring shared with the kernel: a u32 producer index, a u32
 * consumer index, a u32 flags word and a power-of-two array of entries (16-byte
 * {@code xdp_desc} for RX/TX, 8-byte UMEM addresses for fill/completion).
 *
 * <p>Indexes are free-running u32 counters; entry {@code i} lives in slot {@code i & mask}, and
 * {@code producer - consumer} (int arithmetic, wrapping) is the number of entries in flight.
 * Each side keeps a cached copy of the other side's index and reads the shared one (volatile)
 * only when the cache says there is not enough room or data, as libxdp's {@code xsk.h} does:
 * most bursts touch no shared cache line but the entries and their own index.
 *
 * <p>Ordering: the side that fills entries publishes its index with a release store
 * ({@code putIntOrdered}) after writing them; the other side reads that index with a volatile
 * load before reading them. That pairs with the kernel's {@code smp_load_acquire} /
 * {@code smp_store_release} on the same words.
 *
 * <p>One instance is used from one side only: {@link #freeEntries}/{@link #advance}/{@link #publish}
 * on a ring we produce (fill, TX), {@link #available}/{@link #release} on a ring we consume (RX,
 * completion). Not thread-safe: one thread per ring.
 */
public final class XdpRing
{
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private final UnsafeBuffer buffer = new UnsafeBuffer(0, 0);
    private int producerOffset;
    private int consumerOffset;
    private int flagsOffset;
    private int descOffset;
    private int entrySize;
    private int size;
    private int mask;

    /** Our next index to write (producer side) or read (consumer side): published or not yet. */
    private int cachedProducer;
    private int cachedConsumer;

    /**
     * @param address   where the ring's mapping starts
     * @param length    the mapping's length
     * @param producer  offset of the producer index ({@code xdp_ring_offset.producer})
     * @param consumer  offset of the consumer index
     * @param flags     offset of the flags word
     * @param desc      offset of the first entry
     * @param size      entries (a power of two)
     * @param entrySize 16 for RX/TX, 8 for fill/completion
     */
    public XdpRing wrap(final long address, final int length, final int producer, final int consumer, final int flags,
        final int desc, final int size, final int entrySize)
    {
        if (Integer.bitCount(size) != 1)
        {
            throw new IllegalArgumentException("ring size must be a power of two: " + size);
        }
        if ((long)desc + (long)size * entrySize > length)
        {
            throw new IllegalArgumentException("ring of " + size + " x " + entrySize + " at " + desc + " beyond " + length);
        }
        buffer.wrap(address, length);
        this.producerOffset = producer;
        this.consumerOffset = consumer;
        this.flagsOffset = flags;
        this.descOffset = desc;
        this.size = size;
        this.mask = size - 1;
        this.entrySize = entrySize;
        cachedProducer = buffer.getIntVolatile(producer);
        cachedConsumer = buffer.getIntVolatile(consumer);
        return this;
    }

    public int size()
    {
        return size;
    }

    // ---- producer side (fill, TX) ----

    /**
     * How many entries may be written now, at most {@code wanted}. Reads the consumer's index
     * only when the cached one leaves fewer than {@code wanted} free.
     */
    public int freeEntries(final int wanted)
    {
        int free = size - (cachedProducer - cachedConsumer);
        if (free < wanted)
        {
            cachedConsumer = buffer.getIntVolatile(consumerOffset);
            free = size - (cachedProducer - cachedConsumer);
        }
        return Math.min(free, wanted);
    }

    /** The index the next written entry gets: write entries {@code producerIndex() + i}, then {@link #advance}. */
    public int producerIndex()
    {
        return cachedProducer;
    }

    /** Counts {@code n} more entries written (after {@link #freeEntries} granted them). Not yet visible. */
    public void advance(final int n)
    {
        cachedProducer += n;
    }

    /** Makes every written entry visible to the kernel (a release store of the producer index). */
    public void publish()
    {
        buffer.putIntOrdered(producerOffset, cachedProducer);
    }

    /** Written but not yet consumed by the kernel, as far as the cached consumer index knows. */
    public int outstanding()
    {
        return cachedProducer - cachedConsumer;
    }

    /** Written and not yet consumed, from the kernel's current consumer index. */
    public int pending()
    {
        cachedConsumer = buffer.getIntVolatile(consumerOffset);
        return cachedProducer - cachedConsumer;
    }

    // ---- consumer side (RX, completion) ----

    /** How many entries may be read now, at most {@code max}; reads the producer's index when the cache is empty. */
    public int available(final int max)
    {
        int entries = cachedProducer - cachedConsumer;
        if (entries == 0)
        {
            cachedProducer = buffer.getIntVolatile(producerOffset);
            entries = cachedProducer - cachedConsumer;
        }
        return Math.min(entries, max);
    }

    /** The index of the next entry to read: read {@code consumerIndex() + i}, then {@link #release}. */
    public int consumerIndex()
    {
        return cachedConsumer;
    }

    /** Hands {@code n} read entries back to the kernel (a release store of the consumer index). */
    public void release(final int n)
    {
        cachedConsumer += n;
        buffer.putIntOrdered(consumerOffset, cachedConsumer);
    }

    // ---- entries ----

    /** An address entry (fill/completion ring). */
    public long address(final int index)
    {
        return buffer.getLong(slot(index), ORDER);
    }

    public void putAddress(final int index, final long umemAddress)
    {
        buffer.putLong(slot(index), umemAddress, ORDER);
    }

    /** A descriptor's UMEM address (RX/TX ring). */
    public long descAddress(final int index)
    {
        return buffer.getLong(slot(index), ORDER);
    }

    public int descLength(final int index)
    {
        return buffer.getInt(slot(index) + 8, ORDER);
    }

    public int descOptions(final int index)
    {
        return buffer.getInt(slot(index) + 12, ORDER);
    }

    public void putDesc(final int index, final long umemAddress, final int length, final int options)
    {
        final int at = slot(index);
        buffer.putLong(at, umemAddress, ORDER);
        buffer.putInt(at + 8, length, ORDER);
        buffer.putInt(at + 12, options, ORDER);
    }

    /** Whether the kernel asks for a syscall to go on with this ring ({@code XDP_RING_NEED_WAKEUP}). */
    public boolean needsWakeup()
    {
        return (buffer.getIntVolatile(flagsOffset) & dev.junction.afxdp.linux.IfXdp.XDP_RING_NEED_WAKEUP) != 0;
    }

    private int slot(final int index)
    {
        return descOffset + (index & mask) * entrySize;
    }

    @Override
    public String toString()
    {
        return "XdpRing{size=" + size + ", producer=" + Integer.toUnsignedString(buffer.getIntVolatile(producerOffset))
            + ", consumer=" + Integer.toUnsignedString(buffer.getIntVolatile(consumerOffset))
            + ", cachedProducer=" + Integer.toUnsignedString(cachedProducer)
            + ", cachedConsumer=" + Integer.toUnsignedString(cachedConsumer) + "}";
    }
}
