package dev.junction.datapath.cache;

import dev.junction.flowtable.Field;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.ofp.Values;

import java.util.Locale;

/**
 * Prints megaflows in the form of {@code ovs-appctl dpctl/dump-flows}: {@code recirc_id(0),
 * in_port(1),packet_type(ns=0,id=0),eth(...),eth_type(...),ipv4(...),tcp(...), packets:N,
 * bytes:N, used:..., actions:...}. Wildcarded fields are left out, partly masked ones are printed
 * as {@code value/mask}, as OVS does.
 */
public final class MegaflowPrinter
{
    private MegaflowPrinter()
    {
    }

    public static String format(final Megaflow mf, final long nowNanos)
    {
        final StringBuilder sb = new StringBuilder(160);
        // As dpctl prints: the key of the packet that created the flow, unmasked, with the mask.
        appendMatch(sb, mf.upcallKey.words, mf.mask);
        appendStats(sb, mf, nowNanos);
        return sb.toString();
    }

    /** The match part: a masked key and its mask, in FlowKey layout. */
    public static String formatMatch(final long[] key, final long[] mask)
    {
        final StringBuilder sb = new StringBuilder(160);
        appendMatch(sb, key, mask);
        return sb.toString();
    }

    /** ct_state, ct_zone, ct_mark and ct_label where the mask has them, as odp-util prints them. */
    private static void conntrack(final StringBuilder sb, final long[] k, final long[] m)
    {
        final int stateMask = (int)Field.CT_STATE.get(m);
        if (stateMask != 0)
        {
            final int state = (int)Field.CT_STATE.get(k);
            sb.append("ct_state(");
            for (int b = 0; b < 8; b++)
            {
                if ((stateMask & (1 << b)) != 0)
                {
                    sb.append((state & (1 << b)) != 0 ? '+' : '-')
                        .append(dev.junction.flowtable.ct.CtState.NAMES[b]);
                }
            }
            sb.append("),");
        }
        final long zoneM = Field.CT_ZONE.get(m);
        if (zoneM != 0)
        {
            sb.append("ct_zone(0x").append(Long.toHexString(Field.CT_ZONE.get(k)))
                .append(zoneM == 0xffff ? "" : "/0x" + Long.toHexString(zoneM)).append("),");
        }
        final long markM = Field.CT_MARK.get(m);
        if (markM != 0)
        {
            sb.append("ct_mark(0x").append(Long.toHexString(Field.CT_MARK.get(k)))
                .append(markM == 0xffffffffL ? "" : "/0x" + Long.toHexString(markM)).append("),");
        }
        final boolean v4 = (k[FlowKey.W_DL_DST_TYPE] & 0xffff) == 0x0800;
        final boolean tuple = Field.CT_NW_PROTO.get(k) != 0;
        if (tuple)
        {
            final StringBuilder t = new StringBuilder();
            if (v4)
            {
                ctAddr(t, "src", Field.CT_NW_SRC.get(k), Field.CT_NW_SRC.get(m));
                ctAddr(t, "dst", Field.CT_NW_DST.get(k), Field.CT_NW_DST.get(m));
            }
            else
            {
                ctAddr6(t, "src", k, m, FlowKey.W_CT_IPV6_SRC);
                ctAddr6(t, "dst", k, m, FlowKey.W_CT_IPV6_DST);
            }
            if (Field.CT_NW_PROTO.get(m) != 0)
            {
                t.append(t.length() > 0 ? "," : "").append("proto=").append(Field.CT_NW_PROTO.get(k));
            }
            ctPort(t, v4 ? "tp_src" : "src_port", Field.CT_TP_SRC.get(k), Field.CT_TP_SRC.get(m));
            ctPort(t, v4 ? "tp_dst" : "dst_port", Field.CT_TP_DST.get(k), Field.CT_TP_DST.get(m));
            if (t.length() > 0)
            {
                sb.append(v4 ? "ct_tuple4(" : "ct_tuple6(").append(t).append("),");
            }
        }
        if ((m[FlowKey.W_CT_LABEL] | m[FlowKey.W_CT_LABEL + 1]) != 0)
        {
            sb.append(String.format(Locale.ROOT, "ct_label(0x%016x%016x/0x%016x%016x),", k[FlowKey.W_CT_LABEL],
                k[FlowKey.W_CT_LABEL + 1], m[FlowKey.W_CT_LABEL], m[FlowKey.W_CT_LABEL + 1]));
        }
    }

