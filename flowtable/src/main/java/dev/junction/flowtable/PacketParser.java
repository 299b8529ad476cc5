package dev.junction.flowtable;

/**
 * Extracts a {@link FlowKey} from a frame and records the layer offsets in the {@link Packet},
 * with the exact tolerance rules of OVS's {@code miniflow_extract}: a header that fails its
 * sanity check ends parsing there (the fields beyond stay zero), and nothing ever throws.
 *
 * <p>{@code vlanLimit} is OVS's {@code other_config:vlan-limit} (default 1): with QinQ only the
 * outer tag is parsed and the inner TPID becomes {@code dl_type}, as in OVS.
 */
public final class PacketParser
{
    private final int vlanLimit;

    public PacketParser()
    {
        this(1);
    }

    public PacketParser(final int vlanLimit)
    {
        this.vlanLimit = Math.max(0, Math.min(2, vlanLimit));
    }

    public void parse(final Packet p, final FlowKey key)
    {
        key.clear();
        key.words[FlowKey.W_IN_PORT] = (p.inPort & 0xffff_ffffL) << 32;
        p.l3 = -1;
        p.l4 = -1;
        p.l2Pad = 0;
        int at = p.start;
        int size = p.length;
        if (size < 14)
        {
            return;
        }
        final long[] w = key.words;
        w[FlowKey.W_DL_DST_TYPE] = p.u48(at) << 16;
        w[FlowKey.W_DL_SRC] = p.u48(at + 6) << 16;
        at += 12;
        size -= 12;

        long vlans = 0;
        int n = 0;
        while (n < vlanLimit && isVlan(p.u16(at)) && size >= 6)
        {
            final long qtag = (p.u32(at) | FlowKey.VLAN_CFI) & 0xffffffffL;
            vlans |= qtag << (n == 0 ? 32 : 0);
            at += 4;
            size -= 4;
            n++;
        }
        w[FlowKey.W_VLAN] = vlans;

        int dlType = p.u16(at);
        at += 2;
        size -= 2;
        if (dlType < 0x600)
        {
            dlType = FlowKey.DL_TYPE_NONE;
            // LLC/SNAP with the Ethernet OUI carries a real EtherType.
            if (size >= 8 && p.u8(at) == 0xaa && p.u8(at + 1) == 0xaa && p.u8(at + 2) == 0x03
                && p.u8(at + 3) == 0 && p.u8(at + 4) == 0 && p.u8(at + 5) == 0)
            {
                final int snapType = p.u16(at + 6);
                at += 8;
                size -= 8;
                if (snapType >= 0x600)
                {
                    dlType = snapType;
                }
            }
        }
        w[FlowKey.W_DL_DST_TYPE] |= dlType;
        p.l3 = at;

        int nwFrag = 0;
        int nwTos;
        int nwTtl;
        int nwProto;
        if (dlType == 0x0800)
        {
            if (size < 20)
            {
                return;
            }
            final int ipLen = (p.u8(at) & 0x0f) * 4;
            if (ipLen < 20 || size < ipLen)
            {
                return;
            }
            final int totLen = p.u16(at + 2);
            if (totLen > size || ipLen > totLen)
            {
                return;
            }
            p.l2Pad = size - totLen;
            size = totLen;
            w[FlowKey.W_NW_ADDR] = p.u64(at + 12);
            nwTos = p.u8(at + 1);
            nwTtl = p.u8(at + 8);
            nwProto = p.u8(at + 9);
            final int fragOff = p.u16(at + 6);
            if ((fragOff & 0x3fff) != 0)
            {
                nwFrag = FlowKey.FRAG_ANY | ((fragOff & 0x1fff) != 0 ? FlowKey.FRAG_LATER : 0);
            }
            at += ipLen;
            size -= ipLen;
        }
        else if (dlType == 0x86dd)
        {
            if (size < 40)
            {
                return;
            }
            final int plen = p.u16(at + 4);
            if (plen + 40 > size)
            {
                return;
            }
            final long tcFlow = p.u32(at);
            w[FlowKey.W_IPV6_SRC] = p.u64(at + 8);
            w[FlowKey.W_IPV6_SRC + 1] = p.u64(at + 16);
            w[FlowKey.W_IPV6_DST] = p.u64(at + 24);
            w[FlowKey.W_IPV6_DST + 1] = p.u64(at + 32);
            nwTos = (int)(tcFlow >>> 20) & 0xff;
            nwTtl = p.u8(at + 7);
            nwProto = p.u8(at + 6);
            at += 40;
            size -= 40;
            p.l2Pad = size - plen;
            size = plen;
            // Extension headers: as OVS, stop (leaving L4 unset) on any that does not fit.
            while (true)
            {
                if (nwProto != 0 && nwProto != 43 && nwProto != 60 && nwProto != 51 && nwProto != 44)
                {
                    break;
                }
                if (size < 8)
                {
                    return;
                }
                if (nwProto == 44)
                {
                    final int offlg = p.u16(at + 2);
                    nwProto = p.u8(at);
                    at += 8;
                    size -= 8;
                    if (offlg != 0)
                    {
                        nwFrag = FlowKey.FRAG_ANY;
                        if ((offlg & 0xfff8) != 0)
                        {
                            nwFrag |= FlowKey.FRAG_LATER;
                            nwProto = 44;
                            break;
                        }
                    }
                }
                else
                {
                    final int next = p.u8(at);
                    final int len = nwProto == 51 ? (p.u8(at + 1) + 2) * 4 : (p.u8(at + 1) + 1) * 8;
                    nwProto = next;
                    if (size < len)
                    {
                        return;
                    }
                    at += len;
                    size -= len;
                }
            }
            w[FlowKey.W_NW] = tcFlow & 0xfffff;
        }
        else
        {
            if ((dlType == 0x0806 || dlType == 0x8035) && size >= 28)
            {
                if (p.u16(at) == 1 && p.u16(at + 2) == 0x0800 && p.u8(at + 4) == 6 && p.u8(at + 5) == 4)
                {
                    w[FlowKey.W_NW_ADDR] = (p.u32(at + 14) << 32) | p.u32(at + 24);
                    final int op = p.u16(at + 6);
                    if (op <= 0xff)
                    {
                        w[FlowKey.W_NW] = (long)op << 56;
                    }
                    w[FlowKey.W_ARP_SHA] = p.u48(at + 8) << 16;
                    w[FlowKey.W_ARP_THA] = p.u48(at + 18) << 16;
                }
            }
            return;
        }

        p.l4 = at;
        w[FlowKey.W_NW] |= ((long)nwProto << 56) | ((long)nwTos << 48) | ((long)nwTtl << 40) | ((long)nwFrag << 32);
        if ((nwFrag & FlowKey.FRAG_LATER) != 0)
        {
            return;
        }
        switch (nwProto)
        {
            case 6:
                if (size >= 20)
                {
                    final int hdrLen = (p.u8(at + 12) >>> 4) * 4;
                    if (hdrLen >= 20 && size >= hdrLen)
                    {
                        final long flags = p.u16(at + 12) & 0x0fff;
                        w[FlowKey.W_TP] = (p.u32(at) << 32) | (flags << 16);
                    }
                }
                break;
            case 17:
            case 132:
                if (size >= (nwProto == 17 ? 8 : 12))
                {
                    w[FlowKey.W_TP] = p.u32(at) << 32;
                }
                break;
            case 1:
            case 2:
                if (size >= 8)
                {
                    w[FlowKey.W_TP] = ((long)p.u8(at) << 48) | ((long)p.u8(at + 1) << 32);
                }
                break;
            case 58:
                if (size >= 8)
                {
                    parseIcmpv6(p, at, size, w);
                }
                break;
            default:
                break;
        }
    }

