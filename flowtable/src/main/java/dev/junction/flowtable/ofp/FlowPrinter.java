package dev.junction.flowtable.ofp;

import dev.junction.flowtable.Field;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Match;
import dev.junction.flowtable.TunMetadataSlots;

import java.util.List;

/**
 * Prints rules the way {@code ovs-ofctl dump-flows} prints them (OVS's {@code match_format}
 * field order and value forms, OpenFlow 1.5 action spellings), so that our output reads like
 * OVS's and parses back to the same rule.
 */
public final class FlowPrinter
{
    private FlowPrinter()
    {
    }

    /** One {@code dump-flows} line (without duration and idle age: replay has no wall clock). */
    public static String dumpLine(final FlowRule r)
    {
        final StringBuilder sb = new StringBuilder(" cookie=0x").append(Long.toHexString(r.cookie))
            .append(", table=").append(r.table)
            .append(", n_packets=").append(r.packets())
            .append(", n_bytes=").append(r.bytes()).append(", ");
        if (r.idleTimeout != 0)
        {
            sb.append("idle_timeout=").append(r.idleTimeout).append(", ");
        }
        if (r.hardTimeout != 0)
        {
            sb.append("hard_timeout=").append(r.hardTimeout).append(", ");
        }
        final String m = match(r.match, r.priority, r.tunMetadata);
        sb.append(m);
        if (!m.isEmpty())
        {
            sb.append(' ');
        }
        return sb.append("actions=").append(actions(r.actions, r.tunMetadata)).toString();
    }

    /** The rule in {@code add-flows} syntax. */
    public static String flowLine(final FlowRule r)
    {
        final StringBuilder sb = new StringBuilder();
        if (r.table != 0)
        {
            sb.append("table=").append(r.table).append(',');
        }
        if (r.cookie != 0)
        {
            sb.append("cookie=0x").append(Long.toHexString(r.cookie)).append(',');
        }
        final String m = match(r.match, r.priority, r.tunMetadata);
        sb.append(m);
        if (!m.isEmpty())
        {
            sb.append(' ');
        }
        return sb.append("actions=").append(actions(r.actions, r.tunMetadata)).toString();
    }

    /** A match whose tun_metadata slots hold tun_metadata0-7 (see {@link TunMetadataSlots#identity}). */
    public static String match(final Match match, final int priority)
    {
        return match(match, priority, TunMetadataSlots.identity());
    }

