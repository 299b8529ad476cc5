package dev.junction.datapath.cache;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.xlate.OdpActions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The EMC keeps a key as its shape's words only: a lookup must still find exactly the key that
 * was inserted, and miss when any word differs, in the header words as in the conntrack and
 * tunnel words of recirculated and decapsulated packets.
 */
class ExactMatchCacheTest
{
    private static final int[] HEADER_WORDS = {FlowKey.W_DL_DST_TYPE, FlowKey.W_DL_SRC, FlowKey.W_VLAN,
        FlowKey.W_NW_ADDR, FlowKey.W_NW, FlowKey.W_TP};

    private static long[] randomKey(final SplittableRandom rnd)
    {
        final long[] w = new long[FlowKey.WORDS];
        w[FlowKey.W_IN_PORT] = (long)(1 + rnd.nextInt(4)) << 32 | (rnd.nextBoolean() ? 0 : 1 + rnd.nextInt(3));
        for (final int word : HEADER_WORDS)
        {
            w[word] = rnd.nextInt(4);
        }
        w[FlowKey.W_DL_DST_TYPE] = (long)rnd.nextInt(4) << 16 | 0x0800;
        if ((int)w[FlowKey.W_IN_PORT] != 0)
        {
            w[FlowKey.W_CT] = rnd.nextInt(3);
            w[FlowKey.W_CT_NW] = rnd.nextInt(2);
        }
        if (rnd.nextBoolean())
        {
            w[FlowKey.W_TUN_HDR] = 6081;
            w[FlowKey.W_TUN_ID] = rnd.nextInt(3);
            w[FlowKey.W_TUN_METADATA + rnd.nextInt(8)] = 1 + rnd.nextInt(2);
        }
        return w;
    }

    private static Megaflow megaflow(final long[] key)
    {
        final FlowKey k = new FlowKey();
        System.arraycopy(key, 0, k.words, 0, FlowKey.WORDS);
        return new Megaflow(key.clone(), new long[FlowKey.WORDS], 0, k, new OdpActions(), false,
            new dev.junction.flowtable.ofp.FlowRule[0], 0);
    }

    /** Can a datapath key look like this: no non-zero word outside its shape? */
    private static boolean possible(final long[] key)
    {
        long nonZero = 0;
        for (int i = 0; i < FlowKey.WORDS; i++)
        {
            nonZero |= key[i] != 0 ? 1L << i : 0;
        }
        return (nonZero & ~dev.junction.flowtable.KeyHash.shape(key)) == 0;
    }

    private static Megaflow lookup(final ExactMatchCache emc, final long[] key)
    {
        final long[] mini = new long[ExactMatchCache.STRIDE];
        final long hash = emc.gather(key, mini);
        return emc.lookup(mini, emc.gathered(), hash);
    }

    private static void insert(final ExactMatchCache emc, final long[] key, final Megaflow mf)
    {
        final long[] mini = new long[ExactMatchCache.STRIDE];
        final long hash = emc.gather(key, mini);
        emc.maybeInsert(mini, emc.gathered(), hash, mf);
    }

    @ParameterizedTest
    @ValueSource(longs = {1L, 99L, 4242L})
    void findsExactlyTheInsertedKey(final long seed)
    {
        final SplittableRandom rnd = new SplittableRandom(seed);
        final ExactMatchCache emc = new ExactMatchCache(1 << 16, 1);
        final long[][] pool = new long[300][];
        for (int i = 0; i < pool.length; i++)
        {
            pool[i] = randomKey(rnd);
        }
        int hits = 0;
        int misses = 0;
        for (int i = 0; i < 2_000; i++)
        {
            final long[] key = pool[rnd.nextInt(pool.length)].clone();
            final Megaflow mf = megaflow(key);
            final Megaflow before = lookup(emc, key);
            insert(emc, key, mf);
            assertSame(mf, lookup(emc, key), "an inserted key is found");
            if (before != null)
            {
                // Same key seen before: the earlier entry held an equal key.
                assertEquals(java.util.Arrays.toString(before.upcallKey().words), java.util.Arrays.toString(key));
                hits++;
            }
            // Change one word, any of the 50: the lookup must not return this megaflow.
            final long[] other = key.clone();
            final int w = rnd.nextInt(FlowKey.WORDS);
            other[w] ^= 1L << rnd.nextInt(64);
            if (!possible(other))
            {
                continue; // no parse gives it (KeyShapeTest): e.g. an IPv6 address in an IPv4 key
            }
            assertNull(lookup(emc, other) == mf ? mf : null, () -> "a key differing in word " + w + " hit");
            misses++;
        }
        assertEquals(true, hits > 100, "random keys should repeat: " + hits);
        assertEquals(true, misses > 300, "changed keys must miss: " + misses);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void aKeyWiderThanAnEntryIsNotCachedButCounted(final int unused)
    {
        final ExactMatchCache emc = new ExactMatchCache(64, 1);
        final long[] key = new long[FlowKey.WORDS];
        key[FlowKey.W_IN_PORT] = 1L << 32 | 7;
        key[FlowKey.W_DL_DST_TYPE] = 0x86dd;
        for (int w = FlowKey.W_CT; w < FlowKey.W_DL_DST_TYPE; w++)
        {
            key[w] = w;
        }
        insert(emc, key, megaflow(key));
        assertNull(lookup(emc, key));
        assertEquals(2, emc.tooWide(), "counted at the insert's gather and the lookup's");
    }
}