    private static void parseIcmpv6(final Packet p, final int at0, final int size0, final long[] w)
    {
        final int type = p.u8(at0);
        final int code = p.u8(at0 + 1);
        w[FlowKey.W_TP] = ((long)type << 48) | ((long)code << 32);
        if (code != 0 || (type != 135 && type != 136))
        {
            return;
        }
        // The reserved word (an NA's R/S/O flags), as OVS's nd_reserved.
        Field.ND_RESERVED.set(w, p.u32(at0 + 4));
        int at = at0 + 8;
        int size = size0 - 8;
        if (size < 16)
        {
            return;
        }
        final long tHi = p.u64(at);
        final long tLo = p.u64(at + 8);
        at += 16;
        size -= 16;
        long sll = 0;
        long tll = 0;
        while (size >= 8)
        {
            final int optLen = p.u8(at + 1) * 8;
            if (optLen == 0 || optLen > size)
            {
                break;
            }
            final int optType = p.u8(at);
            if ((optType == 1 || optType == 2) && optLen == 8 && Field.ND_OPTIONS_TYPE.get(w) == 0)
            {
                // nd_options_type: the first link-layer address option's type, kept as OVS keeps
                // it even when a duplicate option then invalidates the addresses.
                Field.ND_OPTIONS_TYPE.set(w, optType);
            }
            if (optType == 1 && optLen == 8)
            {
                if (sll != 0)
                {
                    w[FlowKey.W_ARP_SHA] = 0;
                    w[FlowKey.W_ARP_THA] = 0;
                    return; // duplicate option: OVS drops target and link-layer addresses
                }
                sll = p.u48(at + 2);
            }
            else if (optType == 2 && optLen == 8)
            {
                if (tll != 0)
                {
                    return;
                }
                tll = p.u48(at + 2);
            }
            at += optLen;
            size -= optLen;
        }
        w[FlowKey.W_ND_TARGET] = tHi;
        w[FlowKey.W_ND_TARGET + 1] = tLo;
        w[FlowKey.W_ARP_SHA] = sll << 16;
        w[FlowKey.W_ARP_THA] = tll << 16;
    }

    private static boolean isVlan(final int tpid)
    {
        return tpid == 0x8100 || tpid == 0x88a8;
    }
}
