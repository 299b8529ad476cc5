package dev.junction.conntrack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * The open-addressed index against a list of what should be live: random commits (some NATed,
 * two entries) and releases in a small table, so that clusters form, removals shift them back,
 * and both the record array and the index regrow.
 */
class ConnTableTest
{
    private static final long NOW = 1_000L;

    private static void key(final ConnKey k, final int i, final boolean rev)
    {
        k.clear();
        k.proto = 17;
        k.zone = i % 3;
        k.srcLo = 0x0a000000L + i;
        k.dstLo = 0x0a800000L + (i * 7919 & 0xffff);
        k.srcTp = (1024 + i % 5000) << 16;
        k.dstTp = 53 << 16;
        if (rev)
        {
            // A NATed reply: not the original reversed.
            k.reverse();
            k.dstLo = 0xc0a80000L + (i & 0xffff);
        }
    }

    private static int commit(final ConnTable t, final int i, final boolean natted)
    {
        final ConnKey fwd = new ConnKey();
        final ConnKey rev = new ConnKey();
        key(fwd, i, false);
        if (natted)
        {
            key(rev, i, true);
        }
        else
        {
            rev.copyFrom(fwd);
            rev.reverse();
        }
        final int s = t.acquire(Integer.MAX_VALUE);
        t.setMeta(s, ConnTable.M_USED | (natted ? ConnTable.M_REV : 0) | fwd.zone << 8 | fwd.proto);
        t.setKeys(s, fwd, rev);
        t.initExpires(s, NOW + 1_000);
        t.link(s);
        return s;
    }

    private static int find(final ConnTable t, final ConnKey k)
    {
        return t.lookup(k, k.hash(), NOW);
    }

    @Test
    void randomChurnMatchesTheLiveSet()
    {
        final ConnTable t = new ConnTable(16);
        final SplittableRandom rnd = new SplittableRandom(42);
        final List<int[]> live = new ArrayList<>(); // {id, slot, natted}
        final boolean[] dead = new boolean[200_000];
        final ConnKey k = new ConnKey();
        int nextId = 0;
        for (int op = 0; op < 60_000; op++)
        {
            final boolean grow = op < 30_000 ? rnd.nextInt(10) < 7 : rnd.nextInt(10) < 4;
            if (grow || live.isEmpty())
            {
                final int id = nextId++;
                final boolean natted = rnd.nextInt(4) == 0;
                live.add(new int[] { id, commit(t, id, natted), natted ? 1 : 0 });
            }
            else
            {
                final int[] c = live.remove(rnd.nextInt(live.size()));
                t.release(c[1]);
                dead[c[0]] = true;
            }
            if (op % 997 == 0)
            {
                for (final int[] c : live)
                {
                    key(k, c[0], false);
                    assertEquals(c[1] << 1, find(t, k), "original of " + c[0]);
                    if (c[2] == 1)
                    {
                        key(k, c[0], true);
                    }
                    else
                    {
                        key(k, c[0], false);
                        k.reverse();
                    }
                    assertEquals(c[1] << 1 | 1, find(t, k), "reply of " + c[0]);
                }
                for (int id = 0; id < nextId; id += 13)
                {
                    if (dead[id])
                    {
                        key(k, id, false);
                        assertEquals(-1, find(t, k), "released " + id);
                    }
                }
            }
        }
        assertEquals(live.size(), t.used);
        assertTrue(live.size() > 1000);
    }

    @Test
    void clearEmptiesTheIndex()
    {
        final ConnTable t = new ConnTable(16);
        for (int i = 0; i < 100; i++)
        {
            commit(t, i, (i & 1) == 0);
        }
        for (int s = 0; s < t.highWater(); s++)
        {
            t.setMeta(s, 0);
        }
        t.clear();
        final ConnKey k = new ConnKey();
        key(k, 5, false);
        assertEquals(-1, find(t, k));
        final int s = commit(t, 5, true);
        assertEquals(s << 1, find(t, k));
        key(k, 5, true);
        assertEquals(s << 1 | 1, find(t, k));
    }
}
