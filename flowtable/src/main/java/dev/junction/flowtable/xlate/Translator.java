package dev.junction.flowtable.xlate;

import dev.junction.flowtable.Bits128;
import dev.junction.flowtable.Field;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.cls.Classifier;
import dev.junction.flowtable.ofp.Action;
import dev.junction.flowtable.ofp.FlowRule;
import dev.junction.flowtable.ofp.FlowTables;

import java.util.List;

/**
 * Translates one packet's flow through the OpenFlow tables into datapath actions, with the
 * semantics of OVS's {@code ofproto-dpif-xlate}: actions change a working copy of the flow,
 * and the differences to what the packet currently is are committed as set/push/pop actions
 * just before each output (so each output sees the rewrites made before it).
 *
 * <p>Translation also yields the megaflow: {@link #wildcards()} is the mask of every key bit a
 * lookup or action examined, finished as OVS finishes it, and {@link #slow()} tells whether the
 * datapath must come back here for every packet (OVS's slow path: ARP, ND and ICMP rewrites).
 *
 * <p>Not thread-safe: one translator per worker.
 */
public final class Translator
{
    /** OVS's MAX_DEPTH: resubmits to the same or an earlier table nest at most this deep. */
    public static final int MAX_DEPTH = 64;
    public static final int MAX_RESUBMITS = MAX_DEPTH * MAX_DEPTH;

    /** Ports that exist on the bridge: outputs elsewhere are dropped, as OVS does. */
    public interface Ports
    {
        boolean exists(int port);

        int[] all();
    }

    private final FlowKey flow = new FlowKey();
    private final FlowKey base = new FlowKey();
    private final FlowKey wc = new FlowKey();
    private final Classifier.Context classifierContext = new Classifier.Context();
    private final long[] scratch = new long[2];
    private final long[] scratchMask = new long[2];
    private final Ports ports;
    private TunnelPorts tunnels = TunnelPorts.NONE;
    private final FrozenStates frozen;
    private final MacLearning macs;
    private long normalSource = -1;
    private int normalPort;
    /** Is the flow's conntrack state valid here (OVS's ctx->conntracked)? */
    private boolean conntracked;
    private FlowTables tables;
    private OdpActions out;
    private TraceSink trace;
    private int depth;
    private int resubmits;
    private int tableId;
    private int packetBytes;
    private boolean error;
    private String errorReason;
    private int controllerCount;
    /** The rule whose actions run now (OVS's ctx->rule), null in thawed frozen actions. */
    private FlowRule currentRule;
    /** The cookie of that rule, or of the rule that froze the thawed actions running now. */
    private long ruleCookie;
    /** Group buckets entered and not left: a packet-in from one has reason "group". */
    private int inBucket;
    private FlowRule[] visited = new FlowRule[16];
    private int visitedCount;
    private boolean accounting = true;
    private boolean slow;

    public Translator(final Ports ports)
    {
        this(ports, new FrozenStates());
    }

    /** @param frozen the recirculation states, shared by every translator of one bridge */
    public Translator(final Ports ports, final FrozenStates frozen)
    {
        this(ports, frozen, new MacLearning());
    }

    /** @param macs the bridge's MAC learning table for NORMAL, shared by its translators */
    public Translator(final Ports ports, final FrozenStates frozen, final MacLearning macs)
    {
        this.ports = ports;
        this.frozen = frozen;
        this.macs = macs;
    }

    public FrozenStates frozenStates()
    {
        return frozen;
    }

    /**
     * Translates {@code key}; returns false when translation failed (recursion too deep), in
     * which case {@code out} is empty and the packet is dropped, as in OVS.
     */
    public boolean translate(final FlowTables tables, final FlowKey key, final int packetBytes,
        final OdpActions out, final TraceSink trace)
    {
        this.tables = tables;
        this.out = out;
        this.trace = trace;
        this.packetBytes = packetBytes;
        flow.copyFrom(key);
        base.copyFrom(key);
        out.clear();
        depth = 0;
        resubmits = 0;
        tableId = 0;
        error = false;
        errorReason = null;
        controllerCount = 0;
        currentRule = null;
        ruleCookie = 0;
        inBucket = 0;
        slow = false;
        visitedCount = 0;
        learned.clear();
        normalSource = -1;
        resetFreezing();
        initWildcards(key);
        int inPort = key.inPort();
        final int recircId = key.recircId();
        if (recircId != 0)
        {
            // A recirculated packet resumes where its translation froze (OVS's thaw).
            final FrozenStates.State state = frozen.get(recircId);
            if (state == null)
            {
                fail("no recirculation context for id " + recircId);
            }
            else
            {
                tableId = state.table;
                conntracked = state.conntracked;
                if (!conntracked)
                {
                    flow.clearConntrack();
                }
                state.thawInto(flow);
                state.thawInto(base);
                inPort = state.inPort();
                flow.inPort(inPort);
                if (trace != null)
                {
                    trace.note(0, "resuming from table " + tableId + " (recirc_id 0x" + Integer.toHexString(recircId) + ")");
                }
            }
        }
        else
        {
            conntracked = (key.ctState() & dev.junction.flowtable.ct.CtState.TRK) != 0;
        }
        if (!error)
        {
            final FrozenStates.State state = recircId != 0 ? frozen.get(recircId) : null;
            if (state != null && state.actions != null)
            {
                thawActions(state.actions);
            }
            else
            {
                topLevel(inPort, tunnelEcn(recircId));
            }
            if (freezing && !error)
            {
                finishFreezing();
            }
        }
        MegaflowMask.finish(key, wc.words);
        if (error)
        {
            out.clear();
            if (trace != null)
            {
                trace.note(0, "translation failed: " + errorReason + "; packet dropped");
            }
        }
        this.trace = null;
        return !error;
    }

