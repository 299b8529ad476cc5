package dev.junction.datapath.cache;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.cls.MaskKey;
import dev.junction.flowtable.ofp.FlowRule;
import dev.junction.flowtable.xlate.MegaflowMask;
import dev.junction.flowtable.xlate.OdpActions;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The megaflow cache of one worker: tuple-space search over one {@link MegaflowSubtable} per
 * distinct mask, as dpif-netdev's dpcls. A packet takes the first subtable that matches; the
 * subtables are re-ranked by hits periodically so the busiest are tried first. Bounded: beyond
 * {@code limit} megaflows an install is refused and counted (the packet is still forwarded).
 *
 * <p>Single-threaded: owned by its worker, like the caches of an OVS PMD thread.
 */
public final class MegaflowCache
{
    public static final int DEFAULT_LIMIT = 200_000;
    /** Most keys one {@link #lookupBatch} takes: a worker's batch (dpif-netdev's NETDEV_MAX_BURST). */
    public static final int MAX_BATCH = 32;

    private final int limit;
    private final List<MegaflowSubtable> subtables = new ArrayList<>();
    private final Map<MaskKey, MegaflowSubtable> byMask = new HashMap<>();
    private MegaflowSubtable[] order = new MegaflowSubtable[0];
    private final List<Megaflow> all = new ArrayList<>();
    private int count;
    private long refused;

    public MegaflowCache(final int limit)
    {
        if (limit < 0)
        {
            throw new IllegalArgumentException("megaflow limit must be >= 0: " + limit);
        }
        this.limit = limit;
    }

    public Megaflow lookup(final long[] key)
    {
        for (final MegaflowSubtable st : order)
        {
            final Megaflow mf = st.lookup(key);
            if (mf != null)
            {
                st.hits++;
                return mf;
            }
        }
        return null;
    }

    /**
     * Looks up {@code n} keys (at most {@link #MAX_BATCH}) at once, subtable by subtable as dpcls
     * does, so the cache misses of different packets overlap; {@code results[i]} is the megaflow
     * of {@code keys[i]} or null. Returns how many were found. The same answers as {@link #lookup}
     * one key at a time (subtables are tried in the same order and the first match wins).
     */
    public int lookupBatch(final long[][] keys, final int n, final Megaflow[] results)
    {
        if (n > MAX_BATCH)
        {
            throw new IllegalArgumentException("batch of " + n + " keys, at most " + MAX_BATCH);
        }
        for (int i = 0; i < n; i++)
        {
            results[i] = null;
        }
        int found = 0;
        for (final MegaflowSubtable st : order)
        {
            final int hits = st.lookupBatch(keys, n, results);
            st.hits += hits;
            found += hits;
            if (found == n)
            {
                break;
            }
        }
        return found;
    }

    /**
     * Installs a megaflow for the packet key {@code packetKey} under {@code mask}; returns null
     * (and counts a refusal) when the cache is full.
     */
    public Megaflow install(final FlowKey packetKey, final long[] mask, final OdpActions actions,
        final boolean slow, final FlowRule[] rules, final long nowNanos)
    {
        if (count >= limit)
        {
            refused++;
            return null;
        }
        final MaskKey mk = new MaskKey(mask);
        MegaflowSubtable st = byMask.get(mk);
        if (st == null)
        {
            st = new MegaflowSubtable(mask);
            // Keyed by the subtable's own copy: the caller's mask array is scratch it will reuse.
            byMask.put(new MaskKey(st.mask), st);
            subtables.add(st);
            order = subtables.toArray(new MegaflowSubtable[0]);
        }
        final long[] key = new long[FlowKey.WORDS];
        MegaflowMask.apply(packetKey.words, st.mask, key);
        final OdpActions copy = new OdpActions();
        copy.copyFrom(actions);
        final FlowKey upcall = new FlowKey();
        upcall.copyFrom(packetKey);
        final Megaflow mf = new Megaflow(key, st.mask, st.hash(key), upcall, copy, slow, rules, nowNanos);
        st.insert(mf);
        all.add(mf);
        count++;
        return mf;
    }

    public void remove(final Megaflow mf)
    {
        if (mf.dead)
        {
            return;
        }
        final MegaflowSubtable st = byMask.get(new MaskKey(mf.mask));
        if (st != null && st.remove(mf))
        {
            mf.dead = true;
            count--;
            if (st.size == 0)
            {
                byMask.remove(new MaskKey(st.mask));
                subtables.remove(st);
                order = subtables.toArray(new MegaflowSubtable[0]);
            }
        }
    }

    /** Re-ranks subtables by hits since the last ranking (stable for ties), as dpcls does each second. */
    public void rank()
    {
        subtables.sort((a, b) -> Long.compare(b.hits, a.hits));
        for (final MegaflowSubtable st : subtables)
        {
            st.hits = 0;
        }
        order = subtables.toArray(new MegaflowSubtable[0]);
    }

    /** Visits live megaflows in installation order (and forgets removed ones). */
    public void forEach(final Consumer<Megaflow> visitor)
    {
        all.removeIf(m -> m.dead);
        for (int i = 0, n = all.size(); i < n; i++)
        {
            visitor.accept(all.get(i));
        }
    }

    public List<Megaflow> snapshot()
    {
        all.removeIf(m -> m.dead);
        return new ArrayList<>(all);
    }

    public int size()
    {
        return count;
    }

    public int subtableCount()
    {
        return subtables.size();
    }

    public int limit()
    {
        return limit;
    }

    public long refused()
    {
        return refused;
    }
}
