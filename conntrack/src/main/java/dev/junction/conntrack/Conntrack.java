package dev.junction.conntrack;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.StampedLock;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.ct.CtAction;
import dev.junction.flowtable.ct.CtState;

/**
 * Connection tracking with the semantics of OVS's userspace conntrack (lib/conntrack.c): the
 * datapath {@code ct} action looks the packet's connection up in its zone, runs the protocol
 * state machine, commits, applies NAT, and leaves the result in the packet's metadata (the
 * conntrack words of its {@link FlowKey}), from where a recirculation matches on it.
 *
 * <p>Per packet this follows {@code conntrack_execute}/{@code process_one}: key extraction with
 * checksum validation (failures are {@code +inv}); lookup in both directions (a packet already
 * NATed in this zone is looked up by its reverse tuple); {@code force} ending a connection met
 * in the reply direction, with OVS 3.1.0's view of a NATed connection's direction
 * ({@link #forceSeesReply}); the TCP/UDP(other)/ICMP state machines; {@code commit} storing new
 * connections within the global and per-zone limits (a refused commit leaves {@code +new} and
 * no connection); NAT set up on commit and applied to later packets with {@code nat}; mark
 * and label written only to an existing or committed connection. The incoming ct_state/zone
 * and original tuple in the key are read as OVS reads the packet metadata.
 *
 * <p>Differences from OVS, by design or for now:
 * <ul>
 * <li>IP fragments are not reassembled (OVS's ipf): {@link #execute} returns false and counts
 *     them in {@link #fragmentsDropped()}.</li>
 * <li>No ALGs (FTP/TFTP helpers), so no {@code +rel} data connections; no per-connection
 *     packet/byte counters.</li>
 * <li>OVS caches the connection in the packet metadata between two ct actions of the same
 *     zone ({@code process_one_fast}); here the second action looks it up and runs the state
 *     machine again, which for the same packet leaves the same state and ct_state.</li>
 * <li>NAT choices inside address ranges and explicit port ranges use a fixed hash basis where
 *     OVS uses a random one (see {@link NatAllocator}).</li>
 * <li>Expired connections stay counted until {@link #sweep} reclaims them, as in OVS where the
 *     clean thread does it; here the caller decides when (OVS: every few seconds).</li>
 * </ul>
 *
 * <p>Time comes only from the {@code nowNanos} arguments (OVS works in milliseconds).
 *
 * <p>Concurrency: {@link #execute} may be called from several threads. Key extraction and
 * checksum validation run without a lock on per-thread scratch. As OVS (a global
 * {@code ct_lock} for inserts and removals, a lock per connection for its state), a packet of
 * an existing connection takes only that connection's lock: it looks the connection up under
 * an optimistic read of a StampedLock, locks the connection's record, and validates the stamp
 * (no structural change meanwhile) before updating it. Everything else (a commit, NAT
 * allocation, a lookup the optimistic read lost, sweep, flush, dump, limits) runs under the
 * one Conntrack lock and, where it changes the table, inside a write of the StampedLock, and
 * it takes a connection's lock before changing that connection's state. Two workers seeing
 * the two directions of one connection thus serialise on its lock.
 */
public final class Conntrack
{
    private static final int NAT_BITS = CtState.SNAT | CtState.DNAT;

    // Protocol states of UDP/other and ICMP connections (conntrack-other.c, conntrack-icmp.c).
    private static final int OTHER_FIRST = 0;
    private static final int OTHER_MULTIPLE = 1;
    private static final int OTHER_BIDIR = 2;
    private static final int ICMP_FIRST = 0;
    private static final int ICMP_REPLY = 1;

    private final ConntrackConfig config;
    private final Object lock = new Object();
    /** Written around every structural change; the established path reads optimistically. */
    private final StampedLock structure = new StampedLock();
    private final ConnTable table;
    private final NatAllocator nat;
    private final ZoneLimits limits = new ZoneLimits();
    private final TimeoutPolicy[] policies = new TimeoutPolicy[65536];
    private final int[] zoneConns = new int[65536];
    private final ThreadLocal<Worker> workers = ThreadLocal.withInitial(Worker::new);

    private volatile int maxConnections;
    private volatile boolean tcpSeqCheck = true;
    private final AtomicLong lastNowMs = new AtomicLong(Long.MIN_VALUE);

    // Counters, guarded by lock (fragments/invalid-on-extract are atomics: counted lock-free).
    private long commits;
    private long refusedZoneLimit;
    private long refusedMaxConns;
    private long natExhausted;
    private long expired;
    private final AtomicLong invalid = new AtomicLong();
    private final AtomicLong fragments = new AtomicLong();

    /** Per-thread scratch: nothing is allocated per packet. */
    private static final class Worker
    {
        final ConnKey key = new ConnKey();
        final ConnKey tmp = new ConnKey();
        final ConnKey rev = new ConnKey();
        final ConnKey saved = new ConnKey();
        final KeyExtractor extractor = new KeyExtractor();
        final NatRewriter rewriter = new NatRewriter();
        final NatSpec natSpec = new NatSpec();
        final int[] out = new int[1];
        // process_one's packet metadata while it runs
        int state;
        int mdZone;
        int held;
        boolean reply;
        boolean related;
    }

