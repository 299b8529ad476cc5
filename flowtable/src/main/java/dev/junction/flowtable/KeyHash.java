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

    private static final long L2 = bit(FlowKey.W_IN_PORT) | bit(FlowKey.W_DL_DST_TYPE) | bit(FlowKey.W_DL_SRC)
        | bit(FlowKey.W_VLAN);
    private static final long IPV4 = L2 | bit(FlowKey.W_NW_ADDR) | bit(FlowKey.W_NW) | bit(FlowKey.W_TP);
    private static final long ARP = L2 | bit(FlowKey.W_NW_ADDR) | bit(FlowKey.W_NW) | bit(FlowKey.W_ARP_SHA)
        | bit(FlowKey.W_ARP_THA);
    private static final long IPV6 = L2 | 0xfL << FlowKey.W_IPV6_SRC | bit(FlowKey.W_NW) | bit(FlowKey.W_TP)
        | 0xfL << FlowKey.W_ARP_SHA;

    private static long bit(final int word)
    {
        return 1L << word;
    }

    /**
     * The words of a datapath key that can be non-zero, as a bitmap (bit n: word n), OVS's
     * miniflow map: what the exact-match cache hashes, stores and compares, so an IPv4 packet
     * costs 7 words instead of 50.
     *
     * <p>The parser writes only the words its Ethertype gives (a header too short for its
     * checks leaves some of them zero, which is still a value: both keys hold the same zero).
     * The recirculation and tunnel words are listed only where non-zero; two keys with the same
     * map and the same listed words are therefore the same key, which is all the cache needs.
     */
    public static long shape(final long[] key)
    {
        final long base;
        switch ((int)key[FlowKey.W_DL_DST_TYPE] & 0xffff)
        {
            case 0x0800: base = IPV4; break;
            // nd_reserved shares the ct tuple's word: a neighbour advertisement's flags live there.
            case 0x86dd: base = IPV6 | nonZero(key, FlowKey.W_CT_TP, FlowKey.W_CT_TP + 1); break;
            case 0x0806:
            case 0x8035: base = ARP; break;
            default: base = L2; break;
        }
        long shape = base;
        if ((int)key[FlowKey.W_IN_PORT] != 0)
        {
            // Recirculated: xregs and metadata (zero in practice), conntrack, dp_hash, the ct tuple.
            shape |= nonZero(key, FlowKey.W_XREG0, FlowKey.W_TUN_ID) | nonZero(key, FlowKey.W_CT_NW, FlowKey.W_CT_NW + 1)
                | nonZero(key, FlowKey.W_CT_IPV6_SRC, FlowKey.W_CT_IPV6_DST + 2)
                | nonZero(key, FlowKey.W_CT_TP, FlowKey.W_CT_TP + 1);
        }
        if (FlowKey.hasTunnel(key))
        {
            shape |= nonZero(key, FlowKey.W_TUN_ID, FlowKey.W_DL_DST_TYPE);
        }
        return shape;
    }

    /** Bitmap of the non-zero words in {@code [from, to)}: a counted loop without branches. */
    private static long nonZero(final long[] key, final int from, final int to)
    {
        long found = 0;
        for (int w = from; w < to; w++)
        {
            found |= (key[w] != 0 ? 1L : 0L) << w;
        }
        return found;
    }

    /**
     * Gathers the words {@code shape} lists, in word order, into {@code mini} after the shape
     * itself ({@code mini[0]}), OVS's miniflow, and hashes them on the way: the shape comes
     * first, so a word's position stands for the word, and the multiply-adds are independent.
     * {@code mini} must hold {@code 1 + bitCount(shape)}; the length is {@code 1 + bitCount(shape)}.
     */
    public static long gatherAndHash(final long[] key, final long shape, final long[] mini)
    {
        mini[0] = shape;
        long h = shape * K[0];
        int n = 1;
        for (long bits = shape; bits != 0; bits &= bits - 1)
        {
            final long v = key[Long.numberOfTrailingZeros(bits)];
            mini[n] = v;
            h += v * K[n];
            n++;
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
