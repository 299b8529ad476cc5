package dev.junction.flowtable;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The fields of {@link FlowKey}: where each lives (word, shift, width), its names in
 * {@code ovs-ofctl} syntax (OpenFlow, OXM and NXM spellings), its prerequisite and whether
 * actions may write it. Fields of 128 bits span two whole words.
 */
public enum Field
{
    IN_PORT(FlowKey.W_IN_PORT, 32, 32, Prereq.NONE, true, Format.DEC, "in_port", "NXM_OF_IN_PORT", "OXM_OF_IN_PORT"),
    METADATA(FlowKey.W_METADATA, 0, 64, Prereq.NONE, true, Format.HEX, "metadata", "OXM_OF_METADATA"),
    /** Conntrack results: read-only to matches, ct_mark and ct_label writable only inside ct(exec(...)). */
    CT_STATE(FlowKey.W_CT, 56, 8, Prereq.NONE, false, Format.CT_STATE, "ct_state", "NXM_NX_CT_STATE"),
    CT_NW_PROTO(FlowKey.W_CT, 48, 8, Prereq.CT, false, Format.DEC, "ct_nw_proto", "NXM_NX_CT_NW_PROTO"),
    CT_ZONE(FlowKey.W_CT, 32, 16, Prereq.NONE, false, Format.HEX, "ct_zone", "NXM_NX_CT_ZONE"),
    CT_MARK(FlowKey.W_CT, 0, 32, Prereq.NONE, true, Format.HEX, "ct_mark", "NXM_NX_CT_MARK"),
    CT_LABEL(FlowKey.W_CT_LABEL, 0, 128, Prereq.NONE, true, Format.HEX, "ct_label", "NXM_NX_CT_LABEL"),
    CT_NW_SRC(FlowKey.W_CT_NW, 32, 32, Prereq.CT, false, Format.IPV4, "ct_nw_src", "NXM_NX_CT_NW_SRC"),
    CT_NW_DST(FlowKey.W_CT_NW, 0, 32, Prereq.CT, false, Format.IPV4, "ct_nw_dst", "NXM_NX_CT_NW_DST"),
    CT_IPV6_SRC(FlowKey.W_CT_IPV6_SRC, 0, 128, Prereq.CT, false, Format.IPV6, "ct_ipv6_src", "NXM_NX_CT_IPV6_SRC"),
    CT_IPV6_DST(FlowKey.W_CT_IPV6_DST, 0, 128, Prereq.CT, false, Format.IPV6, "ct_ipv6_dst", "NXM_NX_CT_IPV6_DST"),
    CT_TP_SRC(FlowKey.W_CT_TP, 48, 16, Prereq.CT, false, Format.DEC, "ct_tp_src", "NXM_NX_CT_TP_SRC"),
    CT_TP_DST(FlowKey.W_CT_TP, 32, 16, Prereq.CT, false, Format.DEC, "ct_tp_dst", "NXM_NX_CT_TP_DST"),
    /** Tunnel metadata: what decapsulation found, or what an output to a tunnel port will use. */
    TUN_ID(FlowKey.W_TUN_ID, 0, 64, Prereq.NONE, true, Format.HEX, "tun_id", "tunnel_id", "NXM_NX_TUN_ID", "OXM_OF_TUNNEL_ID"),
    TUN_SRC(FlowKey.W_TUN_NW, 32, 32, Prereq.NONE, true, Format.IPV4, "tun_src", "NXM_NX_TUN_IPV4_SRC"),
    TUN_DST(FlowKey.W_TUN_NW, 0, 32, Prereq.NONE, true, Format.IPV4, "tun_dst", "NXM_NX_TUN_IPV4_DST"),
    TUN_IPV6_SRC(FlowKey.W_TUN_IPV6_SRC, 0, 128, Prereq.NONE, true, Format.IPV6, "tun_ipv6_src", "NXM_NX_TUN_IPV6_SRC"),
    TUN_IPV6_DST(FlowKey.W_TUN_IPV6_DST, 0, 128, Prereq.NONE, true, Format.IPV6, "tun_ipv6_dst", "NXM_NX_TUN_IPV6_DST"),
    /** The public tunnel flags (only oam, bit 0); df/csum/key are datapath-private, in W_TUN_GBP (see TUN_PRIV_FLAGS_SHIFT). */
    TUN_FLAGS(FlowKey.W_TUN_HDR, 48, 16, Prereq.NONE, true, Format.TUN_FLAGS, "tun_flags", "NXM_NX_TUN_FLAGS"),
    /** Outer TOS and TTL: datapath metadata only; OpenFlow can neither match nor set them in OVS. */
    TUN_TOS(FlowKey.W_TUN_HDR, 40, 8, Prereq.NONE, false, Format.DEC),
    TUN_TTL(FlowKey.W_TUN_HDR, 32, 8, Prereq.NONE, false, Format.DEC),
    TUN_GBP_ID(FlowKey.W_TUN_GBP, 48, 16, Prereq.NONE, true, Format.DEC, "tun_gbp_id", "NXM_NX_TUN_GBP_ID"),
    TUN_GBP_FLAGS(FlowKey.W_TUN_GBP, 40, 8, Prereq.NONE, true, Format.HEX, "tun_gbp_flags", "NXM_NX_TUN_GBP_FLAGS"),
    /**
     * The eight tun_metadata slots of the key, 8 bytes each; which of OVS's tun_metadata0-63 a slot
     * holds is the bridge's {@link TunMetadataSlots}, so these have no OpenFlow names of their own.
     */
    TUN_METADATA0(FlowKey.W_TUN_METADATA + 0, 0, 64, Prereq.NONE, true, Format.HEX),
    TUN_METADATA1(FlowKey.W_TUN_METADATA + 1, 0, 64, Prereq.NONE, true, Format.HEX),
    TUN_METADATA2(FlowKey.W_TUN_METADATA + 2, 0, 64, Prereq.NONE, true, Format.HEX),
    TUN_METADATA3(FlowKey.W_TUN_METADATA + 3, 0, 64, Prereq.NONE, true, Format.HEX),
    TUN_METADATA4(FlowKey.W_TUN_METADATA + 4, 0, 64, Prereq.NONE, true, Format.HEX),
    TUN_METADATA5(FlowKey.W_TUN_METADATA + 5, 0, 64, Prereq.NONE, true, Format.HEX),
    TUN_METADATA6(FlowKey.W_TUN_METADATA + 6, 0, 64, Prereq.NONE, true, Format.HEX),
    TUN_METADATA7(FlowKey.W_TUN_METADATA + 7, 0, 64, Prereq.NONE, true, Format.HEX),
    DL_DST(FlowKey.W_DL_DST_TYPE, 16, 48, Prereq.NONE, true, Format.MAC, "dl_dst", "eth_dst", "NXM_OF_ETH_DST", "OXM_OF_ETH_DST"),
    DL_SRC(FlowKey.W_DL_SRC, 16, 48, Prereq.NONE, true, Format.MAC, "dl_src", "eth_src", "NXM_OF_ETH_SRC", "OXM_OF_ETH_SRC"),
    DL_TYPE(FlowKey.W_DL_DST_TYPE, 0, 16, Prereq.NONE, false, Format.HEX, "dl_type", "eth_type", "NXM_OF_ETH_TYPE", "OXM_OF_ETH_TYPE"),
    VLAN_TCI(FlowKey.W_VLAN, 32, 16, Prereq.NONE, true, Format.HEX, "vlan_tci", "NXM_OF_VLAN_TCI"),
    NW_SRC(FlowKey.W_NW_ADDR, 32, 32, Prereq.IPV4, true, Format.IPV4, "nw_src", "ip_src", "NXM_OF_IP_SRC", "OXM_OF_IPV4_SRC"),
    NW_DST(FlowKey.W_NW_ADDR, 0, 32, Prereq.IPV4, true, Format.IPV4, "nw_dst", "ip_dst", "NXM_OF_IP_DST", "OXM_OF_IPV4_DST"),
    ARP_SPA(FlowKey.W_NW_ADDR, 32, 32, Prereq.ARP, true, Format.IPV4, "arp_spa", "NXM_OF_ARP_SPA", "OXM_OF_ARP_SPA"),
    ARP_TPA(FlowKey.W_NW_ADDR, 0, 32, Prereq.ARP, true, Format.IPV4, "arp_tpa", "NXM_OF_ARP_TPA", "OXM_OF_ARP_TPA"),
    IPV6_SRC(FlowKey.W_IPV6_SRC, 0, 128, Prereq.IPV6, true, Format.IPV6, "ipv6_src", "NXM_NX_IPV6_SRC", "OXM_OF_IPV6_SRC"),
    IPV6_DST(FlowKey.W_IPV6_DST, 0, 128, Prereq.IPV6, true, Format.IPV6, "ipv6_dst", "NXM_NX_IPV6_DST", "OXM_OF_IPV6_DST"),
    NW_PROTO(FlowKey.W_NW, 56, 8, Prereq.IP_ANY, false, Format.DEC, "nw_proto", "ip_proto", "NXM_OF_IP_PROTO", "OXM_OF_IP_PROTO"),
    ARP_OP(FlowKey.W_NW, 56, 8, Prereq.ARP, true, Format.DEC, "arp_op", "NXM_OF_ARP_OP", "OXM_OF_ARP_OP"),
    /** The whole TOS byte; matches and the NXM field use only the DSCP bits. */
    NW_TOS(FlowKey.W_NW, 48, 8, Prereq.IP_ANY, true, Format.DEC, "nw_tos", "NXM_OF_IP_TOS"),
    IP_DSCP(FlowKey.W_NW, 50, 6, Prereq.IP_ANY, true, Format.DEC, "ip_dscp", "OXM_OF_IP_DSCP"),
    NW_ECN(FlowKey.W_NW, 48, 2, Prereq.IP_ANY, true, Format.DEC, "nw_ecn", "ip_ecn", "NXM_NX_IP_ECN", "OXM_OF_IP_ECN"),
    NW_TTL(FlowKey.W_NW, 40, 8, Prereq.IP_ANY, true, Format.DEC, "nw_ttl", "NXM_NX_IP_TTL"),
    IP_FRAG(FlowKey.W_NW, 32, 2, Prereq.IP_ANY, false, Format.HEX, "ip_frag", "nw_frag", "NXM_NX_IP_FRAG"),
    IPV6_LABEL(FlowKey.W_NW, 0, 20, Prereq.IPV6, true, Format.HEX, "ipv6_label", "NXM_NX_IPV6_LABEL", "OXM_OF_IPV6_FLABEL"),
    /** Raw transport words; the protocol-specific fields below are views with prerequisites. */
    TP_SRC(FlowKey.W_TP, 48, 16, Prereq.IP_ANY, true, Format.DEC, "tp_src"),
    TP_DST(FlowKey.W_TP, 32, 16, Prereq.IP_ANY, true, Format.DEC, "tp_dst"),
    TCP_SRC(FlowKey.W_TP, 48, 16, Prereq.TCP, true, Format.DEC, "tcp_src", "NXM_OF_TCP_SRC", "OXM_OF_TCP_SRC"),
    TCP_DST(FlowKey.W_TP, 32, 16, Prereq.TCP, true, Format.DEC, "tcp_dst", "NXM_OF_TCP_DST", "OXM_OF_TCP_DST"),
    UDP_SRC(FlowKey.W_TP, 48, 16, Prereq.UDP, true, Format.DEC, "udp_src", "NXM_OF_UDP_SRC", "OXM_OF_UDP_SRC"),
    UDP_DST(FlowKey.W_TP, 32, 16, Prereq.UDP, true, Format.DEC, "udp_dst", "NXM_OF_UDP_DST", "OXM_OF_UDP_DST"),
    SCTP_SRC(FlowKey.W_TP, 48, 16, Prereq.SCTP, true, Format.DEC, "sctp_src", "OXM_OF_SCTP_SRC"),
    SCTP_DST(FlowKey.W_TP, 32, 16, Prereq.SCTP, true, Format.DEC, "sctp_dst", "OXM_OF_SCTP_DST"),
    ICMP_TYPE(FlowKey.W_TP, 48, 8, Prereq.ICMPV4, true, Format.DEC, "icmp_type", "icmpv4_type", "NXM_OF_ICMP_TYPE", "OXM_OF_ICMPV4_TYPE"),
    ICMP_CODE(FlowKey.W_TP, 32, 8, Prereq.ICMPV4, true, Format.DEC, "icmp_code", "icmpv4_code", "NXM_OF_ICMP_CODE", "OXM_OF_ICMPV4_CODE"),
    ICMPV6_TYPE(FlowKey.W_TP, 48, 8, Prereq.ICMPV6, true, Format.DEC, "icmpv6_type", "NXM_NX_ICMPV6_TYPE", "OXM_OF_ICMPV6_TYPE"),
    ICMPV6_CODE(FlowKey.W_TP, 32, 8, Prereq.ICMPV6, true, Format.DEC, "icmpv6_code", "NXM_NX_ICMPV6_CODE", "OXM_OF_ICMPV6_CODE"),
    TCP_FLAGS(FlowKey.W_TP, 16, 12, Prereq.TCP, false, Format.HEX, "tcp_flags", "NXM_NX_TCP_FLAGS", "ONF_OXM_OF_TCP_FLAGS"),
    ARP_SHA(FlowKey.W_ARP_SHA, 16, 48, Prereq.ARP, true, Format.MAC, "arp_sha", "NXM_NX_ARP_SHA", "OXM_OF_ARP_SHA"),
    ARP_THA(FlowKey.W_ARP_THA, 16, 48, Prereq.ARP, true, Format.MAC, "arp_tha", "NXM_NX_ARP_THA", "OXM_OF_ARP_THA"),
    ND_SLL(FlowKey.W_ARP_SHA, 16, 48, Prereq.ND_SOLICIT, true, Format.MAC, "nd_sll", "NXM_NX_ND_SLL", "OXM_OF_IPV6_ND_SLL"),
    ND_TLL(FlowKey.W_ARP_THA, 16, 48, Prereq.ND_ADVERT, true, Format.MAC, "nd_tll", "NXM_NX_ND_TLL", "OXM_OF_IPV6_ND_TLL"),
    ND_TARGET(FlowKey.W_ND_TARGET, 0, 128, Prereq.ND, true, Format.IPV6, "nd_target", "NXM_NX_ND_TARGET", "OXM_OF_IPV6_ND_TARGET"),
    /**
     * ND extensions (OVS 2.11+): the 32-bit word after the ICMPv6 header (an NA's router, solicited
     * and override flags) and the type of the first link-layer address option. OVS keeps the type
     * in tcp_flags, as here; the word goes in the free half of the ct tuple's transport word.
     * Writable, so flows can turn a solicitation into an advertisement.
     */
    ND_RESERVED(FlowKey.W_CT_TP, 0, 32, Prereq.ND, true, Format.DEC, "nd_reserved", "ERICOXM_OF_ICMPV6_ND_RESERVED"),
    ND_OPTIONS_TYPE(FlowKey.W_TP, 16, 8, Prereq.ND, true, Format.DEC, "nd_options_type", "ERICOXM_OF_ICMPV6_ND_OPTIONS_TYPE"),
    REG0(1, 32), REG1(1, 0), REG2(2, 32), REG3(2, 0), REG4(3, 32), REG5(3, 0), REG6(4, 32), REG7(4, 0),
    REG8(5, 32), REG9(5, 0), REG10(6, 32), REG11(6, 0), REG12(7, 32), REG13(7, 0), REG14(8, 32), REG15(8, 0),
    XREG0(1), XREG1(2), XREG2(3), XREG3(4), XREG4(5), XREG5(6), XREG6(7), XREG7(8);

