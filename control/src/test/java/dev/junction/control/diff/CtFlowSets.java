package dev.junction.control.diff;

import java.util.ArrayList;
import java.util.List;

import static dev.junction.control.diff.CtTraceFactory.CLIENT_PORT;
import static dev.junction.control.diff.CtTraceFactory.SERVER_PORT;

/**
 * Flow-table templates for the conntrack differential tests, in the forms OVN and Kubernetes
 * datapaths use ({@code ovs-ofctl add-flows} syntax, OpenFlow 1.5). Every variant implements one
 * policy, so that a trace's expected fate does not depend on the variant (see
 * {@link CtTraceFactory.Step#expectedOutput()}): connections may be opened from port 1 only
 * (committed), established and related packets cross to the other port, invalid packets and
 * server-initiated new connections are dropped. What varies is the mechanism: zone immediate or
 * from a register, one zone or two in sequence with or without {@code ct_clear}, the post-ct
 * table (including OVN's recirculation into table 0 on {@code ct_state=-trk}), marks and labels
 * set at commit and matched later, {@code ct_zone} matches, registers carried across
 * recirculation, {@code force}, {@code ct_clear} before output, SNAT/DNAT with or without a
 * recirculation after the NAT, and extra rules matching the original-direction tuple
 * ({@code ct_nw_src} ...) that tag what they match with a VLAN so their effect shows in the output.
 */
final class CtFlowSets
{
    enum ZoneMode
    {
        IMMEDIATE, REG_LOAD, REG_SET_FIELD
    }

    enum MarkMode
    {
        NONE, SET_FIELD, LOAD
    }

    enum Nat
    {
        NONE, SNAT, DNAT
    }

    /** VLAN pushed on established/related packets of connections carrying the second mark. */
    static final int MARK_B_VLAN = 77;

