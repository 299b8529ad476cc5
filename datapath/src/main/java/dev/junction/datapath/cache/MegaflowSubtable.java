package dev.junction.datapath.cache;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.KeyHash;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * All megaflows sharing one mask: a hash map from the masked key to the megaflow, as one
 * subtable of dpif-netdev's dpcls. Only the mask's non-zero words are hashed and compared.
 */
final class MegaflowSubtable
{
    final long[] mask;
    final int[] words;
    final Long2ObjectHashMap<Megaflow> buckets = new Long2ObjectHashMap<>();
    int size;
    long hits;

    MegaflowSubtable(final long[] mask)
    {
        this.mask = mask.clone();
        int n = 0;
        for (final long m : mask)
        {
            n += m != 0 ? 1 : 0;
        }
        words = new int[n];
        for (int w = 0, i = 0; w < FlowKey.WORDS; w++)
        {
            if (mask[w] != 0)
            {
                words[i++] = w;
            }
        }
    }

    long hash(final long[] key)
    {
        return KeyHash.hashMasked(key, mask, words);
    }

    Megaflow lookup(final long[] key)
    {
        final long h = hash(key);
        Megaflow mf = buckets.get(h);
        while (mf != null)
        {
            if (matches(mf, key))
            {
                return mf;
            }
            mf = mf.next;
        }
        return null;
    }

    /**
     * Compares against the megaflow's packed masked words (only this mask's words, contiguous):
     * one or two cache lines per candidate instead of a whole key spread over several.
     */
    private boolean matches(final Megaflow mf, final long[] key)
    {
        final long[] m = mask;
        final long[] packed = mf.packed;
        final int[] ws = words;
        for (int i = 0; i < ws.length; i++)
        {
            final int w = ws[i];
            if ((key[w] & m[w]) != packed[i])
            {
                return false;
            }
        }
        return true;
    }

    void insert(final Megaflow mf)
    {
        final long[] packed = new long[words.length];
        for (int i = 0; i < words.length; i++)
        {
            packed[i] = mf.key[words[i]];
        }
        mf.packed = packed;
        mf.next = buckets.get(mf.hash);
        buckets.put(mf.hash, mf);
        size++;
    }

    boolean remove(final Megaflow mf)
    {
        Megaflow head = buckets.get(mf.hash);
        Megaflow prev = null;
        for (Megaflow cur = head; cur != null; prev = cur, cur = cur.next)
        {
            if (cur == mf)
            {
                if (prev == null)
                {
                    if (cur.next == null)
                    {
                        buckets.remove(mf.hash);
                    }
                    else
                    {
                        buckets.put(mf.hash, cur.next);
                    }
                }
                else
                {
                    prev.next = cur.next;
                }
                size--;
                return true;
            }
        }
        return false;
    }
}
