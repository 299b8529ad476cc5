package dev.junction.conntrack;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * The connections: one fixed-size record of {@link #REC} ints (128 bytes, two cache lines) per
 * slot in one array, found through an open-addressed index of longs, so that a packet of an
 * established connection reads one index cache line and the first cache line of its record and
 * nothing else. Nothing is allocated per packet; the record array grows by doubling up to the
 * connection limit and the index doubles when half full (the only allocations, on a commit),
 * so the memory held is bounded by the limit. About 168 bytes per slot (176 per connection
 * with 1M held in 2^20 slots; 193 if every connection were NATed, two index entries each).
 *
 * <p>Record layout (int offsets from {@link #base}):
 * <pre>
 *  line 0:  0 meta   1 mark (a free slot: the next free slot)   2-3 expires (ms, hi lo)
 *           4-11 original key addresses: srcHi srcLo dstHi dstLo (each hi lo)
 *           12 original srcTp   13 original dstTp   14 the connection's lock
 *           15-21 protocol state ({@link #L4_INTS} ints, TcpTracker layout; UDP/ICMP use +0)
 *  line 1:  (16-21 of the protocol state)  22 reply srcTp  23 reply dstTp
 *           24-31 reply key addresses
 * </pre>
 * The reply key is read only for a connection with {@link #M_REV} (NAT): otherwise it is the
 * original key reversed, and a reply is matched against line 0. Labels live in their own
 * array, read only when {@link #M_LABEL} says one was ever set. The record array starts
 * {@link #PAD} ints in, so that records are cache-line aligned when the array is (a G1
 * humongous array starts on a region boundary, its data 16 bytes in).
 *
 * <p>A sweep does not walk the records: {@link #expiresCoarse} keeps each live connection's
 * expiry in 1024 ms units, rewritten only when that unit changes (about once a second for a
 * busy connection), so the sweep reads 4 bytes per slot and visits only the records whose
 * unit has come.
 *
 * <p>The index is linear probing over longs {@code hash << 32 | node + 1} (0 is empty), node
 * {@code slot * 2 + dir} (dir 0 original, 1 reply), kept at most half full. Holding the whole
 * 32-bit key hash beside the node means a probe rejects other keys without reading their
 * records (a chained index paid a dependent miss for every record and link on the chain) and
 * the index regrows without touching a record; at half load a hit is nearly always in the
 * first cache line probed. Removal shifts the cluster back (no tombstones, so probes stay
 * short however many connections come and go). As in OVS, a connection without NAT is
 * indexed once, under its original key: the hash is symmetric, so a reply finds the same
 * entry and matches the reply key stored beside it. A NATed connection's reply key hashes
 * differently and gets its own entry.
 *
 * <p>Concurrency ({@link Conntrack} arranges it): structural changes (commit, release, grow)
 * are made by one thread at a time, inside a write of Conntrack's StampedLock; lookups may
 * run optimistically beside them ({@link #lookup} tolerates a table changing under it: a
 * caller validates its stamp, and catches an index out of bounds; a probe bounded by
 * {@code maxSteps} cannot be held by entries moving). A connection's mutable
 * state (protocol state, expiry, mark, label) is written only under its record lock
 * ({@link #lockRec}), which {@link #grow} takes for every record while it copies.
 */
final class ConnTable
{
    // meta bits
    static final int M_USED = 1 << 31;
    /** A label was set on this connection at some point (else the label is 0 and not read). */
    static final int M_LABEL = 1 << 30;
    static final int M_V6 = 1 << 24;
    static final int M_NAT_SHIFT = 25; // 4 bits: NatSpec.SRC, SRC_PORT, DST, DST_PORT
    /** The reply key has its own index node (set whenever NAT was requested at commit, as OVS). */
    static final int M_REV = 1 << 29;
    static final int L4_INTS = 7;

    static final int REC = 32;
    static final int PAD = 12;
    static final int META = 0;
    static final int MARK = 1;
    static final int EXP = 2;
    static final int KEY0 = 4;
    static final int TP0 = 12;
    static final int LOCK = 14;
    /** Offset of the protocol state; for UDP/other and ICMP, the state is the int at this offset. */
    static final int L4 = 15;
    static final int TP1 = 22;
    static final int KEY1 = 24;

    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);

    int capacity;
    int used;
    private int highWater;
    private int freeHead = -1;

    int[] rec;
    /** Per slot: {@link #coarse} of the expiry of a live connection; MAX_VALUE for a free slot. */
    int[] expiresCoarse;
    private int[] limitTag; // ZoneLimits tag per slot
    private long[] label; // 2 per slot: hi, lo
    /** The index: {@code hash << 32 | node + 1} per entry, 0 empty, a power of two long. */
    private long[] index;
    /** Entries in {@link #index}. */
    private int indexed;

    ConnTable(final int initialCapacity)
    {
        final int cap = Math.max(16, initialCapacity);
        allocate(cap);
        // Room for one entry per slot at half load: connections without NAT never regrow it early.
        index = new long[Integer.highestOneBit(cap - 1) << 2];
    }

    private void allocate(final int cap)
    {
        capacity = cap;
        rec = new int[PAD + cap * REC];
        limitTag = new int[cap];
        expiresCoarse = new int[cap];
        label = new long[cap * 2];
    }

    static int base(final int s)
    {
        return PAD + s * REC;
    }

    /**
     * Grows to {@code newCap} slots, copying every connection to the same slot: the index names
     * slots, so it stays as it is.
     */
    void grow(final int newCap)
    {
        final int[] oRec = rec;
        final int[] oTag = limitTag;
        final int[] oCoarse = expiresCoarse;
        final long[] oLabel = label;
        final int oldCap = capacity;
        // Wait out every packet updating a connection in place, and keep them out while copying.
        for (int s = 0; s < highWater; s++)
        {
            lockRec(oRec, base(s));
        }
        allocate(newCap);
        final int[] r = rec;
        System.arraycopy(oRec, 0, r, 0, PAD + oldCap * REC); // keeps the free chain (in MARK)
        System.arraycopy(oTag, 0, limitTag, 0, oldCap);
        System.arraycopy(oCoarse, 0, expiresCoarse, 0, oldCap);
        System.arraycopy(oLabel, 0, label, 0, oldCap * 2);
        for (int s = 0; s < highWater; s++)
        {
            r[base(s) + LOCK] = 0;
        }
        for (int s = 0; s < highWater; s++)
        {
            unlockRec(oRec, base(s)); // a waiter then fails its stamp and retries in the new table
        }
    }

    /** Takes the lock of the record at {@code b} in {@code r} (a spin lock: it is held for one packet's update). */
    static void lockRec(final int[] r, final int b)
    {
        int spins = 0;
        while (!INTS.compareAndSet(r, b + LOCK, 0, 1))
        {
            if (++spins < 64)
            {
                Thread.onSpinWait();
            }
            else
            {
                Thread.yield();
            }
        }
    }

    static void unlockRec(final int[] r, final int b)
    {
        INTS.setRelease(r, b + LOCK, 0);
    }

    void lockRec(final int s)
    {
        lockRec(rec, base(s));
    }

    void unlockRec(final int s)
    {
        unlockRec(rec, base(s));
    }

    /** A free slot, or -1 when all {@code limit} slots are taken. */
    int acquire(final int limit)
    {
        int s = freeHead;
        if (s >= 0)
        {
            freeHead = rec[base(s) + MARK];
            rec[base(s) + MARK] = 0;
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
        final int[] r = rec;
        final int b = base(s);
        putLong(r, b + KEY0, fwd.srcHi);
        putLong(r, b + KEY0 + 2, fwd.srcLo);
        putLong(r, b + KEY0 + 4, fwd.dstHi);
        putLong(r, b + KEY0 + 6, fwd.dstLo);
        r[b + TP0] = fwd.srcTp;
        r[b + TP0 + 1] = fwd.dstTp;
        putLong(r, b + KEY1, rev.srcHi);
        putLong(r, b + KEY1 + 2, rev.srcLo);
        putLong(r, b + KEY1 + 4, rev.dstHi);
        putLong(r, b + KEY1 + 6, rev.dstLo);
        r[b + TP1] = rev.srcTp;
        r[b + TP1 + 1] = rev.dstTp;
    }

    private static void putLong(final int[] r, final int at, final long v)
    {
        r[at] = (int)(v >>> 32);
        r[at + 1] = (int)v;
    }

    static long getLong(final int[] r, final int at)
    {
        return (long)r[at] << 32 | (r[at + 1] & 0xffffffffL);
    }

    void link(final int s)
    {
        final int m = meta(s);
        insertNode(s * 2, keyHash(s, 0));
        if ((m & M_REV) != 0)
        {
            insertNode(s * 2 + 1, keyHash(s, 1));
        }
    }

    private void insertNode(final int node, final int hash)
    {
        if (++indexed > index.length >>> 1)
        {
            rehash(index.length << 1);
        }
        final long[] idx = index;
        final int mask = idx.length - 1;
        int i = hash & mask;
        while (idx[i] != 0)
        {
            i = (i + 1) & mask;
        }
        idx[i] = entry(hash, node);
    }

    private static long entry(final int hash, final int node)
    {
        return (long)hash << 32 | (node + 1L);
    }

    /**
     * Moves every entry to a new index of {@code size} longs, from the hashes the entries hold.
     * An optimistic reader still probing the old array finds what it held (or gives up, or
     * misses) and fails its stamp.
     */
    private void rehash(final int size)
    {
        final long[] old = index;
        final long[] idx = new long[size];
        final int mask = size - 1;
        for (final long e : old)
        {
            if (e != 0)
            {
                int i = (int)(e >>> 32) & mask;
                while (idx[i] != 0)
                {
                    i = (i + 1) & mask;
                }
                idx[i] = e;
            }
        }
        index = idx;
    }

    private void removeNode(final int node, final int hash)
    {
        final long[] idx = index;
        final int mask = idx.length - 1;
        final long e = entry(hash, node);
        int i = hash & mask;
        while (idx[i] != e)
        {
            if (idx[i] == 0)
            {
                return;
            }
            i = (i + 1) & mask;
        }
        indexed--;
        // Backward shift: move up each later entry of the cluster whose home position the gap
        // does not come before, so that no probe meets an empty slot short of its key.
        int gap = i;
        int j = i;
        while (true)
        {
            j = (j + 1) & mask;
            final long x = idx[j];
            if (x == 0)
            {
                break;
            }
            final int home = (int)(x >>> 32) & mask;
            if (((j - home) & mask) >= ((j - gap) & mask))
            {
                idx[gap] = x;
                gap = j;
            }
        }
        idx[gap] = 0;
    }

    /** Unindexes and frees slot {@code s}. */
    void release(final int s)
    {
        final int m = meta(s);
        removeNode(s * 2, keyHash(s, 0));
        if ((m & M_REV) != 0)
        {
            removeNode(s * 2 + 1, keyHash(s, 1));
        }
        rec[base(s) + META] = 0;
        expiresCoarse[s] = Integer.MAX_VALUE;
        rec[base(s) + MARK] = freeHead;
        freeHead = s;
        used--;
    }

    /** Frees every slot and empties the index (the records must already be marked unused). */
    void clear()
    {
        Arrays.fill(index, 0);
        indexed = 0;
        Arrays.fill(expiresCoarse, 0, highWater, Integer.MAX_VALUE);
        freeHead = -1;
        highWater = 0;
        used = 0;
    }

    /** Frees a slot from {@link #acquire} that was never linked. */
    void releaseUnindexed(final int s)
    {
        rec[base(s) + META] = 0;
        expiresCoarse[s] = Integer.MAX_VALUE;
        rec[base(s) + MARK] = freeHead;
        freeHead = s;
        used--;
    }

    int keyHash(final int s, final int dir)
    {
        final int[] r = rec;
        final int b = base(s);
        final int m = r[b + META];
        final int a = b + (dir == 0 ? KEY0 : KEY1);
        final int t = b + (dir == 0 ? TP0 : TP1);
        return ConnKey.hash((m & M_V6) != 0, m & 0xff, (m >>> 8) & 0xffff, getLong(r, a), getLong(r, a + 2), r[t],
            getLong(r, a + 4), getLong(r, a + 6), r[t + 1]);
    }

    /**
     * As {@link #lookup}, but expired connections that no sweep has reclaimed yet still count:
     * OVS's NAT allocation meets them (a reopened NATed tuple gets the next port, as the oracle
     * shows), so the choice of a NAT tuple must too.
     */
    int lookupUnswept(final ConnKey k, final int hash)
    {
        return lookup(k, hash, Long.MIN_VALUE, true);
    }

    /**
     * The live connection with key {@code k} in either direction, as OVS's
     * {@code conn_key_lookup}: {@code slot << 1 | reply}, or -1. Connections expired at
     * {@code nowMs} are skipped (they wait for the sweep).
     */
    int lookup(final ConnKey k, final int hash, final long nowMs)
    {
        return lookup(k, hash, nowMs, false);
    }

    /**
     * As {@link #lookup}, for a caller reading without the write lock: gives up (-2) after
     * {@code maxSteps} index nodes, so that a chain changing underneath cannot hold it.
     * {@code r} is the record array the caller then locks a record in.
     */
    int lookupOptimistic(final int[] r, final ConnKey k, final int hash, final long nowMs, final int maxSteps)
    {
        return lookup(r, k, hash, nowMs, false, maxSteps);
    }

    private int lookup(final ConnKey k, final int hash, final long nowMs, final boolean unswept)
    {
        return lookup(rec, k, hash, nowMs, unswept, Integer.MAX_VALUE);
    }

    private int lookup(final int[] r, final ConnKey k, final int hash, final long nowMs, final boolean unswept,
        final int maxSteps)
    {
        final int want = (k.v6 ? M_V6 : 0) | k.zone << 8 | k.proto;
        final long[] idx = index;
        final int mask = idx.length - 1;
        final long tag = (long)hash << 32;
        int steps = 0;
        // The key as ints, compared against the record's halves.
        final int sH0 = (int)(k.srcHi >>> 32);
        final int sH1 = (int)k.srcHi;
        final int sL0 = (int)(k.srcLo >>> 32);
        final int sL1 = (int)k.srcLo;
        final int dH0 = (int)(k.dstHi >>> 32);
        final int dH1 = (int)k.dstHi;
        final int dL0 = (int)(k.dstLo >>> 32);
        final int dL1 = (int)k.dstLo;
        final int sTp = k.srcTp;
        final int dTp = k.dstTp;
        for (int i = hash & mask; ; i = (i + 1) & mask)
        {
            final long e = idx[i];
            if (e == 0)
            {
                return -1;
            }
            if (++steps > maxSteps)
            {
                return -2;
            }
            if ((e & 0xffffffff00000000L) != tag)
            {
                continue; // another key: its record is not read
            }
            final int n = (int)e - 1;
            final int b = base(n >>> 1);
            final int m = r[b + META];
            if ((m & (M_V6 | 0xffffff)) != want || (!unswept && nowMs >= getLong(r, b + EXP)))
            {
                continue;
            }
            final int a = b + KEY0;
            // Original direction.
            if (r[a + 3] == sL1 && r[a + 7] == dL1 && r[b + TP0] == sTp && r[b + TP0 + 1] == dTp && r[a + 2] == sL0
                && r[a + 6] == dL0 && r[a] == sH0 && r[a + 1] == sH1 && r[a + 4] == dH0 && r[a + 5] == dH1)
            {
                return (n >>> 1) << 1;
            }
            if ((m & M_REV) == 0)
            {
                // The reply key is the original reversed: match it without touching line 1.
                if (r[a + 7] == sL1 && r[a + 3] == dL1 && r[b + TP0 + 1] == sTp && r[b + TP0] == dTp
                    && r[a + 6] == sL0 && r[a + 2] == dL0 && r[a + 4] == sH0 && r[a + 5] == sH1 && r[a] == dH0
                    && r[a + 1] == dH1)
                {
                    return (n >>> 1) << 1 | 1;
                }
            }
            else
            {
                final int c = b + KEY1;
                if (r[c + 3] == sL1 && r[c + 7] == dL1 && r[b + TP1] == sTp && r[b + TP1 + 1] == dTp
                    && r[c + 2] == sL0 && r[c + 6] == dL0 && r[c] == sH0 && r[c + 1] == sH1 && r[c + 4] == dH0
                    && r[c + 5] == dH1)
                {
                    return (n >>> 1) << 1 | 1;
                }
            }
        }
    }

    /** Copies a stored key (dir 0 original, 1 reply) into {@code k}. */
    void key(final int s, final int dir, final ConnKey k)
    {
        final int[] r = rec;
        final int b = base(s);
        final int m = r[b + META];
        k.v6 = (m & M_V6) != 0;
        k.proto = m & 0xff;
        k.zone = (m >>> 8) & 0xffff;
        if (dir == 0 || (m & M_REV) == 0)
        {
            final int a = b + KEY0;
            final long sHi = getLong(r, a);
            final long sLo = getLong(r, a + 2);
            final long dHi = getLong(r, a + 4);
            final long dLo = getLong(r, a + 6);
            final int sTp = r[b + TP0];
            final int dTp = r[b + TP0 + 1];
            if (dir == 0)
            {
                k.srcHi = sHi;
                k.srcLo = sLo;
                k.dstHi = dHi;
                k.dstLo = dLo;
                k.srcTp = sTp;
                k.dstTp = dTp;
            }
            else
            {
                k.srcHi = dHi;
                k.srcLo = dLo;
                k.dstHi = sHi;
                k.dstLo = sLo;
                k.srcTp = dTp;
                k.dstTp = sTp;
            }
        }
        else
        {
            final int a = b + KEY1;
            k.srcHi = getLong(r, a);
            k.srcLo = getLong(r, a + 2);
            k.dstHi = getLong(r, a + 4);
            k.dstLo = getLong(r, a + 6);
            k.srcTp = r[b + TP1];
            k.dstTp = r[b + TP1 + 1];
        }
    }

    int meta(final int s)
    {
        return rec[base(s) + META];
    }

    void setMeta(final int s, final int m)
    {
        rec[base(s) + META] = m;
    }

    boolean inUse(final int s)
    {
        return (meta(s) & M_USED) != 0;
    }

    int zone(final int s)
    {
        return (meta(s) >>> 8) & 0xffff;
    }

    int proto(final int s)
    {
        return meta(s) & 0xff;
    }

    int natAction(final int s)
    {
        return (meta(s) >>> M_NAT_SHIFT) & 0xf;
    }

    long expires(final int s)
    {
        return getLong(rec, base(s) + EXP);
    }

    /** Sets the expiry of a live connection (under its lock). */
    void setExpires(final int s, final long ms)
    {
        final int at = base(s) + EXP;
        final int c = coarse(ms);
        if (c != coarse(getLong(rec, at)))
        {
            expiresCoarse[s] = c;
        }
        putLong(rec, at, ms);
    }

    /** Sets the first expiry of a connection being committed. */
    void initExpires(final int s, final long ms)
    {
        putLong(rec, base(s) + EXP, ms);
        expiresCoarse[s] = coarse(ms);
    }

    /** An expiry in 1024 ms units, clamped to an int: {@code ms >= now} implies {@code coarse(ms) >= coarse(now)}. */
    static int coarse(final long ms)
    {
        return (int)Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE - 1, ms >> 10));
    }

    int mark(final int s)
    {
        return rec[base(s) + MARK];
    }

    void setMark(final int s, final int mark)
    {
        rec[base(s) + MARK] = mark;
    }

    int limitTag(final int s)
    {
        return limitTag[s];
    }

    void setLimitTag(final int s, final int tag)
    {
        limitTag[s] = tag;
    }

    /** Index in {@link #rec} of the protocol state of slot {@code s}. */
    static int l4(final int s)
    {
        return base(s) + L4;
    }

    long labelHi(final int s)
    {
        return (meta(s) & M_LABEL) == 0 ? 0 : label[s * 2];
    }

    long labelLo(final int s)
    {
        return (meta(s) & M_LABEL) == 0 ? 0 : label[s * 2 + 1];
    }

    void setLabel(final int s, final long hi, final long lo)
    {
        label[s * 2] = hi;
        label[s * 2 + 1] = lo;
        rec[base(s) + META] |= M_LABEL;
    }

    /**
     * Copies live slot {@code s} (under its lock) into {@code out} at {@code at} as a
     * {@link Checkpoint} entry; false, nothing written, when it has expired at {@code nowMs}.
     */
    boolean export(final int s, final long nowMs, final int[] out, final int at)
    {
        final int[] r = rec;
        final int b = base(s);
        final long expires = getLong(r, b + EXP);
        if (nowMs >= expires)
        {
            return false;
        }
        final int m = r[b + META];
        out[at + Checkpoint.META] = m;
        out[at + Checkpoint.MARK] = r[b + MARK];
        putLong(out, at + Checkpoint.LEFT, expires - nowMs);
        System.arraycopy(r, b + KEY0, out, at + Checkpoint.KEY0, 8);
        out[at + Checkpoint.TP0] = r[b + TP0];
        out[at + Checkpoint.TP0 + 1] = r[b + TP0 + 1];
        System.arraycopy(r, b + KEY1, out, at + Checkpoint.KEY1, 8);
        out[at + Checkpoint.TP1] = r[b + TP1];
        out[at + Checkpoint.TP1 + 1] = r[b + TP1 + 1];
        System.arraycopy(r, b + L4, out, at + Checkpoint.L4, L4_INTS);
        putLong(out, at + Checkpoint.LABEL, labelHi(s));
        putLong(out, at + Checkpoint.LABEL + 2, labelLo(s));
        return true;
    }

    /**
     * The keys of the {@link Checkpoint} entry at {@code at} in {@code e}: false when the entry
     * is no live connection this table could hold (not in use, NAT without its reply key).
     */
    static boolean keysOf(final int[] e, final int at, final ConnKey fwd, final ConnKey rev)
    {
        final int m = e[at + Checkpoint.META];
        if ((m & M_USED) == 0 || (((m >>> M_NAT_SHIFT) & 0xf) != 0 && (m & M_REV) == 0))
        {
            return false;
        }
        fwd.v6 = (m & M_V6) != 0;
        fwd.proto = m & 0xff;
        fwd.zone = (m >>> 8) & 0xffff;
        rev.copyFrom(fwd);
        readKey(e, at + Checkpoint.KEY0, e[at + Checkpoint.TP0], e[at + Checkpoint.TP0 + 1], fwd);
        readKey(e, at + Checkpoint.KEY1, e[at + Checkpoint.TP1], e[at + Checkpoint.TP1 + 1], rev);
        return true;
    }

    /** The endpoints of a key: four addresses as hi lo int pairs at {@code a}, then the two transport parts. */
    private static void readKey(final int[] e, final int a, final int srcTp, final int dstTp, final ConnKey k)
    {
        k.srcHi = getLong(e, a);
        k.srcLo = getLong(e, a + 2);
        k.dstHi = getLong(e, a + 4);
        k.dstLo = getLong(e, a + 6);
        k.srcTp = srcTp;
        k.dstTp = dstTp;
    }

    /**
     * Fills acquired slot {@code s} from the {@link Checkpoint} entry at {@code at} (keys from
     * {@link #keysOf}), expiring at {@code expiresMs}; {@link #link} then makes it findable.
     */
    void importRecord(final int s, final int[] e, final int at, final ConnKey fwd, final ConnKey rev, final long expiresMs)
    {
        final int m = e[at + Checkpoint.META];
        setMeta(s, m & ~M_LABEL);
        setKeys(s, fwd, rev);
        setMark(s, e[at + Checkpoint.MARK]);
        System.arraycopy(e, at + Checkpoint.L4, rec, l4(s), L4_INTS);
        if ((m & 0xff) == KeyExtractor.IPPROTO_TCP)
        {
            TcpTracker.restored(rec, l4(s));
        }
        if ((m & M_LABEL) != 0)
        {
            setLabel(s, getLong(e, at + Checkpoint.LABEL), getLong(e, at + Checkpoint.LABEL + 2));
        }
        initExpires(s, expiresMs);
    }

    /** Slots ever used: every live connection is below this. */
    int highWater()
    {
        return highWater;
    }

    /** Bytes held by the arrays (for the memory budget). */
    long footprintBytes()
    {
        return 8L * (label.length + index.length) + 4L * (rec.length + expiresCoarse.length + limitTag.length);
    }
}