    /** A match; {@code t} names the tun_metadata field of each key slot. */
    public static String match(final Match match, final int priority, final TunMetadataSlots t)
    {
        final StringBuilder s = new StringBuilder();
        final FlowKey v = match.value;
        final FlowKey m = match.mask;
        if (priority != FlowRule.DEFAULT_PRIORITY)
        {
            s.append("priority=").append(priority).append(',');
        }
        conntrack(s, v, m);
        final boolean typeExact = m.get(Field.DL_TYPE) != 0;
        final int dlType = (int)v.get(Field.DL_TYPE);
        final boolean protoExact = m.get(Field.NW_PROTO) != 0;
        final int proto = (int)v.get(Field.NW_PROTO);
        boolean skipType = false;
        boolean skipProto = false;
        if (typeExact)
        {
            skipType = true;
            if (dlType == 0x0800)
            {
                final String p = protoExact ? protoName(proto, "icmp", "tcp", "udp", "sctp") : null;
                s.append(p != null ? p : "ip").append(',');
                skipProto = p != null;
            }
            else if (dlType == 0x86dd)
            {
                final String p = protoExact ? protoName(proto, "icmp6", "tcp6", "udp6", "sctp6") : null;
                s.append(p != null ? p : "ipv6").append(',');
                skipProto = p != null;
            }
            else if (dlType == 0x0806)
            {
                s.append("arp,");
            }
            else if (dlType == 0x8035)
            {
                s.append("rarp,");
            }
            else
            {
                skipType = false;
            }
        }
        for (int i = 0; i < 16; i++)
        {
            hex32(s, "reg" + i, v.get(Field.reg(i)), m.get(Field.reg(i)));
        }
        tunnel(s, v, m, t);
        final long md = m.get(Field.METADATA);
        if (md != 0)
        {
            s.append("metadata=0x").append(Long.toHexString(v.get(Field.METADATA)));
            if (md != -1L)
            {
                s.append("/0x").append(Long.toHexString(md));
            }
            s.append(',');
        }
        if (m.get(Field.IN_PORT) != 0)
        {
            s.append("in_port=").append(v.get(Field.IN_PORT)).append(',');
        }
        vlan(s, (int)v.get(Field.VLAN_TCI), (int)m.get(Field.VLAN_TCI));
        mac(s, "dl_src", v.get(Field.DL_SRC), m.get(Field.DL_SRC));
        mac(s, "dl_dst", v.get(Field.DL_DST), m.get(Field.DL_DST));
        if (!skipType && typeExact)
        {
            s.append(String.format("dl_type=0x%04x,", dlType));
        }
        final boolean arp = dlType == 0x0806 || dlType == 0x8035;
        if (dlType == 0x86dd)
        {
            ipv6(s, "ipv6_src", v, m, FlowKey.W_IPV6_SRC);
            ipv6(s, "ipv6_dst", v, m, FlowKey.W_IPV6_DST);
            final long lm = m.get(Field.IPV6_LABEL);
            if (lm != 0)
            {
                s.append(String.format("ipv6_label=0x%05x", v.get(Field.IPV6_LABEL)));
                if (lm != 0xfffff)
                {
                    s.append(String.format("/0x%05x", lm));
                }
                s.append(',');
            }
        }
        else
        {
            ip(s, arp ? "arp_spa" : "nw_src", v.get(Field.NW_SRC), m.get(Field.NW_SRC));
            ip(s, arp ? "arp_tpa" : "nw_dst", v.get(Field.NW_DST), m.get(Field.NW_DST));
        }
        if (!skipProto && protoExact)
        {
            s.append(arp ? "arp_op=" : "nw_proto=").append(proto).append(',');
        }
        if (arp)
        {
            mac(s, "arp_sha", v.get(Field.ARP_SHA), m.get(Field.ARP_SHA));
            mac(s, "arp_tha", v.get(Field.ARP_THA), m.get(Field.ARP_THA));
        }
        final long tosMask = m.get(Field.NW_TOS);
        if ((tosMask & 0xfc) != 0)
        {
            s.append("nw_tos=").append(v.get(Field.NW_TOS) & 0xfc).append(',');
        }
        if ((tosMask & 0x03) != 0)
        {
            s.append("nw_ecn=").append(v.get(Field.NW_TOS) & 0x03).append(',');
        }
        if (m.get(Field.NW_TTL) != 0)
        {
            s.append("nw_ttl=").append(v.get(Field.NW_TTL)).append(',');
        }
        final long fm = m.get(Field.IP_FRAG);
        final long fv = v.get(Field.IP_FRAG);
        if (fm == 3)
        {
            s.append("nw_frag=").append((fv & 1) != 0 ? ((fv & 2) != 0 ? "later" : "first") : "no").append(',');
        }
        else if (fm == 1)
        {
            s.append("nw_frag=").append((fv & 1) != 0 ? "yes" : "no").append(',');
        }
        else if (fm == 2)
        {
            s.append("nw_frag=").append((fv & 2) != 0 ? "later" : "not_later").append(',');
        }
        if ((dlType == 0x0800 && proto == 1) || (dlType == 0x86dd && proto == 58))
        {
            be16(s, "icmp_type", v.get(Field.TP_SRC), m.get(Field.TP_SRC));
            be16(s, "icmp_code", v.get(Field.TP_DST), m.get(Field.TP_DST));
            if (dlType == 0x86dd)
            {
                ipv6(s, "nd_target", v, m, FlowKey.W_ND_TARGET);
                mac(s, "nd_sll", v.get(Field.ARP_SHA), m.get(Field.ARP_SHA));
                mac(s, "nd_tll", v.get(Field.ARP_THA), m.get(Field.ARP_THA));
            }
        }
        else
        {
            be16(s, "tp_src", v.get(Field.TP_SRC), m.get(Field.TP_SRC));
            be16(s, "tp_dst", v.get(Field.TP_DST), m.get(Field.TP_DST));
        }
        final long tfm = m.get(Field.TCP_FLAGS);
        if (tfm != 0 && (dlType == 0x0800 || dlType == 0x86dd) && proto == 6)
        {
            s.append("tcp_flags=").append(tcpFlags(v.get(Field.TCP_FLAGS), tfm)).append(',');
        }
        if (s.length() > 0 && s.charAt(s.length() - 1) == ',')
        {
            s.setLength(s.length() - 1);
        }
        return s.toString();
    }