    public Conntrack(final ConntrackConfig config)
    {
        this.config = config;
        this.maxConnections = config.maxConnections;
        this.table = new ConnTable(Math.min(1024, Math.max(16, config.maxConnections)));
        this.nat = new NatAllocator(table);
    }

    /**
     * Executes one datapath ct action.
     *
     * @param p   the packet, parsed ({@code l3}/{@code l4} offsets valid); NAT rewrites it in place
     *            with checksums fixed
     * @param key the packet's flow key; its conntrack words (ct_state, ct_zone, ct_mark, ct_label,
     *            original-direction tuple) are set as OVS sets the packet metadata; its header
     *            words are left as they are (the datapath parses again on recirculation)
     * @param ct  the action
     * @param nowNanos the time (the packet's timestamp in a replay)
     * @return false when the packet must be dropped (counted here), true otherwise
     */
    public boolean execute(final Packet p, final FlowKey key, final CtAction ct, final long nowNanos)
    {
        final long nowMs = Math.floorDiv(nowNanos, 1_000_000L);
        final int zone = ct.zone();
        if (key.isIpAny() && (key.nwFrag() & FlowKey.FRAG_ANY) != 0)
        {
            fragments.incrementAndGet();
            return false;
        }
        final Worker w = workers.get();
        if (!w.extractor.extract(p, key.dlType(), zone, w.key))
        {
            invalid.incrementAndGet();
            writeMetadata(key, CtState.INV | CtState.TRK, zone, 0, 0, 0, null);
            return true;
        }
        advanceNow(nowMs);
        if (processEstablished(p, key, ct, w, zone, nowMs))
        {
            return true;
        }
        synchronized (lock)
        {
            final long ws = structure.writeLock();
            try
            {
                processOne(p, key, ct, w, zone, nowMs);
            }
            finally
            {
                structure.unlockWrite(ws);
            }
        }
        return true;
    }

    private void advanceNow(final long nowMs)
    {
        long last = lastNowMs.get();
        while (nowMs > last && !lastNowMs.compareAndSet(last, nowMs))
        {
            last = lastNowMs.get();
        }
    }

    /**
     * {@link #processOne} for a packet of a connection that exists and is neither ended by
     * {@code force} nor replaced (the established path), under that connection's lock alone.
     * Returns false, having changed nothing the slow path would see differently, when the
     * packet needs the slow path (no connection, a lost optimistic read, force in the reply
     * direction, the original-tuple lookup, a connection to replace).
     */
    private boolean processEstablished(final Packet p, final FlowKey fk, final CtAction ct, final Worker w,
        final int zone, final long nowMs)
    {
        final long stamp = structure.tryOptimisticRead();
        if (stamp == 0 || w.extractor.icmpRelated)
        {
            return false;
        }
        final ConnKey k = w.key;
        final int mdZone = fk.ctZone();
        int state = fk.ctState();
        if (state != 0 && mdZone != zone)
        {
            state = 0;
        }
        final boolean natted = (state & NAT_BITS) != 0;
        if (natted)
        {
            w.saved.copyFrom(k);
            k.reverse();
        }
        final int[] rec = table.rec;
        int r;
        try
        {
            r = table.lookupOptimistic(rec, k, k.hash(), nowMs, 64);
        }
        catch (final ArrayIndexOutOfBoundsException e)
        {
            r = -1; // the table changed under the read
        }
        if (r < 0)
        {
            if (natted)
            {
                k.copyFrom(w.saved);
            }
            return false;
        }
        final int slot = r >> 1;
        final int b = ConnTable.base(slot);
        ConnTable.lockRec(rec, b);
        final boolean done;
        try
        {
            done = structure.validate(stamp) && updateEstablished(p, fk, ct, w, zone, nowMs, slot, (r & 1) != 0,
                state, mdZone, natted);
        }
        finally
        {
            ConnTable.unlockRec(rec, b);
        }
        if (!done && natted)
        {
            k.copyFrom(w.saved);
        }
        return done;
    }

    /**
     * The established path once the connection's lock is held and the stamp validated: from
     * here the record is the live connection, and no structural change can touch it until it
     * is unlocked (release and grow take its lock). False (nothing the slow path would see
     * differently changed) for force judging the packet a reply or a connection to replace.
     */
    private boolean updateEstablished(final Packet p, final FlowKey fk, final CtAction ct, final Worker w,
        final int zone, final long nowMs, final int slot, final boolean foundReply, final int state,
        final int mdZone, final boolean natted)
    {
        final int flags = ct.flags();
        boolean reply = foundReply;
        if (natted)
        {
            reply = !reply;
            table.key(slot, reply ? 1 : 0, w.key);
        }
        if ((flags & CtAction.F_FORCE) != 0 && forceSeesReply(w, slot, foundReply, reply))
        {
            return false;
        }
        w.mdZone = mdZone;
        w.state = state;
        w.related = false;
        w.reply = reply;
        if (updateState(p, w, slot, nowMs))
        {
            // Replaced (a SYN on a closed TCP connection, now expired): the commit is the slow path's.
            return false;
        }
        if ((flags & CtAction.F_NAT) != 0)
        {
            handleNat(p, w, slot, zone);
        }
        if ((w.state & CtState.INV) != 0)
        {
            invalid.incrementAndGet();
        }
        writeConnMetadata(fk, ct, flags, w, zone, slot);
        return true;
    }