    private static final int ECN_KEEP = 0;
    private static final int ECN_MARK_CE = 1;
    private static final int ECN_DROP = 2;

    /**
     * ECN from the outer header, as OVS's tnl_process_ecn after the first lookup: an outer CE
     * marks an ECN-capable inner packet CE and drops one that is not ECN-capable.
     */
    private int tunnelEcn(final int recircId)
    {
        final long[] w = flow.words;
        if (recircId != 0 || !FlowKey.hasTunnel(w))
        {
            return ECN_KEEP;
        }
        Unwildcard.or(wc.words, Field.TUN_TOS, 0x03);
        if ((Field.TUN_TOS.get(w) & 0x03) != 0x03 || !flow.isIpAny())
        {
            return ECN_KEEP;
        }
        Unwildcard.or(wc.words, Field.NW_TOS, 0x03);
        return (Field.NW_TOS.get(w) & 0x03) == 0 ? ECN_DROP : ECN_MARK_CE;
    }

    /** As OVS's xlate_wc_init: fields every translation is considered to have examined. */
    private void initWildcards(final FlowKey key)
    {
        wc.clear();
        final long[] m = wc.words;
        Unwildcard.or(m, Field.IN_PORT, -1L);
        Unwildcard.or(m, Field.DL_TYPE, -1L);
        if (key.isIpAny())
        {
            Unwildcard.or(m, Field.IP_FRAG, 3);
        }
    }

    /** Off while revalidating: re-translating a megaflow is not a packet hitting the rules. */
    public void accounting(final boolean on)
    {
        accounting = on;
    }

    private void visit(final FlowRule rule)
    {
        if (accounting)
        {
            rule.count(packetBytes);
            rule.touch(nowNanos);
        }
        if (visitedCount == visited.length)
        {
            visited = java.util.Arrays.copyOf(visited, visitedCount * 2);
        }
        visited[visitedCount++] = rule;
    }

    /** The rules the last translation went through, once per visit: they share a megaflow's statistics. */
    public FlowRule[] visitedRules()
    {
        return java.util.Arrays.copyOf(visited, visitedCount);
    }

    /** The megaflow mask of the last translation (FlowKey layout). */
    public FlowKey wildcards()
    {
        return wc;
    }

    /** Must every packet of the last translation's megaflow be translated again (slow path)? */
    public boolean slow()
    {
        return slow;
    }

    public String errorReason()
    {
        return errorReason;
    }

    /** The flow as translation left it (after all rewrites). */
    public FlowKey finalFlow()
    {
        return flow;
    }

    /** The first lookup (table 0, or the thawed table): like a resubmit, but at depth 0 and not counted. */
    /**
     * The first lookup and its actions; {@code act} false (a tunnel packet ECN says to drop) still
     * credits the rule found, as OVS looks it up before it checks ECN.
     */
    private void topLevel(final int inPort, final int ecn)
    {
        final FlowRule rule = lookup(inPort, tableId);
        if (trace != null)
        {
            trace.table(depth, tableId, flow, rule);
        }
        if (ecn == ECN_DROP)
        {
            if (trace != null)
            {
                trace.note(0, "dropping tunnel packet marked ECN CE but is not ECN capable");
            }
        }
        else if (ecn == ECN_MARK_CE)
        {
            Field.NW_TOS.set(flow.words, Field.NW_TOS.get(flow.words) | 0x03);
        }
        if (rule != null)
        {
            visit(rule);
            if (ecn != ECN_DROP)
            {
                currentRule = rule;
                ruleCookie = rule.cookie;
                doActions(rule.actions);
            }
        }
    }

    private void tableAction(final int inPort, final int table)
    {
        if (depth >= MAX_DEPTH)
        {
            fail("over max translation depth " + MAX_DEPTH);
            return;
        }
        if (resubmits >= MAX_RESUBMITS)
        {
            fail("over " + MAX_RESUBMITS + " resubmit actions");
            return;
        }
        final int oldTable = tableId;
        tableId = table;
        final FlowRule rule = lookup(inPort, table);
        if (trace != null)
        {
            trace.table(depth, table, flow, rule);
        }
        resubmits++;
        if (rule != null)
        {
            visit(rule);
            final boolean deepens = table <= oldTable;
            if (deepens)
            {
                depth++;
            }
            final FlowRule caller = currentRule;
            final long callerCookie = ruleCookie;
            currentRule = rule;
            ruleCookie = rule.cookie;
            doActions(rule.actions);
            currentRule = caller;
            ruleCookie = callerCookie;
            if (deepens)
            {
                depth--;
            }
        }
        tableId = oldTable;
    }

    /**
     * Looks up with {@code inPort} as the input port and, for IP fragments, with transport
     * ports hidden (OVS's default "normal" fragment handling); both restored afterwards.
     */
    private FlowRule lookup(final int inPort, final int table)
    {
        final long[] w = flow.words;
        final long savedTp = w[FlowKey.W_TP];
        final long savedPort = w[FlowKey.W_IN_PORT];
        if ((flow.nwFrag() & FlowKey.FRAG_ANY) != 0)
        {
            w[FlowKey.W_TP] &= 0x0000_0000_ffff_ffffL;
        }
        flow.inPort(inPort);
        final FlowRule r = tables.lookup(table, flow, wc.words, classifierContext);
        w[FlowKey.W_TP] = savedTp;
        w[FlowKey.W_IN_PORT] = savedPort;
        return r;
    }

    private void fail(final String reason)
    {
        error = true;
        errorReason = reason;
    }

