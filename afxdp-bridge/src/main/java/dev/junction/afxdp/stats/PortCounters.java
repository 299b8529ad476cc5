package dev.junction.afxdp.stats;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A port's named counters. Each is written by one thread only (RX counters by the receiving
 * thread, TX counters by the sending thread), with an ordered store of get()+n instead of an
 * atomic add: no lock prefix on the packet path, and any thread may read them at any time.
 * Subclasses name the counters and add the sums their port type means by drops.
 */
public abstract class PortCounters
{
    private final String[] names;
    private final AtomicLongArray values;

    protected PortCounters(final String... names)
    {
        this.names = names;
        this.values = new AtomicLongArray(names.length);
    }

    public final void add(final int counter, final long n)
    {
        values.lazySet(counter, values.get(counter) + n);
    }

    public final void increment(final int counter)
    {
        add(counter, 1);
    }

    public final void set(final int counter, final long value)
    {
        values.lazySet(counter, value);
    }

    public final long get(final int counter)
    {
        return values.get(counter);
    }

    /** Adds every counter of {@code other} (of the same class) to this one's: sums over queues, not for the packet path. */
    public final void addAll(final PortCounters other)
    {
        if (other.values.length() != values.length())
        {
            throw new IllegalArgumentException("different counters: " + other.getClass());
        }
        for (int i = 0; i < values.length(); i++)
        {
            add(i, other.values.get(i));
        }
    }

    @Override
    public String toString()
    {
        final StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < names.length; i++)
        {
            sb.append(i == 0 ? "" : ", ").append(names[i]).append('=').append(values.get(i));
        }
        return sb.append('}').toString();
    }
}
