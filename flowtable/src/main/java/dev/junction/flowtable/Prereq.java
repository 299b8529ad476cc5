package dev.junction.flowtable;

/**
 * What a field needs to be meaningful, as OVS's {@code mf_prereqs}: a match on a field whose
 * prerequisite the match does not establish is dropped (OVS "normalizes" it away), and an
 * action writing such a field is refused, or skipped for a packet that lacks the header.
 */
public enum Prereq
{
    NONE, ARP, IPV4, IPV6, IP_ANY, TCP, UDP, SCTP, ICMPV4, ICMPV6, ND, ND_SOLICIT, ND_ADVERT,
    /** OVS's MFP_CT_VALID: the packet has a valid connection (new, established or reply). */
    CT;

    private static final int CT_VALID = dev.junction.flowtable.ct.CtState.NEW | dev.junction.flowtable.ct.CtState.EST
        | dev.junction.flowtable.ct.CtState.RPL;

    /** Does a concrete flow satisfy this prerequisite? */
    public boolean holds(final FlowKey k)
    {
        switch (this)
        {
            case NONE: return true;
            case ARP: return k.isArp();
            case IPV4: return k.isIpv4();
            case IPV6: return k.isIpv6();
            case IP_ANY: return k.isIpAny();
            // As OVS's MFP_TCP/UDP/SCTP: a later fragment has no transport header.
            case TCP: return k.isIpAny() && k.nwProto() == 6 && notLater(k.nwFrag());
            case UDP: return k.isIpAny() && k.nwProto() == 17 && notLater(k.nwFrag());
            case SCTP: return k.isIpAny() && k.nwProto() == 132 && notLater(k.nwFrag());
            case ICMPV4: return k.isIpv4() && k.nwProto() == 1;
            case ICMPV6: return k.isIpv6() && k.nwProto() == 58;
            case ND: return ICMPV6.holds(k) && isNd(k, 135, 136);
            case ND_SOLICIT: return ICMPV6.holds(k) && isNd(k, 135, 135);
            case ND_ADVERT: return ICMPV6.holds(k) && isNd(k, 136, 136);
            case CT: return (k.ctState() & CT_VALID) != 0;
            default: return false;
        }
    }

    /**
     * Does a match establish this prerequisite? As OVS's {@code mf_are_match_prereqs_ok}, only
     * the match's values are consulted (a wildcarded field reads as zero).
     */
    public boolean holds(final Match m)
    {
        if (this == CT)
        {
            // As OVS's is_ct_valid on a match: a state bit that implies a connection, or an
            // explicit -inv on a tracked packet.
            final int st = (int)m.value.get(Field.CT_STATE);
            final int mask = (int)m.mask.get(Field.CT_STATE);
            final int implying = dev.junction.flowtable.ct.CtState.NEW | dev.junction.flowtable.ct.CtState.EST
                | dev.junction.flowtable.ct.CtState.REL | dev.junction.flowtable.ct.CtState.RPL
                | dev.junction.flowtable.ct.CtState.SNAT | dev.junction.flowtable.ct.CtState.DNAT;
            return (st & implying) != 0
                || ((st & dev.junction.flowtable.ct.CtState.TRK) != 0
                && (mask & dev.junction.flowtable.ct.CtState.INV) != 0
                && (st & dev.junction.flowtable.ct.CtState.INV) == 0);
        }
        return holds(m.value);
    }

    private static boolean notLater(final int nwFrag)
    {
        return (nwFrag & FlowKey.FRAG_LATER) == 0;
    }

    private static boolean isNd(final FlowKey k, final int lo, final int hi)
    {
        final long type = k.get(Field.TP_SRC);
        return type >= lo && type <= hi && k.get(Field.TP_DST) == 0;
    }
}