    private void doActions(final List<Action> actions)
    {
        doActions(actions, 0);
    }

    private void doActions(final List<Action> actions, final int from)
    {
        for (int i = from, n = actions.size(); i < n; i++)
        {
            if (error)
            {
                return;
            }
            if (exit)
            {
                // Frozen by a nested action: what is left of this list runs after thawing.
                if (freezing)
                {
                    freezeRest(actions, i);
                }
                return;
            }
            final Action a = actions.get(i);
            if (a instanceof Action.Group)
            {
                if (groupAction(((Action.Group)a).groupId))
                {
                    return; // no such group: OVS ends this action list (not the pipeline)
                }
                if (!error && exit && frozenSegments.isEmpty())
                {
                    // This action froze: it runs again, first, after thawing.
                    freezeRest(actions, i);
                    return;
                }
                continue;
            }
            if (a instanceof Action.Output)
            {
                output(((Action.Output)a).port);
            }
            else if (a instanceof Action.SetField)
            {
                setField((Action.SetField)a);
            }
            else if (a instanceof Action.Resubmit)
            {
                final Action.Resubmit r = (Action.Resubmit)a;
                final int inPort = r.port < 0 || r.port == Action.OFPP_IN_PORT ? flow.inPort() : r.port;
                tableAction(inPort, r.table < 0 ? tableId : r.table);
            }
            else if (a instanceof Action.GotoTable)
            {
                tableAction(flow.inPort(), ((Action.GotoTable)a).table);
            }
            else if (a instanceof Action.Move)
            {
                move((Action.Move)a);
            }
            else if (a instanceof Action.DecTtl)
            {
                if (decTtl())
                {
                    return; // TTL exception: stop this rule's actions, as OVS does
                }
            }
            else if (a instanceof Action.PopVlan)
            {
                popVlan();
            }
            else if (a instanceof Action.PushVlan)
            {
                pushVlan(((Action.PushVlan)a).tpid);
            }
            else if (a instanceof Action.Controller)
            {
                controller((Action.Controller)a);
            }
            else if (a instanceof Action.Ct)
            {
                conntrack((Action.Ct)a);
            }
            else if (a instanceof Action.Learn)
            {
                learn((Action.Learn)a);
            }
            else if (a instanceof Action.CheckPktLarger)
            {
                checkPktLarger((Action.CheckPktLarger)a, actions, i + 1);
                return; // the rest of this list was translated on both branches
            }
            else if (a instanceof Action.CtClear)
            {
                if (conntracked)
                {
                    flow.clearConntrack();
                    out.add0(OdpActions.CT_CLEAR);
                    conntracked = false;
                }
            }
        }
    }

    /**
     * OVS's xlate_check_pkt_larger: pending rewrites are committed, then the rest of this action
     * list is translated twice, into the two branches of a datapath check_pkt_len, first with
     * DST = 1 (the frame is longer than LEN bytes) and then with DST = 0, each from the same flow.
     * Afterwards the flow is as before: actions after the enclosing resubmit see neither
     * branch. One megaflow serves both lengths; its mask is what either branch examined.
     */
    private void checkPktLarger(final Action.CheckPktLarger c, final List<Action> actions, final int from)
    {
        slow |= Commit.commit(flow, base, out, wc.words);
        // Translation is the slow path: a copy per check_pkt_larger is affordable.
        final FlowKey saved = new FlowKey();
        saved.copyFrom(flow);
        final boolean savedConntracked = conntracked;
        final int savedTable = tableId;
        final int at = out.size();
        out.add0(OdpActions.CHECK_PKT_LEN);
        out.operand(c.pktLen);
        out.operand(0);
        out.operand(0);
        boolean exitAfterGt = false;
        for (int larger = 1; larger >= 0 && !error; larger--)
        {
            flow.copyFrom(saved);
            base.copyFrom(saved);
            conntracked = savedConntracked;
            tableId = savedTable;
            exit = false;
            writeBit(c.dst, c.dstOfs, larger);
            if (trace != null)
            {
                trace.note(depth, "check_pkt_larger(" + c.pktLen + "): " + (larger == 1 ? "longer" : "not longer")
                    + " than " + c.pktLen + " bytes");
            }
            final int start = out.size();
            doActions(actions, from);
            if (freezing && !error)
            {
                finishFreezing();
            }
            out.set(at + (larger == 1 ? 2 : 3), out.size() - start);
            if (larger == 1)
            {
                exitAfterGt = exit; // as OVS, a freeze in the first branch leaves ctx->exit set afterwards
            }
        }
        flow.copyFrom(saved);
        base.copyFrom(saved);
        conntracked = savedConntracked;
        tableId = savedTable;
        exit = exitAfterGt;
    }

    /** Writes one bit of {@code f} (OVS's mf_write_subfield_flow of a 1-bit subfield). */
    private void writeBit(final Field f, final int ofs, final int bit)
    {
        final long[] w = flow.words;
        if (f.isWide())
        {
            final int word = f.word + (ofs < 64 ? 1 : 0);
            final long m = 1L << (ofs & 63);
            w[word] = bit != 0 ? w[word] | m : w[word] & ~m;
        }
        else
        {
            f.setMasked(w, (long)bit << ofs, 1L << ofs);
        }
        if (f.isTunMetadata())
        {
            w[FlowKey.W_TUN_GBP] |= 1L << f.tunMetadataSlot();
        }
    }

    private final java.util.List<FlowRule> learned = new java.util.ArrayList<>();
    private long nowNanos;

    /** The datapath's time for this translation: rules met are marked used at it. */
    public void now(final long nanos)
    {
        nowNanos = nanos;
    }

