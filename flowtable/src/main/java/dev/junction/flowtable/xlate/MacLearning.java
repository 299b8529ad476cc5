package dev.junction.flowtable.xlate;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The bridge's MAC learning table for the NORMAL action, as OVS's lib/mac-learning: (VLAN, MAC)
 * to the port it was last seen on, learned on upcalls from the source address, at most
 * {@code maxEntries} (OVS's mac-table-size, 2048; the least recently used entry is evicted), aged
 * out after {@code agingSeconds} (OVS's mac-aging-time, 300 s) of not being seen. Every change
 * bumps {@link #version()}, on which workers revalidate their megaflows (OVS's REV_MAC_LEARNING).
 *
 * <p>Learning happens on upcalls, under a lock; lookups too (translation is not the fast path).
 * Megaflows whose translation learned a source refresh it once a second from their hits (the
 * datapath's housekeeping), as OVS's xlate cache does on a statistics push.
 */
public final class MacLearning
{
    public static final int DEFAULT_MAX_ENTRIES = 2048;
    public static final int DEFAULT_AGING_SECONDS = 300;

    private static final class Entry
    {
        int port;
        long usedNanos;
    }

    private final Map<Long, Entry> entries = new HashMap<>();
    private final int maxEntries;
    private final long agingNanos;
    private volatile long version;

    public MacLearning()
    {
        this(DEFAULT_MAX_ENTRIES, DEFAULT_AGING_SECONDS);
    }

    public MacLearning(final int maxEntries, final int agingSeconds)
    {
        if (maxEntries < 1 || agingSeconds < 1)
        {
            throw new IllegalArgumentException("MAC table size and aging time must be >= 1");
        }
        this.maxEntries = maxEntries;
        this.agingNanos = agingSeconds * 1_000_000_000L;
    }

    private static long key(final int vlan, final long mac)
    {
        return (long)(vlan & 0xfff) << 48 | (mac & 0xffff_ffff_ffffL);
    }

    public static boolean isMulticast(final long mac)
    {
        return (mac & 0x0100_0000_0000L) != 0;
    }

    /** OVS's eth_addr_is_reserved: link-local control protocols NORMAL never forwards. */
    public static boolean isReserved(final long mac)
    {
        return (mac & ~0xfL) == 0x0180_c200_0000L || mac == 0x00e0_2b00_0000L || mac == 0x00e0_2b00_0004L
            || mac == 0x00e0_2b00_0006L || mac == 0x0100_0c00_0000L || mac == 0x0100_0ccc_ccccL
            || mac == 0x0100_0ccc_cccdL || mac == 0x0100_0ccd_cdcdL || (mac & ~0x7L) == 0x0100_0ccc_ccc0L;
    }

    /** Learns that {@code mac} on {@code vlan} is behind {@code port}; multicast sources are not learned. */
    public synchronized void learn(final int vlan, final long mac, final int port, final long nowNanos)
    {
        if (isMulticast(mac))
        {
            return;
        }
        final Long k = key(vlan, mac);
        Entry e = entries.get(k);
        if (e == null)
        {
            if (entries.size() >= maxEntries)
            {
                evictLeastRecentlyUsed();
            }
            e = new Entry();
            e.port = port;
            entries.put(k, e);
            version++;
        }
        else if (e.port != port)
        {
            e.port = port;
            version++;
        }
        e.usedNanos = nowNanos;
    }

    /** The port {@code mac} was learned on, or -1. */
    public synchronized int lookup(final int vlan, final long mac)
    {
        final Entry e = entries.get(key(vlan, mac));
        return e == null ? -1 : e.port;
    }

    /** Removes entries not seen for the aging time; returns how many. */
    public synchronized int expire(final long nowNanos)
    {
        int n = 0;
        for (final Iterator<Entry> it = entries.values().iterator(); it.hasNext();)
        {
            if (nowNanos - it.next().usedNanos >= agingNanos)
            {
                it.remove();
                n++;
            }
        }
        if (n > 0)
        {
            version++;
        }
        return n;
    }

    private void evictLeastRecentlyUsed()
    {
        Long oldest = null;
        long when = Long.MAX_VALUE;
        for (final Map.Entry<Long, Entry> e : entries.entrySet())
        {
            if (e.getValue().usedNanos < when)
            {
                when = e.getValue().usedNanos;
                oldest = e.getKey();
            }
        }
        entries.remove(oldest);
    }

    /** Changes with every learn, move, eviction or expiry: megaflows translated before may be stale. */
    public long version()
    {
        return version;
    }

    public synchronized int size()
    {
        return entries.size();
    }
}
