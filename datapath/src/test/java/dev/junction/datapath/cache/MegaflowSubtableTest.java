package dev.junction.datapath.cache;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.ofp.FlowRule;
import dev.junction.flowtable.xlate.MegaflowMask;
import dev.junction.flowtable.xlate.OdpActions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The open-addressed subtable under churn, against a plain map as the model: after any mix of
 * inserts and removals (with growth and back-shifted probe chains), every live megaflow is found
 * by any key it covers, and no removed one is.
 */
class MegaflowSubtableTest
{
    @ParameterizedTest
    @ValueSource(longs = {1L, 5L, 77L, 31337L})
    void lookupsAgreeWithAModelUnderChurn(final long seed)
    {
        final SplittableRandom rnd = new SplittableRandom(seed);
        final long[] mask = new long[FlowKey.WORDS];
        mask[FlowKey.W_IN_PORT] = 0xffff_ffffL << 32;
        mask[FlowKey.W_NW_ADDR] = 0xffffL; // 16 bits of nw_dst: keys differ only there
        mask[FlowKey.W_TP] = 0xffL << 32; // and in the low byte of tp_dst
        final MegaflowSubtable st = new MegaflowSubtable(mask);
        final Map<Long, Megaflow> model = new HashMap<>();
        final List<Megaflow> removed = new ArrayList<>();
        for (int i = 0; i < 40_000; i++)
        {
            // A small key space (2^12) so inserts, hits and removals of the same keys all happen.
            final long[] key = new long[FlowKey.WORDS];
            key[FlowKey.W_IN_PORT] = 1L << 32;
            key[FlowKey.W_NW_ADDR] = rnd.nextInt(1 << 8) | 0xabcd_0000L; // bits outside the mask vary too
            key[FlowKey.W_TP] = (long)rnd.nextInt(1 << 4) << 32 | (long)rnd.nextInt(1 << 16) << 48;
            final long id = (key[FlowKey.W_NW_ADDR] & 0xffff) << 8 | (key[FlowKey.W_TP] >>> 32 & 0xff);
            final Megaflow present = model.get(id);
            assertSame(present, st.lookup(key), "lookup " + i);
            if (present == null && rnd.nextInt(3) != 0)
            {
                final long[] masked = new long[FlowKey.WORDS];
                MegaflowMask.apply(key, st.mask, masked);
                final FlowKey k = new FlowKey();
                System.arraycopy(key, 0, k.words, 0, FlowKey.WORDS);
                final Megaflow mf = new Megaflow(masked, st.mask, st.hash(masked), k, new OdpActions(), false,
                    new FlowRule[0], 0);
                st.insert(mf);
                model.put(id, mf);
            }
            else if (present != null && rnd.nextInt(2) == 0)
            {
                assertTrue(st.remove(present));
                assertEquals(false, st.remove(present), "a second removal finds nothing");
                model.remove(id);
                removed.add(present);
            }
            assertEquals(model.size(), st.size);
        }
        assertTrue(removed.size() > 1_000, "churn too low: " + removed.size());
        for (final Megaflow mf : model.values())
        {
            assertSame(mf, st.lookup(mf.upcallKey().words));
        }
        for (final Megaflow mf : removed)
        {
            final Megaflow found = st.lookup(mf.upcallKey().words);
            assertTrue(found == null || model.containsValue(found), "a removed megaflow was found");
        }
        // A batch lookup gives what single lookups give, present and removed keys mixed.
        final List<Megaflow> all = new ArrayList<>(model.values());
        all.addAll(removed);
        final long[][] batch = new long[MegaflowCache.MAX_BATCH][];
        final Megaflow[] results = new Megaflow[MegaflowCache.MAX_BATCH];
        for (int from = 0; from + batch.length <= all.size(); from += batch.length)
        {
            for (int i = 0; i < batch.length; i++)
            {
                batch[i] = all.get(from + i).upcallKey().words;
            }
            int expected = 0;
            for (int i = 0; i < batch.length; i++)
            {
                results[i] = null;
            }
            final int found = st.lookupBatch(batch, batch.length, results);
            for (int i = 0; i < batch.length; i++)
            {
                final Megaflow single = st.lookup(batch[i]);
                assertSame(single, results[i], "batch and single lookups differ");
                expected += single == null ? 0 : 1;
            }
            assertEquals(expected, found);
        }
        final long[] absent = new long[FlowKey.WORDS];
        absent[FlowKey.W_IN_PORT] = 2L << 32;
        assertNull(st.lookup(absent));
    }
}