    /**
     * The tunnel metadata a decapsulated packet's megaflow matches, as odp-util's
     * {@code tunnel(tun_id=..,src=..,dst=..,...)}; Geneve options appear by their tun_metadata field.
     */
    private static void tunnel(final StringBuilder sb, final long[] k, final long[] m)
    {
        boolean any = false;
        for (int w = FlowKey.W_TUN_ID; w < FlowKey.W_DL_DST_TYPE; w++)
        {
            any |= m[w] != 0;
        }
        if (!any || !FlowKey.hasTunnel(k))
        {
            return;
        }
        final StringBuilder t = new StringBuilder();
        final long idM = Field.TUN_ID.get(m);
        if (idM != 0)
        {
            t.append("tun_id=0x").append(Long.toHexString(Field.TUN_ID.get(k) & idM))
                .append(idM == -1L ? "" : "/0x" + Long.toHexString(idM));
        }
        ctAddr(t, "src", Field.TUN_SRC.get(k), Field.TUN_SRC.get(m));
        ctAddr(t, "dst", Field.TUN_DST.get(k), Field.TUN_DST.get(m));
        ctAddr6(t, "ipv6_src", k, m, FlowKey.W_TUN_IPV6_SRC);
        ctAddr6(t, "ipv6_dst", k, m, FlowKey.W_TUN_IPV6_DST);
        for (int slot = 0; slot < FlowKey.TUN_METADATA_SLOTS; slot++)
        {
            final Field f = Field.tunMetadata(slot);
            final long mm = f.get(m);
            if (mm != 0)
            {
                t.append(t.length() > 0 ? "," : "").append(f.canonicalName()).append("=0x")
                    .append(Long.toHexString(f.get(k) & mm)).append(mm == -1L ? "" : "/0x" + Long.toHexString(mm));
            }
        }
        final long fm = Field.TUN_FLAGS.get(m) & Field.TUN_F_OAM;
        if (fm != 0)
        {
            t.append(t.length() > 0 ? "," : "").append("flags(")
                .append((Field.TUN_FLAGS.get(k) & Field.TUN_F_OAM) != 0 ? "+oam" : "-oam").append(')');
        }
        if (t.length() > 0)
        {
            sb.append("tunnel(").append(t).append("),");
        }
    }

    private static void ctAddr(final StringBuilder t, final String name, final long v, final long m)
    {
        if (m != 0)
        {
            t.append(t.length() > 0 ? "," : "").append(name).append('=').append(Values.formatIpv4(v & m));
            if (m != 0xffffffffL)
            {
                t.append('/').append(Values.formatIpv4(m));
            }
        }
    }

    private static void ctAddr6(final StringBuilder t, final String name, final long[] k, final long[] m, final int w)
    {
        if ((m[w] | m[w + 1]) != 0)
        {
            t.append(t.length() > 0 ? "," : "").append(name).append('=')
                .append(Values.formatIpv6(k[w] & m[w], k[w + 1] & m[w + 1]));
            if (m[w] != -1L || m[w + 1] != -1L)
            {
                t.append('/').append(Values.formatIpv6(m[w], m[w + 1]));
            }
        }
    }

    private static void ctPort(final StringBuilder t, final String name, final long v, final long m)
    {
        if (m != 0)
        {
            t.append(t.length() > 0 ? "," : "").append(name).append('=').append(v & m);
            if (m != 0xffff)
            {
                t.append("/0x").append(Long.toHexString(m));
            }
        }
    }