    /** (vlan << 48) | source MAC that NORMAL learned (or would have) in the last translation, or -1. */
    public long normalSource()
    {
        return normalSource;
    }

    /** The input port NORMAL learned {@link #normalSource()} on. */
    public int normalPort()
    {
        return normalPort;
    }

    /** The flows the last translation's learn actions add (empty while revalidating). */
    public java.util.List<FlowRule> learned()
    {
        return learned;
    }

    /**
     * As OVS's xlate_learn_action: the fields a learn reads enter the megaflow; for a real packet
     * the learned flow is built (the datapath adds it after translation, so this translation does
     * not see it). Every packet must run the learn again to refresh the learned flow's timeouts,
     * which OVS does from the megaflow's statistics; here the megaflow goes to the slow path.
     */
    private void learn(final Action.Learn l)
    {
        final long[] v = scratch;
        final long[] m = scratchMask;
        for (final Action.LearnSpec spec : l.specs)
        {
            if (spec.src != null)
            {
                Bits128.lowMask(spec.nBits, m);
                Bits128.shl(m[0], m[1], spec.srcOfs, v);
                orWide(spec.src, v);
            }
        }
        if (accounting)
        {
            learned.add(dev.junction.flowtable.ofp.LearnedFlow.build(l, flow));
        }
        slow = true;
        if (trace != null)
        {
            trace.note(depth, "learn: table " + l.table + " "
                + dev.junction.flowtable.ofp.FlowPrinter.flowLine(dev.junction.flowtable.ofp.LearnedFlow.build(l, flow)));
        }
    }

    private final long[] ctLabel = new long[2];
    private final long[] ctLabelMask = new long[2];
    private final long[] natMin = new long[2];
    private final long[] natMax = new long[2];

    /**
     * As OVS's compose_conntrack_action: pending rewrites are committed first (conntrack sees the
     * packet as rewritten so far), nested exec actions write ct_mark/ct_label into the flow and
     * only the bits they wrote go to the datapath action; with a table the packet recirculates
     * (translation forks: the actions after ct go on with the state from before it); either way
     * the conntrack fields read as cleared afterwards.
     */
    private void conntrack(final Action.Ct ct)
    {
        final long[] m = wc.words;
        int zone = ct.zone;
        if (ct.zoneField != null)
        {
            zone = (int)((ct.zoneField.get(flow.words) >>> ct.zoneOfs) & 0xffff);
            Unwildcard.or(m, ct.zoneField, 0xffffL << ct.zoneOfs);
        }
        slow |= Commit.commit(flow, base, out, m);

        final long oldCt = m[FlowKey.W_CT];
        final long oldLabelHi = m[FlowKey.W_CT_LABEL];
        final long oldLabelLo = m[FlowKey.W_CT_LABEL + 1];
        m[FlowKey.W_CT] &= ~0xffff_ffffL;
        m[FlowKey.W_CT_LABEL] = 0;
        m[FlowKey.W_CT_LABEL + 1] = 0;
        for (final Action a : ct.exec)
        {
            if (a instanceof Action.SetField)
            {
                setField((Action.SetField)a);
            }
            else if (a instanceof Action.Move)
            {
                move((Action.Move)a);
            }
        }
        final long markMask = m[FlowKey.W_CT] & 0xffff_ffffL;
        final long markValue = flow.words[FlowKey.W_CT] & markMask;
        ctLabelMask[0] = m[FlowKey.W_CT_LABEL];
        ctLabelMask[1] = m[FlowKey.W_CT_LABEL + 1];
        ctLabel[0] = flow.words[FlowKey.W_CT_LABEL] & ctLabelMask[0];
        ctLabel[1] = flow.words[FlowKey.W_CT_LABEL + 1] & ctLabelMask[1];
        m[FlowKey.W_CT] = (m[FlowKey.W_CT] & ~0xffff_ffffL) | (oldCt & 0xffff_ffffL);
        m[FlowKey.W_CT_LABEL] = oldLabelHi;
        m[FlowKey.W_CT_LABEL + 1] = oldLabelLo;

        int flags = 0;
        flags |= ct.commit ? dev.junction.flowtable.ct.CtAction.F_COMMIT : 0;
        flags |= ct.force ? dev.junction.flowtable.ct.CtAction.F_FORCE : 0;
        flags |= markMask != 0 ? dev.junction.flowtable.ct.CtAction.F_MARK : 0;
        flags |= (ctLabelMask[0] | ctLabelMask[1]) != 0 ? dev.junction.flowtable.ct.CtAction.F_LABEL : 0;
        natMin[0] = 0;
        natMin[1] = 0;
        natMax[0] = 0;
        natMax[1] = 0;
        int minPort = 0;
        int maxPort = 0;
        final Action.Nat nat = ct.nat;
        if (nat != null)
        {
            flags |= dev.junction.flowtable.ct.CtAction.F_NAT;
            if (nat.kind != Action.Nat.NONE)
            {
                flags |= nat.kind == Action.Nat.SRC ? dev.junction.flowtable.ct.CtAction.F_NAT_SRC
                    : dev.junction.flowtable.ct.CtAction.F_NAT_DST;
                flags |= nat.persistent ? dev.junction.flowtable.ct.CtAction.F_NAT_PERSISTENT : 0;
                flags |= nat.hash ? dev.junction.flowtable.ct.CtAction.F_NAT_HASH : 0;
                flags |= nat.random ? dev.junction.flowtable.ct.CtAction.F_NAT_RANDOM : 0;
                if (nat.hasAddr)
                {
                    flags |= dev.junction.flowtable.ct.CtAction.F_NAT_ADDR;
                    flags |= nat.v6 ? dev.junction.flowtable.ct.CtAction.F_NAT_V6 : 0;
                    natMin[0] = nat.minHi;
                    natMin[1] = nat.minLo;
                    natMax[0] = nat.maxHi;
                    natMax[1] = nat.maxLo;
                    if (nat.hasPorts)
                    {
                        flags |= dev.junction.flowtable.ct.CtAction.F_NAT_PORTS;
                        minPort = nat.minPort;
                        maxPort = nat.maxPort;
                    }
                }
            }
        }
        dev.junction.flowtable.ct.CtAction.append(out, flags, zone, markValue, markMask, ctLabel, ctLabelMask,
            natMin, natMax, minPort, maxPort);
        if (ct.table != Action.Ct.NO_TABLE)
        {
            final int id = frozen.idFor(ct.table, true, flow);
            if (id == 0)
            {
                fail("recirculation ids exhausted (" + frozen.size() + " frozen states)");
                return;
            }
            out.add1(OdpActions.RECIRC, id);
            if (trace != null)
            {
                trace.note(depth, "recirculates to table " + ct.table + " as recirc_id 0x" + Integer.toHexString(id));
            }
        }
        flow.clearConntrack();
        conntracked = false;
    }

