package dev.junction.conntrack;

import dev.junction.flowtable.ct.CtAction;

/**
 * The NAT request of one ct action, as OVS's {@code struct nat_action_info_t} built by
 * dpif-netdev from {@code OVS_CT_ATTR_NAT}: action bits, address range (all zero when none was
 * given) and port range. Mutable scratch, filled from a {@link CtAction} per packet.
 */
final class NatSpec
{
    static final int SRC = 1;
    static final int SRC_PORT = 1 << 1;
    static final int DST = 1 << 2;
    static final int DST_PORT = 1 << 3;

    int action;
    long minHi;
    long minLo;
    long maxHi;
    long maxLo;
    int minPort;
    int maxPort;

    /** Reads the action's NAT operands; only meaningful when it has {@link CtAction#F_NAT}. */
    void from(final CtAction ct)
    {
        final int f = ct.flags();
        action = (f & CtAction.F_NAT_SRC) != 0 ? SRC : (f & CtAction.F_NAT_DST) != 0 ? DST : 0;
        if ((f & CtAction.F_NAT_ADDR) != 0)
        {
            minHi = ct.natMinAddrHi();
            minLo = ct.natMinAddrLo();
            maxHi = ct.natMaxAddrHi();
            maxLo = ct.natMaxAddrLo();
        }
        else
        {
            minHi = 0;
            minLo = 0;
            maxHi = 0;
            maxLo = 0;
        }
        if ((f & CtAction.F_NAT_PORTS) != 0)
        {
            minPort = ct.natMinPort();
            maxPort = ct.natMaxPort();
            if ((action & SRC) != 0)
            {
                action |= SRC_PORT;
            }
            else if ((action & DST) != 0)
            {
                action |= DST_PORT;
            }
        }
        else
        {
            minPort = 0;
            maxPort = 0;
        }
    }

    /** As {@code nat_action_reverse}: source and destination swap. */
    static int reverse(final int a)
    {
        if ((a & SRC) != 0)
        {
            return (a ^ SRC) | DST;
        }
        if ((a & DST) != 0)
        {
            return (a ^ DST) | SRC;
        }
        return a;
    }
}