    private static void appendMatch(final StringBuilder sb, final long[] k, final long[] m)
    {
        final FlowKey key = new FlowKey();
        System.arraycopy(k, 0, key.words, 0, FlowKey.WORDS);
        tunnel(sb, k, m);
        final int recirc = key.recircId();
        sb.append("recirc_id(").append(recirc == 0 ? "0" : "0x" + Integer.toHexString(recirc)).append("),");
        final long dpHashMask = m[FlowKey.W_DP_HASH] & 0xffff_ffffL;
        if (dpHashMask != 0)
        {
            sb.append("dp_hash(0x").append(Long.toHexString(k[FlowKey.W_DP_HASH] & dpHashMask)).append("/0x")
                .append(Long.toHexString(dpHashMask)).append("),");
        }
        sb.append("in_port(").append(key.inPort()).append("),");
        conntrack(sb, k, m);
        sb.append("packet_type(ns=0,id=0),");
        final long src = Field.DL_SRC.get(k);
        final long dst = Field.DL_DST.get(k);
        final long srcM = Field.DL_SRC.get(m);
        final long dstM = Field.DL_DST.get(m);
        if ((srcM | dstM) != 0)
        {
            sb.append("eth(");
            int n = field(sb, 0, "src", srcM, Values.formatMac(src), Values.formatMac(srcM), 0xffff_ffff_ffffL);
            field(sb, n, "dst", dstM, Values.formatMac(dst), Values.formatMac(dstM), 0xffff_ffff_ffffL);
            sb.append("),");
        }
        final int dlType = key.dlType();
        final long vlan0 = k[FlowKey.W_VLAN] >>> 32;
        // A tag OVS could not parse (too short for TPID, TCI and Ethertype) leaves its TPID as
        // dl_type and prints as a tag with TCI 0, as odp_flow_key_from_flow does.
        final boolean truncatedTag = (vlan0 >>> 16) == 0 && (dlType == 0x8100 || dlType == 0x88a8);
        final boolean tagged = (vlan0 >>> 16) != 0 || truncatedTag;
        if (tagged)
        {
            sb.append(String.format(Locale.ROOT, "eth_type(0x%04x),vlan(", truncatedTag ? dlType : vlan0 >>> 16));
            vlanTci(sb, vlan0 & 0xffff, (m[FlowKey.W_VLAN] >>> 32) & 0xffff);
            sb.append("),encap(");
            if (truncatedTag)
            {
                sb.append(')');
                return;
            }
        }
        if (dlType < 0x600)
        {
            // No Ethertype (802.3 length): the datapath key has none, the mask an exact one.
            sb.append(tagged ? ")" : "eth_type(0/0xffff)");
            return;
        }
        sb.append(String.format(Locale.ROOT, "eth_type(0x%04x)", dlType));
        final long[] nwM = m;
        if (dlType == 0x0800)
        {
            sb.append(",ipv4(");
            int n = 0;
            n = field(sb, n, "src", Field.NW_SRC.get(nwM), Values.formatIpv4(Field.NW_SRC.get(k)),
                Values.formatIpv4(Field.NW_SRC.get(nwM)), 0xffff_ffffL);
            n = field(sb, n, "dst", Field.NW_DST.get(nwM), Values.formatIpv4(Field.NW_DST.get(k)),
                Values.formatIpv4(Field.NW_DST.get(nwM)), 0xffff_ffffL);
            n = ipCommon(sb, n, k, m, "tos", "ttl");
            sb.append(')');
            l4(sb, key, k, m);
        }
        else if (dlType == 0x86dd)
        {
            sb.append(",ipv6(");
            int n = 0;
            n = field(sb, n, "src", m[FlowKey.W_IPV6_SRC] | m[FlowKey.W_IPV6_SRC + 1],
                Values.formatIpv6(k[FlowKey.W_IPV6_SRC], k[FlowKey.W_IPV6_SRC + 1]),
                Values.formatIpv6(m[FlowKey.W_IPV6_SRC], m[FlowKey.W_IPV6_SRC + 1]),
                m[FlowKey.W_IPV6_SRC] == -1L && m[FlowKey.W_IPV6_SRC + 1] == -1L ? m[FlowKey.W_IPV6_SRC] : 0);
            n = field(sb, n, "dst", m[FlowKey.W_IPV6_DST] | m[FlowKey.W_IPV6_DST + 1],
                Values.formatIpv6(k[FlowKey.W_IPV6_DST], k[FlowKey.W_IPV6_DST + 1]),
                Values.formatIpv6(m[FlowKey.W_IPV6_DST], m[FlowKey.W_IPV6_DST + 1]),
                m[FlowKey.W_IPV6_DST] == -1L && m[FlowKey.W_IPV6_DST + 1] == -1L ? m[FlowKey.W_IPV6_DST] : 0);
            n = field(sb, n, "label", Field.IPV6_LABEL.get(m), hex(Field.IPV6_LABEL.get(k)),
                hex(Field.IPV6_LABEL.get(m)), 0xfffff);
            n = ipCommon(sb, n, k, m, "tclass", "hlimit");
            sb.append(')');
            l4(sb, key, k, m);
        }
        else if (dlType == 0x0806 && (m[FlowKey.W_NW_ADDR] | Field.ARP_OP.get(m) | m[FlowKey.W_ARP_SHA]
            | m[FlowKey.W_ARP_THA]) != 0)
        {
            sb.append(",arp(");
            int n = 0;
            n = field(sb, n, "sip", Field.ARP_SPA.get(m), Values.formatIpv4(Field.ARP_SPA.get(k)),
                Values.formatIpv4(Field.ARP_SPA.get(m)), 0xffff_ffffL);
            n = field(sb, n, "tip", Field.ARP_TPA.get(m), Values.formatIpv4(Field.ARP_TPA.get(k)),
                Values.formatIpv4(Field.ARP_TPA.get(m)), 0xffff_ffffL);
            n = field(sb, n, "op", Field.ARP_OP.get(m), Long.toString(Field.ARP_OP.get(k)), Long.toString(Field.ARP_OP.get(m)), 0xff);
            n = field(sb, n, "sha", Field.ARP_SHA.get(m), Values.formatMac(Field.ARP_SHA.get(k)),
                Values.formatMac(Field.ARP_SHA.get(m)), 0xffff_ffff_ffffL);
            field(sb, n, "tha", Field.ARP_THA.get(m), Values.formatMac(Field.ARP_THA.get(k)),
                Values.formatMac(Field.ARP_THA.get(m)), 0xffff_ffff_ffffL);
            sb.append(')');
        }
        if (tagged)
        {
            sb.append(')');
        }
    }