    private void output(final int port)
    {
        final int inPort = flow.inPort();
        switch (port)
        {
            case Action.OFPP_IN_PORT:
                emitOutput(inPort);
                break;
            case Action.OFPP_TABLE:
                tableAction(inPort, 0);
                break;
            case Action.OFPP_NORMAL:
                normal(inPort);
                break;
            case Action.OFPP_FLOOD:
            case Action.OFPP_ALL:
                for (final int p : ports.all())
                {
                    if (p != inPort)
                    {
                        emitOutput(p);
                    }
                }
                break;
            case Action.OFPP_CONTROLLER:
                controller(0xffff);
                break;
            case Action.OFPP_NONE:
                break;
            default:
                if (port != inPort)
                {
                    emitOutput(port);
                }
                else if (trace != null)
                {
                    trace.note(depth, "skipping output to input port");
                }
                break;
        }
    }

    /**
     * NORMAL as OVS's xlate_normal for ports in the default (trunk) mode: reserved link-local
     * destinations are dropped, the source is learned (real packets only), a learned unicast
     * destination gets the packet unless it is the input port, anything else floods.
     */
    private void normal(final int inPort)
    {
        Unwildcard.or(wc.words, Field.DL_SRC, -1L);
        Unwildcard.or(wc.words, Field.DL_DST, -1L);
        wc.words[FlowKey.W_VLAN] |= 0x1fffL << 32;
        final long dst = Field.DL_DST.get(flow.words);
        final long src = Field.DL_SRC.get(flow.words);
        final int tci = flow.vlanTci(0);
        final int vlan = (tci & FlowKey.VLAN_CFI) != 0 ? tci & 0xfff : 0;
        if (MacLearning.isReserved(dst))
        {
            if (trace != null)
            {
                trace.note(depth, "packet has reserved destination MAC, dropping");
            }
            return;
        }
        if (accounting)
        {
            macs.learn(vlan, src, inPort, nowNanos);
        }
        if (!MacLearning.isMulticast(src))
        {
            normalSource = (long)vlan << 48 | src;
            normalPort = inPort;
        }
        final int learned = MacLearning.isMulticast(dst) ? -1 : macs.lookup(vlan, dst);
        if (learned >= 0)
        {
            if (learned != inPort)
            {
                emitOutput(learned);
            }
            else if (trace != null)
            {
                trace.note(depth, "learned port is input port, dropping");
            }
            return;
        }
        for (final int p : ports.all())
        {
            if (p != inPort)
            {
                emitOutput(p);
            }
        }
    }

    /** OVS's packet-in reasons (enum ofp_packet_in_reason) a translation can give. */
    private static final int REASON_ACTION = 1;
    private static final int REASON_INVALID_TTL = 2;
    private static final int REASON_GROUP = 4;
    private static final int REASON_EXPLICIT_MISS = 6;

    /**
     * The controller action: its short form is an output to CONTROLLER (reason from where it
     * runs), anything else names its reason, controller id and userdata, as OVS's
     * OFPACT_CONTROLLER. The meter id has no effect: Junction has no meters, and OVS with an
     * unknown meter id emits the same action.
     */
    private void controller(final Action.Controller c)
    {
        if (c.isPlainOutput())
        {
            controller(c.maxLen);
            return;
        }
        controller(explicitMiss(c.reason), c.maxLen, c.controllerId, c.userdata());
    }

    /** Output to the controller (the plain {@code controller} action or {@code output:controller}). */
    private void controller(final int maxLen)
    {
        controller(explicitMiss(inBucket > 0 ? REASON_GROUP : REASON_ACTION), maxLen, 0, null);
    }

    /** As OVS: a packet-in with reason action from a table-miss rule's actions is an explicit miss. */
    private int explicitMiss(final int reason)
    {
        return reason == REASON_ACTION && currentRule != null && currentRule.priority == 0 && isCatchAll(currentRule)
            ? REASON_EXPLICIT_MISS : reason;
    }

    private static boolean isCatchAll(final FlowRule r)
    {
        for (final long m : r.match.mask.words)
        {
            if (m != 0)
            {
                return false;
            }
        }
        return true;
    }