    /**
     * One flow set's features.
     *
     * @param zone          the (first) zone
     * @param zoneB         0 for one zone, else the second zone the packets go through
     * @param ctTable       the table ct recirculates to (0: OVN style, table 0 with ct_state=-trk)
     * @param markA         ct_mark committed on TCP connections (markMode != NONE)
     * @param markB         ct_mark committed on all other connections
     * @param markMask      the mask est/rel rules match ct_mark with
     * @param label         ct_label value set at commit ("0x..."), or null
     * @param labelMask     its mask ("0x..."), or null for an unmasked set and match
     * @param reg           register carried across recirculation (0: none), value regValue
     * @param natPortTcp    DNAT backend port for TCP to the VIP (0: keep the port)
     * @param natRecirc     NAT commit with table= (recirculate after NAT) instead of output directly
     * @param tupleRules    extra priority-150 rules (ct_nw_src ... matches), already complete
     */
    record Config(
        int zone, ZoneMode zoneMode, int zoneB, boolean ctClearBetweenZones, int ctTable,
        MarkMode markMode, long markA, long markB, long markMask,
        String label, String labelMask,
        boolean matchZone, int reg, long regValue, boolean force, boolean ctClearBeforeOutput,
        Nat nat, int vipPortTcp, int natPortTcp, int vipPortUdp, int natPortUdp, boolean natRecirc,
        List<String> tupleRules)
    {
        /** The simplest flow set: one immediate zone, table 1, nothing else. */
        static Config basic(final int zone)
        {
            return new Config(zone, ZoneMode.IMMEDIATE, 0, false, 1, MarkMode.NONE, 0, 0, 0, null, null, false, 0, 0,
                false, false, Nat.NONE, 0, 0, 0, 0, false, List.of());
        }

        Config withZoneB(final int b, final boolean ctClear)
        {
            return new Config(zone, zoneMode, b, ctClear, ctTable, markMode, markA, markB, markMask, label,
                labelMask, matchZone, reg, regValue, force, ctClearBeforeOutput, nat, vipPortTcp, natPortTcp,
                vipPortUdp, natPortUdp, natRecirc, tupleRules);
        }

        Config withMarks(final MarkMode mode, final long a, final long b, final long mask)
        {
            return new Config(zone, zoneMode, zoneB, ctClearBetweenZones, ctTable, mode, a, b, mask, label,
                labelMask, matchZone, reg, regValue, force, ctClearBeforeOutput, nat, vipPortTcp, natPortTcp,
                vipPortUdp, natPortUdp, natRecirc, tupleRules);
        }

        Config withLabel(final String value, final String mask)
        {
            return new Config(zone, zoneMode, zoneB, ctClearBetweenZones, ctTable, markMode, markA, markB, markMask,
                value, mask, matchZone, reg, regValue, force, ctClearBeforeOutput, nat, vipPortTcp, natPortTcp,
                vipPortUdp, natPortUdp, natRecirc, tupleRules);
        }

        Config withNat(final Nat kind, final int vipTcp, final int natTcp, final int vipUdp, final int natUdp,
                       final boolean recirc)
        {
            return new Config(zone, zoneMode, zoneB, ctClearBetweenZones, ctTable, markMode, markA, markB, markMask,
                label, labelMask, matchZone, reg, regValue, force, ctClearBeforeOutput, kind, vipTcp, natTcp, vipUdp,
                natUdp, recirc, tupleRules);
        }

        Config withTupleRules(final List<String> rules)
        {
            return new Config(zone, zoneMode, zoneB, ctClearBetweenZones, ctTable, markMode, markA, markB, markMask,
                label, labelMask, matchZone, reg, regValue, force, ctClearBeforeOutput, nat, vipPortTcp, natPortTcp,
                vipPortUdp, natPortUdp, natRecirc, List.copyOf(rules));
        }

        Config withMisc(final ZoneMode mode, final int table, final boolean zoneMatch, final int register,
                        final long value, final boolean forceCommit, final boolean clearBeforeOutput)
        {
            return new Config(zone, mode, zoneB, ctClearBetweenZones, table, markMode, markA, markB, markMask, label,
                labelMask, zoneMatch, register, value, forceCommit, clearBeforeOutput, nat, vipPortTcp, natPortTcp,
                vipPortUdp, natPortUdp, natRecirc, tupleRules);
        }

        /** One line per feature, for the failure report. */
        List<String> describe()
        {
            final List<String> d = new ArrayList<>();
            d.add("zone " + zone + " (" + zoneMode + ")" + (zoneB != 0 ? ", then zone " + zoneB +
                (ctClearBetweenZones ? " after ct_clear" : "") : ""));
            d.add("post-ct table " + finalTable() + (ctTable == 0 ? " (OVN style: ct_state=-trk recirculates into table 0)" : ""));
            if (markMode != MarkMode.NONE)
            {
                d.add(String.format("ct_mark by %s: tcp 0x%x, other 0x%x, matched /0x%x", markMode, markA, markB,
                    markMask));
            }
            if (label != null)
            {
                d.add("ct_label " + label + (labelMask != null ? "/" + labelMask : ""));
            }
            if (matchZone)
            {
                d.add("ct_zone matched");
            }
            if (reg != 0)
            {
                d.add(String.format("reg%d=0x%x carried across recirculation", reg, regValue));
            }
            if (force)
            {
                d.add("ct(commit,force)");
            }
            if (ctClearBeforeOutput)
            {
                d.add("ct_clear before output");
            }
            if (nat != Nat.NONE)
            {
                d.add(nat + (nat == Nat.DNAT ? String.format(" tcp VIP port %d -> %d, udp %d -> %d", vipPortTcp,
                    natPortTcp, vipPortUdp, natPortUdp) : "") + (natRecirc ? ", NAT commit recirculates" : ""));
            }
            if (!tupleRules.isEmpty())
            {
                d.add(tupleRules.size() + " ct tuple rules");
            }
            return d;
        }

        /** The table that applies the policy: after the last ct. */
        int finalTable()
        {
            return zoneB != 0 ? 2 : ctTable;
        }
    }

    private CtFlowSets()
    {
    }