    private void processOne(final Packet p, final FlowKey fk, final CtAction ct, final Worker w, final int zone,
        final long nowMs)
    {
        final ConnKey k = w.key;
        w.mdZone = fk.ctZone();
        w.state = fk.ctState();
        w.related = w.extractor.icmpRelated;
        w.reply = false;
        if (w.state != 0 && w.mdZone != zone)
        {
            w.state = 0; // entering a new zone resets ct_state
        }

        // initial_conn_lookup: a packet NATed by an earlier ct in this zone is found by its reverse.
        final boolean natted = (w.state & NAT_BITS) != 0;
        if (natted)
        {
            k.reverse();
        }
        final int r = table.lookup(k, k.hash(), nowMs);
        int slot = r >> 1;
        w.held = -1; // the connection whose lock this holds
        if (r >= 0)
        {
            w.reply = (r & 1) != 0;
            table.lockRec(slot);
            w.held = slot;
        }
        try
        {
            processFound(p, fk, ct, w, zone, nowMs, slot);
        }
        finally
        {
            if (w.held >= 0)
            {
                table.unlockRec(w.held);
            }
        }
    }

    private void processFound(final Packet p, final FlowKey fk, final CtAction ct, final Worker w, final int zone,
        final long nowMs, final int found)
    {
        final ConnKey k = w.key;
        final int flags = ct.flags();
        final boolean force = (flags & CtAction.F_FORCE) != 0;
        final boolean commit = (flags & (CtAction.F_COMMIT | CtAction.F_FORCE)) != 0;
        final boolean natRequested = (flags & CtAction.F_NAT) != 0;
        final boolean natted = (w.state & NAT_BITS) != 0;
        int slot = found;
        final int r = found >= 0 ? 0 : -1;
        if (natted)
        {
            if (r >= 0)
            {
                w.reply = !w.reply;
                table.key(slot, w.reply ? 1 : 0, k);
            }
            else
            {
                k.reverse();
            }
        }

        if (force && slot >= 0 && forceSeesReply(w, slot, w.reply != natted, w.reply))
        {
            if (w.reply)
            {
                forceExpire(slot);
            }
            else
            {
                // What OVS expired is the un-NAT entry, which never expires: the connection
                // lives on, and this packet goes on without it, taken for a reply. Without nat
                // the original tuple finds the connection again below and its state machine
                // runs in the reply direction (a client's SYN opens the server's half).
                w.reply = true;
            }
            slot = -1;
        }

        boolean createNew = false;
        boolean known = false; // known to be absent: the lookup above, of this very key, found nothing
        if (slot >= 0)
        {
            createNew = updateState(p, w, slot, nowMs);
            if (natRequested && !createNew)
            {
                handleNat(p, w, slot, zone);
            }
        }
        else if (!natRequested && (slot = origTupleLookup(fk, w, nowMs)) >= 0)
        {
            if (w.held != slot)
            {
                if (w.held >= 0)
                {
                    table.unlockRec(w.held);
                }
                table.lockRec(slot);
                w.held = slot;
            }
            createNew = updateState(p, w, slot, nowMs);
        }
        else if (w.related)
        {
            w.state = CtState.INV; // an ICMP error must relate to a connection; it never creates one
        }
        else
        {
            createNew = true;
            known = !natted && found < 0;
        }

        if (createNew)
        {
            slot = -1;
            if (w.held >= 0)
            {
                table.unlockRec(w.held); // done with it; a commit may grow the table, which takes every lock
                w.held = -1;
            }
            if (known || table.lookup(k, k.hash(), nowMs) < 0)
            {
                slot = connNotFound(p, w, ct, commit, natRequested, nowMs);
            }
        }

        if ((w.state & CtState.INV) != 0)
        {
            invalid.incrementAndGet();
        }

        // A connection just committed is not findable by the established path before this
        // returns (its stamp fails), so its mark and label are written without its lock.
        writeConnMetadata(fk, ct, flags, w, zone, slot);
    }

    /**
     * Whether {@code force} takes the packet for a reply and ends the connection, as OVS 3.1.0
     * (the oracle) decides it. There a NATed connection's reply tuple is indexed by a second
     * entry of its own (an un-NAT {@code nat_conn}, keyed on that tuple and pointing back), so
     * a lookup that lands on it reports the original direction, and {@code process_one} tests
     * force on that report before following the entry to its connection. So force passes over
     * a reply to a NATed connection, and a packet already NATed in this zone (looked up by its
     * reverse, the report inverted) is judged a reply when it is in fact original: e.g. a
     * retransmitted SYN DNATed by ct(nat) meeting ct(commit,force). OVS then force-expires
     * the un-NAT entry, to no effect (such entries never expire), and goes on with the packet
     * as a reply without a connection; see {@link #processFound}.
     *
     * <p>A lookup lands on the un-NAT entry only when NAT changed the reply tuple. When it did
     * not (NAT requested, nothing translated), the reply tuple is the original reversed, both
     * entries share a hash chain, and the connection, inserted last, comes first in it.
     *
     * @param foundReply the lookup matched the reply key
     * @param reply      the packet's direction (after the inversion for a NATed packet)
     */
    private boolean forceSeesReply(final Worker w, final int slot, final boolean foundReply, final boolean reply)
    {
        boolean unNat = false;
        if (foundReply && (table.meta(slot) & ConnTable.M_REV) != 0)
        {
            final ConnKey reversed = w.tmp;
            final ConnKey replyKey = w.rev;
            table.key(slot, 0, reversed);
            reversed.reverse();
            table.key(slot, 1, replyKey);
            unNat = !reversed.sameEndpoints(replyKey);
        }
        return reply != unNat;
    }