    /**
     * As OVS's xlate_controller_action: pending rewrites are committed (the packet-in carries the
     * packet as rewritten so far), and the state a continuation would resume from gets an id from
     * the recirculation pool, which the datapath action carries with the reason, the rule's
     * cookie, the controller id and max_len. The userdata is frozen with the state, as OVS keeps
     * it in the frozen state (so equal states with other userdata get other ids): the packet-in
     * handler finds it, and the table, under the id.
     */
    private void controller(final int reason, final int maxLen, final int controllerId, final byte[] userdata)
    {
        controllerCount++;
        slow |= Commit.commit(flow, base, out, wc.words);
        // OVS fails the translation when no id is left, but frees ids with their megaflows; Junction
        // keeps every state, so a full pool must not cost the packet its other actions: the id,
        // only a label of the packet-in here, is then 0 (the refusal is counted).
        final int id = frozen.controllerIdFor(tableId, conntracked, flow, userdata);
        out.add0(OdpActions.CONTROLLER);
        out.operand(reason);
        out.operand(id);
        out.operand(ruleCookie);
        out.operand(controllerId);
        out.operand(maxLen);
    }

    private void emitOutput(final int port)
    {
        if (port != Action.OFPP_LOCAL && !ports.exists(port))
        {
            if (trace != null)
            {
                trace.note(depth, "nonexistent output port " + port);
            }
            return;
        }
        slow |= Commit.commit(flow, base, out, wc.words);
        if (tunnels.isTunnel(port))
        {
            final String why = tunnels.push(port, flow, wc.words, out);
            if (why != null && trace != null)
            {
                trace.note(depth, "output to tunnel port " + port + " dropped: " + why);
            }
            return;
        }
        out.add1(OdpActions.OUTPUT, port);
    }

    /** The bridge's tunnel ports (none unless set): outputs to them become tunnel pushes. */
    public Translator tunnels(final TunnelPorts t)
    {
        this.tunnels = t;
        return this;
    }

    private boolean decTtl()
    {
        // OVS examines TTL and protocol before it even checks for an IP header.
        wc.words[FlowKey.W_NW] |= Unwildcard.NW_TTL | Unwildcard.NW_PROTO;
        if (!flow.isIpAny())
        {
            return false;
        }
        final int ttl = flow.nwTtl();
        if (ttl > 1)
        {
            Field.NW_TTL.set(flow.words, ttl - 1);
            return false;
        }
        // OVS sends to controller id 0 with reason invalid_ttl; without a controller it is a drop.
        controller(REASON_INVALID_TTL, 0xffff, 0, null);
        if (trace != null)
        {
            trace.note(depth, "IPv" + (flow.isIpv4() ? 4 : 6) + " decrement TTL exception");
        }
        return true;
    }

    private void popVlan()
    {
        final long[] w = flow.words;
        if (Unwildcard.vlanCount(w[FlowKey.W_VLAN]) > 1)
        {
            wc.words[FlowKey.W_VLAN] |= Unwildcard.VLAN1_TAG;
        }
        // Shift the inner tag out: vlans[0] = vlans[1], vlans[1] = 0.
        w[FlowKey.W_VLAN] = (w[FlowKey.W_VLAN] & 0xffffffffL) << 32;
    }

    private void pushVlan(final int tpid)
    {
        final long[] w = flow.words;
        final int n = Unwildcard.vlanCount(w[FlowKey.W_VLAN]);
        if (n > 0)
        {
            wc.words[FlowKey.W_VLAN] |= n == 1 ? Unwildcard.VLAN0_TAG : -1L;
        }
        final long outer = (w[FlowKey.W_VLAN] >>> 32) & 0xffffffffL;
        w[FlowKey.W_VLAN] = (((long)tpid << 16 | FlowKey.VLAN_CFI) << 32) | outer;
    }

    private void setField(final Action.SetField a)
    {
        final Field f = a.field;
        final long[] m = wc.words;
        final boolean pcp = f == Field.VLAN_TCI && a.mask == 0xf000;
        if (pcp)
        {
            m[FlowKey.W_VLAN] |= Unwildcard.VLAN0_CFI; // vlan_pcp's prerequisite examines the tag
        }
        final boolean pcpWithoutTag = pcp && (flow.vlanTci(0) & FlowKey.VLAN_CFI) == 0;
        if (!Unwildcard.prereqs(f.prereq, flow, m) || pcpWithoutTag)
        {
            if (trace != null)
            {
                trace.note(depth, "unmet prerequisites for " + f.canonicalName() + ", set_field ignored");
            }
            return;
        }
        Unwildcard.setFieldL3(f, flow, m);
        if (f.isWide())
        {
            m[f.word] |= a.maskHi;
            m[f.word + 1] |= a.mask;
        }
        else
        {
            Unwildcard.or(m, f, a.mask);
        }
        final long[] w = flow.words;
        if (f.isWide())
        {
            w[f.word] = (w[f.word] & ~a.maskHi) | (a.valueHi & a.maskHi);
            w[f.word + 1] = (w[f.word + 1] & ~a.mask) | (a.value & a.mask);
            return;
        }
        f.setMasked(w, a.value, a.mask);
        if (f.isTunMetadata())
        {
            w[FlowKey.W_TUN_GBP] |= 1L << f.tunMetadataSlot(); // the option is now present
        }
        if (f == Field.VLAN_TCI)
        {
            fixVlanTpid();
        }
    }

    /** A tag set on an untagged packet gets TPID 0x8100, as OVS's flow_fix_vlan_tpid. */
    private void fixVlanTpid()
    {
        final long[] w = flow.words;
        if (flow.vlanTpid(0) == 0 && flow.vlanTci(0) != 0)
        {
            w[FlowKey.W_VLAN] |= 0x8100L << 48;
        }
    }

