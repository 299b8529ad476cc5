package dev.junction.datapath.cache;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.KeyHash;

import java.util.Arrays;

/**
 * All megaflows sharing one mask, as one subtable of dpif-netdev's dpcls. Only the mask's
 * non-zero words are hashed and compared.
 *
 * <p>Laid out for the common case of tuple-space search, a miss: most subtables a packet probes
 * do not hold it. Slots are open-addressed (linear probing) in a {@code short[]} of 16-bit hash
 * fingerprints, 32 to a cache line, so a miss usually reads one line and nothing else.
 * Only on a fingerprint match are the entry's masked words compared, from an arena where each
 * entry's words sit together, and only then is the {@link Megaflow} object touched. Like
 * Agrona's maps it allocates nothing per lookup; deletion shifts the probe chain back instead of
 * leaving tombstones, so lookups never slow down with churn.
 */
final class MegaflowSubtable
{
    private static final short EMPTY = 0;
    private static final int MIN_CAPACITY = 16;

    final long[] mask;
    /** The words of the mask that are not zero: what is hashed and compared. */
    private final int[] words;
    /**
     * Slot fingerprints: 16 bits of the hash, never {@link #EMPTY} when used. Two bytes a slot
     * keep ten subtables of 10,000 megaflows within a core's L2 (320 KB at the highest load,
     * 5/8); a false match (1 in 65,535) costs only a compare. Beside them, the entry each slot
     * refers to, read only on a fingerprint match.
     */
    private short[] fingerprints;
    private int[] slotEntries;
    private int slotMask;
    /** Entries: masked words ({@code words.length} each), full hash, megaflow; free ones chained. */
    private long[] arena;
    private long[] entryHashes;
    private Megaflow[] flows;
    private int[] freeEntries;
    private int freeCount;
    private int entryCount;
    int size;
    long hits;

    MegaflowSubtable(final long[] mask)
    {
        this.mask = mask.clone();
        int n = 0;
        for (final long m : mask)
        {
            n += m != 0 ? 1 : 0;
        }
        words = new int[n];
        for (int w = 0, i = 0; w < FlowKey.WORDS; w++)
        {
            if (mask[w] != 0)
            {
                words[i++] = w;
            }
        }
        allocateSlots(MIN_CAPACITY);
        arena = new long[MIN_CAPACITY * Math.max(words.length, 1)];
        entryHashes = new long[MIN_CAPACITY];
        flows = new Megaflow[MIN_CAPACITY];
        freeEntries = new int[MIN_CAPACITY];
    }

    long hash(final long[] key)
    {
        return KeyHash.hashMasked(key, mask, words);
    }

    private static short fingerprint(final long hash)
    {
        final short f = (short)(hash >>> 48);
        return f == EMPTY ? 1 : f;
    }

    Megaflow lookup(final long[] key)
    {
        return probe(key, hash(key));
    }

    /** Walks the probe chain of {@code hash} from its home slot; the megaflow of {@code key} or null. */
    private Megaflow probe(final long[] key, final long hash)
    {
        final short f = fingerprint(hash);
        final short[] fps = fingerprints;
        final int m = slotMask;
        int slot = (int)hash & m;
        short seen;
        while ((seen = fps[slot]) != EMPTY)
        {
            if (seen == f)
            {
                final int e = slotEntries[slot];
                if (matches(e, key))
                {
                    return flows[e];
                }
            }
            slot = (slot + 1) & m;
        }
        return null;
    }

    /** Scratch of a batched lookup: each pending key's hash and first slot's fingerprint. */
    private final long[] batchHashes = new long[MegaflowCache.MAX_BATCH];
    private final short[] batchFirst = new short[MegaflowCache.MAX_BATCH];

