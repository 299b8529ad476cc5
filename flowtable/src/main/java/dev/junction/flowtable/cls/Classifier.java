package dev.junction.flowtable.cls;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.ofp.FlowRule;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One OpenFlow table as OVS's tuple-space-search classifier: rules are grouped into subtables by
 * mask, subtables are searched in order of their highest priority, and the search stops as soon
 * as no remaining subtable can beat the best match found.
 *
 * <p>The point of reproducing OVS's structure rather than scanning rules is the megaflow mask:
 * a lookup adds to {@code wc} exactly the bits OVS's lookup would have examined (staged lookup,
 * prefix tries on nw_dst and nw_src, the ports trie), so megaflows are as wide as OVS's and a
 * packet that reuses one gets what OVS would give it.
 *
 * <p>Immutable once built: any number of threads may look up concurrently, each with its own
 * {@link Context}. Lookups allocate nothing.
 */
public final class Classifier
{
    /** OVS's default prefix-tracked fields, in its order: nw_dst, then nw_src. */
    public static final int TRIE_FIELDS = 2;
    static final long SEED = 0x2545F4914F6CDD1DL;
    /** Trie result for a flow the trie field does not apply to: every length matches, skip nothing. */
    private static final long ALL_LENGTHS = 0xFFFF_FFFFL << 8;

    /** Per-lookup scratch state (the trie lookups are done at most once per lookup). */
    public static final class Context
    {
        final boolean[] trieDone = new boolean[TRIE_FIELDS];
        final long[] trieResult = new long[TRIE_FIELDS];
    }

    private final Subtable[] subtables;
    private final PrefixTrie[] tries = new PrefixTrie[TRIE_FIELDS];

    /** Builds the table from rules in the order they were added. */
    public Classifier(final List<FlowRule> rules)
    {
        final Map<MaskKey, Subtable> byMask = new LinkedHashMap<>();
        for (final FlowRule r : rules)
        {
            final MaskKey k = new MaskKey(r.match.mask.words.clone());
            Subtable st = byMask.get(k);
            if (st == null)
            {
                st = new Subtable(r.match.mask.words, byMask.size());
                byMask.put(k, st);
            }
            st.add(r);
        }
        final List<Subtable> list = new ArrayList<>(byMask.values());
        // Highest max priority first; equal ones in creation order, as OVS's pvector keeps them.
        list.sort((a, b) -> a.maxPriority != b.maxPriority ? Integer.compare(b.maxPriority, a.maxPriority)
            : Integer.compare(a.order, b.order));
        subtables = list.toArray(new Subtable[0]);
        for (int j = 0; j < TRIE_FIELDS; j++)
        {
            tries[j] = new PrefixTrie();
        }
        // Every rule whose subtable has a CIDR mask on a trie field enters that field's trie,
        // whatever its Ethertype (ARP's spa/tpa share the words), as in OVS.
        for (final Subtable st : subtables)
        {
            for (int j = 0; j < TRIE_FIELDS; j++)
            {
                final int plen = st.triePlen[j];
                if (plen > 0)
                {
                    for (final Subtable.Bucket group : st.rules.values())
                    {
                        for (final FlowRule r : group.rules)
                        {
                            tries[j].insert(trieField(r.match.value.words[FlowKey.W_NW_ADDR], j), plen);
                        }
                    }
                }
            }
        }
    }

    public int subtableCount()
    {
        return subtables.length;
    }

    /**
     * The highest-priority rule matching {@code flow}, or null. Adds to {@code wc} (a mask in
     * {@link FlowKey} layout) every bit the search examined.
     */
    public FlowRule lookup(final FlowKey flow, final long[] wc, final Context ctx)
    {
        ctx.trieDone[0] = false;
        ctx.trieDone[1] = false;
        final long[] key = flow.words;
        FlowRule hard = null;
        int hardPriority = Integer.MIN_VALUE;
        for (final Subtable st : subtables)
        {
            if (hard != null && st.maxPriority <= hardPriority)
            {
                break;
            }
            final FlowRule r = findMatch(st, flow, key, wc, ctx);
            if (r != null && (hard == null || r.priority > hardPriority))
            {
                hard = r;
                hardPriority = r.priority;
            }
        }
        return hard;
    }

