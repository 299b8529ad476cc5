package dev.junction.flowtable.xlate;

import dev.junction.flowtable.Field;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Prereq;

/**
 * Prerequisite checks that record what they read in the megaflow mask, as OVS's
 * {@code mf_are_prereqs_ok(mf, flow, wc)}: testing "is this TCP?" examines nw_proto, so a
 * megaflow built on the answer must match nw_proto.
 */
final class Unwildcard
{
    static final long NW_PROTO = 0xffL << 56;
    static final long NW_TTL = 0xffL << 40;
    static final long VLAN0_CFI = (long)FlowKey.VLAN_CFI << 32;
    static final long VLAN0_TAG = 0xffff_ffffL << 32;
    static final long VLAN1_TAG = 0xffff_ffffL;

    private Unwildcard()
    {
    }

    static void or(final long[] wc, final Field f, final long bits)
    {
        wc[f.word] |= (bits & f.allOnes()) << f.shift;
    }

    static boolean prereqs(final Prereq p, final FlowKey flow, final long[] wc)
    {
        switch (p)
        {
            case TCP: return ipProto(flow, wc, 6) && notLater(flow);
            case UDP: return ipProto(flow, wc, 17) && notLater(flow);
            case SCTP: return ipProto(flow, wc, 132) && notLater(flow);
            case ICMPV4:
                if (flow.isIpv4())
                {
                    wc[FlowKey.W_NW] |= NW_PROTO;
                    return flow.nwProto() == 1;
                }
                return false;
            case ICMPV6:
                return icmpv6(flow, wc);
            case ND: return nd(flow, wc);
            case ND_SOLICIT: return nd(flow, wc) && flow.get(Field.TP_SRC) == 135;
            case ND_ADVERT: return nd(flow, wc) && flow.get(Field.TP_SRC) == 136;
            case CT:
                // OVS's is_ct_valid on a flow: a valid state has new, est or rpl set.
                wc[FlowKey.W_CT] |= (long)(dev.junction.flowtable.ct.CtState.NEW | dev.junction.flowtable.ct.CtState.EST
                    | dev.junction.flowtable.ct.CtState.RPL) << 56;
                return p.holds(flow);
            default:
                // Ethernet type based prerequisites read dl_type, which is always exact.
                return p.holds(flow);
        }
    }

    private static boolean ipProto(final FlowKey flow, final long[] wc, final int proto)
    {
        if (flow.isIpAny())
        {
            wc[FlowKey.W_NW] |= NW_PROTO;
            return flow.nwProto() == proto;
        }
        return false;
    }

    private static boolean icmpv6(final FlowKey flow, final long[] wc)
    {
        if (flow.isIpv6())
        {
            wc[FlowKey.W_NW] |= NW_PROTO;
            return flow.nwProto() == 58;
        }
        return false;
    }

    private static boolean nd(final FlowKey flow, final long[] wc)
    {
        if (!icmpv6(flow, wc))
        {
            return false;
        }
        or(wc, Field.TP_DST, 0xffff);
        if (flow.get(Field.TP_DST) != 0)
        {
            return false;
        }
        or(wc, Field.TP_SRC, 0xffff);
        final long type = flow.get(Field.TP_SRC);
        return type == 135 || type == 136;
    }

    private static boolean notLater(final FlowKey flow)
    {
        return (flow.nwFrag() & FlowKey.FRAG_LATER) == 0;
    }

    /**
     * As OVS's {@code mf_set_mask_l3_prereqs}: setting an IP header field makes the megaflow
     * match nw_proto (and an ARP field, the opcode that shares its bits).
     */
    static void setFieldL3(final Field f, final FlowKey flow, final long[] wc)
    {
        if (flow.isIpAny())
        {
            switch (f)
            {
                case NW_SRC: case NW_DST: case IPV6_SRC: case IPV6_DST: case IPV6_LABEL:
                case NW_TOS: case NW_ECN: case NW_TTL:
                    wc[FlowKey.W_NW] |= NW_PROTO;
                    break;
                default:
                    break;
            }
        }
        else if (flow.dlType() == 0x0806)
        {
            switch (f)
            {
                case ARP_OP: case ARP_SHA: case ARP_THA: case ARP_SPA: case ARP_TPA:
                    wc[FlowKey.W_NW] |= NW_PROTO;
                    break;
                default:
                    break;
            }
        }
    }

    static int vlanCount(final long vlanWord)
    {
        if ((vlanWord & VLAN0_CFI) == 0)
        {
            return 0;
        }
        return (vlanWord & FlowKey.VLAN_CFI) == 0 ? 1 : 2;
    }
}