    /** As {@code write_ct_md}, then set_mark/set_label on the connection ({@code slot} -1: none). */
    private void writeConnMetadata(final FlowKey fk, final CtAction ct, final int flags, final Worker w,
        final int zone, final int slot)
    {
        final ConnKey k = w.key;
        long mark = 0;
        long lHi = 0;
        long lLo = 0;
        ConnKey orig = k;
        if (slot >= 0)
        {
            mark = table.mark(slot) & 0xffffffffL;
            lHi = table.labelHi(slot);
            lLo = table.labelLo(slot);
            table.key(slot, 0, w.tmp);
            orig = w.tmp;
            if ((flags & CtAction.F_MARK) != 0)
            {
                mark = (ct.markValue() | (mark & ~ct.markMask())) & 0xffffffffL;
                table.setMark(slot, (int)mark);
            }
            if ((flags & CtAction.F_LABEL) != 0)
            {
                lHi = ct.labelValueHi() | (lHi & ~ct.labelMaskHi());
                lLo = ct.labelValueLo() | (lLo & ~ct.labelMaskLo());
                table.setLabel(slot, lHi, lLo);
            }
        }
        writeMetadata(fk, w.state | CtState.TRK, zone, mark, lHi, lLo, orig);
    }

    /** As {@code conn_update_state}: returns true when a new connection must replace this one. */
    private boolean updateState(final Packet p, final Worker w, final int slot, final long nowMs)
    {
        if (w.related)
        {
            w.state |= CtState.REL;
            if (w.reply)
            {
                w.state |= CtState.RPL;
            }
            return false;
        }
        switch (connUpdate(p, w, slot, nowMs))
        {
            case TcpTracker.VALID:
                w.state |= CtState.EST;
                w.state &= ~CtState.NEW;
                if (w.reply)
                {
                    w.state |= CtState.RPL;
                }
                return false;
            case TcpTracker.INVALID:
                w.state = CtState.INV;
                return false;
            case TcpTracker.NEW:
                forceExpire(slot);
                return true;
            default: // VALID_NEW
                w.state |= CtState.NEW;
                return false;
        }
    }

    /** The protocol state machine, as OVS dispatches on {@code l4_protos[nw_proto]}. */
    private int connUpdate(final Packet p, final Worker w, final int slot, final long nowMs)
    {
        final int proto = table.proto(slot);
        final int b = ConnTable.l4(slot);
        final int[] l4 = table.rec;
        final int tm;
        final int res;
        if (proto == KeyExtractor.IPPROTO_TCP)
        {
            res = TcpTracker.update(l4, b, p, w.reply, tcpSeqCheck, w.out);
            tm = w.out[0];
        }
        else if (proto == KeyExtractor.IPPROTO_ICMP || proto == KeyExtractor.IPPROTO_ICMPV6)
        {
            int st = l4[b];
            int ret = TcpTracker.VALID;
            if (w.reply && st == ICMP_FIRST)
            {
                st = ICMP_REPLY;
            }
            else if (st == ICMP_FIRST)
            {
                ret = TcpTracker.VALID_NEW;
            }
            l4[b] = st;
            tm = st == ICMP_FIRST ? TimeoutPolicy.ICMP_FIRST : TimeoutPolicy.ICMP_REPLY;
            res = ret;
        }
        else
        {
            int st = l4[b];
            if (w.reply && st != OTHER_BIDIR)
            {
                st = OTHER_BIDIR;
            }
            else if (st == OTHER_FIRST)
            {
                st = OTHER_MULTIPLE;
            }
            l4[b] = st;
            tm = st == OTHER_FIRST ? TimeoutPolicy.UDP_FIRST
                : st == OTHER_MULTIPLE ? TimeoutPolicy.UDP_SINGLE : TimeoutPolicy.UDP_MULTIPLE;
            res = st == OTHER_BIDIR ? TcpTracker.VALID : TcpTracker.VALID_NEW;
        }
        if (tm >= 0)
        {
            table.setExpires(slot, nowMs + policy(table.zone(slot)).millis(tm));
        }
        return res;
    }

    /** As {@code handle_nat}: translate unless already translated in this zone. */
    private void handleNat(final Packet p, final Worker w, final int slot, final int zone)
    {
        final int action = table.natAction(slot);
        if (action != 0 && ((w.state & NAT_BITS) == 0 || zone != w.mdZone))
        {
            w.state &= ~NAT_BITS;
            natPacket(p, w, slot, w.reply, w.related);
        }
    }

    private void natPacket(final Packet p, final Worker w, final int slot, final boolean reply, final boolean related)
    {
        table.key(slot, reply ? 0 : 1, w.rev);
        final int conn = table.natAction(slot);
        final int action = reply ? NatSpec.reverse(conn) : conn;
        w.state |= w.rewriter.natPacket(p, w.rev, action, related);
    }