    private FlowRule findMatch(final Subtable st, final FlowKey flow, final long[] key, final long[] wc,
        final Context ctx)
    {
        long h = SEED;
        final int last = st.stages - 1;
        for (int i = 0; i < last; i++)
        {
            if (checkTries(st, i, flow, wc, ctx))
            {
                st.foldStages(wc, i);
                return null;
            }
            h = st.hashStage(h, i, key);
            if (!st.indices[i].contains(h))
            {
                st.foldStages(wc, i + 1);
                return null;
            }
        }
        if (checkTries(st, last, flow, wc, ctx))
        {
            st.foldStages(wc, last);
            return null;
        }
        h = st.hashStage(h, last, key);
        final FlowRule rule = st.find(h, key);
        if (rule == null && st.portsMaskLen > 0)
        {
            // Instead of all port bits, only as many leading bits as tell this packet's ports
            // apart from every rule's.
            final int value = (int)(key[FlowKey.W_TP] >>> 32) & st.portsMask;
            final int mbits = PrefixTrie.maskBits(st.portsTrie.lookup(value, 32));
            final long ports = (st.portsMask & prefixMask(mbits)) & 0xffff_ffffL | (wc[FlowKey.W_TP] >>> 32);
            st.foldStages(wc, last + 1);
            wc[FlowKey.W_TP] = (wc[FlowKey.W_TP] & 0xffff_ffffL) | (ports << 32);
            return null;
        }
        st.foldStages(wc, last + 1);
        return rule;
    }

    /**
     * As OVS's check_tries: when the stage holds a prefix-tracked field and no rule prefix of this
     * subtable's length matches the packet, the subtable can be skipped having examined only as
     * many bits of the field as the trie needed.
     */
    private boolean checkTries(final Subtable st, final int stage, final FlowKey flow, final long[] wc,
        final Context ctx)
    {
        if (st.stageSegment[stage] != Subtable.SEGMENT_L3)
        {
            return false;
        }
        for (int j = 0; j < TRIE_FIELDS; j++)
        {
            final int plen = st.triePlen[j];
            if (plen == 0)
            {
                continue;
            }
            if (!ctx.trieDone[j])
            {
                ctx.trieResult[j] = flow.isIpv4()
                    ? tries[j].lookup(trieField(flow.words[FlowKey.W_NW_ADDR], j), 32) : ALL_LENGTHS;
                ctx.trieDone[j] = true;
            }
            final long result = ctx.trieResult[j];
            if (!PrefixTrie.matchedLength(result, plen))
            {
                final int mbits = PrefixTrie.maskBits(result);
                final long bits = (prefixMask(mbits) & 0xffff_ffffL) << (j == 0 ? 0 : 32);
                if (mbits <= plen)
                {
                    wc[FlowKey.W_NW_ADDR] |= bits;
                    return true;
                }
                if ((wc[FlowKey.W_NW_ADDR] & bits) == bits)
                {
                    return true;
                }
            }
        }
        return false;
    }

    /** Field {@code j} of the trie fields (0 nw_dst, 1 nw_src) from the address word. */
    static int trieField(final long addrWord, final int j)
    {
        return (int)(j == 0 ? addrWord : addrWord >>> 32);
    }

    static int prefixMask(final int bits)
    {
        return bits == 0 ? 0 : -1 << (32 - bits);
    }

    static long mix(final long h, final long v)
    {
        long x = (h ^ v) * 0x9E3779B97F4A7C15L;
        x ^= x >>> 29;
        return x * 0xBF58476D1CE4E5B9L + 0x632BE59BD9B4E019L;
    }
}
