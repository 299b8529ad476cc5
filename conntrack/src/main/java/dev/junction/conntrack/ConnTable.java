package dev.junction.conntrack;

import java.util.Arrays;

/**
 * The connections, struct-of-arrays: slot {@code s} of every array belongs to one connection,
 * free slots are chained, and a chained hash index maps keys to slots. Nothing is allocated
 * per packet; the arrays grow by doubling up to the connection limit (the only allocation, on
 * a commit), so the memory held is bounded by the limit. About 160 bytes per connection.
 *
 * <p>Index nodes are {@code slot * 2 + dir} (dir 0 original, 1 reply). As in OVS, a connection
 * without NAT is indexed once, under its original key: the hash is symmetric, so a reply finds
 * the same bucket and matches the reply key stored beside it. A NATed connection's reply key
 * hashes differently and gets its own node.
 *
 * <p>Not thread-safe; {@link Conntrack} serialises access.
 */
final class ConnTable
{
    // meta bits
    static final int M_USED = 1 << 31;
    static final int M_V6 = 1 << 24;
    static final int M_NAT_SHIFT = 25; // 4 bits: NatSpec.SRC, SRC_PORT, DST, DST_PORT
    /** The reply key has its own index node (set whenever NAT was requested at commit, as OVS). */
    static final int M_REV = 1 << 29;
    static final int L4_INTS = 7;

    int capacity;
    int used;
    private int highWater;
    private int freeHead = -1;

    long[] addr;   // 8 per slot: fwd srcHi srcLo dstHi dstLo, rev srcHi srcLo dstHi dstLo
    int[] tp;      // 4 per slot: fwd src dst, rev src dst
    int[] meta;    // used | rev | nat(4) | v6 | zone(16) << 8 | proto(8)
    int[] limitSeq; // ZoneLimits tag: kind << 30 | sequence
    int[] mark;
    long[] label;  // 2 per slot: hi, lo
    long[] expires; // ms
    int[] l4;      // L4_INTS per slot: protocol state (TcpTracker layout, or state in the last int)
    private int[] next; // 2 per slot: index chain; free chain uses next[slot * 2]
    private int[] heads;
    private int mask;

    ConnTable(final int initialCapacity)
    {
        allocate(Math.max(16, initialCapacity));
    }

    private void allocate(final int cap)
    {
        capacity = cap;
        addr = new long[cap * 8];
        tp = new int[cap * 4];
        meta = new int[cap];
        limitSeq = new int[cap];
        mark = new int[cap];
        label = new long[cap * 2];
        expires = new long[cap];
        l4 = new int[cap * L4_INTS];
        next = new int[cap * 2];
        final int buckets = Integer.highestOneBit(Math.max(16, cap - 1) << 1);
        heads = new int[buckets];
        Arrays.fill(heads, -1);
        mask = buckets - 1;
    }

    /** Grows to {@code newCap} slots, moving every connection and rebuilding the index. */
    void grow(final int newCap)
    {
        final long[] oAddr = addr;
        final int[] oTp = tp;
        final int[] oMeta = meta;
        final int[] oSeq = limitSeq;
        final int[] oMark = mark;
        final long[] oLabel = label;
        final long[] oExp = expires;
        final int[] oL4 = l4;
        final int[] oNext = next;
        final int oldCap = capacity;
        allocate(newCap);
        System.arraycopy(oAddr, 0, addr, 0, oldCap * 8);
        System.arraycopy(oTp, 0, tp, 0, oldCap * 4);
        System.arraycopy(oMeta, 0, meta, 0, oldCap);
        System.arraycopy(oSeq, 0, limitSeq, 0, oldCap);
        System.arraycopy(oMark, 0, mark, 0, oldCap);
        System.arraycopy(oLabel, 0, label, 0, oldCap * 2);
        System.arraycopy(oExp, 0, expires, 0, oldCap);
        System.arraycopy(oL4, 0, l4, 0, oldCap * L4_INTS);
        System.arraycopy(oNext, 0, next, 0, oldCap * 2); // keeps the free chain
        for (int s = 0; s < highWater; s++)
        {
            if ((meta[s] & M_USED) != 0)
            {
                link(s);
            }
        }
    }

    /** A free slot, or -1 when all {@code limit} slots are taken. */
    int acquire(final int limit)
    {
        int s = freeHead;
        if (s >= 0)
        {
            freeHead = next[s * 2];
        }
        else
        {
            if (highWater == capacity)
            {
                if (capacity >= limit)
                {
                    return -1;
                }
                grow((int)Math.min(limit, Math.max(16L, capacity * 2L)));
            }
            s = highWater++;
        }
        used++;
        return s;
    }

    /** Stores both keys; {@link #link} makes the connection findable. */
    void setKeys(final int s, final ConnKey fwd, final ConnKey rev)
    {
        final int a = s * 8;
        addr[a] = fwd.srcHi;
        addr[a + 1] = fwd.srcLo;
        addr[a + 2] = fwd.dstHi;
        addr[a + 3] = fwd.dstLo;
        addr[a + 4] = rev.srcHi;
        addr[a + 5] = rev.srcLo;
        addr[a + 6] = rev.dstHi;
        addr[a + 7] = rev.dstLo;
        final int t = s * 4;
        tp[t] = fwd.srcTp;
        tp[t + 1] = fwd.dstTp;
        tp[t + 2] = rev.srcTp;
        tp[t + 3] = rev.dstTp;
    }

