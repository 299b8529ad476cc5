package dev.junction.control.flows;

import static dev.junction.control.flows.Stage.*;

/**
 * Broadcast and multicast on a node switch, as OVN floods them (northd's
 * build_lswitch_destination_lookup_bmcast; ovn-controller's output to a multicast group): an
 * Ethernet group address ({@code eth.mcast}) in the L2 lookup sends the packet to every port of
 * its switch but the one it came from ({@code _MC_flood}: the pods and the management port),
 * each copy through that port's egress pipeline with the port as outport, so the destination's
 * NetworkPolicy ingress applies as OVN's ls_out_acl applies it to flooded packets.
 *
 * <p>What reaches the lookup: ARP requests and neighbour solicitations the responder does not
 * answer (an address the switch does not know, another pod's link-local address, a port's own
 * announcements, duplicate address detection; OVN's ls_in_arp_rsp lets them go on), neighbour
 * advertisements, MLD (also from {@code ::}, which OVN's port security allows) and other IP
 * multicast. OVN-K enables neither multicast snooping nor its multicast ACLs by default (both
 * come with its opt-in multicast support), so IP multicast is flooded like the rest.
 *
 * <p>The cluster router's port is left out: OVN floods ARP and ND to it too, where nothing comes
 * of them (its addresses are answered by the responder before the lookup; ovn_cluster_router
 * sends no router advertisements for OVN-K); IP multicast does not go to routers
 * ({@code _MC_flood_l2}). A node switch is local to its node in OVN-K's topology, so nothing is
 * flooded over the tunnel.
 *
 * <p>Conntrack, as OVN's pre-ACL stages: ND and MLD skip it both ways (OVS's conntrack holds them
 * invalid), and every flooded copy skips it in the egress pipeline ({@code eth.mcast}), so the
 * ACLs judge it statelessly and no copy recirculates. ARP and ND pass a destination's default
 * deny, as OVN-K's allow ACL for {@code arp || nd} in its default-deny port groups lets them.
 */
final class FloodFlows
{
    /** Ethernet group bit: broadcast and multicast destinations (OVN's {@code eth.mcast}). */
    static final String ETH_MCAST = "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00";
    /** OVN's {@code nd || nd_rs || nd_ra || mldv1 || mldv2}: ICMPv6 types conntrack is never asked about. */
    private static final int[] ND_AND_MLD = {130, 131, 132, 133, 134, 135, 136, 143};
    /** MLD reports from {@code ::} (v1 and v2): OVN's port security lets them to a link-scope group. */
    private static final int[] MLD_REPORTS = {131, 143};
    /** What an ARP request or solicitation the responder leaves unanswered does next. */
    static final String UNANSWERED = L2_LOOKUP.gotoHere();

    private FloodFlows()
    {
    }

    static void fixed(final FlowSet f)
    {
        f.owner("bridge");
        f.add(ARP_RESPONDER, 1, "arp", UNANSWERED);
        f.add(ARP_RESPONDER, 1, NdResponderFlows.SOLICITATION, UNANSWERED);
        for (final int type : ND_AND_MLD)
        {
            f.add(PRE_STATEFUL, 110, "icmp6,icmpv6_type=" + type, ACL_EGRESS.gotoHere());
            f.add(OUT_PRE_STATEFUL, 105, "icmp6,icmpv6_type=" + type, ACL_INGRESS.gotoHere());
        }
        f.add(OUT_PRE_STATEFUL, 105, ETH_MCAST, ACL_INGRESS.gotoHere());
        // Neither IPv4 nor IPv6 (an ARP reply to a port's MAC): no conntrack, as OVN's pre-ACL has it.
        f.add(OUT_PRE_STATEFUL, 0, "", ACL_INGRESS.gotoHere());
        // OVN-K's arp || nd allow, above every policy rule and default deny (OVN's nd: code 0, hop limit 255).
        f.add(ACL_INGRESS, AclFlows.NODE_ALLOW + 1, "arp", STATEFUL_INGRESS.gotoHere());
        for (final int type : new int[] {135, 136})
        {
            f.add(ACL_INGRESS, AclFlows.NODE_ALLOW + 1, "icmp6,icmpv6_type=" + type + ",icmpv6_code=0,nw_ttl=255",
                STATEFUL_INGRESS.gotoHere());
        }
        f.add(L2_LOOKUP, 90, ETH_MCAST, FLOOD.resubmitHere());
        f.add(FLOOD, 0, "", "drop");
        f.add(FLOOD_LOOPBACK, 0, "", OUT_PRE_STATEFUL.gotoHere());
    }

    /**
     * The switch's flood set: each local port in turn as outport (with its LB zone, as unicast
     * delivery loads it), through the loopback check into its egress pipeline. Pods by
     * namespace/name, then the management port; nothing when the switch has no port here.
     */
    static void forSwitch(final FlowSet f, final BridgeLayout layout, final BridgeLayout.Switch sw)
    {
        f.owner(owner(sw));
        final StringBuilder actions = new StringBuilder();
        for (final BridgeLayout.PodPort p : layout.localPodsOn(sw))
        {
            member(actions, p);
        }
        layout.managementPort(sw).filter(LogicalPort::local).ifPresent(mp -> member(actions, mp));
        if (actions.length() > 0)
        {
            f.add(FLOOD, 100, "metadata=" + sw.key(), actions.toString());
        }
    }

    /** A local port: not flooded back to itself; with IPv6, its MLD reports from {@code ::} pass port security. */
    static void forPort(final FlowSet f, final LogicalPort p)
    {
        f.owner(p.owner());
        final String key = SwitchFlows.hex(p.key());
        f.add(FLOOD_LOOPBACK, 100, "reg14=" + key + ",reg15=" + key, "drop");
        if (p.ip(true).isEmpty())
        {
            return;
        }
        for (final int type : MLD_REPORTS)
        {
            f.add(PORT_SECURITY, 110, "in_port=" + p.ofport() + ",dl_src=" + p.mac() + ",icmp6,ipv6_src=::,ipv6_dst=ff02::/16,icmpv6_type="
                + type, SwitchFlows.classify(p) + PRE_LB.gotoHere());
        }
    }

    /** The owner of a switch's flood set: it changes with any of the switch's local ports. */
    static String owner(final BridgeLayout.Switch sw)
    {
        return "flood:" + sw.node();
    }

    private static void member(final StringBuilder actions, final LogicalPort p)
    {
        if (actions.length() > 0)
        {
            actions.append(',');
        }
        actions.append("load:").append(SwitchFlows.hex(p.key())).append("->NXM_NX_REG15[],load:").append(SwitchFlows.hex(p.lbZone()))
            .append("->NXM_NX_REG11[],").append(FLOOD_LOOPBACK.resubmitHere());
    }
}
