package dev.junction.flowtable.cls;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.ofp.FlowRule;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.LongHashSet;

import java.util.Arrays;
import java.util.Comparator;

/**
 * The rules of one table that share one mask, as a subtable of OVS's tuple-space classifier.
 * The mask is split into lookup stages (metadata, L2, L3, L4: OVS's flow segments); each stage
 * but the last has an index of the rules' values over the stages so far, so a miss can be proven
 * after looking at the first stages only, and only their bits need enter the megaflow mask.
 */
final class Subtable
{
    /** Word index where each of OVS's four flow segments ends (metadata, L2, L3, L4). */
    static final int[] SEGMENT_END = { FlowKey.W_DL_DST_TYPE, FlowKey.W_NW_ADDR, FlowKey.W_TP, FlowKey.WORDS };
    static final int SEGMENT_L3 = 2;

    final long[] mask;
    final int order;
    final int[] stageFrom;
    final int[] stageTo;
    final int[] stageSegment;
    final int stages;
    /**
     * The mask's non-zero words, in order, and where each stage's start in that list: hashing
     * and comparing skip the words the mask ignores (most of the 50: a metadata stage spans 30
     * words and a typical rule masks one or two of them).
     */
    private final int[] maskWords;
    private final int[] stageWordFrom;
    private final int[] stageWordTo;
    final LongHashSet[] indices;
    final Long2ObjectHashMap<Bucket> rules = new Long2ObjectHashMap<>();

    /**
     * The rules whose masked values share one full hash, highest priority first, with those
     * values packed beside them (the mask's words only): a lookup compares against one array
     * instead of chasing each rule's match objects, which at OVN's table sizes are cache misses.
     */
    static final class Bucket
    {
        final FlowRule[] rules;
        final long[] values;

        Bucket(final FlowRule[] rules, final int[] maskWords)
        {
            this.rules = rules;
            this.values = new long[rules.length * maskWords.length];
            for (int r = 0; r < rules.length; r++)
            {
                final long[] v = rules[r].match.value.words;
                for (int i = 0; i < maskWords.length; i++)
                {
                    values[r * maskWords.length + i] = v[maskWords[i]];
                }
            }
        }
    }
    final int[] triePlen = new int[Classifier.TRIE_FIELDS];
    /** Length of the ports mask as a prefix of the 32 bits tp_src:tp_dst; 0 when ports are not matched. */
    final int portsMaskLen;
    final int portsMask;
    final PrefixTrie portsTrie = new PrefixTrie();
    int maxPriority = Integer.MIN_VALUE;

    Subtable(final long[] mask, final int order)
    {
        this.mask = mask.clone();
        this.order = order;
        final int[] from = new int[SEGMENT_END.length];
        final int[] to = new int[SEGMENT_END.length];
        final int[] seg = new int[SEGMENT_END.length];
        int n = 0;
        int prev = 0;
        for (int s = 0; s < SEGMENT_END.length; s++)
        {
            boolean any = false;
            for (int w = prev; w < SEGMENT_END[s]; w++)
            {
                any |= mask[w] != 0;
            }
            if (any)
            {
                from[n] = prev;
                to[n] = SEGMENT_END[s];
                seg[n] = s;
                n++;
            }
            prev = SEGMENT_END[s];
        }
        if (n == 0)
        {
            // A catch-all mask: one empty final stage.
            seg[0] = -1;
            n = 1;
        }
        stages = n;
        stageFrom = Arrays.copyOf(from, n);
        stageTo = Arrays.copyOf(to, n);
        stageSegment = Arrays.copyOf(seg, n);
        int count = 0;
        for (final long m : mask)
        {
            count += m != 0 ? 1 : 0;
        }
        maskWords = new int[count];
        stageWordFrom = new int[n];
        stageWordTo = new int[n];
        for (int st = 0, i = 0; st < n; st++)
        {
            stageWordFrom[st] = i;
            for (int w = stageFrom[st]; w < stageTo[st]; w++)
            {
                if (mask[w] != 0)
                {
                    maskWords[i++] = w;
                }
            }
            stageWordTo[st] = i;
        }
        indices = new LongHashSet[n - 1];
        for (int i = 0; i < n - 1; i++)
        {
            indices[i] = new LongHashSet();
        }
        for (int j = 0; j < Classifier.TRIE_FIELDS; j++)
        {
            triePlen[j] = prefixLength(Classifier.trieField(mask[FlowKey.W_NW_ADDR], j));
        }
        portsMask = (int)(mask[FlowKey.W_TP] >>> 32);
        portsMaskLen = 32 - Integer.numberOfTrailingZeros(portsMask);
    }

    void add(final FlowRule rule)
    {
        final long[] v = rule.match.value.words;
        long h = Classifier.SEED;
        for (int i = 0; i < stages - 1; i++)
        {
            h = hashStage(h, i, v);
            indices[i].add(h);
        }
        h = hashStage(h, stages - 1, v);
        final Bucket bucket = rules.get(h);
        final FlowRule[] same = bucket == null ? null : bucket.rules;
        FlowRule[] next;
        if (same == null)
        {
            next = new FlowRule[] { rule };
        }
        else
        {
            next = Arrays.copyOf(same, same.length + 1);
            next[same.length] = rule;
            // Highest priority first; ties keep insertion order (stable sort).
            Arrays.sort(next, Comparator.comparingInt((FlowRule r) -> -r.priority));
        }
        rules.put(h, new Bucket(next, maskWords));
        if (portsMaskLen > 0)
        {
            portsTrie.insert((int)(v[FlowKey.W_TP] >>> 32), portsMaskLen);
        }
        maxPriority = Math.max(maxPriority, rule.priority);
    }

    long hashStage(final long seed, final int stage, final long[] key)
    {
        long h = seed;
        final long[] m = mask;
        final int[] ws = maskWords;
        for (int i = stageWordFrom[stage], end = stageWordTo[stage]; i < end; i++)
        {
            final int w = ws[i];
            h = Classifier.mix(h, key[w] & m[w]);
        }
        return h;
    }

    /** The highest-priority rule whose masked values equal {@code key}'s, given the full hash. */
    FlowRule find(final long hash, final long[] key)
    {
        final Bucket bucket = rules.get(hash);
        if (bucket == null)
        {
            return null;
        }
        final long[] m = mask;
        final int[] ws = maskWords;
        final long[] values = bucket.values;
        final FlowRule[] candidates = bucket.rules;
        for (int r = 0, base = 0; r < candidates.length; r++, base += ws.length)
        {
            boolean equal = true;
            for (int i = 0; i < ws.length && equal; i++)
            {
                final int w = ws[i];
                equal = (key[w] & m[w]) == values[base + i];
            }
            if (equal)
            {
                return candidates[r];
            }
        }
        return null;
    }

    /** Adds the mask bits of stages {@code [0, end)} to {@code wc}. */
    void foldStages(final long[] wc, final int end)
    {
        final long[] m = mask;
        final int[] ws = maskWords;
        for (int i = 0, e = end == 0 ? 0 : stageWordTo[end - 1]; i < e; i++)
        {
            final int w = ws[i];
            wc[w] |= m[w];
        }
    }

    /** Length of a CIDR mask, or 0 when the mask is empty or not contiguous from the top. */
    static int prefixLength(final int mask)
    {
        final int inverted = ~mask;
        if ((inverted & (inverted + 1)) != 0)
        {
            return 0;
        }
        return Integer.bitCount(mask);
    }
}