    private static String protoName(final int proto, final String icmp, final String tcp, final String udp,
        final String sctp)
    {
        switch (proto)
        {
            case 1:
            case 58:
                return (proto == 1) == icmp.equals("icmp") ? icmp : null;
            case 6: return tcp;
            case 17: return udp;
            case 132: return sctp;
            default: return null;
        }
    }

    private static final String[] TCP_FLAG_NAMES = {"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns"};

    private static String tcpFlags(final long value, final long mask)
    {
        if (mask == 0xfff)
        {
            if (value == 0)
            {
                return "0";
            }
        }
        final StringBuilder sb = new StringBuilder();
        boolean named = true;
        for (int bit = 0; bit < 12; bit++)
        {
            if ((mask & (1L << bit)) != 0 && bit >= TCP_FLAG_NAMES.length)
            {
                named = false;
            }
        }
        if (!named)
        {
            return String.format("0x%03x/0x%03x", value, mask);
        }
        for (int bit = 0; bit < TCP_FLAG_NAMES.length; bit++)
        {
            if ((mask & (1L << bit)) != 0)
            {
                sb.append((value & (1L << bit)) != 0 ? '+' : '-').append(TCP_FLAG_NAMES[bit]);
            }
        }
        return sb.toString();
    }

    private static void vlan(final StringBuilder s, final int v, final int m)
    {
        if (m == 0)
        {
            return;
        }
        final int vid = m & 0x0fff;
        final int pcp = m & 0xe000;
        final int cfi = m & FlowKey.VLAN_CFI;
        if (cfi != 0 && (v & FlowKey.VLAN_CFI) != 0 && (vid == 0 || vid == 0x0fff) && (pcp == 0 || pcp == 0xe000)
            && (vid != 0 || pcp != 0))
        {
            if (vid != 0)
            {
                s.append("dl_vlan=").append(v & 0xfff).append(',');
            }
            if (pcp != 0)
            {
                s.append("dl_vlan_pcp=").append((v >>> 13) & 7).append(',');
            }
        }
        else if (m == 0xffff)
        {
            s.append(String.format("vlan_tci=0x%04x,", v));
        }
        else
        {
            s.append(String.format("vlan_tci=0x%04x/0x%04x,", v, m));
        }
    }

    /** The tunnel fields, in the order of OVS's format_flow_tunnel. */
    private static void tunnel(final StringBuilder s, final FlowKey v, final FlowKey m, final TunMetadataSlots t)
    {
        final long idm = m.get(Field.TUN_ID);
        if (idm != 0)
        {
            s.append("tun_id=").append(hashHex(v.get(Field.TUN_ID)));
            if (idm != -1L)
            {
                s.append('/').append(hashHex(idm));
            }
            s.append(',');
        }
        ip(s, "tun_src", v.get(Field.TUN_SRC), m.get(Field.TUN_SRC));
        ip(s, "tun_dst", v.get(Field.TUN_DST), m.get(Field.TUN_DST));
        ipv6(s, "tun_ipv6_src", v, m, FlowKey.W_TUN_IPV6_SRC);
        ipv6(s, "tun_ipv6_dst", v, m, FlowKey.W_TUN_IPV6_DST);
        be16(s, "tun_gbp_id", v.get(Field.TUN_GBP_ID), m.get(Field.TUN_GBP_ID));
        final long gfm = m.get(Field.TUN_GBP_FLAGS);
        if (gfm != 0)
        {
            s.append("tun_gbp_flags=").append(hashHex(v.get(Field.TUN_GBP_FLAGS)));
            if (gfm != 0xff)
            {
                s.append('/').append(hashHex(gfm));
            }
            s.append(',');
        }
        if ((m.get(Field.TUN_FLAGS) & Field.TUN_F_OAM) != 0)
        {
            s.append("tun_flags=").append((v.get(Field.TUN_FLAGS) & Field.TUN_F_OAM) != 0 ? "+oam" : "-oam").append(',');
        }
        for (int n = 0; n < TunMetadataSlots.FIELDS; n++)
        {
            final int slot = t.slot(n);
            final Field f = slot < 0 ? null : Field.tunMetadata(slot);
            final long mm = f == null ? 0 : m.get(f);
            if (mm != 0)
            {
                s.append("tun_metadata").append(n).append('=').append(hashHex(v.get(f)));
                if (mm != -1L)
                {
                    s.append('/').append(hashHex(mm));
                }
                s.append(',');
            }
        }
    }

