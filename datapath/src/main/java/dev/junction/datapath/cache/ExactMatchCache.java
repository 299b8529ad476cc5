package dev.junction.datapath.cache;

import dev.junction.flowtable.KeyHash;

import java.util.Arrays;

/**
 * The exact-match cache in front of the megaflows, as OVS's EMC: a two-way set-associative
 * table from the full flow key to its megaflow. A key is stored
 * as the words its shape says it can have non-zero (OVS's miniflow), not as all 50. Entries are inserted with probability
 * 1/{@code insertInvProb} (OVS default 1/100) so that a flood of one-packet flows does not
 * thrash it. Keys are stored inline in one long array: lookups allocate nothing.
 */
public final class ExactMatchCache
{
    public static final int DEFAULT_ENTRIES = 8192;
    public static final int DEFAULT_INSERT_INV_PROB = 100;
    /**
     * Words per entry: the key's shape (see {@link KeyHash#shape}) and up to 23 of its words.
     * Also the length of the scratch a caller gathers a key into. An
     * IPv4 key takes 8, one cache line; keys wider than an entry (an IPv6 key recirculated with
     * conntrack state after a decapsulation, say) are not cached here and go to the megaflows.
     */
    public static final int STRIDE = 24;

    private final int mask;
    private final long[] keys;
    private final long[] hashes;
    private final Megaflow[] flows;
    private final int insertInvProb;
    private long random = 0x853c49e6748fea9bL;
    private long tooWide;
    private int gathered;

    /**
     * @param entries       a power of two, or 0 to disable the cache
     * @param insertInvProb 0 never inserts, 1 always, N one time in N
     */
    public ExactMatchCache(final int entries, final int insertInvProb)
    {
        if (entries < 0 || (entries & (entries - 1)) != 0)
        {
            throw new IllegalArgumentException("EMC entries must be 0 or a power of two: " + entries);
        }
        if (insertInvProb < 0)
        {
            throw new IllegalArgumentException("EMC insertion probability must be >= 0: " + insertInvProb);
        }
        this.mask = Math.max(entries - 1, 0);
        this.keys = new long[entries * STRIDE];
        this.hashes = new long[entries];
        this.flows = new Megaflow[entries];
        this.insertInvProb = entries == 0 ? 0 : insertInvProb;
    }

    /**
     * Gathers the key into {@code mini} (at least {@link #STRIDE} longs) as the cache stores it
     * and returns its hash; {@link #gathered} is then its length, or 0 when it is too wide to
     * cache (counted), in which case lookups miss and inserts do nothing.
     */
    public long gather(final long[] key, final long[] mini)
    {
        final long shape = KeyHash.shape(key);
        final int n = 1 + Long.bitCount(shape);
        if (n > STRIDE)
        {
            tooWide++;
            gathered = 0;
            return 0;
        }
        gathered = n;
        return KeyHash.gatherAndHash(key, shape, mini);
    }

    /** The length of the key the last {@link #gather} gathered (0: not cacheable). */
    public int gathered()
    {
        return gathered;
    }

    public Megaflow lookup(final long[] mini, final int n, final long hash)
    {
        if (flows.length == 0 || n == 0)
        {
            return null;
        }
        Megaflow mf = probe((int)hash & mask, mini, n, hash);
        if (mf == null)
        {
            mf = probe((int)(hash >>> 32) & mask, mini, n, hash);
        }
        return mf;
    }

    private Megaflow probe(final int slot, final long[] mini, final int n, final long hash)
    {
        if (!holds(slot, mini, n, hash))
        {
            return null;
        }
        final Megaflow mf = flows[slot];
        return mf == null || mf.dead ? null : mf;
    }

    /** Same hash, then the stored longs from the shape on: the shape fixes the length. */
    private boolean holds(final int slot, final long[] mini, final int n, final long hash)
    {
        if (hashes[slot] != hash)
        {
            return false;
        }
        final int base = slot * STRIDE;
        return Arrays.equals(keys, base, base + n, mini, 0, n);
    }

    /** Inserts with the configured probability. */
    public void maybeInsert(final long[] mini, final int n, final long hash, final Megaflow mf)
    {
        if (insertInvProb == 0 || n == 0)
        {
            return;
        }
        if (insertInvProb > 1)
        {
            // xorshift64: deterministic for a given packet sequence, no allocation.
            long x = random;
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            random = x;
            if (Long.remainderUnsigned(x, insertInvProb) != 0)
            {
                return;
            }
        }
        final int a = (int)hash & mask;
        final int b = (int)(hash >>> 32) & mask;
        // The way already holding this key (its megaflow died), else an empty or dead way, else the first.
        final int slot = holds(a, mini, n, hash) ? a : holds(b, mini, n, hash) ? b
            : flows[a] == null || flows[a].dead ? a : flows[b] == null || flows[b].dead ? b : a;
        System.arraycopy(mini, 0, keys, slot * STRIDE, n);
        hashes[slot] = hash;
        flows[slot] = mf;
    }

    /** Keys not cached because they have more words than an entry holds. */
    public long tooWide()
    {
        return tooWide;
    }
}