    /** As OVS's format_vlan_tci: a part is shown when key or mask has bits in it, a partial mask in hex. */
    private static void vlanTci(final StringBuilder sb, final long tci, final long mask)
    {
        final int start = sb.length();
        if (((tci | mask) & 0xfff) != 0)
        {
            sb.append("vid=").append(tci & 0xfff);
            if ((mask & 0xfff) != 0xfff)
            {
                sb.append("/0x").append(Long.toHexString(mask & 0xfff));
            }
        }
        if (((tci | mask) >>> 13 & 7) != 0)
        {
            sb.append(sb.length() > start ? "," : "").append("pcp=").append(tci >>> 13 & 7);
            if ((mask >>> 13 & 7) != 7)
            {
                sb.append("/0x").append(Long.toHexString(mask >>> 13 & 7));
            }
        }
        if ((tci & FlowKey.VLAN_CFI) == 0)
        {
            sb.append(sb.length() > start ? "," : "").append("cfi=0");
        }
    }

    private static void appendStats(final StringBuilder sb, final Megaflow mf, final long nowNanos)
    {
        sb.append(", packets:").append(mf.packets).append(", bytes:").append(mf.bytes).append(", used:");
        if (mf.packets == 0)
        {
            sb.append("never");
        }
        else
        {
            sb.append(String.format(Locale.ROOT, "%.3fs", Math.max(0, nowNanos - mf.usedNanos) / 1e9));
        }
        if (mf.tcpFlags != 0)
        {
            sb.append(", flags:").append(tcpFlags(mf.tcpFlags));
        }
        sb.append(", actions:");
        sb.append(mf.slow ? "userspace(pid=0,slow_path(action))" : mf.actions.describe());
    }

    private static int ipCommon(final StringBuilder sb, final int n0, final long[] k, final long[] m,
        final String tosName, final String ttlName)
    {
        int n = n0;
        n = field(sb, n, "proto", Field.NW_PROTO.get(m), Long.toString(Field.NW_PROTO.get(k)),
            hex(Field.NW_PROTO.get(m)), 0xff);
        final long tosM = Field.NW_TOS.get(m);
        n = field(sb, n, tosName, tosM, hex(Field.NW_TOS.get(k)), hex(tosM), 0xff);
        n = field(sb, n, ttlName, Field.NW_TTL.get(m), Long.toString(Field.NW_TTL.get(k)), hex(Field.NW_TTL.get(m)), 0xff);
        final long frag = Field.IP_FRAG.get(k);
        if (Field.IP_FRAG.get(m) != 0)
        {
            n = sep(sb, n);
            sb.append("frag=").append((frag & FlowKey.FRAG_LATER) != 0 ? "later" : frag != 0 ? "first" : "no");
        }
        return n;
    }