    private void move(final Action.Move a)
    {
        // OVS checks the destination's prerequisites first, and stops at the first failure.
        if (!Unwildcard.prereqs(a.dst.prereq, flow, wc.words) || !Unwildcard.prereqs(a.src.prereq, flow, wc.words))
        {
            return;
        }
        final long[] w = flow.words;
        final long[] v = scratch;
        final long[] m = scratchMask;
        // Both the bits read and the bits written enter the megaflow.
        Bits128.lowMask(a.nBits, m);
        Bits128.shl(m[0], m[1], a.srcOfs, v);
        orWide(a.src, v);
        Bits128.shl(m[0], m[1], a.dstOfs, v);
        orWide(a.dst, v);
        // Read the source as 128 bits, cut out the range, and shift it to the destination's place.
        if (a.src.isWide())
        {
            Bits128.shr(w[a.src.word], w[a.src.word + 1], a.srcOfs, v);
        }
        else
        {
            Bits128.shr(0, a.src.get(w), a.srcOfs, v);
        }
        Bits128.lowMask(a.nBits, m);
        Bits128.shl(v[0] & m[0], v[1] & m[1], a.dstOfs, v);
        Bits128.shl(m[0], m[1], a.dstOfs, m);
        if (a.dst.isWide())
        {
            w[a.dst.word] = (w[a.dst.word] & ~m[0]) | v[0];
            w[a.dst.word + 1] = (w[a.dst.word + 1] & ~m[1]) | v[1];
        }
        else
        {
            a.dst.setMasked(w, v[1], m[1]);
        }
        if (a.dst.isTunMetadata())
        {
            w[FlowKey.W_TUN_GBP] |= 1L << a.dst.tunMetadataSlot();
        }
        if (a.dst == Field.VLAN_TCI)
        {
            fixVlanTpid();
        }
    }

    private void orWide(final Field f, final long[] bits)
    {
        if (f.isWide())
        {
            wc.words[f.word] |= bits[0];
            wc.words[f.word + 1] |= bits[1];
        }
        else
        {
            Unwildcard.or(wc.words, f, bits[1]);
        }
    }

    public int controllerCount()
    {
        return controllerCount;
    }

    // ---- Groups and freezing (OVS's xlate_group_action and the freeze/thaw of ofproto-dpif-xlate) ----

    /** OVS's MAX_LIVENESS_RECURSION: watch_group chains are followed at most this deep. */
    private static final int MAX_LIVENESS_RECURSION = 128;

    /** Translation stops unwinding (OVS's ctx->exit); set by freezing. */
    private boolean exit;
    /** Translation is being frozen: the actions left go to {@link #frozenSegments}. */
    private boolean freezing;
    /** The recirculation must be preceded by a datapath hash action (a dp_hash select group). */
    private boolean recircUpdateDpHash;
    private int dpHashAlg;
    private int dpHashBasis;
    private java.util.List<FrozenStates.Segment> frozenSegments = new java.util.ArrayList<>();

    private void resetFreezing()
    {
        exit = false;
        freezing = false;
        recircUpdateDpHash = false;
        if (!frozenSegments.isEmpty())
        {
            frozenSegments = new java.util.ArrayList<>();
        }
    }

    /** Appends {@code actions[from..]} to the frozen actions, with the current table to resume in. */
    private void freezeRest(final List<Action> actions, final int from)
    {
        final List<Action> rest = new java.util.ArrayList<>();
        for (int i = from; i < actions.size(); i++)
        {
            final Action a = actions.get(i);
            // As OVS: goto_table is frozen as the equivalent resubmit; notes need not be kept.
            if (a instanceof Action.GotoTable)
            {
                rest.add(new Action.Resubmit(Action.OFPP_IN_PORT, ((Action.GotoTable)a).table));
            }
            else if (!(a instanceof Action.Note))
            {
                rest.add(a);
            }
        }
        if (!rest.isEmpty())
        {
            frozenSegments.add(new FrozenStates.Segment(tableId, ruleCookie, List.copyOf(rest)));
        }
    }

    /** Runs a thawed state's frozen actions, level by level, as OVS runs frozen ofpacts. */
    private void thawActions(final List<FrozenStates.Segment> segments)
    {
        for (int s = 0; s < segments.size(); s++)
        {
            if (error)
            {
                return;
            }
            if (exit)
            {
                if (freezing)
                {
                    for (int r = s; r < segments.size(); r++)
                    {
                        frozenSegments.add(segments.get(r));
                    }
                }
                return;
            }
            tableId = segments.get(s).table();
            ruleCookie = segments.get(s).cookie();
            doActions(segments.get(s).actions());
        }
    }

    /**
     * Ends freezing: pending rewrites are committed, the state (metadata, frozen actions) gets a
     * recirculation id, and the datapath is told to hash (for dp_hash) and recirculate.
     */
    private void finishFreezing()
    {
        slow |= Commit.commit(flow, base, out, wc.words);
        final int id = frozen.idFor(0, conntracked, flow, frozenSegments);
        if (id == 0)
        {
            fail("recirculation ids exhausted (" + frozen.size() + " frozen states)");
            freezing = false;
            recircUpdateDpHash = false;
            frozenSegments = new java.util.ArrayList<>();
            return;
        }
        if (recircUpdateDpHash)
        {
            out.add2(OdpActions.HASH, dpHashAlg, dpHashBasis);
        }
        out.add1(OdpActions.RECIRC, id);
        if (trace != null)
        {
            trace.note(depth, "frozen: recirculates as recirc_id 0x" + Integer.toHexString(id)
                + (recircUpdateDpHash ? " after computing dp_hash" : ""));
        }
        freezing = false;
        recircUpdateDpHash = false;
        frozenSegments = new java.util.ArrayList<>();
    }

