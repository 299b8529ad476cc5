package dev.junction.control.flows;

import dev.junction.control.pinctrl.ControllerOps;

import static dev.junction.control.flows.SwitchFlows.hex;
import static dev.junction.control.flows.Stage.*;

/**
 * The gateway routers' path MTU, as OVN-K and northd make it: OVN-K sets
 * {@code options:gateway_mtu} (its configured MTU, 1400 by default) on the router's join port
 * {@code rtoj-GR_<node>}, and northd checks what the router sends through that port into the
 * cluster (lr_in_chk_pkt_len: {@code check_pkt_larger(mtu + 18)}, the Ethernet header and one
 * VLAN tag on top of the MTU) and answers a larger IPv4 packet with ICMP fragmentation needed and
 * an IPv6 one with packet too big, from the router's address on the port it came in by (the
 * external port), which is where it leaves (lr_in_larger_pkts: {@code icmp4_error} /
 * {@code icmp6_error}, here {@link ControllerOps#icmpErrorAction}, built by pinctrl). Without a
 * packet-in handler the controller action drops the packet, as OVS without ovn-controller does.
 *
 * <p>Two ways lead from the external port into the cluster, each checked before it goes on: the
 * replies of SNATed connections ({@link Stage#GATEWAY_REPLY}, then {@link Stage#GATEWAY_REPLY_LARGER},
 * after the un-SNAT as in northd, where lr_in_unsnat comes first) and what the load balancers
 * DNATed ({@link Stage#GATEWAY_CHK_PKT_LEN} from the buckets and established connections, then
 * {@link Stage#GATEWAY_LARGER_PKTS}, before the SNAT to the join IP so the error goes to the
 * client). The check writes {@code reg0} bit 4 (OVN's REGBIT_PKT_LARGER), read by the next table
 * only. MTU 0 turns the check off (OVN-K's {@code disable-pkt-mtu-check}).
 */
final class GatewayMtuFlows
{
    /** OVN-K's default MTU ({@code config.Default.MTU}), the join port's gateway_mtu. */
    public static final int DEFAULT_MTU = 1400;
    /** reg0 bit 4: larger than the gateway MTU. */
    private static final int FLAG_LARGER = 0x10;
    /** northd's VLAN_ETH_HEADER_LEN: what check_pkt_larger counts besides the IP packet. */
    private static final int VLAN_ETH_HEADER = 18;
    private static final boolean[] FAMILIES = {false, true};
    /** The protocols a load balancer DNATs the port of, and their destination port field. */
    private static final String[][] TRANSPORT = {{"tcp", "NXM_OF_TCP_DST"}, {"udp", "NXM_OF_UDP_DST"}, {"sctp", "OXM_OF_SCTP_DST"}};

    private GatewayMtuFlows()
    {
    }

    /** The MTU itself, refused when no IPv4 packet fits (RFC 791's 68) or beyond an IP packet's length. */
    static int checked(final int mtu)
    {
        if (mtu != 0 && (mtu < 68 || mtu > 65535))
        {
            throw new IllegalArgumentException("gateway MTU must be 0 (no check) or 68 to 65535: " + mtu);
        }
        return mtu;
    }

    /** What a reply of an SNATed connection does in {@link Stage#GATEWAY_REPLY}: checked, else straight {@code back}. */
    static String reply(final int mtu, final String back)
    {
        return mtu == 0 ? back : check(mtu) + GATEWAY_REPLY_LARGER.gotoHere();
    }

    /** Defaults: what is not larger goes on, the replies {@code back} into the cluster, the load balancers' to their SNAT. */
    static void fixed(final FlowSet f, final int mtu, final String back)
    {
        f.owner("egress");
        if (mtu == 0)
        {
            f.add(GATEWAY_CHK_PKT_LEN, 0, "", GATEWAY_LB_SNAT.resubmitHere());
            return;
        }
        for (final boolean v6 : FAMILIES)
        {
            // dec_ttl in back needs the family in the match (OVS refuses it otherwise).
            f.add(GATEWAY_REPLY_LARGER, 10, Matches.ipToken(v6), back);
        }
        f.add(GATEWAY_REPLY_LARGER, 0, "", "drop");
        f.add(GATEWAY_CHK_PKT_LEN, 0, "", check(mtu) + GATEWAY_LARGER_PKTS.gotoHere());
        f.add(GATEWAY_LARGER_PKTS, 0, "", GATEWAY_LB_SNAT.resubmitHere());
    }

    /** One router's answers: a larger packet of a family the router has gets pinctrl's ICMP error out of its external port. */
    static void forGateway(final FlowSet f, final GatewayPort gw, final int mtu)
    {
        if (mtu == 0 || !gw.local())
        {
            return;
        }
        f.owner(GatewayFlows.owner(gw.node()));
        for (final boolean v6 : FAMILIES)
        {
            if (gw.ip(v6) != null)
            {
                final String match = "reg0=" + hex(FLAG_LARGER) + "/" + hex(FLAG_LARGER) + ",reg9=" + hex(gw.key()) + ",";
                final String answer = ControllerOps.icmpErrorAction(gw.ofport(), gw.mac(), gw.ip(v6).getAddress(), mtu);
                f.add(GATEWAY_REPLY_LARGER, 100, match + Matches.ipToken(v6), answer);
                // The error quotes what the client sent: the DNAT undone from the connection's original
                // direction (OVN gets there by conntrack relating the error to the connection).
                final String undnat = "move:" + (v6 ? "NXM_NX_CT_IPV6_DST[]->NXM_NX_IPV6_DST[]" : "NXM_NX_CT_NW_DST[]->NXM_OF_IP_DST[]") + ",";
                // The ct_ fields need a new or established connection in the match (OVS's prerequisite).
                for (final String state : new String[] {"ct_state=+new+trk,", "ct_state=+est+trk,"})
                {
                    f.add(GATEWAY_LARGER_PKTS, 100, match + state + Matches.ipToken(v6), undnat + answer);
                    for (final String[] l4 : TRANSPORT)
                    {
                        f.add(GATEWAY_LARGER_PKTS, 110, match + state + l4[0] + (v6 ? "6" : ""),
                            undnat + "move:NXM_NX_CT_TP_DST[]->" + l4[1] + "[]," + answer);
                    }
                }
                f.add(GATEWAY_LARGER_PKTS, 90, match + Matches.ipToken(v6), answer);
            }
        }
    }

    private static String check(final int mtu)
    {
        return "check_pkt_larger(" + (mtu + VLAN_ETH_HEADER) + ")->NXM_NX_REG0[4],";
    }
}