    public enum Format
    {
        DEC, HEX, MAC, IPV4, IPV6, CT_STATE, TUN_FLAGS
    }

    /** OVS's public tunnel flag (FLOW_TNL_F_OAM), the only one OpenFlow sees. */
    public static final int TUN_F_OAM = 1;
    /** Datapath-private tunnel flags (OVS's FLOW_TNL_F_DONT_FRAGMENT, _CSUM, _KEY). */
    public static final int TUN_F_DF = 2;
    public static final int TUN_F_CSUM = 4;
    public static final int TUN_F_KEY = 8;
    /** Private flags and the bitmap of present tun_metadata slots, not OpenFlow fields. */
    public static final int TUN_PRIV_FLAGS_SHIFT = 32;
    public static final long TUN_PRESENT_MASK = 0xffL;

    private static final Map<String, Field> BY_NAME = new HashMap<>();

    static
    {
        for (final Field f : values())
        {
            for (final String n : f.names)
            {
                BY_NAME.put(n.toLowerCase(Locale.ROOT), f);
            }
        }
    }

    public final int word;
    public final int shift;
    public final int bits;
    public final Prereq prereq;
    public final boolean writable;
    public final Format format;
    private final String[] names;
    private final long valueMask;

    Field(final int word, final int shift, final int bits, final Prereq prereq, final boolean writable,
        final Format format, final String... names)
    {
        this.word = word;
        this.shift = shift;
        this.bits = bits;
        this.prereq = prereq;
        this.writable = writable;
        this.format = format;
        this.names = names;
        this.valueMask = bits >= 64 ? -1L : (1L << bits) - 1;
    }