    /**
     * As {@code check_orig_tuple}: a packet NATed earlier in this zone whose translated tuple
     * is not found is looked up by the original tuple its metadata carries.
     */
    private int origTupleLookup(final FlowKey fk, final Worker w, final long nowMs)
    {
        final long[] kw = fk.words;
        final int origProto = (int)(kw[FlowKey.W_CT] >>> 48) & 0xff;
        if ((w.state & NAT_BITS) == 0 || origProto == 0)
        {
            return -1;
        }
        final ConnKey k = w.key;
        final ConnKey o = w.tmp;
        o.clear();
        o.v6 = k.v6;
        o.zone = w.mdZone;
        o.proto = origProto;
        final int sp = (int)(kw[FlowKey.W_CT_TP] >>> 48) & 0xffff;
        final int dp = (int)(kw[FlowKey.W_CT_TP] >>> 32) & 0xffff;
        if (!k.v6)
        {
            o.srcLo = kw[FlowKey.W_CT_NW] >>> 32;
            o.dstLo = kw[FlowKey.W_CT_NW] & 0xffffffffL;
        }
        else
        {
            o.srcHi = kw[FlowKey.W_CT_IPV6_SRC];
            o.srcLo = kw[FlowKey.W_CT_IPV6_SRC + 1];
            o.dstHi = kw[FlowKey.W_CT_IPV6_DST];
            o.dstLo = kw[FlowKey.W_CT_IPV6_DST + 1];
        }
        if (k.isIcmp())
        {
            final int type = sp & 0xff;
            final int rtype = k.v6 ? (type == 128 ? 129 : type == 129 ? 128 : type) : KeyExtractor.reverseIcmpType(type);
            o.srcTp = (k.srcTp & 0xffff0000) | type << 8;
            o.dstTp = (k.dstTp & 0xffff0000) | rtype << 8;
        }
        else
        {
            o.srcTp = sp << 16;
            o.dstTp = dp << 16;
        }
        final int r = table.lookup(o, o.hash(), nowMs);
        return r >> 1;
    }

    /** As {@code conn_not_found}: +new (or +inv), and on commit a new connection when the limits allow. */
    private int connNotFound(final Packet p, final Worker w, final CtAction ct, final boolean commit,
        final boolean natRequested, final long nowMs)
    {
        final ConnKey k = w.key;
        if (!validNew(p, k))
        {
            w.state = CtState.INV;
            return -1;
        }
        w.state = CtState.NEW;
        if (!commit)
        {
            return -1;
        }
        final int zone = k.zone;
        final int kind = limits.governing(zone);
        if (kind != ZoneLimits.NONE && limits.full(zone, kind))
        {
            refusedZoneLimit++;
            return -1;
        }
        if (table.used >= maxConnections)
        {
            refusedMaxConns++;
            return -1;
        }
        final int slot = table.acquire(maxConnections);
        if (slot < 0)
        {
            refusedMaxConns++;
            return -1;
        }
        final ConnKey rev = w.rev;
        rev.copyFrom(k);
        rev.reverse();
        int meta = ConnTable.M_USED | (k.v6 ? ConnTable.M_V6 : 0) | k.zone << 8 | k.proto;
        if (natRequested)
        {
            final NatSpec ni = w.natSpec;
            ni.from(ct);
            if (!nat.uniqueTuple(k, rev, ni, nowMs))
            {
                natExhausted++;
                releaseUnlinked(slot);
                return -1;
            }
            meta |= ConnTable.M_REV | (ni.action & 0xf) << ConnTable.M_NAT_SHIFT;
        }
        table.setMeta(slot, meta);
        table.setKeys(slot, k, rev);
        table.setMark(slot, 0);
        newConnState(p, slot, nowMs);
        if (natRequested)
        {
            w.state |= w.rewriter.natPacket(p, rev, table.natAction(slot), false);
        }
        table.link(slot);
        table.setLimitTag(slot, limits.admit(zone, kind));
        zoneConns[zone]++;
        commits++;
        return slot;
    }

    private void releaseUnlinked(final int slot)
    {
        table.releaseUnindexed(slot); // never linked: no index nodes to remove
    }

    /** As the protocols' {@code valid_new}, dispatched on the protocol number alone as OVS does. */
    private static boolean validNew(final Packet p, final ConnKey k)
    {
        switch (k.proto)
        {
            case KeyExtractor.IPPROTO_TCP:
                return TcpTracker.validNew(p);
            case KeyExtractor.IPPROTO_ICMP:
            {
                final int t = p.inBuffer(p.l4, 1) ? p.u8(p.l4) : -1;
                return t == 8 || t == 15 || t == 13;
            }
            case KeyExtractor.IPPROTO_ICMPV6:
                return p.inBuffer(p.l4, 1) && p.u8(p.l4) == 128;
            default:
                return true;
        }
    }

    /** As the protocols' {@code new_conn}: initial state and expiry. */
    private void newConnState(final Packet p, final int slot, final long nowMs)
    {
        final int proto = table.proto(slot);
        final int b = ConnTable.l4(slot);
        final int[] l4 = table.rec;
        final int tm;
        if (proto == KeyExtractor.IPPROTO_TCP)
        {
            TcpTracker.init(l4, b, p);
            tm = TimeoutPolicy.TCP_SYN_SENT;
        }
        else
        {
            for (int i = 0; i < ConnTable.L4_INTS; i++)
            {
                l4[b + i] = 0;
            }
            tm = proto == KeyExtractor.IPPROTO_ICMP || proto == KeyExtractor.IPPROTO_ICMPV6
                ? TimeoutPolicy.ICMP_FIRST : TimeoutPolicy.UDP_FIRST;
        }
        table.initExpires(slot, nowMs + policy(table.zone(slot)).millis(tm));
    }

