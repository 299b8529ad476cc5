package dev.junction.flowtable;

import java.util.Arrays;

/**
 * A packet's flow key in a fixed layout of 64-bit words, the way OVS lays out {@code struct flow}:
 * a match or a megaflow mask is the same layout, so matching is word-wise
 * {@code ((key ^ value) & mask) == 0} with no per-field branching.
 *
 * <p>Fields sit in the segment OVS's {@code struct flow} puts them in, because the classifier's
 * staged lookup examines a subtable segment by segment and a miss un-wildcards only the segments
 * looked at: recirc_id, ct_state/zone/mark/label and dp_hash are metadata, the conntrack
 * original tuple lives beside the L3 and L4 headers. Recirculation carries the datapath
 * metadata and the original tuple over; registers and metadata exist only during translation (a
 * recirculated packet gets them back from its frozen state), so the datapath sees them zero.
 *
 * <pre>
 *  word  contents (most significant bits first)             segment
 *   0    in_port(32) | recirc_id(32)                        metadata
 *   1-8  xreg0..xreg7: reg(2n) high 32 bits, reg(2n+1) low
 *   9    metadata(64)
 *  10    ct_state(8) ct_nw_proto(8) ct_zone(16) | ct_mark(32)
 *  11-12 ct_label(128)
 *  13    0 | dp_hash(32)
 *  14    tun_id(64)                                         (tunnel metadata: set by decap)
 *  15    tun_src(32) | tun_dst(32)
 *  16-17 tun_ipv6_src  18-19 tun_ipv6_dst
 *  20    tun_flags(16) tun_tos(8) tun_ttl(8) | tun_tp_src(16) tun_tp_dst(16)
 *  21    tun_gbp_id(16) tun_gbp_flags(8) 0(8) | 0(24) tun_metadata present bits(8)
 *  22-29 tun_metadata0..7, one 64-bit slot each (option values up to 8 bytes)
 *  30    dl_dst(48) | dl_type(16)                           L2
 *  31    dl_src(48) | 0
 *  32    vlan0 tpid(16) tci(16) | vlan1 tpid(16) tci(16)    (tci has CFI set when present)
 *  33    nw_src(32) | nw_dst(32)                            L3 (IPv4, or ARP spa/tpa)
 *  34    ct_nw_src(32) | ct_nw_dst(32)                      (conntrack original direction)
 *  35-36 ipv6_src    37-38 ipv6_dst
 *  39-40 ct_ipv6_src 41-42 ct_ipv6_dst
 *  43    nw_proto(8) nw_tos(8) nw_ttl(8) nw_frag(8) | ipv6_label(32, low 20 bits used)
 *  44    tp_src(16) tp_dst(16) tcp_flags(16) | 0            L4 (ICMP type/code in tp_src/tp_dst;
 *        ND: nd_options_type in tcp_flags' low byte)
 *  45    ct_tp_src(16) ct_tp_dst(16) | nd_reserved(32)      (conntrack's half only is metadata)
 *  46    arp_sha / nd_sll (48) | 0
 *  47    arp_tha / nd_tll (48) | 0
 *  48-49 nd_target
 * </pre>
 *
 * <p>The tunnel words are non-zero only for packets that arrived through a tunnel port, and a
 * decapsulated packet always has a non-zero word 20 (its outer UDP destination port): the caches
 * hash and compare words 14-29 only when word 20 says a tunnel is present.
 */
public final class FlowKey
{
    public static final int WORDS = 50;

    public static final int W_IN_PORT = 0;
    public static final int W_XREG0 = 1;
    public static final int W_METADATA = 9;
    public static final int W_CT = 10;
    public static final int W_CT_LABEL = 11;
    public static final int W_DP_HASH = 13;
    public static final int W_TUN_ID = 14;
    public static final int W_TUN_NW = 15;
    public static final int W_TUN_IPV6_SRC = 16;
    public static final int W_TUN_IPV6_DST = 18;
    /** tun_flags, tos, ttl, outer UDP ports: never zero when a tunnel is present. */
    public static final int W_TUN_HDR = 20;
    public static final int W_TUN_GBP = 21;
    public static final int W_TUN_METADATA = 22;
    public static final int TUN_METADATA_SLOTS = 8;
    public static final int W_DL_DST_TYPE = 30;
    public static final int W_DL_SRC = 31;
    public static final int W_VLAN = 32;
    public static final int W_NW_ADDR = 33;
    public static final int W_CT_NW = 34;
    public static final int W_IPV6_SRC = 35;
    public static final int W_IPV6_DST = 37;
    public static final int W_CT_IPV6_SRC = 39;
    public static final int W_CT_IPV6_DST = 41;
    public static final int W_NW = 43;
    public static final int W_TP = 44;
    public static final int W_CT_TP = 45;
    public static final int W_ARP_SHA = 46;
    public static final int W_ARP_THA = 47;
    public static final int W_ND_TARGET = 48;
    /** The packet's own half of {@link #W_CT_TP}: nd_reserved, a header field, not conntrack metadata. */
    public static final long ND_RESERVED_BITS = 0xffff_ffffL;