    /** The conntrack fields, where and as OVS's match_format prints them. */
    private static void conntrack(final StringBuilder s, final FlowKey v, final FlowKey m)
    {
        final int stateMask = (int)m.get(Field.CT_STATE);
        if (stateMask != 0)
        {
            final int state = (int)v.get(Field.CT_STATE);
            s.append("ct_state=");
            if (stateMask == 0xff)
            {
                if (state == 0)
                {
                    s.append('0');
                }
                for (int b = 0, n = 0; b < 8; b++)
                {
                    if ((state & (1 << b)) != 0)
                    {
                        s.append(n++ > 0 ? "|" : "").append(dev.junction.flowtable.ct.CtState.NAMES[b]);
                    }
                }
            }
            else
            {
                for (int b = 0; b < 8; b++)
                {
                    if ((stateMask & (1 << b)) != 0)
                    {
                        s.append((state & (1 << b)) != 0 ? '+' : '-').append(dev.junction.flowtable.ct.CtState.NAMES[b]);
                    }
                }
            }
            s.append(',');
        }
        be16(s, "ct_zone", v.get(Field.CT_ZONE), m.get(Field.CT_ZONE));
        hex32(s, "ct_mark", v.get(Field.CT_MARK), m.get(Field.CT_MARK));
        final long lmh = m.words[FlowKey.W_CT_LABEL];
        final long lml = m.words[FlowKey.W_CT_LABEL + 1];
        if (lmh != 0 || lml != 0)
        {
            s.append("ct_label=").append(hex128(v.words[FlowKey.W_CT_LABEL], v.words[FlowKey.W_CT_LABEL + 1]));
            if (lmh != -1L || lml != -1L)
            {
                s.append('/').append(hex128(lmh, lml));
            }
            s.append(',');
        }
        ip(s, "ct_nw_src", v.get(Field.CT_NW_SRC), m.get(Field.CT_NW_SRC));
        ipv6(s, "ct_ipv6_src", v, m, FlowKey.W_CT_IPV6_SRC);
        ip(s, "ct_nw_dst", v.get(Field.CT_NW_DST), m.get(Field.CT_NW_DST));
        ipv6(s, "ct_ipv6_dst", v, m, FlowKey.W_CT_IPV6_DST);
        if (m.get(Field.CT_NW_PROTO) != 0)
        {
            s.append("ct_nw_proto=").append(v.get(Field.CT_NW_PROTO)).append(',');
            be16(s, "ct_tp_src", v.get(Field.CT_TP_SRC), m.get(Field.CT_TP_SRC));
            be16(s, "ct_tp_dst", v.get(Field.CT_TP_DST), m.get(Field.CT_TP_DST));
        }
    }

    /** OVS's ds_put_hex of a 128-bit value: 0x with leading zeros dropped, "0" for zero. */
    static String hex128(final long hi, final long lo)
    {
        if (hi == 0)
        {
            return hashHex(lo);
        }
        return "0x" + Long.toHexString(hi) + String.format("%016x", lo);
    }

    private static void hex32(final StringBuilder s, final String name, final long v, final long m)
    {
        if (m != 0)
        {
            s.append(name).append('=').append(hashHex(v));
            if (m != 0xffffffffL)
            {
                s.append('/').append(hashHex(m));
            }
            s.append(',');
        }
    }

