package dev.junction.control.flows;

import dev.junction.control.k8s.Ip;

import java.net.InetAddress;

import static dev.junction.control.flows.Stage.*;

/**
 * The logical switches and the cluster router: port security, the ARP responder, L2 lookup,
 * routing between the node switches, the conntrack stages around the ACLs and delivery. The
 * ACLs ({@link AclFlows}) and load balancers ({@link LoadBalancerFlows}) fill the stages between.
 */
final class SwitchFlows
{
    private static final String ZONE_IN = "zone=NXM_NX_REG14[0..15]";
    private static final String ZONE_OUT = "zone=NXM_NX_REG15[0..15]";

    private SwitchFlows()
    {
    }

    /** Flows that do not depend on any pod: defaults of every stage and the conntrack stages. */
    static void fixed(final FlowSet f)
    {
        f.owner("bridge");
        f.add(PORT_SECURITY, 0, "", "drop");
        f.add(ARP_RESPONDER, 0, "", "drop");
        f.add(PRE_LB, 0, "", PRE_STATEFUL.gotoHere());
        // Established connections of a load balancer: the flag makes the egress commit mark them.
        f.add(LB, 50, "ct_state=+trk,ct_mark=0x2/0x2", "load:0x1->NXM_NX_REG0[1]," + PRE_STATEFUL.gotoHere());
        f.add(LB, 0, "", PRE_STATEFUL.gotoHere());
        for (final boolean v6 : new boolean[] {false, true})
        {
            f.add(PRE_STATEFUL, 100, Matches.ipToken(v6), "ct(table=" + ACL_EGRESS.table + "," + ZONE_IN + ")");
            f.add(OUT_PRE_STATEFUL, 100, Matches.ipToken(v6), "ct(table=" + ACL_INGRESS.table + "," + ZONE_OUT + ")");
        }
        f.add(PRE_STATEFUL, 0, "", ACL_EGRESS.gotoHere());
        // ACLs: invalid dropped; established and related pass (allow-related: replies need no rule).
        f.add(ACL_EGRESS, 65535, "ct_state=+inv+trk", "drop");
        f.add(ACL_EGRESS, 65534, "ct_state=-new+est+trk", STATEFUL_EGRESS.gotoHere());
        f.add(ACL_EGRESS, 65534, "ct_state=-new+rel+trk", STATEFUL_EGRESS.gotoHere());
        f.add(ACL_EGRESS, 0, "", STATEFUL_EGRESS.gotoHere());
        // A packet back to its own port kept the egress stage's conntrack state (one zone per
        // port): its forward packets are judged by the ingress rules whatever their state.
        f.add(ACL_INGRESS, 65535, "ct_state=+inv+trk", "drop");
        f.add(ACL_INGRESS, 65534, "ct_state=-new+est+trk,reg0=0/0x1", STATEFUL_INGRESS.gotoHere());
        f.add(ACL_INGRESS, 65534, "ct_state=-new+rel+trk,reg0=0/0x1", STATEFUL_INGRESS.gotoHere());
        f.add(ACL_INGRESS, 65533, "ct_state=+rpl+trk", STATEFUL_INGRESS.gotoHere());
        f.add(ACL_INGRESS, 0, "", STATEFUL_INGRESS.gotoHere());
        // Commit new connections the ACLs let through, marking load-balanced ones for un-DNAT.
        for (final boolean v6 : new boolean[] {false, true})
        {
            final String ip = "," + Matches.ipToken(v6);
            f.add(STATEFUL_EGRESS, 110, "ct_state=+new+trk,reg0=0x2/0x2" + ip,
                "ct(commit," + ZONE_IN + ",exec(set_field:0x2/0x2->ct_mark))," + L2_LOOKUP.gotoHere());
            f.add(STATEFUL_EGRESS, 100, "ct_state=+new+trk" + ip, "ct(commit," + ZONE_IN + ")," + L2_LOOKUP.gotoHere());
            f.add(STATEFUL_INGRESS, 100, "ct_state=+new+trk,reg0=0/0x1" + ip, "ct(commit," + ZONE_OUT + ")," + UN_DNAT.gotoHere());
            // Replies of a load-balanced connection: un-DNAT in the client's LB zone (reg11).
            f.add(UN_DNAT, 100, "ct_state=+rpl+trk,ct_mark=0x2/0x2" + ip,
                "ct(table=" + OUTPUT.table + ",zone=NXM_NX_REG11[0..15],nat)");
        }
        f.add(STATEFUL_EGRESS, 0, "", L2_LOOKUP.gotoHere());
        f.add(L2_LOOKUP, 0, "", "drop");
        f.add(ROUTING, 0, "", "drop");
        f.add(STATEFUL_INGRESS, 0, "", UN_DNAT.gotoHere());
        f.add(UN_DNAT, 0, "", OUTPUT.gotoHere());
        f.add(OUTPUT, 0, "", "drop");
    }

