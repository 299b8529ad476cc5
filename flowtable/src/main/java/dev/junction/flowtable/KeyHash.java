package dev.junction.flowtable;

/**
 * Hashes of flow keys for the caches. Each word is multiplied by its own odd constant and the
 * products summed: the multiplies are independent of each other, so the CPU runs them in
 * parallel instead of as a chain of 24 dependent mix steps; one final avalanche spreads the bits.
 */
public final class KeyHash
{
    private static final long[] K = new long[FlowKey.WORDS];

    static
    {
        long x = 0x9E3779B97F4A7C15L;
        for (int i = 0; i < K.length; i++)
        {
            x += 0x9E3779B97F4A7C15L;
            long z = x;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            K[i] = (z ^ (z >>> 31)) | 1;
        }
    }

    private KeyHash()
    {
    }

    /**
     * Hash of a key as the datapath sees it, for the exact-match cache: registers and metadata
     * (words 1-9) are always zero there, and the conntrack words only carry something after a
     * recirculation and the tunnel words only after a decapsulation, so a packet fresh from a
     * plain port hashes in_port and its header words only.
     * Equality is still checked on every word; this only chooses the bucket.
     */
    public static long hashPacket(final long[] key)
    {
        long h = key[FlowKey.W_IN_PORT] * K[FlowKey.W_IN_PORT];
        if ((int)key[FlowKey.W_IN_PORT] != 0)
        {
            for (int w = FlowKey.W_CT; w < FlowKey.W_TUN_ID; w++)
            {
                h += key[w] * K[w];
            }
        }
        if (FlowKey.hasTunnel(key))
        {
            for (int w = FlowKey.W_TUN_ID; w < FlowKey.W_DL_DST_TYPE; w++)
            {
                h += key[w] * K[w];
            }
        }
        for (int w = FlowKey.W_DL_DST_TYPE; w < FlowKey.WORDS; w++)
        {
            h += key[w] * K[w];
        }
        return finish(h);
    }

    /** Hash of {@code key & mask} over the listed words (those where the mask is not zero). */
    public static long hashMasked(final long[] key, final long[] mask, final int[] words)
    {
        long h = 0;
        for (final int w : words)
        {
            h += (key[w] & mask[w]) * K[w];
        }
        return finish(h);
    }

    private static long finish(final long h)
    {
        long z = h ^ (h >>> 32);
        z *= 0xD6E8FEB86659FD93L;
        return z ^ (z >>> 32);
    }
}
