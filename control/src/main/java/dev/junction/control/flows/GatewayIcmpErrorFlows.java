package dev.junction.control.flows;

import dev.junction.control.k8s.Ip;

import java.net.InetAddress;

import static dev.junction.control.flows.Stage.*;
import static dev.junction.control.flows.SwitchFlows.hex;

/**
 * ICMP errors about the gateway routers' load-balanced connections, as OVN's routers pass
 * {@code ct.rel} traffic through the same NAT: conntrack finds the connection by the quoted
 * packet and translates the outer header and the quoted one back (OVS's and Junction's conntrack
 * alike). From outside (a router on the client's path reports a reply it could not deliver, to the
 * VIP): related in the DNAT zone, DNATed to the backend, SNATed to the join IP (Cluster), on over
 * join to the backend. From the backend or a router inside (about a packet to the join IP or, for
 * externalTrafficPolicy Local, to the client): un-SNATed, related in the DNAT zone, un-DNATed
 * to the VIP and out of the external port to the MAC the connection came from.
 */
final class GatewayIcmpErrorFlows
{
    /** Between the DNAT stage's established non-replies (50) and affine ones (60). */
    private static final int RELATED = 55;
    private static final boolean[] FAMILIES = {false, true};

    private GatewayIcmpErrorFlows()
    {
    }

    static void fixed(final FlowSet f)
    {
        for (final boolean v6 : FAMILIES)
        {
            final String related = "ct_state=+rel+trk," + Matches.ipToken(v6);
            f.add(GATEWAY_DNAT, RELATED, related, GATEWAY_LB_SNAT.gotoHere());
            f.add(GATEWAY_JOIN_UNSNAT, 100, related, GatewayLoadBalancerFlows.DNAT_LOOKUP);
        }
    }

    /** One router: related errors leave with the connections' replies. */
    static void forGateway(final FlowSet f, final GatewayPort gw, final String out)
    {
        for (final boolean v6 : FAMILIES)
        {
            if (gw.ip(v6) == null)
            {
                continue; // a family the router does not have
            }
            f.add(GATEWAY_UNDNAT, 100, "ct_state=+rel+trk," + Matches.ipToken(v6) + ",reg9=" + hex(gw.key()), out);
        }
    }

    /**
     * A backend of externalTrafficPolicy Local sends its errors to the client itself: what is
     * related in its port's zone is tried in the DNAT zone, as its replies are.
     */
    static void fromLocalBackend(final FlowSet f, final GatewayPort gw, final InetAddress backend, final int priority)
    {
        final boolean v6 = Ip.isIpv6(backend);
        f.add(EGRESS_FIREWALL, priority, "ct_state=+rel+trk," + (v6 ? "icmp6" : "icmp") + ",reg9=" + hex(gw.key()) + ",reg0=0/"
            + hex(GatewayLoadBalancerFlows.FLAG_UNDNAT_TRIED) + "," + Matches.address(true, backend),
            "load:0x1->NXM_NX_REG0[3]," + GatewayLoadBalancerFlows.DNAT_LOOKUP);
    }
}
