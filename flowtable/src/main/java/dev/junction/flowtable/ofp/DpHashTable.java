package dev.junction.flowtable.ofp;

import java.util.List;

/**
 * The table from masked dp_hash value to bucket of a dp_hash select group, built as OVS's
 * group_setup_dp_hash_table: enough hash values (a power of two, 16 to 256) for the lightest
 * bucket to get one, handed out by the Webster (Sainte-Laguë) method so each bucket's share
 * follows its weight. The same arithmetic (doubles, first maximum wins) gives the same table.
 */
final class DpHashTable
{
    static final int MAX_HASH_VALUES = 256;

    private DpHashTable()
    {
    }

    /** The table, or null when dp_hash cannot be used (no buckets, zero total weight, too many values). */
    static Bucket[] build(final List<Bucket> buckets, final int maxHash)
    {
        final int n = buckets.size();
        if (n == 0)
        {
            return null;
        }
        long total = 0;
        int minWeight = 0xffff;
        for (final Bucket b : buckets)
        {
            if (b.weight > 0 && b.weight < minWeight)
            {
                minWeight = b.weight;
            }
            total += b.weight;
        }
        if (total == 0)
        {
            return null;
        }
        final long minSlots = (total + minWeight - 1) / minWeight;
        final long minSlots2 = Math.max(minSlots, Math.min(n * 4L, MAX_HASH_VALUES));
        final long minSlots3 = roundUpPow2(minSlots2);
        final long nHash = Math.max(16, minSlots3);
        if (nHash > MAX_HASH_VALUES || (maxHash != 0 && nHash > maxHash))
        {
            return null;
        }
        final int[] divisor = new int[n];
        final double[] value = new double[n];
        for (int i = 0; i < n; i++)
        {
            divisor[i] = 1;
            value[i] = buckets.get(i).weight;
        }
        final Bucket[] map = new Bucket[(int)nHash];
        for (int hash = 0; hash < nHash; hash++)
        {
            int winner = 0;
            for (int i = 1; i < n; i++)
            {
                if (value[i] > value[winner])
                {
                    winner = i;
                }
            }
            divisor[winner] += 2;
            value[winner] = (double)buckets.get(winner).weight / divisor[winner];
            map[hash] = buckets.get(winner);
        }
        return map;
    }

    private static long roundUpPow2(final long x)
    {
        return x <= 1 ? 1 : Long.highestOneBit(x - 1) << 1;
    }
}
