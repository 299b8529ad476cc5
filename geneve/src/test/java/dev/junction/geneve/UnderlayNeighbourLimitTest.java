package dev.junction.geneve;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tunnel packets from ever new outer sources must not grow the neighbour table without bound:
 * snooping stops at the limit (counted), known neighbours still move, configured ones go in.
 */
class UnderlayNeighbourLimitTest
{
    private static byte[] ip(final int n)
    {
        return new byte[] {10, (byte)(n >>> 16), (byte)(n >>> 8), (byte)n};
    }

    @Test
    void snoopingStopsAtTheLimitAndCountsRefusals()
    {
        final Underlay u = new Underlay(9, 0xaa55_aa55_0001L).neighbourLimit(1_000);
        for (int i = 0; i < 5_000; i++)
        {
            u.snoop(ip(i), 0x0200_0000_0000L | i);
        }
        assertEquals(1_000, u.neighbourLines().size());
        assertEquals(4_000, u.snoopsRefused());
        // A known neighbour that moved is still learned; a configured entry still goes in.
        assertTrue(u.snoop(ip(7), 0x0200_0000_ffffL));
        assertEquals(0x0200_0000_ffffL, u.neighbour(ip(7)));
        assertFalse(u.snoop(ip(4_999), 1));
        u.neighbour(ip(90_000), 0x0200_0001_0000L);
        assertEquals(1_001, u.neighbourLines().size());
        assertThrows(IllegalArgumentException.class, () -> u.neighbourLimit(0));
    }
}