    /** A 32-bit register. */
    Field(final int word, final int shift)
    {
        this(word, shift, 32, Prereq.NONE, true, Format.HEX);
    }

    /** A 64-bit extended register. */
    Field(final int word)
    {
        this(word, 0, 64, Prereq.NONE, true, Format.HEX);
    }

    public String canonicalName()
    {
        if (names.length == 0)
        {
            return name().toLowerCase(Locale.ROOT);
        }
        return names[0];
    }

    /** The name OVS prints in {@code set_field:V->NAME} (the OXM-style name of meta-flow). */
    public String setFieldName()
    {
        switch (this)
        {
            case DL_SRC: return "eth_src";
            case DL_DST: return "eth_dst";
            case NW_SRC: return "ip_src";
            case NW_DST: return "ip_dst";
            case NW_ECN: return "ip_ecn";
            case DL_TYPE: return "eth_type";
            default: return canonicalName();
        }
    }

    /** The NXM/OXM name used in {@code load}/{@code move} printing, or the canonical one. */
    public String nxmName()
    {
        if (isReg())
        {
            return "NXM_NX_REG" + (ordinal() - REG0.ordinal());
        }
        if (isXreg())
        {
            return "OXM_OF_PKT_REG" + (ordinal() - XREG0.ordinal());
        }
        for (final String n : names)
        {
            if (n.startsWith("NXM_") || n.startsWith("OXM_"))
            {
                return n;
            }
        }
        return canonicalName();
    }