    /** As {@code conn_force_expire}: the connection is dead to lookups; the sweep reclaims it. */
    private void forceExpire(final int slot)
    {
        table.setExpires(slot, Long.MIN_VALUE);
    }

    private void clean(final int slot)
    {
        uncount(slot);
        table.release(slot);
    }

    private void uncount(final int slot)
    {
        final int zone = table.zone(slot);
        limits.release(zone, table.limitTag(slot));
        zoneConns[zone]--;
    }

    private TimeoutPolicy policy(final int zone)
    {
        final TimeoutPolicy tp = policies[zone];
        return tp == null ? TimeoutPolicy.DEFAULT : tp;
    }

    /** Sets the packet metadata words, as {@code write_ct_md}; {@code orig} null: no tuple. */
    private static void writeMetadata(final FlowKey fk, final int state, final int zone, final long mark,
        final long lHi, final long lLo, final ConnKey orig)
    {
        final long[] kw = fk.words;
        final int proto = orig == null ? 0 : orig.proto;
        kw[FlowKey.W_CT] = (long)(state & 0xff) << 56 | (long)proto << 48 | (long)(zone & 0xffff) << 32
            | (mark & 0xffffffffL);
        kw[FlowKey.W_CT_LABEL] = lHi;
        kw[FlowKey.W_CT_LABEL + 1] = lLo;
        long tp = 0;
        if (orig == null)
        {
            kw[FlowKey.W_CT_NW] = 0;
            kw[FlowKey.W_CT_IPV6_SRC] = 0;
            kw[FlowKey.W_CT_IPV6_SRC + 1] = 0;
            kw[FlowKey.W_CT_IPV6_DST] = 0;
            kw[FlowKey.W_CT_IPV6_DST + 1] = 0;
        }
        else
        {
            if (orig.isIcmp())
            {
                tp = (long)(orig.srcTp >>> 8 & 0xff) << 16 | (orig.srcTp & 0xff);
            }
            else
            {
                tp = (long)(orig.srcTp >>> 16) << 16 | (orig.dstTp >>> 16);
            }
            if (!orig.v6)
            {
                kw[FlowKey.W_CT_NW] = orig.srcLo << 32 | (orig.dstLo & 0xffffffffL);
                kw[FlowKey.W_CT_IPV6_SRC] = 0;
                kw[FlowKey.W_CT_IPV6_SRC + 1] = 0;
                kw[FlowKey.W_CT_IPV6_DST] = 0;
                kw[FlowKey.W_CT_IPV6_DST + 1] = 0;
            }
            else
            {
                kw[FlowKey.W_CT_NW] = 0;
                kw[FlowKey.W_CT_IPV6_SRC] = orig.srcHi;
                kw[FlowKey.W_CT_IPV6_SRC + 1] = orig.srcLo;
                kw[FlowKey.W_CT_IPV6_DST] = orig.dstHi;
                kw[FlowKey.W_CT_IPV6_DST + 1] = orig.dstLo;
            }
        }
        kw[FlowKey.W_CT_TP] = tp << 32 | (kw[FlowKey.W_CT_TP] & 0xffffffffL);
    }

    /** Reclaims every connection expired at {@code nowNanos}; returns how many. */
    public int sweep(final long nowNanos)
    {
        final long nowMs = Math.floorDiv(nowNanos, 1_000_000L);
        int n = 0;
        synchronized (lock)
        {
            advanceNow(nowMs);
            // Candidates from the coarse expiries; the write lock only once one has expired.
            long ws = 0;
            try
            {
                final int hw = table.highWater();
                final int[] coarse = table.expiresCoarse;
                final int now = ConnTable.coarse(nowMs);
                for (int s = 0; s < hw; s++)
                {
                    if (coarse[s] <= now && table.inUse(s) && nowMs >= table.expires(s))
                    {
                        if (ws == 0)
                        {
                            ws = structure.writeLock();
                        }
                        table.lockRec(s);
                        // A packet may have refreshed it meanwhile.
                        final boolean still = nowMs >= table.expires(s);
                        if (still)
                        {
                            clean(s);
                            n++;
                        }
                        table.unlockRec(s);
                    }
                }
            }
            finally
            {
                if (ws != 0)
                {
                    structure.unlockWrite(ws);
                }
            }
            expired += n;
        }
        return n;
    }

    /** Connections as {@code ovs-appctl dpctl/dump-conntrack} prints them, one per line, in zone {@code zone} or all when -1. */
    public List<String> dump(final int zone)
    {
        synchronized (lock)
        {
            final long last = lastNowMs.get();
            return dump(zone, last == Long.MIN_VALUE ? Long.MIN_VALUE : last * 1_000_000L);
        }
    }

