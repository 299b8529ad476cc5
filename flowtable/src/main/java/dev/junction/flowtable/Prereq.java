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

    /** Does a match (value + mask) establish this prerequisite exactly? */
    public boolean holds(final Match m)
    {
        if (this == NONE)
        {
            return true;
        }
        if (m.mask.get(Field.DL_TYPE) != 0xffff)
        {
            return false;
        }
        final int t = (int)m.value.get(Field.DL_TYPE);
        switch (this)
        {
            case ARP: return t == 0x0806 || t == 0x8035;
            case IPV4: return t == 0x0800;
            case IPV6: return t == 0x86dd;
            case IP_ANY: return t == 0x0800 || t == 0x86dd;
            default:
                break;
        }
        if (m.mask.get(Field.NW_PROTO) != 0xff)
        {
            return false;
        }
        final int p = (int)m.value.get(Field.NW_PROTO);
        final boolean ip = t == 0x0800 || t == 0x86dd;
        final boolean notLater = notLater((int)m.value.get(Field.IP_FRAG));
        switch (this)
        {
            case TCP: return ip && p == 6 && notLater;
            case UDP: return ip && p == 17 && notLater;
            case SCTP: return ip && p == 132 && notLater;
            case ICMPV4: return t == 0x0800 && p == 1;
            case ICMPV6: return t == 0x86dd && p == 58;
            default:
                break;
        }
        if (t != 0x86dd || p != 58 || m.mask.get(Field.TP_SRC) != 0xffff || m.mask.get(Field.TP_DST) != 0xffff
            || m.value.get(Field.TP_DST) != 0)
        {
            return false;
        }
        final long type = m.value.get(Field.TP_SRC);
        switch (this)
        {
            case ND: return type == 135 || type == 136;
            case ND_SOLICIT: return type == 135;
            case ND_ADVERT: return type == 136;
            default: return false;
        }
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