    /** The width of the field's NXM form (NXM_OF_IN_PORT is 16 bits, NXM_NX_CT_STATE 32). */
    public int nxmBits()
    {
        switch (this)
        {
            case IN_PORT: return 16;
            case CT_STATE: return 32;
            default: return bits;
        }
    }

    public boolean isReg()
    {
        return ordinal() >= REG0.ordinal() && ordinal() <= REG15.ordinal();
    }

    public boolean isXreg()
    {
        return ordinal() >= XREG0.ordinal() && ordinal() <= XREG7.ordinal();
    }

    public boolean isTunMetadata()
    {
        return ordinal() >= TUN_METADATA0.ordinal() && ordinal() <= TUN_METADATA7.ordinal();
    }

    /** Slot of a tun_metadata slot field (0-7). */
    public int tunMetadataSlot()
    {
        return ordinal() - TUN_METADATA0.ordinal();
    }

    public static Field tunMetadata(final int slot)
    {
        return values()[TUN_METADATA0.ordinal() + slot];
    }

    public static Field reg(final int n)
    {
        return values()[REG0.ordinal() + n];
    }

    public static Field byName(final String name)
    {
        final String n = name.toLowerCase(Locale.ROOT);
        final Field f = BY_NAME.get(n);
        if (f != null)
        {
            return f;
        }
        if (n.startsWith("reg") || n.startsWith("nxm_nx_reg"))
        {
            return regByNumber(n.substring(n.startsWith("reg") ? 3 : 10), REG0, 16);
        }
        if (n.startsWith("xreg") || n.startsWith("oxm_of_pkt_reg"))
        {
            return regByNumber(n.substring(n.startsWith("xreg") ? 4 : 14), XREG0, 8);
        }
        return null;
    }

    private static Field regByNumber(final String digits, final Field first, final int count)
    {
        try
        {
            final int i = Integer.parseInt(digits);
            return i >= 0 && i < count ? values()[first.ordinal() + i] : null;
        }
        catch (final NumberFormatException ex)
        {
            return null;
        }
    }

    public boolean isWide()
    {
        return bits == 128;
    }

    /** Value of a field of at most 64 bits. */
    public long get(final long[] words)
    {
        return (words[word] >>> shift) & valueMask;
    }

    public void set(final long[] words, final long value)
    {
        final long m = valueMask << shift;
        words[word] = (words[word] & ~m) | ((value << shift) & m);
    }

    /** Sets bits of the field selected by {@code mask} (both in field coordinates). */
    public void setMasked(final long[] words, final long value, final long mask)
    {
        final long m = (mask & valueMask) << shift;
        words[word] = (words[word] & ~m) | ((value << shift) & m);
    }

    public long allOnes()
    {
        return valueMask;
    }
}
