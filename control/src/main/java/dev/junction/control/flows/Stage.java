package dev.junction.control.flows;

/**
 * The OpenFlow tables of a compiled bridge, one per logical stage, named after the OVN stage
 * they stand for (what {@code junction trace --manifests} prints next to each table). The
 * logical switch's ingress pipeline (from the pod) runs first, then the cluster router when the
 * packet is routed, then the destination switch's egress pipeline (to the pod).
 *
 * <p>Registers, as ovn-controller keeps them: {@code reg14} logical inport key, {@code reg15}
 * logical outport key, {@code metadata} the source switch's key, {@code reg12} the inport's
 * load-balancer zone, {@code reg11} the outport's; {@code reg0} flags (bit 0: the packet goes
 * back to the port it came from; bit 1: load-balanced; bit 2: hairpin SNAT done; bit 3: a gateway
 * router's un-DNAT was tried, see {@link GatewayLoadBalancerFlows}); ClientIP
 * affinity's VIP, port and chosen backend ({@link AffinityRegisters}: reg4-reg6 for IPv4; for
 * IPv6 reg2-reg9 and reg13) and {@code reg10} bit 14 "affinity hit", as OVN's {@code chk_lb_aff}.
 * {@code ct_mark} bit 1 says a connection was load-balanced (OVN's {@code ct_mark.natted}).
 * Conntrack zones: a port's key, its LB zone {@code 0x8000 | key}, and {@code 0x8000} (key 0's LB
 * zone, which no port has) for the SNATs: hairpin ({@link HairpinFlows}) and the gateway routers'
 * (their connections never meet: a hairpin one goes to a pod, a gateway one to outside the
 * cluster), and zone 0 (key 0's port zone) for the gateway routers' DNAT of what their external
 * ports receive for a node port, external IP or LB ingress IP. {@code reg0} bit 4: larger than the
 * gateway MTU ({@link GatewayMtuFlows}). {@code reg9} names the gateway router a packet leaving the cluster goes through (its
 * node switch's key).
 */