    /** C's {@code %#x}: "0" for zero, else 0x-prefixed. */
    static String hashHex(final long v)
    {
        return v == 0 ? "0" : "0x" + Long.toHexString(v);
    }

    private static void be16(final StringBuilder s, final String name, final long v, final long m)
    {
        if (m != 0)
        {
            s.append(name).append('=');
            if (m == 0xffff)
            {
                s.append(v);
            }
            else
            {
                s.append("0x").append(Long.toHexString(v)).append("/0x").append(Long.toHexString(m));
            }
            s.append(',');
        }
    }

    private static void mac(final StringBuilder s, final String name, final long v, final long m)
    {
        if (m != 0)
        {
            s.append(name).append('=').append(Values.formatMac(v));
            if (m != 0xffffffffffffL)
            {
                s.append('/').append(Values.formatMac(m));
            }
            s.append(',');
        }
    }

    private static void ip(final StringBuilder s, final String name, final long v, final long m)
    {
        if (m != 0)
        {
            s.append(name).append('=').append(Values.formatIpv4Masked(v, m)).append(',');
        }
    }

    private static void ipv6(final StringBuilder s, final String name, final FlowKey v, final FlowKey m,
        final int word)
    {
        final long mh = m.words[word];
        final long ml = m.words[word + 1];
        if (mh != 0 || ml != 0)
        {
            s.append(name).append('=')
                .append(Values.formatIpv6Masked(v.words[word], v.words[word + 1], mh, ml)).append(',');
        }
    }

    /** Actions whose tun_metadata slots hold tun_metadata0-7 (see {@link TunMetadataSlots#identity}). */
    public static String actions(final List<Action> actions)
    {
        return actions(actions, TunMetadataSlots.identity());
    }

    /** Actions; {@code t} names the tun_metadata field of each key slot. */
    public static String actions(final List<Action> actions, final TunMetadataSlots t)
    {
        if (actions.isEmpty())
        {
            return "drop";
        }
        final StringBuilder sb = new StringBuilder();
        for (final Action a : actions)
        {
            if (sb.length() > 0)
            {
                sb.append(',');
            }
            action(sb, a, t);
        }
        return sb.toString();
    }

    private static void action(final StringBuilder sb, final Action a, final TunMetadataSlots t)
    {
        if (a instanceof Action.Output)
        {
            sb.append(portName(((Action.Output)a).port, true));
        }
        else if (a instanceof Action.Controller)
        {
            controller(sb, (Action.Controller)a);
        }
        else if (a instanceof Action.PopVlan)
        {
            sb.append("pop_vlan");
        }
        else if (a instanceof Action.PushVlan)
        {
            sb.append("push_vlan:0x").append(Integer.toHexString(((Action.PushVlan)a).tpid));
        }
        else if (a instanceof Action.DecTtl)
        {
            sb.append("dec_ttl");
        }
        else if (a instanceof Action.Note)
        {
            sb.append("note:").append(((Action.Note)a).hex);
        }
        else if (a instanceof Action.GotoTable)
        {
            sb.append("goto_table:").append(((Action.GotoTable)a).table);
        }
        else if (a instanceof Action.Resubmit)
        {
            final Action.Resubmit r = (Action.Resubmit)a;
            if (r.table < 0)
            {
                sb.append("resubmit:").append(portName(r.port, false));
            }
            else
            {
                sb.append("resubmit(").append(r.port < 0 ? "" : portName(r.port, false)).append(',')
                    .append(r.table).append(')');
            }
        }
        else if (a instanceof Action.Move)
        {
            final Action.Move m = (Action.Move)a;
            sb.append("move:").append(nxmName(m.src, t)).append(range(m.srcOfs, m.nBits, m.src)).append("->")
                .append(nxmName(m.dst, t)).append(range(m.dstOfs, m.nBits, m.dst));
        }
        else if (a instanceof Action.SetField)
        {
            setField(sb, (Action.SetField)a, t);
        }
        else if (a instanceof Action.Ct)
        {
            ct(sb, (Action.Ct)a, t);
        }
        else if (a instanceof Action.CtClear)
        {
            sb.append("ct_clear");
        }
        else if (a instanceof Action.Group)
        {
            sb.append("group:").append(((Action.Group)a).groupId);
        }
        else if (a instanceof Action.Learn)
        {
            learn(sb, (Action.Learn)a, t);
        }
        else if (a instanceof Action.CheckPktLarger)
        {
            final Action.CheckPktLarger c = (Action.CheckPktLarger)a;
            sb.append("check_pkt_larger(").append(c.pktLen).append(")->");
            subfield(sb, c.dst, c.dstOfs, 1, t);
        }
    }

