package dev.junction.flowtable.xlate;

import dev.junction.flowtable.FlowKey;

/**
 * Turns the bits a translation examined into the mask of the megaflow the datapath installs, as
 * OVS's {@code xlate_wc_finish} followed by the round trip of the mask through the datapath's
 * flow-key format ({@code odp_flow_key_from_mask} / {@code odp_flow_key_to_mask}): metadata and
 * registers leave the mask, VLAN presence and the Ethertype are always exact, and bits of
 * headers the packet does not have are dropped.
 */
public final class MegaflowMask
{
    private static final long TPID0 = 0xffffL << 48;
    private static final long TPID1 = 0xffffL << 16;
    private static final long TCI0 = 0xffffL << 32;
    private static final long TCI1 = 0xffffL;
    private static final long CFI0 = (long)FlowKey.VLAN_CFI << 32;
    private static final long CFI1 = FlowKey.VLAN_CFI;
    private static final long VID_CFI0 = 0x1fffL << 32;
    private static final long PORTS = 0xffff_ffffL << 32;
    private static final long ICMP_TYPE_CODE = 0x00ff_00ffL << 32;
    /** nd_options_type (tcp_flags' low byte) of an ND packet; nd_reserved is in W_CT_TP's low half. */
    private static final long ND_OPTIONS_TYPE = 0x00ffL << 16;
    private static final long TCP_PORTS_FLAGS = 0xffff_ffff_ffffL << 16;
    private static final long IPV4_NW = 0xffff_ffffL << 32;
    private static final long NW_PROTO = 0xffL << 56;

    private MegaflowMask()
    {
    }

    /** Finishes {@code wc} (FlowKey layout) for the megaflow of {@code packet}, the key as parsed. */
    public static void finish(final FlowKey packet, final long[] wc)
    {
        final long[] k = packet.words;
        // Metadata and registers are not packet fields: the cache never matches them. The input
        // port and recirc_id are always exact, as in OVS.
        wc[FlowKey.W_IN_PORT] = -1L;
        for (int w = FlowKey.W_XREG0; w <= FlowKey.W_METADATA; w++)
        {
            wc[w] = 0;
        }
        wc[FlowKey.W_DL_DST_TYPE] |= 0xffff;
        origTuple(packet, wc);

        final int dlType = packet.dlType();
        final int proto = packet.nwProto();
        final boolean ip = dlType == 0x0800 || dlType == 0x86dd;
        final boolean later = ip && (packet.nwFrag() & FlowKey.FRAG_LATER) != 0;
        final boolean icmp = (dlType == 0x0800 && proto == 1) || (dlType == 0x86dd && proto == 58);
        if (icmp)
        {
            // ICMP type and code are 8 bits in the datapath key.
            wc[FlowKey.W_TP] &= ~(0xff00_ff00L << 32);
        }
        if (later)
        {
            wc[FlowKey.W_TP] &= ~PORTS;
        }

        wc[FlowKey.W_VLAN] = vlan(k[FlowKey.W_VLAN], wc[FlowKey.W_VLAN]);

        switch (dlType)
        {
            case 0x0800:
                wc[FlowKey.W_IPV6_SRC] = wc[FlowKey.W_IPV6_SRC + 1] = 0;
                wc[FlowKey.W_IPV6_DST] = wc[FlowKey.W_IPV6_DST + 1] = 0;
                wc[FlowKey.W_NW] &= IPV4_NW;
                transport(packet, wc, proto, later);
                break;
            case 0x86dd:
                wc[FlowKey.W_NW_ADDR] = 0;
                transport(packet, wc, proto, later);
                break;
            case 0x0806:
            case 0x8035:
                wc[FlowKey.W_IPV6_SRC] = wc[FlowKey.W_IPV6_SRC + 1] = 0;
                wc[FlowKey.W_IPV6_DST] = wc[FlowKey.W_IPV6_DST + 1] = 0;
                wc[FlowKey.W_NW] &= NW_PROTO;
                wc[FlowKey.W_TP] = 0;
                wc[FlowKey.W_ND_TARGET] = wc[FlowKey.W_ND_TARGET + 1] = 0;
                break;
            default:
                for (int w = FlowKey.W_NW_ADDR; w < FlowKey.WORDS; w++)
                {
                    wc[w] = 0;
                }
                break;
        }
    }