    void link(final int s)
    {
        final int m = meta[s];
        insertNode(s * 2, keyHash(s, 0));
        if ((m & M_REV) != 0)
        {
            insertNode(s * 2 + 1, keyHash(s, 1));
        }
    }

    private void insertNode(final int node, final int hash)
    {
        final int b = hash & mask;
        next[node] = heads[b];
        heads[b] = node;
    }

    private void removeNode(final int node, final int hash)
    {
        final int b = hash & mask;
        int prev = -1;
        int n = heads[b];
        while (n >= 0 && n != node)
        {
            prev = n;
            n = next[n];
        }
        if (n < 0)
        {
            return;
        }
        if (prev < 0)
        {
            heads[b] = next[n];
        }
        else
        {
            next[prev] = next[n];
        }
    }

    /** Unindexes and frees slot {@code s}. */
    void release(final int s)
    {
        final int m = meta[s];
        removeNode(s * 2, keyHash(s, 0));
        if ((m & M_REV) != 0)
        {
            removeNode(s * 2 + 1, keyHash(s, 1));
        }
        meta[s] = 0;
        next[s * 2] = freeHead;
        freeHead = s;
        used--;
    }

    /** Frees a slot from {@link #acquire} that was never linked. */
    void releaseUnindexed(final int s)
    {
        meta[s] = 0;
        next[s * 2] = freeHead;
        freeHead = s;
        used--;
    }

    int keyHash(final int s, final int dir)
    {
        final int m = meta[s];
        final int a = s * 8 + dir * 4;
        final int t = s * 4 + dir * 2;
        return ConnKey.hash((m & M_V6) != 0, m & 0xff, (m >>> 8) & 0xffff, addr[a], addr[a + 1], tp[t], addr[a + 2],
            addr[a + 3], tp[t + 1]);
    }

    /**
     * The live connection with key {@code k} in either direction, as OVS's
     * {@code conn_key_lookup}: {@code slot << 1 | reply}, or -1. Connections expired at
     * {@code nowMs} are skipped (they wait for the sweep).
     */
    /**
     * As {@link #lookup}, but expired connections that no sweep has reclaimed yet still count:
     * OVS's NAT allocation meets them (a reopened NATed tuple gets the next port, as the oracle
     * shows), so the choice of a NAT tuple must too.
     */
    int lookupUnswept(final ConnKey k, final int hash)
    {
        return lookup(k, hash, Long.MIN_VALUE, true);
    }

    int lookup(final ConnKey k, final int hash, final long nowMs)
    {
        return lookup(k, hash, nowMs, false);
    }

    private int lookup(final ConnKey k, final int hash, final long nowMs, final boolean unswept)
    {
        final int want = (k.v6 ? M_V6 : 0) | k.zone << 8 | k.proto;
        for (int n = heads[hash & mask]; n >= 0; n = next[n])
        {
            final int s = n >>> 1;
            if ((meta[s] & (M_V6 | 0xffffff)) != want || (!unswept && nowMs >= expires[s]))
            {
                continue;
            }
            if (matches(s, 0, k))
            {
                return s << 1;
            }
            if (matches(s, 1, k))
            {
                return s << 1 | 1;
            }
        }
        return -1;
    }

    private boolean matches(final int s, final int dir, final ConnKey k)
    {
        final int a = s * 8 + dir * 4;
        final int t = s * 4 + dir * 2;
        return addr[a + 1] == k.srcLo && addr[a + 3] == k.dstLo && tp[t] == k.srcTp && tp[t + 1] == k.dstTp
            && addr[a] == k.srcHi && addr[a + 2] == k.dstHi;
    }

    /** Copies a stored key (dir 0 original, 1 reply) into {@code k}. */
    void key(final int s, final int dir, final ConnKey k)
    {
        final int m = meta[s];
        final int a = s * 8 + dir * 4;
        final int t = s * 4 + dir * 2;
        k.v6 = (m & M_V6) != 0;
        k.proto = m & 0xff;
        k.zone = (m >>> 8) & 0xffff;
        k.srcHi = addr[a];
        k.srcLo = addr[a + 1];
        k.dstHi = addr[a + 2];
        k.dstLo = addr[a + 3];
        k.srcTp = tp[t];
        k.dstTp = tp[t + 1];
    }

    boolean inUse(final int s)
    {
        return (meta[s] & M_USED) != 0;
    }

    int zone(final int s)
    {
        return (meta[s] >>> 8) & 0xffff;
    }

    int proto(final int s)
    {
        return meta[s] & 0xff;
    }

    int natAction(final int s)
    {
        return (meta[s] >>> M_NAT_SHIFT) & 0xf;
    }

    /** Slots ever used: every live connection is below this. */
    int highWater()
    {
        return highWater;
    }

    /** Bytes held by the arrays (for the memory budget). */
    long footprintBytes()
    {
        return 8L * (addr.length + label.length + expires.length)
            + 4L * (tp.length + meta.length + limitSeq.length + mark.length + l4.length + next.length + heads.length);
    }
}
