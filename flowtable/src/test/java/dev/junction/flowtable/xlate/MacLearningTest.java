package dev.junction.flowtable.xlate;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** NORMAL's MAC table: per-VLAN learning, moves, multicast sources ignored, LRU eviction, aging. */
class MacLearningTest
{
    private static final long S = 1_000_000_000L;
    private static final long A = 0x0200_0000_0001L;
    private static final long B = 0x0200_0000_0002L;
    private static final long C = 0x0200_0000_0003L;

    @Test
    void learnsPerVlanAndCountsChanges()
    {
        final MacLearning m = new MacLearning();
        final long v0 = m.version();
        m.learn(0, A, 1, 0);
        assertEquals(1, m.lookup(0, A));
        assertEquals(-1, m.lookup(10, A), "another VLAN knows nothing of A");
        final long v1 = m.version();
        assertNotEquals(v0, v1);
        m.learn(0, A, 1, S);
        assertEquals(v1, m.version(), "seeing A again on the same port changes nothing");
        m.learn(0, A, 3, 2 * S);
        assertEquals(3, m.lookup(0, A), "A moved");
        assertNotEquals(v1, m.version());
        m.learn(0, 0x0100_5e00_0001L, 2, 2 * S);
        assertEquals(-1, m.lookup(0, 0x0100_5e00_0001L), "a multicast source is never learned");
    }

    @Test
    void evictsTheLeastRecentlyUsedWhenFullAndAgesEntriesOut()
    {
        final MacLearning m = new MacLearning(2, 300);
        m.learn(0, A, 1, 0);
        m.learn(0, B, 2, S);
        m.learn(0, A, 1, 2 * S); // A refreshed: B is now the least recently used
        m.learn(0, C, 3, 3 * S);
        assertEquals(2, m.size());
        assertEquals(-1, m.lookup(0, B));
        assertEquals(1, m.lookup(0, A));
        assertEquals(0, m.expire(302 * S - 1), "A was seen at 2 s: still young at 301.99 s");
        assertEquals(1, m.expire(302 * S), "A ages out 300 s after it was last seen");
        assertEquals(1, m.expire(303 * S));
        assertEquals(0, m.size());
    }

    @Test
    void reservedAddressesAreTheLinkLocalControlOnes()
    {
        assertTrue(MacLearning.isReserved(0x0180_c200_0000L));
        assertTrue(MacLearning.isReserved(0x0180_c200_000fL));
        assertTrue(MacLearning.isReserved(0x0100_0ccc_ccccL));
        assertFalse(MacLearning.isReserved(0x0180_c200_0010L));
        assertFalse(MacLearning.isReserved(0xffff_ffff_ffffL));
    }
}
