package dev.junction.datapath.cache;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.ofp.FlowRule;
import dev.junction.flowtable.xlate.OdpActions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link MegaflowCache#lookupBatch} against one-at-a-time {@link MegaflowCache#lookup} over
 * several masks, with keys that hit different subtables, several subtables, or none.
 */
class MegaflowCacheBatchTest
{
    @ParameterizedTest
    @ValueSource(longs = {2L, 13L, 808L})
    void aBatchFindsWhatSingleLookupsFind(final long seed)
    {
        final SplittableRandom rnd = new SplittableRandom(seed);
        final MegaflowCache cache = new MegaflowCache(MegaflowCache.DEFAULT_LIMIT);
        // nw_src/nw_dst bits of at least 16: random keys often miss, and some hit two masks.
        final long[] nw = {0xffffL, 0xffffL << 32, 0x00ff_0000_00ffL, 0xffff_0000_ffffL, 0xff00_0000_ff00L,
            0x0fff_0000_0fffL};
        final long[][] masks = new long[nw.length][];
        for (int j = 0; j < masks.length; j++)
        {
            masks[j] = new long[FlowKey.WORDS];
            masks[j][FlowKey.W_IN_PORT] = 0xffff_ffffL << 32;
            masks[j][FlowKey.W_NW_ADDR] = nw[j];
        }
        final OdpActions none = new OdpActions();
        final java.util.List<long[]> seen = new java.util.ArrayList<>();
        for (int i = 0; i < 3_000; i++)
        {
            final FlowKey k = new FlowKey();
            k.words[FlowKey.W_IN_PORT] = 1L << 32;
            k.words[FlowKey.W_NW_ADDR] = rnd.nextLong() & 0xffff_0000_ffffL;
            seen.add(k.words.clone());
            if (cache.lookup(k.words) == null)
            {
                cache.install(k, masks[rnd.nextInt(masks.length)], none, false, new FlowRule[0], 0);
            }
        }
        assertEquals(masks.length, cache.subtableCount());
        final long[][] batch = new long[MegaflowCache.MAX_BATCH][];
        final Megaflow[] results = new Megaflow[MegaflowCache.MAX_BATCH];
        int hits = 0;
        int misses = 0;
        for (int round = 0; round < 500; round++)
        {
            final int n = 1 + rnd.nextInt(MegaflowCache.MAX_BATCH);
            for (int i = 0; i < n; i++)
            {
                batch[i] = new long[FlowKey.WORDS];
                batch[i][FlowKey.W_IN_PORT] = 1L << 32;
                batch[i][FlowKey.W_NW_ADDR] = rnd.nextBoolean() ? seen.get(rnd.nextInt(seen.size()))[FlowKey.W_NW_ADDR]
                    : rnd.nextLong() & 0xffff_0000_ffffL;
            }
            final int found = cache.lookupBatch(batch, n, results);
            int expected = 0;
            for (int i = 0; i < n; i++)
            {
                final Megaflow single = cache.lookup(batch[i]);
                assertSame(single, results[i]);
                expected += single == null ? 0 : 1;
            }
            assertEquals(expected, found);
            hits += expected;
            misses += n - expected;
        }
        assertTrue(hits > 500 && misses > 500, "hits " + hits + ", misses " + misses);
        assertThrows(IllegalArgumentException.class,
            () -> cache.lookupBatch(new long[MegaflowCache.MAX_BATCH + 1][], MegaflowCache.MAX_BATCH + 1, results));
    }
}