    private static void l4(final StringBuilder sb, final FlowKey key, final long[] k, final long[] m)
    {
        l4Ports(sb, key, k, m);
        final long flagsM = Field.TCP_FLAGS.get(m);
        if (key.nwProto() == 6 && flagsM != 0)
        {
            sb.append(",tcp_flags(");
            tcpFlagsMasked(sb, Field.TCP_FLAGS.get(k), flagsM);
            sb.append(')');
        }
    }

    /**
     * As OVS's format_flags_masked over packet_tcp_flag_to_string: +name/-name per examined bit,
     * lowest first; a fully examined field as the set flags joined by '|'.
     */
    private static void tcpFlagsMasked(final StringBuilder sb, final long flags, final long mask)
    {
        final String[] names = { "fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns", "[200]", "[400]", "[800]" };
        if (mask == 0xfff)
        {
            if (flags == 0)
            {
                sb.append('0');
                return;
            }
            final int start = sb.length();
            for (int b = 0; b < 12; b++)
            {
                if ((flags & (1L << b)) != 0)
                {
                    sb.append(sb.length() > start ? "|" : "").append(names[b]);
                }
            }
            return;
        }
        for (int b = 0; b < 12; b++)
        {
            if ((mask & (1L << b)) != 0)
            {
                sb.append((flags & (1L << b)) != 0 ? '+' : '-').append(names[b]);
            }
        }
    }

    private static void l4Ports(final StringBuilder sb, final FlowKey key, final long[] k, final long[] m)
    {
        final long tpM = m[FlowKey.W_TP] >>> 32;
        if (tpM == 0 && m[FlowKey.W_ND_TARGET] == 0 && m[FlowKey.W_ND_TARGET + 1] == 0)
        {
            return;
        }
        final int proto = key.nwProto();
        final String name = proto == 6 ? "tcp" : proto == 17 ? "udp" : proto == 132 ? "sctp"
            : proto == 1 ? "icmp" : proto == 58 ? "icmpv6" : "l4";
        final boolean icmp = proto == 1 || proto == 58;
        sb.append(',').append(name).append('(');
        int n = 0;
        final long sm = Field.TP_SRC.get(m);
        final long dm = Field.TP_DST.get(m);
        final long full = icmp ? 0xff : 0xffff;
        n = field(sb, n, icmp ? "type" : "src", sm, Long.toString(Field.TP_SRC.get(k)), hex(sm), full);
        field(sb, n, icmp ? "code" : "dst", dm, Long.toString(Field.TP_DST.get(k)), hex(dm), full);
        sb.append(')');
    }

    private static int field(final StringBuilder sb, final int n, final String name, final long mask,
        final String value, final String maskText, final long full)
    {
        return field(sb, n, name, mask, value, maskText, full, mask);
    }

    /** Prints {@code name=value[/mask]} when {@code show} is non-zero; the mask when {@code mask != full}. */
    private static int field(final StringBuilder sb, final int n, final String name, final long show,
        final String value, final String maskText, final long full, final long mask)
    {
        if (show == 0)
        {
            return n;
        }
        final int next = sep(sb, n);
        sb.append(name).append('=').append(value);
        if (mask != full)
        {
            sb.append('/').append(maskText);
        }
        return next;
    }

    private static int sep(final StringBuilder sb, final int n)
    {
        if (n > 0)
        {
            sb.append(',');
        }
        return n + 1;
    }

    /** As C's {@code %#x}: zero is plain "0". */
    private static String hex(final long v)
    {
        return v == 0 ? "0" : "0x" + Long.toHexString(v);
    }

    private static String tcpFlags(final int flags)
    {
        final StringBuilder sb = new StringBuilder();
        final String names = "FSRPAUEC";
        for (int i = 0; i < 8; i++)
        {
            if ((flags & (1 << i)) != 0)
            {
                sb.append(names.charAt(i));
            }
        }
        return sb.length() == 0 ? "." : sb.toString();
    }
}