    static String render(final Config c, final String header)
    {
        final List<String> f = new ArrayList<>();
        f.add(header);
        final boolean reg13 = c.zoneMode() != ZoneMode.IMMEDIATE;
        final String zoneA = reg13 ? "zone=NXM_NX_REG13[0..15]" : "zone=" + c.zone();
        String pre = "";
        if (c.zoneMode() == ZoneMode.REG_LOAD)
        {
            pre += "load:" + c.zone() + "->NXM_NX_REG13[],";
        }
        else if (c.zoneMode() == ZoneMode.REG_SET_FIELD)
        {
            pre += "set_field:" + c.zone() + "->reg13,";
        }
        if (c.reg() != 0)
        {
            pre += (c.reg() % 2 == 0 ? String.format("set_field:0x%x->reg%d,", c.regValue(), c.reg()) :
                String.format("load:0x%x->NXM_NX_REG%d[],", c.regValue(), c.reg()));
        }
        final String nat = c.nat() != Nat.NONE ? ",nat" : "";

        // Table 0: send IP through conntrack in the first zone.
        final int firstTable = c.zoneB() != 0 ? 1 : c.ctTable();
        final String trkGuard = firstTable == 0 ? "ct_state=-trk," : "";
        for (final String proto : new String[]{ "ip", "ipv6" })
        {
            f.add(String.format("table=0,priority=%d,%s%s,actions=%sct(table=%d,%s%s)", firstTable == 0 ? 300 : 100,
                trkGuard, proto, pre, firstTable, zoneA, nat));
        }
        f.add("table=0,priority=0,actions=drop");

        String finalZone = zoneA;
        if (c.zoneB() != 0)
        {
            // Table 1: the first zone's verdict, then on into the second zone (table 2).
            final String toB;
            if (reg13)
            {
                finalZone = "zone=NXM_NX_REG13[0..15]";
                toB = (c.ctClearBetweenZones() ? "ct_clear," : "") + "load:" + c.zoneB() + "->NXM_NX_REG13[],ct(table=2," +
                    finalZone + ")";
            }
            else
            {
                finalZone = "zone=" + c.zoneB();
                toB = (c.ctClearBetweenZones() ? "ct_clear," : "") + "ct(table=2," + finalZone + ")";
            }
            f.add("table=1,priority=200,ct_state=+trk+inv,actions=drop");
            // ct needs ip or ipv6 in the match.
            for (final String proto : new String[]{ "ip", "ipv6" })
            {
                f.add(String.format("table=1,priority=100,ct_state=+trk+new-est-inv,in_port=%d,%s,actions=ct(commit,%s),%s",
                    CLIENT_PORT, proto, zoneA, toB));
                f.add("table=1,priority=100,ct_state=+trk+est-inv," + proto + ",actions=" + toB);
                f.add("table=1,priority=100,ct_state=+trk+rel-inv," + proto + ",actions=" + toB);
            }
            f.add("table=1,priority=0,actions=drop");
        }
        policy(f, c, c.finalTable(), finalZone, c.zoneB() != 0 ? c.zoneB() : c.zone());
        return String.join("\n", f) + "\n";
    }