    public static final int FRAG_ANY = 1;
    public static final int FRAG_LATER = 2;
    public static final int VLAN_CFI = 0x1000;
    /** OVS's dl_type for frames that are neither Ethernet II nor SNAP-encapsulated. */
    public static final int DL_TYPE_NONE = 0x05ff;

    public final long[] words = new long[WORDS];

    private static final long[] ZERO = new long[WORDS];

    public void clear()
    {
        // An arraycopy intrinsic moves 400 bytes in wide vector stores; Arrays.fill's loop here
        // compiled to one store per word and was a third of the parse.
        System.arraycopy(ZERO, 0, words, 0, WORDS);
    }

    public void copyFrom(final FlowKey other)
    {
        System.arraycopy(other.words, 0, words, 0, WORDS);
    }

    public long get(final Field f)
    {
        return f.get(words);
    }

    public void set(final Field f, final long value)
    {
        f.set(words, value);
    }

    public int inPort()
    {
        return (int)(words[W_IN_PORT] >>> 32);
    }

    public void inPort(final int port)
    {
        Field.IN_PORT.set(words, port & 0xffffffffL);
    }

    public int recircId()
    {
        return (int)words[W_IN_PORT];
    }

    public void recircId(final int id)
    {
        words[W_IN_PORT] = (words[W_IN_PORT] & 0xffffffff00000000L) | (id & 0xffffffffL);
    }

    public int ctState()
    {
        return (int)(words[W_CT] >>> 56);
    }

    public int ctZone()
    {
        return (int)(words[W_CT] >>> 32) & 0xffff;
    }

    public long ctMark()
    {
        return words[W_CT] & 0xffffffffL;
    }

    /** Clears what a ct action sets (OVS's ct_clear): state, zone, mark, label, original tuple. */
    public void clearConntrack()
    {
        words[W_CT] = 0;
        words[W_CT_LABEL] = 0;
        words[W_CT_LABEL + 1] = 0;
        words[W_CT_NW] = 0;
        words[W_CT_TP] &= ND_RESERVED_BITS;
        for (int w = W_CT_IPV6_SRC; w < W_CT_IPV6_DST + 2; w++)
        {
            words[w] = 0;
        }
    }

    /** Copies what recirculation carries from {@code from}: datapath metadata and the conntrack original tuple. */
    public void copyDatapathMetadata(final FlowKey from)
    {
        System.arraycopy(from.words, 0, words, 0, W_DL_DST_TYPE);
        words[W_CT_NW] = from.words[W_CT_NW];
        words[W_CT_TP] = from.words[W_CT_TP] & ~ND_RESERVED_BITS | words[W_CT_TP] & ND_RESERVED_BITS;
        System.arraycopy(from.words, W_CT_IPV6_SRC, words, W_CT_IPV6_SRC, 4);
    }

    /** Did the packet arrive through a tunnel (OVS's flow_tnl_dst_is_set, for datapath keys)? */
    public static boolean hasTunnel(final long[] words)
    {
        return words[W_TUN_HDR] != 0;
    }

    public int dlType()
    {
        return (int)(words[W_DL_DST_TYPE] & 0xffff);
    }

    public int nwProto()
    {
        return (int)(words[W_NW] >>> 56);
    }

    public int nwTtl()
    {
        return (int)(words[W_NW] >>> 40) & 0xff;
    }

    public int nwFrag()
    {
        return (int)(words[W_NW] >>> 32) & 0xff;
    }

    public int vlanTci(final int i)
    {
        return (int)(words[W_VLAN] >>> (i == 0 ? 32 : 0)) & 0xffff;
    }

    public int vlanTpid(final int i)
    {
        return (int)(words[W_VLAN] >>> (i == 0 ? 48 : 16)) & 0xffff;
    }

    public boolean isIpv4()
    {
        return dlType() == 0x0800;
    }

    public boolean isIpv6()
    {
        return dlType() == 0x86dd;
    }

    public boolean isIpAny()
    {
        return isIpv4() || isIpv6();
    }

    public boolean isArp()
    {
        final int t = dlType();
        return t == 0x0806 || t == 0x8035;
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof FlowKey && Arrays.equals(words, ((FlowKey)o).words);
    }

    @Override
    public int hashCode()
    {
        return Arrays.hashCode(words);
    }
}