    /** The switch's own flows: its router port's addresses answer ARP; its MAC leads to routing. */
    static void forSwitch(final FlowSet f, final BridgeLayout.Switch sw)
    {
        f.owner("switch:" + sw.node());
        for (final InetAddress gw : sw.gatewayIps())
        {
            if (!Ip.isIpv6(gw))
            {
                arpReply(f, sw, gw, sw.gatewayMac());
            }
        }
        f.add(L2_LOOKUP, 100, "metadata=" + sw.key() + ",dl_dst=" + sw.gatewayMac(), ROUTING.gotoHere());
    }

    /**
     * One local port, a pod's or the management port: classification and port security, ARP, L2
     * and routing to it, delivery.
     */
    static void forPort(final FlowSet f, final LogicalPort p)
    {
        f.owner(p.owner());
        final String in = "in_port=" + p.ofport() + ",dl_src=" + p.mac();
        final String classify = classify(p);
        for (final InetAddress ip : p.ips())
        {
            final boolean v6 = Ip.isIpv6(ip);
            f.add(PORT_SECURITY, 100, in + "," + Matches.ipToken(v6) + "," + Matches.address(true, ip), classify + PRE_LB.gotoHere());
            if (!v6)
            {
                f.add(PORT_SECURITY, 100, in + ",arp,arp_spa=" + Ip.text(ip) + ",arp_sha=" + p.mac(),
                    classify + ARP_RESPONDER.gotoHere());
                arpReply(f, p.sw(), ip, p.mac());
                // A pod's own announcements (gratuitous ARP) get no answer: they are flooded (FloodFlows).
                f.add(ARP_RESPONDER, 110, "reg14=" + hex(p.key()) + ",arp,arp_op=1,arp_tpa=" + Ip.text(ip), FloodFlows.UNANSWERED);
            }
            final String deliver = "load:" + hex(p.key()) + "->NXM_NX_REG15[],load:" + hex(p.lbZone()) + "->NXM_NX_REG11[],"
                + OUT_PRE_STATEFUL.gotoHere();
            final String gwMac = p.sw().gatewayMac();
            f.add(ROUTING, 100, Matches.ipToken(v6) + "," + Matches.address(false, ip),
                "dec_ttl,mod_dl_src:" + gwMac + ",mod_dl_dst:" + p.mac() + "," + deliver);
            f.add(L2_LOOKUP, 100, "metadata=" + p.sw().key() + ",dl_dst=" + p.mac(),
                "load:" + hex(p.key()) + "->NXM_NX_REG15[],load:" + hex(p.lbZone()) + "->NXM_NX_REG11[],"
                    + OUT_PRE_STATEFUL.gotoHere());
        }
        // Spoofed source MAC or address: dropped here (counted by this rule's statistics).
        f.add(PORT_SECURITY, 50, "in_port=" + p.ofport(), "drop");
        // Back to the port it came from: no second conntrack pass in the same zone (see ACL_INGRESS).
        f.add(OUT_PRE_STATEFUL, 110, "reg14=" + hex(p.key()) + ",reg15=" + hex(p.key()),
            "load:0x1->NXM_NX_REG0[0]," + ACL_INGRESS.gotoHere());
        f.add(OUTPUT, 110, "reg15=" + hex(p.key()) + ",in_port=" + p.ofport(), "in_port");
        f.add(OUTPUT, 100, "reg15=" + hex(p.key()), "output:" + p.ofport());
    }