    /** Returns true when the group does not exist (the action list ends there, as in OVS). */
    private boolean groupAction(final long groupId)
    {
        if (depth >= MAX_DEPTH)
        {
            fail("over max translation depth " + MAX_DEPTH);
            return false;
        }
        if (resubmits >= MAX_RESUBMITS)
        {
            fail("over " + MAX_RESUBMITS + " resubmit actions");
            return false;
        }
        final dev.junction.flowtable.ofp.Group g = tables.groups().get(groupId);
        if (g == null)
        {
            if (trace != null)
            {
                trace.note(depth, "output to nonexistent group " + groupId);
            }
            return true;
        }
        switch (g.type)
        {
            case ALL:
            case INDIRECT:
                for (final dev.junction.flowtable.ofp.Bucket b : g.buckets)
                {
                    groupBucket(b);
                }
                break;
            case SELECT:
            {
                final dev.junction.flowtable.ofp.Bucket b = pickSelect(g);
                if (b != null)
                {
                    groupBucket(b);
                }
                else if (trace != null && !freezing)
                {
                    trace.note(depth, "group " + groupId + ": no live bucket");
                }
                break;
            }
            case FF:
            {
                final dev.junction.flowtable.ofp.Bucket b = firstLiveBucket(g, 0);
                if (b != null)
                {
                    groupBucket(b);
                }
                break;
            }
            default:
                break;
        }
        return false;
    }

    /**
     * Runs one bucket on a copy of the flow (each bucket sees the packet as it was before the
     * group, as OVS clones it); a freeze inside the bucket ends there with its own recirculation.
     */
    private void groupBucket(final dev.junction.flowtable.ofp.Bucket bucket)
    {
        if (trace != null)
        {
            trace.note(depth, "bucket " + bucket.bucketId);
        }
        final FlowKey old = new FlowKey();
        old.copyFrom(flow);
        depth++;
        inBucket++;
        doActions(bucket.executed);
        inBucket--;
        depth--;
        if (freezing && !error)
        {
            finishFreezing();
        }
        flow.copyFrom(old);
        exit = false;
    }

    private dev.junction.flowtable.ofp.Bucket pickSelect(final dev.junction.flowtable.ofp.Group g)
    {
        switch (g.selection)
        {
            case DEFAULT:
                SelectHash.maskSymmetricL4(flow, wc.words);
                return bestLiveBucket(g, OvsHash.symmetricL4(flow, 0));
            case HASH:
                return bestLiveBucket(g, SelectHash.fields(g, flow, wc.words));
            case DP_HASH:
            {
                final int dpHash = (int)flow.words[FlowKey.W_DP_HASH];
                if (dpHash == 0)
                {
                    // Not computed yet: the datapath hashes, recirculates, and this group runs again.
                    exit = true;
                    freezing = true;
                    recircUpdateDpHash = true;
                    dpHashAlg = g.hashAlg;
                    dpHashBasis = g.hashBasis;
                    return null;
                }
                wc.words[FlowKey.W_DP_HASH] |= g.hashMask & 0xffff_ffffL;
                for (int i = 0; i <= g.hashMask; i++)
                {
                    final dev.junction.flowtable.ofp.Bucket b = g.hashBucket((dpHash + i) & g.hashMask);
                    if (bucketAlive(g, b, 0))
                    {
                        return b;
                    }
                }
                return null;
            }
            default:
                return null;
        }
    }

    /** OVS's group_best_live_bucket: the highest score (ties: the later bucket) among live buckets. */
    private dev.junction.flowtable.ofp.Bucket bestLiveBucket(final dev.junction.flowtable.ofp.Group g,
        final int basis)
    {
        dev.junction.flowtable.ofp.Bucket best = null;
        long bestScore = 0;
        for (final dev.junction.flowtable.ofp.Bucket b : g.buckets)
        {
            if (bucketAlive(g, b, 0))
            {
                final long score = (OvsHash.hashInt((int)b.bucketId, basis) & 0xffffL) * b.weight;
                if (score >= bestScore)
                {
                    best = b;
                    bestScore = score;
                }
            }
        }
        return best;
    }

    private dev.junction.flowtable.ofp.Bucket firstLiveBucket(final dev.junction.flowtable.ofp.Group g,
        final int depth)
    {
        for (final dev.junction.flowtable.ofp.Bucket b : g.buckets)
        {
            if (bucketAlive(g, b, depth))
            {
                return b;
            }
        }
        return null;
    }

    /** OVS's bucket_is_alive: every port of the bridge is up here; there is no controller. */
    private boolean bucketAlive(final dev.junction.flowtable.ofp.Group g, final dev.junction.flowtable.ofp.Bucket b,
        final int livenessDepth)
    {
        if (livenessDepth >= MAX_LIVENESS_RECURSION)
        {
            return false;
        }
        if (g.type == dev.junction.flowtable.ofp.Group.Type.SELECT && b.weight == 0)
        {
            return false;
        }
        if (!b.hasLiveness())
        {
            return true;
        }
        if (b.watchPort != dev.junction.flowtable.ofp.Bucket.WATCH_PORT_NONE && b.watchPort != Action.OFPP_CONTROLLER
            && ports.exists(b.watchPort))
        {
            return true;
        }
        if (b.watchGroup != dev.junction.flowtable.ofp.Bucket.WATCH_GROUP_NONE)
        {
            final dev.junction.flowtable.ofp.Group w = tables.groups().get(b.watchGroup);
            return w != null && firstLiveBucket(w, livenessDepth + 1) != null;
        }
        return false;
    }
}