    /** As {@link #dump(int)}, leaving out connections expired at {@code nowNanos}. */
    public List<String> dump(final int zone, final long nowNanos)
    {
        final long nowMs = Math.floorDiv(nowNanos, 1_000_000L);
        final List<String> lines = new ArrayList<>();
        final ConnKey fwd = new ConnKey();
        final ConnKey rev = new ConnKey();
        final StringBuilder sb = new StringBuilder(160);
        synchronized (lock)
        {
            for (int s = 0; s < table.highWater(); s++)
            {
                if (!table.inUse(s) || (zone >= 0 && table.zone(s) != zone))
                {
                    continue;
                }
                table.lockRec(s);
                try
                {
                    if (nowMs >= table.expires(s))
                    {
                        continue;
                    }
                    table.key(s, 0, fwd);
                    table.key(s, 1, rev);
                    sb.setLength(0);
                    DumpFormat.entry(sb, fwd, rev, table.mark(s) & 0xffffffffL, table.labelHi(s), table.labelLo(s),
                        fwd.proto == KeyExtractor.IPPROTO_TCP ? TcpTracker.dumpState(table.rec, ConnTable.l4(s))
                            : null);
                }
                finally
                {
                    table.unlockRec(s);
                }
                lines.add(sb.toString());
            }
        }
        return lines;
    }

    /** Slots walked per hold of the lock by {@link #checkpoint}: commits wait at most this long. */
    private static final int CHECKPOINT_CHUNK = 4096;

    /**
     * Every live connection at {@code nowNanos} (the packet clock), with the time each has left,
     * stamped with {@code wallMillis} (the wall clock, for the downtime at restore).
     *
     * <p>Packets of established connections keep flowing meanwhile: each connection is copied
     * under its own lock, and the table's lock (which commits and the sweep take) is held for
     * {@value #CHECKPOINT_CHUNK} slots at a time. Each connection is thus copied whole, but the
     * whole is no single instant: a connection committed during the walk into a slot already
     * passed is left for the next checkpoint, as one ended meanwhile may still be in this one.
     */
    public Checkpoint checkpoint(final long nowNanos, final long wallMillis)
    {
        final long nowMs = Math.floorDiv(nowNanos, 1_000_000L);
        int[] out = new int[Checkpoint.ENTRY * 64];
        int n = 0;
        for (int start = 0; ; start += CHECKPOINT_CHUNK)
        {
            synchronized (lock)
            {
                final int hw = table.highWater();
                if (start >= hw)
                {
                    break;
                }
                for (int s = start, end = Math.min(hw, start + CHECKPOINT_CHUNK); s < end; s++)
                {
                    if (!table.inUse(s))
                    {
                        continue;
                    }
                    if ((n + 1) * Checkpoint.ENTRY > out.length)
                    {
                        out = java.util.Arrays.copyOf(out, out.length * 2);
                    }
                    table.lockRec(s);
                    try
                    {
                        if (table.export(s, nowMs, out, n * Checkpoint.ENTRY))
                        {
                            n++;
                        }
                    }
                    finally
                    {
                        table.unlockRec(s);
                    }
                }
            }
        }
        return new Checkpoint(wallMillis, n, out);
    }

    /**
     * Puts a checkpoint's connections into this table at {@code nowNanos} (this process's packet
     * clock), {@code wallMillis} being the wall clock now: each gets the time it had left less
     * the downtime, and one with none left is not restored. Connections are counted against
     * the global and zone limits as commits are; a NATed one takes its translated tuple again.
     * One that cannot be put back (a limit full, a tuple already in the table, an entry that
     * makes no sense) is counted in {@link Checkpoint.Restored#refused()}, never an error.
     *
     * <p>TCP sequence windows are not trusted: traffic moved on between the checkpoint and the
     * restart, so a restored TCP connection learns each direction's window again from the next
     * packet sent that way ({@link TcpTracker#restored}), as Linux's loose pickup does for a
     * connection conntrackd put back, instead of taking those packets for +inv.
     */
    public Checkpoint.Restored restore(final Checkpoint cp, final long nowNanos, final long wallMillis)
    {
        final long started = System.nanoTime();
        final long nowMs = Math.floorDiv(nowNanos, 1_000_000L);
        final long downtime = Math.max(0, wallMillis - cp.wallMillis());
        final int[] e = cp.entries();
        final ConnKey fwd = new ConnKey();
        final ConnKey rev = new ConnKey();
        int restored = 0;
        int expiredNow = 0;
        int refused = 0;
        synchronized (lock)
        {
            advanceNow(nowMs);
            final long ws = structure.writeLock();
            try
            {
                for (int i = 0; i < cp.connections(); i++)
                {
                    final int at = i * Checkpoint.ENTRY;
                    final long left = ConnTable.getLong(e, at + Checkpoint.LEFT) - downtime;
                    if (left <= 0)
                    {
                        expiredNow++;
                    }
                    else if (restoreOne(e, at, nowMs + left, fwd, rev))
                    {
                        restored++;
                    }
                    else
                    {
                        refused++;
                    }
                }
            }
            finally
            {
                structure.unlockWrite(ws);
            }
        }
        return new Checkpoint.Restored(restored, expiredNow, refused, System.nanoTime() - started);
    }