    /** As OVS's learn_format. */
    private static void learn(final StringBuilder sb, final Action.Learn l, final TunMetadataSlots t)
    {
        sb.append("learn(table=").append(l.table);
        if (l.idleTimeout != Action.Learn.PERMANENT)
        {
            sb.append(",idle_timeout=").append(l.idleTimeout);
        }
        if (l.hardTimeout != Action.Learn.PERMANENT)
        {
            sb.append(",hard_timeout=").append(l.hardTimeout);
        }
        if (l.finIdleTimeout != 0)
        {
            sb.append(",fin_idle_timeout=").append(l.finIdleTimeout);
        }
        if (l.finHardTimeout != 0)
        {
            sb.append(",fin_hard_timeout=").append(l.finHardTimeout);
        }
        if (l.priority != FlowRule.DEFAULT_PRIORITY)
        {
            sb.append(",priority=").append(l.priority);
        }
        if (l.sendFlowRem)
        {
            sb.append(",send_flow_rem");
        }
        if (l.deleteLearned)
        {
            sb.append(",delete_learned");
        }
        if (l.cookie != 0)
        {
            sb.append(",cookie=").append(hashHex(l.cookie));
        }
        for (final Action.LearnSpec spec : l.specs)
        {
            sb.append(',');
            switch (spec.kind)
            {
                case Action.LearnSpec.MATCH:
                    if (spec.src == null)
                    {
                        if (spec.dstOfs == 0 && spec.nBits == spec.dst.nxmBits())
                        {
                            sb.append(setFieldName(spec.dst, t)).append('=');
                            fieldValue(sb, spec.dst, spec.immHi, spec.immLo);
                        }
                        else
                        {
                            subfield(sb, spec.dst, spec.dstOfs, spec.nBits, t);
                            sb.append('=').append(hex128(spec.immHi, spec.immLo));
                        }
                    }
                    else
                    {
                        subfield(sb, spec.dst, spec.dstOfs, spec.nBits, t);
                        if (spec.src != spec.dst || spec.srcOfs != spec.dstOfs)
                        {
                            sb.append('=');
                            subfield(sb, spec.src, spec.srcOfs, spec.nBits, t);
                        }
                    }
                    break;
                case Action.LearnSpec.LOAD:
                    sb.append("load:");
                    if (spec.src == null)
                    {
                        sb.append(hex128(spec.immHi, spec.immLo));
                    }
                    else
                    {
                        subfield(sb, spec.src, spec.srcOfs, spec.nBits, t);
                    }
                    sb.append("->");
                    subfield(sb, spec.dst, spec.dstOfs, spec.nBits, t);
                    break;
                default:
                    sb.append("output:");
                    subfield(sb, spec.src, spec.srcOfs, spec.nBits, t);
                    break;
            }
        }
        sb.append(')');
    }

    private static void subfield(final StringBuilder sb, final Field f, final int ofs, final int nBits,
        final TunMetadataSlots t)
    {
        sb.append(nxmName(f, t)).append(range(ofs, nBits, f));
    }

    /** The NXM name of {@code f}; a tun_metadata slot is named by the field {@code t} puts there. */
    private static String nxmName(final Field f, final TunMetadataSlots t)
    {
        return f.isTunMetadata() ? "NXM_NX_TUN_METADATA" + t.field(f.tunMetadataSlot()) : f.nxmName();
    }

    /** The set_field name of {@code f}; a tun_metadata slot is named by the field {@code t} puts there. */
    private static String setFieldName(final Field f, final TunMetadataSlots t)
    {
        return f.isTunMetadata() ? "tun_metadata" + t.field(f.tunMetadataSlot()) : f.setFieldName();
    }