public enum Stage
{
    PORT_SECURITY(0, "ls_in_port_sec_l2/ip: a pod sends only from its own MAC and addresses"),
    ND_PORT_SECURITY(1, "ls_in_port_sec_nd: a pod's solicitations name its MAC, or none, as source link-layer address"),
    // Multicast and broadcast flooding (FloodFlows): reached by resubmit from L2_LOOKUP, on to OUT_PRE_STATEFUL per member.
    FLOOD(7, "ls_in_l2_lkup (eth.mcast -> outport = _MC_flood): each local port of the switch, through its egress pipeline"),
    FLOOD_LOOPBACK(8, "check_loopback (_MC_flood): a flooded packet never goes back out of its inport"),
    ARP_RESPONDER(5, "ls_in_arp_rsp: ARP replies and neighbour advertisements for the gateway and the switch's pods"),
    ND_ADVERT(6, "ls_in_arp_rsp (nd_na): the advertisement gets its target link-layer address, back to the inport"),
    PRE_LB(10, "ls_in_pre_lb: traffic to a service VIP goes through the port's LB zone (DNAT)"),
    LB(11, "ls_in_lb: new connections to a VIP pick a backend (select group), DNAT committed"),
    LB_AFFINITY_CHECK(12, "ls_in_lb_aff_check: learned ClientIP affinity (client -> backend)"),
    LB_AFFINITY(13, "ls_in_lb: a remembered backend wins, else the group picks one"),
    LB_AFFINITY_LEARN(14, "ls_in_lb_aff_learn: remember the client's backend for timeoutSeconds"),
    PRE_STATEFUL(15, "ls_in_pre_stateful: conntrack in the inport's zone"),
    ACL_EGRESS(20, "ls_in_acl_after_lb: NetworkPolicy egress of the source pod"),
    STATEFUL_EGRESS(21, "ls_in_stateful: commit allowed new connections"),
    // Load balancers of the gateway routers (GatewayLoadBalancerFlows): what the external port receives for a
    // node port, external IP or LB ingress IP, and its replies. Below GATEWAY_REPLY: reached by ct(table=) and resubmit.
    GATEWAY_DNAT(22, "lr_in_dnat (GR_<node>): a new connection to a node port, external IP or LB ingress IP picks a backend, DNAT committed in the router's zone"),
    GATEWAY_LB_SNAT(23, "lr_out_snat (GR_<node>, externalTrafficPolicy Cluster): the client SNATed to the router's join IP"),
    GATEWAY_TO_CLUSTER(24, "lr_in_ip_routing (GR_<node>): over join to ovn_cluster_router"),
    GATEWAY_JOIN_UNSNAT(25, "lr_in_unsnat (GR_<node>): replies to the router's join IP un-SNATed"),
    GATEWAY_UNDNAT(26, "lr_out_undnat (GR_<node>): replies of its load-balanced connections get the VIP back, out to the client"),
    // ClientIP affinity of the gateway routers' load balancers (GatewayAffinityFlows), as OVN's router stages.
    GATEWAY_AFFINITY_CHECK(27, "lr_in_lb_aff_check (GR_<node>): learned ClientIP affinity (client -> backend) of the router's VIPs"),
    GATEWAY_AFFINITY(28, "lr_in_dnat (GR_<node>): a remembered backend wins, else the group picks one; DNAT committed"),
    GATEWAY_AFFINITY_LEARN(29, "lr_in_lb_aff_learn (GR_<node>): remember the client's backend for timeoutSeconds"),
    L2_LOOKUP(30, "ls_in_l2_lkup: destination MAC -> logical outport, or the router"),
    ROUTING(31, "lr_in_ip_routing (ovn_cluster_router): destination address -> switch and pod"),
    EGRESS_FIREWALL(32, "ls_in_acl (EgressFirewall): the namespace's ordered rules for destinations outside the cluster"),
    EGRESS_REROUTE(33, "lr_in_policy (ovn_cluster_router): EgressIP pods rerouted to their egress node's gateway router"),
    GATEWAY_DISPATCH(34, "lr_in_ip_routing -> join: to GR_<node> on this bridge, or through the tunnel to another node's"),
    GATEWAY_SNAT(35, "lr_out_snat (GR_<node>): SNAT to the egress IP or the node IP, committed in the gateway zone"),
    GATEWAY_OUTPUT(36, "lr_out_delivery (GR_<node>): next hop's MAC, out of the external port"),
    GATEWAY_UNSNAT(37, "lr_in_unsnat (GR_<node>): what the external port receives is un-SNATed in the gateway zone"),
    GATEWAY_REPLY(38, "lr_in_ip_routing (GR_<node>): replies of SNATed connections back to ovn_cluster_router; the rest dropped"),
    // The gateway routers' MTU (GatewayMtuFlows): what they send into the cluster is checked against it.
    GATEWAY_REPLY_LARGER(39, "lr_in_larger_pkts (GR_<node>): a reply larger than the gateway MTU gets ICMP fragmentation needed / packet too big by pinctrl"),
    GATEWAY_CHK_PKT_LEN(43, "lr_in_chk_pkt_len (GR_<node>): what the load balancers DNATed is checked against the gateway MTU"),
    GATEWAY_LARGER_PKTS(44, "lr_in_larger_pkts (GR_<node>): larger than the gateway MTU: ICMP fragmentation needed / packet too big by pinctrl"),
    OUT_PRE_STATEFUL(40, "ls_out_pre_stateful: conntrack in the outport's zone"),
    ACL_INGRESS(41, "ls_out_acl: NetworkPolicy ingress of the destination pod"),
    STATEFUL_INGRESS(42, "ls_out_stateful: commit allowed new connections"),
    UN_DNAT(45, "ls_out_lb: replies of load-balanced connections get the VIP back"),
    OUTPUT(50, "ls_out_port_sec_l2: deliver to the outport"),
    GATEWAY_MAC_BINDING(52, "lr_in_arp_resolve (GR_<node>): the next hop's MAC, static or learned from ARP / ND (MAC_Binding)"),
    GATEWAY_LEARN_NEIGHBOUR(53, "lr_in_learn_neighbor (GR_<node>): the next hop's ARP / ND on the external port is learned"),
    GATEWAY_NEIGHBOUR_RESPONDER(54, "lr_in_ip_input (GR_<node>): ARP replies and neighbour advertisements for the router's addresses"),
    GATEWAY_ARP_REQUEST(55, "lr_in_arp_request (GR_<node>): next hop unresolved: ARP request / solicitation by pinctrl, packet dropped");

    public final int table;
    public final String description;

    Stage(final int table, final String description)
    {
        this.table = table;
        this.description = description;
    }

    /** The stage of an OpenFlow table, or null. */
    public static Stage ofTable(final int table)
    {
        for (final Stage s : values())
        {
            if (s.table == table)
            {
                return s;
            }
        }
        return null;
    }

    public String gotoHere()
    {
        return "goto_table:" + table;
    }

    public String resubmitHere()
    {
        return "resubmit(," + table + ")";
    }
}