    /** One entry as a committed connection expiring at {@code expiresMs}; false when refused. */
    private boolean restoreOne(final int[] e, final int at, final long expiresMs, final ConnKey fwd, final ConnKey rev)
    {
        final int meta = e[at + Checkpoint.META];
        if (!ConnTable.keysOf(e, at, fwd, rev))
        {
            return false;
        }
        // A tuple already here (unswept ones too, as the NAT allocator counts them) would be found twice.
        if (table.lookupUnswept(fwd, fwd.hash()) >= 0
            || ((meta & ConnTable.M_REV) != 0 && table.lookupUnswept(rev, rev.hash()) >= 0))
        {
            return false;
        }
        final int zone = fwd.zone;
        final int kind = limits.governing(zone);
        if ((kind != ZoneLimits.NONE && limits.full(zone, kind)) || table.used >= maxConnections)
        {
            return false;
        }
        final int slot = table.acquire(maxConnections);
        if (slot < 0)
        {
            return false;
        }
        table.importRecord(slot, e, at, fwd, rev, expiresMs);
        table.link(slot);
        table.setLimitTag(slot, limits.admit(zone, kind));
        zoneConns[zone]++;
        return true;
    }

    /** Removes all connections of {@code zone}, or all when -1. */
    public void flush(final int zone)
    {
        synchronized (lock)
        {
            final long ws = structure.writeLock();
            try
            {
                for (int s = 0; s < table.highWater(); s++)
                {
                    if (table.inUse(s) && (zone < 0 || table.zone(s) == zone))
                    {
                        table.lockRec(s);
                        if (zone < 0)
                        {
                            uncount(s); // the index goes all at once below
                            table.setMeta(s, 0);
                        }
                        else
                        {
                            clean(s);
                        }
                        table.unlockRec(s);
                    }
                }
                if (zone < 0)
                {
                    table.clear();
                }
            }
            finally
            {
                structure.unlockWrite(ws);
            }
        }
    }

    /** As {@code dpctl/ct-set-limits zone=N,limit=M} ({@code zone} -1: {@code default=M}). */
    public void setZoneLimit(final int zone, final long limit)
    {
        synchronized (lock)
        {
            limits.set(zone, limit);
        }
    }

    /** As {@code dpctl/ct-del-limits zone=N}. */
    public void deleteZoneLimit(final int zone)
    {
        synchronized (lock)
        {
            limits.delete(zone);
        }
    }

    /** The limit of {@code zone} (-1: the default), or -1 when none is set. */
    public long zoneLimit(final int zone)
    {
        synchronized (lock)
        {
            return limits.limit(zone);
        }
    }

    /** Connections counted against the limit of {@code zone} (-1: the default limit's shared count). */
    public int zoneLimitCount(final int zone)
    {
        synchronized (lock)
        {
            return limits.count(zone);
        }
    }

    /** As {@code dpctl/ct-set-maxconns}. */
    public void setMaxConnections(final int max)
    {
        maxConnections = max;
    }

    public int maxConnections()
    {
        return maxConnections;
    }

    /** As {@code dpctl/ct-enable-tcp-seq-chk} / {@code ct-disable-tcp-seq-chk}. */
    public void setTcpSeqCheck(final boolean enabled)
    {
        tcpSeqCheck = enabled;
    }

    /**
     * The timeouts of connections in {@code zone} (OVS: a zone's timeout policy), null to go
     * back to the defaults. Applies to existing connections from their next update, as OVS.
     */
    public void setTimeoutPolicy(final int zone, final TimeoutPolicy policy)
    {
        synchronized (lock)
        {
            policies[zone & 0xffff] = policy;
        }
    }

    public TimeoutPolicy timeoutPolicy(final int zone)
    {
        synchronized (lock)
        {
            return policy(zone & 0xffff);
        }
    }

    /** Connections held (including expired ones not yet swept, as OVS's {@code n_conn}). */
    public int connections()
    {
        synchronized (lock)
        {
            return table.used;
        }
    }

    /** Connections held in {@code zone}. */
    public int connections(final int zone)
    {
        synchronized (lock)
        {
            return zoneConns[zone & 0xffff];
        }
    }

    /** Connections created by commits. */
    public long commits()
    {
        synchronized (lock)
        {
            return commits;
        }
    }

    /** Commits refused by a limit: per-zone plus global. */
    public long refusedCommits()
    {
        synchronized (lock)
        {
            return refusedZoneLimit + refusedMaxConns;
        }
    }

    public long refusedByZoneLimit()
    {
        synchronized (lock)
        {
            return refusedZoneLimit;
        }
    }

    public long refusedByMaxConnections()
    {
        synchronized (lock)
        {
            return refusedMaxConns;
        }
    }

    /** Commits that found no free NAT tuple (the packet keeps +new, untranslated). */
    public long natExhausted()
    {
        synchronized (lock)
        {
            return natExhausted;
        }
    }

    /** Packets that came out +inv. */
    public long invalid()
    {
        return invalid.get();
    }

    /** IP fragments dropped (no reassembly). */
    public long fragmentsDropped()
    {
        return fragments.get();
    }

    /** Connections reclaimed by {@link #sweep}. */
    public long expired()
    {
        synchronized (lock)
        {
            return expired;
        }
    }

    /** Bytes held by the connection table's arrays. */
    public long footprintBytes()
    {
        synchronized (lock)
        {
            return table.footprintBytes();
        }
    }

    public ConntrackConfig config()
    {
        return config;
    }
}