    /** A whole field's value as OVS's mf_format prints it. */
    private static void fieldValue(final StringBuilder sb, final Field f, final long hi, final long lo)
    {
        switch (f.format)
        {
            case MAC: sb.append(Values.formatMac(lo)); break;
            case IPV4: sb.append(Values.formatIpv4(lo)); break;
            case IPV6: sb.append(Values.formatIpv6(hi, lo)); break;
            case DEC: sb.append(lo); break;
            default: sb.append(f.isWide() ? hex128(hi, lo) : hashHex(lo)); break;
        }
    }

    /** As OVS's format_CT: flags, table, zone, a leading nat outside exec(), then exec(...). */
    private static void ct(final StringBuilder sb, final Action.Ct ct, final TunMetadataSlots t)
    {
        sb.append("ct(");
        final int start = sb.length();
        if (ct.commit)
        {
            sb.append("commit,");
        }
        if (ct.force)
        {
            sb.append("force,");
        }
        if (ct.table != Action.Ct.NO_TABLE)
        {
            sb.append("table=").append(ct.table).append(',');
        }
        if (ct.zoneField != null)
        {
            sb.append("zone=").append(nxmName(ct.zoneField, t)).append(range(ct.zoneOfs, ct.zoneBits, ct.zoneField))
                .append(',');
        }
        else if (ct.zone != 0)
        {
            sb.append("zone=").append(ct.zone).append(',');
        }
        final boolean natOutside = ct.nat != null && ct.natPosition == 0;
        if (natOutside)
        {
            nat(sb, ct.nat);
            sb.append(',');
        }
        if (!ct.exec.isEmpty())
        {
            sb.append("exec(");
            for (int i = 0; i < ct.exec.size(); i++)
            {
                if (ct.nat != null && !natOutside && ct.natPosition == i)
                {
                    nat(sb, ct.nat);
                    sb.append(',');
                }
                action(sb, ct.exec.get(i), t);
                sb.append(',');
            }
            if (ct.nat != null && !natOutside && ct.natPosition == ct.exec.size())
            {
                nat(sb, ct.nat);
                sb.append(',');
            }
            sb.setLength(sb.length() - 1);
            sb.append("),");
        }
        if (sb.length() > start && sb.charAt(sb.length() - 1) == ',')
        {
            sb.setLength(sb.length() - 1);
        }
        sb.append(')');
    }

    private static void nat(final StringBuilder sb, final Action.Nat n)
    {
        sb.append("nat");
        if (n.kind == Action.Nat.NONE)
        {
            return;
        }
        sb.append('(').append(n.kind == Action.Nat.SRC ? "src" : "dst");
        if (n.hasAddr)
        {
            sb.append('=');
            if (n.v6)
            {
                final boolean bracket = n.hasPorts;
                sb.append(bracket ? "[" : "").append(Values.formatIpv6(n.minHi, n.minLo)).append(bracket ? "]" : "");
                if (n.maxHi != n.minHi || n.maxLo != n.minLo)
                {
                    sb.append('-').append(bracket ? "[" : "").append(Values.formatIpv6(n.maxHi, n.maxLo))
                        .append(bracket ? "]" : "");
                }
            }
            else
            {
                sb.append(Values.formatIpv4(n.minLo));
                if (n.maxLo != n.minLo)
                {
                    sb.append('-').append(Values.formatIpv4(n.maxLo));
                }
            }
            if (n.hasPorts)
            {
                sb.append(':').append(n.minPort);
                if (n.maxPort != n.minPort)
                {
                    sb.append('-').append(n.maxPort);
                }
            }
            if (n.persistent)
            {
                sb.append(",persistent");
            }
            if (n.hash)
            {
                sb.append(",hash");
            }
            if (n.random)
            {
                sb.append(",random");
            }
        }
        sb.append(')');
    }

    private static String range(final int ofs, final int nBits, final Field f)
    {
        if (ofs == 0 && (nBits == f.bits || nBits == f.nxmBits()))
        {
            return "[]";
        }
        return nBits == 1 ? "[" + ofs + "]" : "[" + ofs + ".." + (ofs + nBits - 1) + "]";
    }

