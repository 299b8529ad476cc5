package dev.junction.flowtable.cls;

import java.util.Arrays;

/**
 * A binary trie of 32-bit prefixes, as OVS's classifier prefix tries: a lookup tells how many
 * leading bits of a value must be examined to know which stored prefixes it does or does not
 * match, so a megaflow need not match the whole field. Built once, read-only afterwards, so
 * lookups are safe from any thread and allocate nothing.
 *
 * <p>Nodes are not path-compressed; the lookup result is the same as OVS's Patricia trie: the
 * longest common prefix with any stored prefix, plus one bit when some stored prefix diverges
 * right there.
 */
public final class PrefixTrie
{
    private static final int NONE = 0;

    private int[] zero = new int[16];
    private int[] one = new int[16];
    private int[] rules = new int[16];
    private int nodes = 1;
    private int prefixes;

    /** Adds {@code value}'s top {@code plen} bits (1..32) as a prefix one rule matches on. */
    public void insert(final int value, final int plen)
    {
        int node = 0;
        for (int d = 0; d < plen; d++)
        {
            final boolean bit = ((value >>> (31 - d)) & 1) != 0;
            int child = bit ? one[node] : zero[node];
            if (child == NONE)
            {
                child = newNode();
                if (bit)
                {
                    one[node] = child;
                }
                else
                {
                    zero[node] = child;
                }
            }
            node = child;
        }
        rules[node]++;
        prefixes++;
    }

    public boolean isEmpty()
    {
        return prefixes == 0;
    }

    /**
     * Looks {@code value} up over its top {@code nBits}. Returns the number of leading bits that
     * decided the result in the low 8 bits, and in bits 8..40 the set of prefix lengths L with a
     * stored prefix matching the value (bit {@code 8 + L - 1}).
     */
    public long lookup(final int value, final int nBits)
    {
        int node = 0;
        long plens = 0;
        for (int d = 0; ; d++)
        {
            if (d > 0 && rules[node] > 0)
            {
                plens |= 1L << (d - 1);
            }
            if (d >= nBits)
            {
                return (plens << 8) | nBits;
            }
            final int child = ((value >>> (31 - d)) & 1) != 0 ? one[node] : zero[node];
            if (child == NONE)
            {
                final boolean leaf = zero[node] == NONE && one[node] == NONE;
                return (plens << 8) | (leaf ? d : d + 1);
            }
            node = child;
        }
    }

    public static int maskBits(final long lookupResult)
    {
        return (int)(lookupResult & 0xff);
    }

    /** Did a stored prefix of length {@code plen} match? */
    public static boolean matchedLength(final long lookupResult, final int plen)
    {
        return ((lookupResult >>> (8 + plen - 1)) & 1) != 0;
    }

    private int newNode()
    {
        if (nodes == zero.length)
        {
            zero = Arrays.copyOf(zero, nodes * 2);
            one = Arrays.copyOf(one, nodes * 2);
            rules = Arrays.copyOf(rules, nodes * 2);
        }
        return nodes++;
    }
}