    /**
     * Looks up every key of the batch that has no result yet; returns how many it found. In two
     * passes, as dpcls does a batch per subtable: the first hashes each key and reads its home
     * slot, loads that do not depend on each other, so the CPU has the cache misses of the whole
     * batch in flight at once; the second finishes each probe from what the first loaded.
     */
    int lookupBatch(final long[][] keys, final int n, final Megaflow[] results)
    {
        final short[] fps = fingerprints;
        final int m = slotMask;
        for (int i = 0; i < n; i++)
        {
            if (results[i] == null)
            {
                final long h = hash(keys[i]);
                batchHashes[i] = h;
                batchFirst[i] = fps[(int)h & m];
            }
        }
        int found = 0;
        for (int i = 0; i < n; i++)
        {
            if (results[i] != null || batchFirst[i] == EMPTY)
            {
                continue;
            }
            final Megaflow mf = probe(keys[i], batchHashes[i]);
            if (mf != null)
            {
                results[i] = mf;
                found++;
            }
        }
        return found;
    }

    private boolean matches(final int entry, final long[] key)
    {
        final long[] m = mask;
        final long[] a = arena;
        final int[] ws = words;
        final int base = entry * ws.length;
        for (int i = 0; i < ws.length; i++)
        {
            final int w = ws[i];
            if ((key[w] & m[w]) != a[base + i])
            {
                return false;
            }
        }
        return true;
    }

    /** Adds a megaflow whose {@code key} is already masked and whose {@code hash} is {@link #hash} of it. */
    void insert(final Megaflow mf)
    {
        if ((size + 1) * 8 > fingerprints.length * 5)
        {
            resize(fingerprints.length * 2);
        }
        final int e = newEntry();
        final int n = words.length;
        for (int i = 0; i < n; i++)
        {
            arena[e * n + i] = mf.key[words[i]];
        }
        entryHashes[e] = mf.hash;
        flows[e] = mf;
        mf.entry = e;
        place(mf.hash, e);
        size++;
    }

    private void place(final long hash, final int entry)
    {
        int slot = (int)hash & slotMask;
        while (fingerprints[slot] != EMPTY)
        {
            slot = (slot + 1) & slotMask;
        }
        fingerprints[slot] = fingerprint(hash);
        slotEntries[slot] = entry;
    }

    private int newEntry()
    {
        if (freeCount > 0)
        {
            return freeEntries[--freeCount];
        }
        if (entryCount == flows.length)
        {
            final int capacity = flows.length * 2;
            arena = Arrays.copyOf(arena, capacity * Math.max(words.length, 1));
            entryHashes = Arrays.copyOf(entryHashes, capacity);
            flows = Arrays.copyOf(flows, capacity);
            freeEntries = Arrays.copyOf(freeEntries, capacity);
        }
        return entryCount++;
    }

    boolean remove(final Megaflow mf)
    {
        final int e = mf.entry;
        if (e < 0 || e >= entryCount || flows[e] != mf)
        {
            return false;
        }
        int slot = (int)mf.hash & slotMask;
        while (slotEntries[slot] != e || fingerprints[slot] == EMPTY)
        {
            slot = (slot + 1) & slotMask;
        }
        deleteSlot(slot);
        flows[e] = null;
        mf.entry = -1;
        freeEntries[freeCount++] = e;
        size--;
        return true;
    }

    /**
     * Empties a slot and shifts later members of its probe chain back into the hole, as
     * Agrona's maps compact a chain, so every remaining entry stays reachable from its home slot.
     */
    private void deleteSlot(final int deleted)
    {
        int hole = deleted;
        int slot = (hole + 1) & slotMask;
        while (fingerprints[slot] != EMPTY)
        {
            final int home = (int)entryHashes[slotEntries[slot]] & slotMask;
            // Move it back if its home is not cyclically within (hole, slot].
            if ((slot - home & slotMask) >= (slot - hole & slotMask))
            {
                fingerprints[hole] = fingerprints[slot];
                slotEntries[hole] = slotEntries[slot];
                hole = slot;
            }
            slot = (slot + 1) & slotMask;
        }
        fingerprints[hole] = EMPTY;
    }

    private void allocateSlots(final int capacity)
    {
        fingerprints = new short[capacity];
        slotEntries = new int[capacity];
        slotMask = capacity - 1;
    }

    private void resize(final int capacity)
    {
        allocateSlots(capacity);
        for (int e = 0; e < entryCount; e++)
        {
            if (flows[e] != null)
            {
                place(entryHashes[e], e);
            }
        }
    }
}