    /**
     * A pod of another node: the cluster router sends it to that node's switch through the
     * tunnel, the way ovn-controller outputs to a remote port: VNI = the destination switch's
     * key, OVN's option (class 0x102, type 0x80: tun_metadata0) = inport key << 16 | outport key.
     * Its ingress ACLs run on its own node.
     */
    static void forRemotePod(final FlowSet f, final LogicalPort p)
    {
        f.owner(p.owner());
        // The node's IPv4 address when it has one, else (an IPv6-only node) its IPv6 one: tun_ipv6_dst.
        final InetAddress nodeIp = p.sw().nodeIps().stream().filter(ip -> !Ip.isIpv6(ip)).findFirst()
            .or(() -> p.sw().nodeIps().stream().findFirst()).orElse(null);
        if (nodeIp == null)
        {
            return;
        }
        for (final InetAddress ip : p.ips())
        {
            final boolean v6 = Ip.isIpv6(ip);
            f.add(ROUTING, 100, Matches.ipToken(v6) + "," + Matches.address(false, ip),
                "dec_ttl,mod_dl_src:" + p.sw().gatewayMac() + ",mod_dl_dst:" + p.mac() + ",set_field:" + p.sw().key() + "->tun_id,"
                    + "set_field:" + Ip.text(nodeIp) + (Ip.isIpv6(nodeIp) ? "->tun_ipv6_dst" : "->tun_dst") + ",move:NXM_NX_REG14[0..14]->NXM_NX_TUN_METADATA0[16..30],"
                    + "set_field:" + hex(p.key()) + "/0xffff->tun_metadata0,output:" + BridgeLayout.TUNNEL_OFPORT);
        }
    }

    /** The tunnel's packets for this node's switch: the inport key from OVN's option, then L2 lookup to the pod. */
    static void tunnelReceive(final FlowSet f, final BridgeLayout.Switch local)
    {
        f.owner("switch:" + local.node());
        f.add(PORT_SECURITY, 100, "in_port=" + BridgeLayout.TUNNEL_OFPORT + ",tun_id=" + local.key(),
            "move:NXM_NX_TUN_METADATA0[16..30]->NXM_NX_REG14[0..14],set_field:" + local.key() + "->metadata,"
                + L2_LOOKUP.gotoHere());
    }

    /** What a port's admitted packets get first: its key, its LB zone, its switch (then where to go on). */
    static String classify(final LogicalPort p)
    {
        return "load:" + hex(p.key()) + "->NXM_NX_REG14[],load:" + hex(p.lbZone()) + "->NXM_NX_REG12[],"
            + "set_field:" + p.sw().key() + "->metadata,";
    }

    private static void arpReply(final FlowSet f, final BridgeLayout.Switch sw, final InetAddress ip, final String mac)
    {
        f.add(ARP_RESPONDER, 100, "metadata=" + sw.key() + ",arp,arp_op=1,arp_tpa=" + Ip.text(ip), arpReplyActions(ip, mac));
    }

    /** The ARP request turned, in place, into the reply that {@code ip} is at {@code mac}, back out of its port. */
    static String arpReplyActions(final InetAddress ip, final String mac)
    {
        return "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],mod_dl_src:" + mac + ",load:0x2->NXM_OF_ARP_OP[],"
            + "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],set_field:" + mac + "->arp_sha,"
            + "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],set_field:" + Ip.text(ip) + "->arp_spa,in_port";
    }

    static String hex(final long v)
    {
        return "0x" + Long.toHexString(v);
    }
}