    /**
     * The VLAN part of the mask, as OVS's xlate_wc_finish and then dpif-netdev's upcall: the CFI
     * bit is matched when any TCI bit is; a tag the packet does not have leaves the mask; and an
     * outer TCI nothing examined becomes VID|CFI, since the datapath key cannot wildcard whether
     * there is a tag. A TPID stays wildcarded unless a push or pop examined it (translation adds
     * those bits), so 0x8100- and 0x88a8-tagged frames share a megaflow, as in OVS; dpctl prints
     * the creating packet's TPID as if exact.
     */
    private static long vlan(final long packetVlan, final long examined)
    {
        long vlan = examined;
        vlan |= (vlan & TCI0) != 0 ? CFI0 : 0;
        vlan |= (vlan & TCI1) != 0 ? CFI1 : 0;
        if ((packetVlan & CFI0) == 0)
        {
            vlan &= ~(TPID0 | TCI0);
        }
        if ((packetVlan & CFI1) == 0)
        {
            vlan &= ~(TPID1 | TCI1);
        }
        if ((vlan & TCI0) == 0)
        {
            vlan |= VID_CFI0;
        }
        return vlan;
    }

    private static void transport(final FlowKey packet, final long[] wc, final int proto, final boolean later)
    {
        long tp = wc[FlowKey.W_TP];
        boolean nd = false;
        if (later)
        {
            tp = 0;
        }
        else if (proto == 6)
        {
            tp &= TCP_PORTS_FLAGS;
        }
        else if (proto == 17 || proto == 132)
        {
            tp &= PORTS;
        }
        else if (proto == 1 && packet.dlType() == 0x0800)
        {
            tp &= ICMP_TYPE_CODE;
        }
        else if (proto == 58 && packet.dlType() == 0x86dd)
        {
            final long examined = tp;
            tp &= ICMP_TYPE_CODE;
            final long typeCode = packet.words[FlowKey.W_TP] >>> 32;
            // The ND attribute exists for solicitations and advertisements whose type and code are exact.
            nd = (typeCode == (135L << 16) || typeCode == (136L << 16)) && (tp & ICMP_TYPE_CODE) == ICMP_TYPE_CODE;
            // So do the ND extensions (reserved word, option type), when examined or written.
            tp |= nd ? examined & ND_OPTIONS_TYPE : 0;
        }
        else
        {
            tp = 0;
        }
        wc[FlowKey.W_TP] = tp;
        if (!nd)
        {
            wc[FlowKey.W_CT_TP] &= ~FlowKey.ND_RESERVED_BITS;
            wc[FlowKey.W_ARP_SHA] = wc[FlowKey.W_ARP_THA] = 0;
            wc[FlowKey.W_ND_TARGET] = wc[FlowKey.W_ND_TARGET + 1] = 0;
        }
    }

    /** Mask of megaflow for datapath keys: {@code out[w] = key[w] & mask[w]}. */
    public static void apply(final long[] key, final long[] mask, final long[] out)
    {
        for (int w = 0; w < FlowKey.WORDS; w++)
        {
            out[w] = key[w] & mask[w];
        }
    }

    /**
     * The datapath key has a conntrack original tuple only when the packet has a connection
     * (ct_nw_proto set), and only of the packet's IP version: other bits leave the mask, as in
     * OVS's odp_flow_key_from_mask.
     */
    private static void origTuple(final FlowKey packet, final long[] wc)
    {
        final long protoBits = 0xffL << 48;
        final boolean has = (packet.words[FlowKey.W_CT] & protoBits) != 0;
        final boolean v4 = has && packet.isIpv4();
        final boolean v6 = has && packet.isIpv6();
        if (!has)
        {
            wc[FlowKey.W_CT] &= ~protoBits;
            wc[FlowKey.W_CT_TP] &= FlowKey.ND_RESERVED_BITS;
        }
        if (!v4)
        {
            wc[FlowKey.W_CT_NW] = 0;
        }
        if (!v6)
        {
            for (int w = FlowKey.W_CT_IPV6_SRC; w < FlowKey.W_CT_IPV6_DST + 2; w++)
            {
                wc[w] = 0;
            }
        }
    }
}
