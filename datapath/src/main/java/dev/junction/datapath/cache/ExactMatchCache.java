package dev.junction.datapath.cache;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.KeyHash;

/**
 * The exact-match cache in front of the megaflows, as OVS's EMC: a two-way set-associative
 * table from the full flow key to its megaflow. Entries are inserted with probability
 * 1/{@code insertInvProb} (OVS default 1/100) so that a flood of one-packet flows does not
 * thrash it. Keys are stored inline in one long array: lookups allocate nothing.
 */
public final class ExactMatchCache
{
    public static final int DEFAULT_ENTRIES = 8192;
    public static final int DEFAULT_INSERT_INV_PROB = 100;

    private final int mask;
    private final long[] keys;
    private final long[] hashes;
    private final Megaflow[] flows;
    private final int insertInvProb;
    private long random = 0x853c49e6748fea9bL;

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
        this.keys = new long[entries * FlowKey.WORDS];
        this.hashes = new long[entries];
        this.flows = new Megaflow[entries];
        this.insertInvProb = entries == 0 ? 0 : insertInvProb;
    }

    public static long hash(final long[] key)
    {
        return KeyHash.hashPacket(key);
    }

    public Megaflow lookup(final long[] key, final long hash)
    {
        if (flows.length == 0)
        {
            return null;
        }
        final int a = (int)hash & mask;
        Megaflow mf = probe(a, key, hash);
        if (mf == null)
        {
            mf = probe((int)(hash >>> 32) & mask, key, hash);
        }
        return mf;
    }

    private Megaflow probe(final int slot, final long[] key, final long hash)
    {
        final Megaflow mf = flows[slot];
        if (mf == null || hashes[slot] != hash || mf.dead)
        {
            return null;
        }
        // Datapath keys never carry registers or metadata (words 1-9), and the conntrack words
        // (state, dp_hash) only after a recirculation, which recirc_id in word 0 tells:
        // equal word 0 and equal remaining words are an equal key.
        final int base = slot * FlowKey.WORDS;
        final long w0 = key[FlowKey.W_IN_PORT];
        if (keys[base] != w0)
        {
            return null;
        }
        if ((int)w0 != 0)
        {
            for (int w = FlowKey.W_CT; w < FlowKey.W_TUN_ID; w++)
            {
                if (keys[base + w] != key[w])
                {
                    return null;
                }
            }
        }
        // Tunnel words likewise: zero unless the packet was decapsulated, and a tunnel port's
        // packets (same in_port, word 0) always carry them, so word 20 decides for both keys.
        if (FlowKey.hasTunnel(key) || keys[base + FlowKey.W_TUN_HDR] != 0)
        {
            for (int w = FlowKey.W_TUN_ID; w < FlowKey.W_DL_DST_TYPE; w++)
            {
                if (keys[base + w] != key[w])
                {
                    return null;
                }
            }
        }
        for (int w = FlowKey.W_DL_DST_TYPE; w < FlowKey.WORDS; w++)
        {
            if (keys[base + w] != key[w])
            {
                return null;
            }
        }
        return mf;
    }

    /** Inserts with the configured probability. */
    public void maybeInsert(final long[] key, final long hash, final Megaflow mf)
    {
        if (insertInvProb == 0)
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
        // Prefer an empty or dead way, else replace the first.
        final int slot = flows[a] == null || flows[a].dead ? a : flows[b] == null || flows[b].dead ? b : a;
        System.arraycopy(key, 0, keys, slot * FlowKey.WORDS, FlowKey.WORDS);
        hashes[slot] = hash;
        flows[slot] = mf;
    }
}
