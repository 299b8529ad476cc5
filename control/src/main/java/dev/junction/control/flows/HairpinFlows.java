package dev.junction.control.flows;

import dev.junction.control.k8s.Ip;

import java.net.InetAddress;

import static dev.junction.control.flows.Stage.*;

/**
 * A pod that reaches itself through a service (the load balancer chose the client as backend):
 * OVN SNATs such a connection to the load balancer's {@code hairpin_snat_ip}, which OVN-K sets
 * to its service hairpin masquerade address, so the pod sees a peer that is not itself and
 * answers through the switch, where the reply is un-SNATed and un-DNATed and reaches the pod
 * as coming from the VIP (OVN's ls_in_pre_hairpin, ls_in_nat_hairpin, ls_in_hairpin).
 *
 * <p>Where: the SNAT comes after the egress ACLs' conntrack pass and the un-SNAT of a reply
 * before it, so the port's conntrack zone sees the pod-to-itself tuple both ways (the reply
 * is the reply of what it committed), and the SNAT has a zone of its own: the load-balancer
 * zone already holds the DNAT of the same packets, and one zone per translation keeps each
 * conntrack entry to one NAT. Pod addresses are unique in the cluster, so one zone serves all
 * pods. The pod's ingress ACLs see the hairpin address: OVN-K allows it above every policy.
 */
final class HairpinFlows
{
    /** OVN-K's service hairpin masquerade addresses. */
    static final InetAddress HAIRPIN_IPV4 = Ip.parse("169.254.169.5");
    static final InetAddress HAIRPIN_IPV6 = Ip.parse("fd69::5");
    /** The hairpin SNAT's conntrack zone: the LB zone bit without a port key (keys start at 1). */
    static final int ZONE = BridgeLayout.LB_ZONE_BIT;
    /** Above every NetworkPolicy allow (OVN-K's DefaultAllowPriority for its hairpin ACL). */
    static final int ACL_ALLOW_PRIORITY = AclFlows.ALLOW + 1;

    private HairpinFlows()
    {
    }

    static InetAddress hairpinIp(final boolean ipv6)
    {
        return ipv6 ? HAIRPIN_IPV6 : HAIRPIN_IPV4;
    }

    /** Replies to the hairpin address are un-SNATed first; hairpin connections pass the ingress ACLs. */
    static void fixed(final FlowSet f)
    {
        f.owner("bridge");
        for (final boolean v6 : new boolean[] {false, true})
        {
            final String ip = Matches.ipToken(v6);
            // Untracked only: after the un-SNAT the packet comes back here tracked, with the pod
            // as destination (or, when no connection knew it, unchanged: then it goes on and
            // finds no route, instead of looping).
            f.add(PRE_STATEFUL, 110, "ct_state=-trk," + ip + "," + Matches.address(false, hairpinIp(v6)),
                "ct(table=" + PRE_STATEFUL.table + ",zone=" + ZONE + ",nat)");
            f.add(ACL_INGRESS, ACL_ALLOW_PRIORITY, ip + "," + Matches.address(true, hairpinIp(v6)), STATEFUL_INGRESS.gotoHere());
        }
    }

    /**
     * A load-balanced packet from the pod to itself (after DNAT) is SNATed to the hairpin address
     * before the L2 lookup, which then runs again on the translated packet. Every packet commits:
     * a ct without recirculation just before (the stateful stage's commit) hides conntrack's
     * state from here on, as in OVS, so new and established packets look alike; on an existing
     * connection the commit only applies its SNAT. {@code reg0} bit 2 says it was done.
     */
    static void forPort(final FlowSet f, final BridgeLayout.PodPort p)
    {
        f.owner("pod:" + p.name());
        for (final InetAddress a : p.ips())
        {
            final boolean v6 = Ip.isIpv6(a);
            f.add(L2_LOOKUP, 110, "reg14=" + SwitchFlows.hex(p.key()) + ",reg0=0x2/0x6," + Matches.ipToken(v6) + ","
                + Matches.address(true, a) + "," + Matches.address(false, a),
                "load:0x1->NXM_NX_REG0[2],ct(commit,table=" + L2_LOOKUP.table + ",zone=" + ZONE + ",nat(src="
                    + Ip.text(hairpinIp(v6)) + "))");
        }
    }
}