    /** The policy table: invalid dropped, new from the client committed, est/rel crossed over. */
    private static void policy(final List<String> f, final Config c, final int t, final String zone,
                               final int zoneValue)
    {
        String guard = "";
        if (c.reg() != 0)
        {
            guard += String.format(",reg%d=0x%x", c.reg(), c.regValue());
        }
        if (c.matchZone())
        {
            guard += ",ct_zone=" + zoneValue;
        }
        final String clear = c.ctClearBeforeOutput() ? "ct_clear," : "";
        f.add(String.format("table=%d,priority=200,ct_state=+trk+inv,actions=drop", t));

        // Commits. The mark distinguishes TCP connections from the others.
        final String newMatch = String.format("table=%d,priority=%%d,ct_state=+trk+new-est-inv,in_port=%d%s,%%s",
            t, CLIENT_PORT, guard);
        final int natTable = t + 1;
        if (c.nat() == Nat.SNAT)
        {
            for (final String proto : new String[]{ "tcp", "tcp6", "ip", "ipv6" })
            {
                final boolean v6 = proto.endsWith("6");
                final String to = v6 ? CtTraceFactory.ipString(CtTraceFactory.SNAT6) :
                    CtTraceFactory.ipString(CtTraceFactory.SNAT4);
                f.add(String.format(newMatch, proto.startsWith("tcp") ? 110 : 100, proto) + ",actions=" +
                    commit(c, zone, proto.startsWith("tcp"), "nat(src=" + to + ")", natTable));
            }
        }
        else if (c.nat() == Nat.DNAT)
        {
            for (final boolean v6 : new boolean[]{ false, true })
            {
                final String vip = CtTraceFactory.ipString(v6 ? CtTraceFactory.VIP6 : CtTraceFactory.VIP4);
                final String backend = CtTraceFactory.ipString(v6 ? CtTraceFactory.SERVER1.ip6() :
                    CtTraceFactory.SERVER1.ip4());
                final String dstField = v6 ? "ipv6_dst" : "nw_dst";
                f.add(String.format(newMatch, 120, (v6 ? "tcp6," : "tcp,") + dstField + "=" + vip + ",tp_dst=" +
                    c.vipPortTcp()) + ",actions=" + commit(c, zone, true,
                    "nat(dst=" + hostPort(backend, c.natPortTcp(), v6) + ")", natTable));
                f.add(String.format(newMatch, 120, (v6 ? "udp6," : "udp,") + dstField + "=" + vip + ",tp_dst=" +
                    c.vipPortUdp()) + ",actions=" + commit(c, zone, false,
                    "nat(dst=" + hostPort(backend, c.natPortUdp(), v6) + ")", natTable));
                f.add(String.format(newMatch, 115, (v6 ? "ipv6," : "ip,") + dstField + "=" + vip) + ",actions=" +
                    commit(c, zone, false, "nat(dst=" + backend + ")", natTable));
            }
            // Traffic to a server's own address: committed without NAT.
            f.add(String.format(newMatch, 110, "tcp") + ",actions=" + commit(c, zone, true, null, 0));
            f.add(String.format(newMatch, 110, "tcp6") + ",actions=" + commit(c, zone, true, null, 0));
            f.add(String.format(newMatch, 100, "ip") + ",actions=" + commit(c, zone, false, null, 0));
            f.add(String.format(newMatch, 100, "ipv6") + ",actions=" + commit(c, zone, false, null, 0));
        }
        else if (c.markMode() != MarkMode.NONE)
        {
            f.add(String.format(newMatch, 110, "tcp") + ",actions=" + commit(c, zone, true, null, 0));
            f.add(String.format(newMatch, 110, "tcp6") + ",actions=" + commit(c, zone, true, null, 0));
            f.add(String.format(newMatch, 100, "ip") + ",actions=" + commit(c, zone, false, null, 0));
            f.add(String.format(newMatch, 100, "ipv6") + ",actions=" + commit(c, zone, false, null, 0));
        }
        else
        {
            f.add(String.format(newMatch, 100, "ip") + ",actions=" + commit(c, zone, false, null, 0));
            f.add(String.format(newMatch, 100, "ipv6") + ",actions=" + commit(c, zone, false, null, 0));
        }
        if (c.nat() != Nat.NONE && c.natRecirc())
        {
            final String flag = c.nat() == Nat.SNAT ? "+snat" : "+dnat";
            f.add(String.format("table=%d,priority=100,ct_state=+trk+new%s,in_port=%d,actions=output:%d", natTable,
                flag, CLIENT_PORT, SERVER_PORT));
            // DNAT to a server's own address commits without NAT: no recirculation, nothing else here.
            f.add(String.format("table=%d,priority=0,actions=drop", natTable));
        }

        // Established and related: cross over, by mark class when marks are set.
        final List<String[]> markClasses = new ArrayList<>();
        if (c.markMode() == MarkMode.NONE)
        {
            markClasses.add(new String[]{ "", "" });
        }
        else
        {
            markClasses.add(new String[]{ String.format(",ct_mark=0x%x/0x%x", c.markA() & c.markMask(),
                c.markMask()), "" });
            markClasses.add(new String[]{ String.format(",ct_mark=0x%x/0x%x", c.markB() & c.markMask(),
                c.markMask()), "mod_vlan_vid:" + MARK_B_VLAN + "," });
        }
        final String label = c.label() == null ? "" :
            ",ct_label=" + c.label() + (c.labelMask() != null ? "/" + c.labelMask() : "");
        for (final String[] mark : markClasses)
        {
            for (final String state : new String[]{ "+trk+est-rpl-inv", "+trk+est+rpl-inv", "+trk+rel-inv" })
            {
                for (final int in : new int[]{ CLIENT_PORT, SERVER_PORT })
                {
                    if (state.contains("-rpl") && in != CLIENT_PORT || state.contains("+rpl") && in != SERVER_PORT)
                    {
                        continue;
                    }
                    final int out = in == CLIENT_PORT ? SERVER_PORT : CLIENT_PORT;
                    f.add(String.format("table=%d,priority=100,ct_state=%s,in_port=%d%s%s%s,actions=%s%soutput:%d", t,
                        state, in, guard, mark[0], label, mark[1], clear, out));
                }
            }
        }
        f.addAll(c.tupleRules());
        if (t != 0)
        {
            f.add(String.format("table=%d,priority=0,actions=drop", t));
        }
    }

    private static String commit(final Config c, final String zone, final boolean tcp, final String nat,
                                 final int natTable)
    {
        final List<String> exec = new ArrayList<>();
        if (c.markMode() != MarkMode.NONE)
        {
            final long mark = tcp ? c.markA() : c.markB();
            exec.add(c.markMode() == MarkMode.SET_FIELD ? String.format("set_field:0x%x->ct_mark", mark) :
                String.format("load:0x%x->NXM_NX_CT_MARK[]", mark));
        }
        if (c.label() != null)
        {
            exec.add("set_field:" + c.label() + (c.labelMask() != null ? "/" + c.labelMask() : "") + "->ct_label");
        }
        final StringBuilder ct = new StringBuilder("ct(commit");
        if (c.force())
        {
            ct.append(",force");
        }
        ct.append(',').append(zone);
        if (!exec.isEmpty())
        {
            ct.append(",exec(").append(String.join(",", exec)).append(')');
        }
        if (nat != null)
        {
            ct.append(',').append(nat);
            if (c.natRecirc())
            {
                ct.append(",table=").append(natTable);
                return ct.append(')').toString();
            }
        }
        ct.append(')');
        return ct + "," + (c.ctClearBeforeOutput() ? "ct_clear," : "") + "output:" + SERVER_PORT;
    }

    private static String hostPort(final String ip, final int port, final boolean v6)
    {
        if (port == 0)
        {
            return ip;
        }
        return v6 ? "[" + ip + "]:" + port : ip + ":" + port;
    }
}