    private static void setField(final StringBuilder sb, final Action.SetField a, final TunMetadataSlots t)
    {
        final Field f = a.field;
        if (f == Field.VLAN_TCI && !a.load)
        {
            if (a.mask == 0xf000)
            {
                sb.append("set_field:").append((a.value >>> 13) & 7).append("->vlan_pcp");
            }
            else
            {
                sb.append("set_field:").append(a.value & 0x1fff).append("->vlan_vid");
            }
            return;
        }
        // Under OpenFlow 1.5 every load is a set_field with a mask, and OVS prints it so.
        sb.append("set_field:");
        switch (f.format)
        {
            case TUN_FLAGS:
                sb.append((a.value & Field.TUN_F_OAM) != 0 ? "oam" : "0");
                break;
            case MAC:
                sb.append(Values.formatMac(a.value));
                if (a.mask != f.allOnes())
                {
                    sb.append('/').append(Values.formatMac(a.mask));
                }
                break;
            case IPV4:
                sb.append(Values.formatIpv4(a.value));
                if (a.mask != f.allOnes())
                {
                    sb.append('/').append(Values.formatIpv4(a.mask));
                }
                break;
            case IPV6:
                sb.append(Values.formatIpv6(a.valueHi, a.value));
                if (a.maskHi != -1L || a.mask != -1L)
                {
                    sb.append('/').append(Values.formatIpv6(a.maskHi, a.mask));
                }
                break;
            default:
                if (f.isWide())
                {
                    sb.append(hex128(a.valueHi, a.value));
                    if (a.maskHi != -1L || a.mask != -1L)
                    {
                        sb.append('/').append(hex128(a.maskHi, a.mask));
                    }
                    break;
                }
                sb.append(f.format == Field.Format.HEX ? hashHex(a.value) : Long.toString(a.value));
                if (a.mask != f.allOnes())
                {
                    sb.append('/').append(hashHex(a.mask));
                }
                break;
        }
        sb.append("->").append(f == Field.VLAN_TCI ? "vlan_tci" : setFieldName(f, t));
    }

    /** As OVS's format_CONTROLLER: the short form, or only the arguments that differ from their defaults. */
    private static void controller(final StringBuilder sb, final Action.Controller c)
    {
        if (c.isPlainOutput())
        {
            sb.append("CONTROLLER:").append(c.maxLen);
            return;
        }
        final int start = sb.length();
        sb.append("controller(");
        if (c.reason != Action.Controller.REASON_ACTION)
        {
            sb.append("reason=").append(Action.Controller.reasonName(c.reason)).append(',');
        }
        if (c.maxLen != 0xffff)
        {
            sb.append("max_len=").append(c.maxLen).append(',');
        }
        if (c.controllerId != 0)
        {
            sb.append("id=").append(c.controllerId).append(',');
        }
        final byte[] userdata = c.userdata();
        if (userdata.length > 0)
        {
            sb.append("userdata=");
            for (int i = 0; i < userdata.length; i++)
            {
                sb.append(i == 0 ? "" : ".").append(Character.forDigit((userdata[i] >> 4) & 0xf, 16))
                    .append(Character.forDigit(userdata[i] & 0xf, 16));
            }
            sb.append(',');
        }
        if (c.meterId != Action.Controller.NO_METER)
        {
            sb.append("meter_id=").append(c.meterId).append(',');
        }
        if (sb.charAt(sb.length() - 1) == ',' && sb.length() > start + "controller(".length())
        {
            sb.setLength(sb.length() - 1);
        }
        sb.append(')');
    }

    public static String portName(final int port, final boolean output)
    {
        switch (port)
        {
            case Action.OFPP_IN_PORT: return "IN_PORT";
            case Action.OFPP_TABLE: return "TABLE";
            case Action.OFPP_NORMAL: return "NORMAL";
            case Action.OFPP_FLOOD: return "FLOOD";
            case Action.OFPP_ALL: return "ALL";
            case Action.OFPP_CONTROLLER: return "CONTROLLER";
            case Action.OFPP_LOCAL: return "LOCAL";
            case Action.OFPP_NONE: return "NONE";
            default: return output ? "output:" + port : Integer.toString(port);
        }
    }
}
