package dev.junction.flowtable;

/**
 * What a field needs to be meaningful, as OVS's {@code mf_prereqs}: a match on a field whose
 * prerequisite the match does not establish is dropped (OVS "normalizes" it away), and an
 * action writing such a field is refused, or skipped for a packet that lacks the header.
 */
public enum Prereq
{
    NONE, ARP, IPV4, IPV6, IP_ANY, TCP, UDP, SCTP, ICMPV4, ICMPV6, ND, ND_SOLICIT, ND_ADVERT;

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
            default: return false;
        }
    }

    /**
     * Does a match establish this prerequisite? As OVS's {@code mf_are_match_prereqs_ok}, only
     * the match's values are consulted (a wildcarded field reads as zero).
     */
    public boolean holds(final Match m)
    {
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
