package dev.junction.control.flows;

import dev.junction.control.k8s.Cidr;
import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.Service;
import dev.junction.control.pinctrl.ControllerOps;
import dev.junction.control.topology.OvnNames;

import java.net.InetAddress;
import java.util.LinkedHashSet;
import java.util.Set;

import static dev.junction.control.flows.SwitchFlows.hex;
import static dev.junction.control.flows.Stage.*;

/**
 * Traffic leaving the cluster, as OVN-K's shared gateway mode routes it: ovn_cluster_router sends
 * what is for no cluster address over the join switch to {@code GR_<node>} of the source's node
 * (its "default route" per node switch and family), the gateway router SNATs it to the node's
 * address of the packet's family (conntrack with nat in {@link BridgeLayout#GATEWAY_ZONE},
 * committed) and sends it out of its external port to the next hop. What the external port
 * receives is un-SNATed in the same zone; a reply of such a connection is routed back through
 * ovn_cluster_router to the pod, anything else is dropped (nothing from outside is sent into pods
 * unasked). IPv6 takes the same way when the node has an IPv6 address (dual stack, or IPv6 only:
 * then the router has no IPv4 side at all), the hop limit decremented where IPv4's TTL is.
 *
 * <p>The next hop's MAC, as OVN's lr_in_arp_resolve / lr_in_arp_request: the Ethernet destination
 * is cleared and {@link Stage#GATEWAY_MAC_BINDING} writes the binding, static (priority 50) or
 * learned (100, from the next hop's ARP or neighbour discovery on the external port, by
 * {@code learn}); one still cleared means unresolved, and the packet goes to pinctrl, which sends
 * an ARP request or neighbour solicitation out of the external port instead (OVN's {@code arp{}},
 * {@code nd_ns{}}). The router answers ARP and solicitations for its own addresses there.
 */
final class GatewayFlows
{
    private static final String ROUTER = "load:%s->NXM_NX_REG9[],";
    /** The default route's priority: below every pod route (100) and the cluster addresses' drops. */
    static final int DEFAULT_ROUTE = 10;
    private static final int CLUSTER_ADDRESS = 20;
    /** OVN's priorities of static MAC bindings (override_dynamic_mac false) and of learned ones. */
    private static final int STATIC_BINDING = 50;
    private static final int LEARNED_BINDING = 100;
    /** OVN-K's {@code mac_binding_age_threshold} on the gateway routers. */
    static final int MAC_BINDING_AGE_SECONDS = 300;
    /** Below the unresolved next hop's request (100): the packet has its next hop's MAC and leaves. */
    private static final int RESOLVED = 50;
    private static final String UNRESOLVED = "dl_dst=00:00:00:00:00:00";
    /** IPv4, IPv6: the order every per-family loop of the gateway routers takes. */
    static final boolean[] FAMILIES = {false, true};

    private GatewayFlows()
    {
    }

    /** Defaults of the egress stages and the un-SNAT of what an external port receives, checked against {@code mtu}. */
    static void fixed(final FlowSet f, final int mtu)
    {
        f.owner("egress");
        f.add(EGRESS_FIREWALL, 0, "", EGRESS_REROUTE.gotoHere());
        f.add(EGRESS_REROUTE, 0, "", GATEWAY_DISPATCH.gotoHere());
        f.add(GATEWAY_DISPATCH, 0, "", "drop");
        f.add(GATEWAY_SNAT, 0, "", "drop");
        f.add(GATEWAY_OUTPUT, 0, "", "drop");
        // A reply (or an ICMP error about the connection) leaves the gateway router (one hop)
        // as if from no port of the cluster, and ovn_cluster_router routes it to the pod.
        final String back = "dec_ttl,load:0->NXM_NX_REG14[],load:0->NXM_NX_REG9[],set_field:0->metadata," + ROUTING.resubmitHere();
        for (final boolean v6 : FAMILIES)
        {
            final String ip = Matches.ipToken(v6);
            f.add(GATEWAY_UNSNAT, 100, ip, "ct(table=" + GATEWAY_REPLY.table + ",zone=" + BridgeLayout.GATEWAY_ZONE + ",nat)");
            f.add(GATEWAY_REPLY, 100, "ct_state=+est+rpl+trk," + ip, GatewayMtuFlows.reply(mtu, back));
            f.add(GATEWAY_REPLY, 100, "ct_state=+rel+trk," + ip, GatewayMtuFlows.reply(mtu, back));
        }
        GatewayMtuFlows.fixed(f, mtu, back);
        f.add(GATEWAY_UNSNAT, 0, "", "drop");
        f.add(GATEWAY_REPLY, 0, "", "drop");
        f.add(GATEWAY_LEARN_NEIGHBOUR, 0, "", GATEWAY_NEIGHBOUR_RESPONDER.gotoHere());
        f.add(GATEWAY_NEIGHBOUR_RESPONDER, 0, "", "drop");
        f.add(GATEWAY_ARP_REQUEST, 0, "", "drop");
    }

    /**
     * One node's gateway router. The node's switch routes to it by default; on this bridge it
     * SNATs and sends out of the external port, on another node's bridge (node layout) it is
     * behind the tunnel with VNI {@link BridgeLayout#GATEWAY_VNI} | its key.
     */
    static void forGateway(final FlowSet f, final GatewayPort gw)
    {
        f.owner(owner(gw.node()));
        final String reg9 = "reg9=" + hex(gw.key());
        final String toRouter = String.format(ROUTER, hex(gw.key()));
        if (gw.local())
        {
            // ovn_cluster_router's route for the node switch's traffic (one hop: dec_ttl); the
            // node layout has only its own node's pods sending.
            for (final boolean v6 : FAMILIES)
            {
                if (gw.ip(v6) != null)
                {
                    f.add(ROUTING, DEFAULT_ROUTE, Matches.ipToken(v6) + ",metadata=" + gw.key(), "dec_ttl," + toRouter
                        + EGRESS_FIREWALL.gotoHere());
                }
            }
        }
        if (!gw.local())
        {
            // An IPv6-only node is reached over an IPv6 underlay (tun_ipv6_dst).
            final InetAddress underlay = gw.underlay();
            f.add(GATEWAY_DISPATCH, 100, reg9, "set_field:" + hex(BridgeLayout.GATEWAY_VNI | gw.key()) + "->tun_id,set_field:"
                + Ip.text(underlay) + (Ip.isIpv6(underlay) ? "->tun_ipv6_dst" : "->tun_dst")
                + ",move:NXM_NX_REG14[0..14]->NXM_NX_TUN_METADATA0[16..30],"
                + "set_field:0x0/0xffff->tun_metadata0,output:" + BridgeLayout.TUNNEL_OFPORT);
            return;
        }
        f.add(GATEWAY_DISPATCH, 100, reg9, GATEWAY_SNAT.gotoHere());
        for (final boolean v6 : FAMILIES)
        {
            if (gw.ip(v6) != null)
            {
                family(f, gw, reg9, toRouter, v6);
            }
        }
        f.add(GATEWAY_ARP_REQUEST, RESOLVED, reg9, "output:" + gw.ofport());
        if (gw.ofport() == BridgeLayout.EXTERNAL_OFPORT)
        {
            // Node layout: another node's pods rerouted here (EgressIP) arrive through the tunnel.
            f.add(PORT_SECURITY, 100, "in_port=" + BridgeLayout.TUNNEL_OFPORT + ",tun_id=" + hex(BridgeLayout.GATEWAY_VNI | gw.key()),
                "move:NXM_NX_TUN_METADATA0[16..30]->NXM_NX_REG14[0..14]," + toRouter + GATEWAY_SNAT.gotoHere());
        }
    }

    /** The router's flows of one address family. */
    private static void family(final FlowSet f, final GatewayPort gw, final String reg9, final String toRouter, final boolean v6)
    {
        final String ip = Matches.ipToken(v6);
        final String in = "in_port=" + gw.ofport() + ",";
        final InetAddress self = gw.ip(v6);
        final InetAddress nextHop = gw.nextHop(v6);
        // OVN-K's SNAT of the cluster's pods to the node address (EgressIP pods' SNATs are above it).
        f.add(GATEWAY_SNAT, 10, ip + "," + reg9, snat(self));
        f.add(GATEWAY_OUTPUT, 100, ip + "," + reg9, "dec_ttl,mod_dl_src:" + gw.mac() + ",mod_dl_dst:00:00:00:00:00:00,"
            + GATEWAY_MAC_BINDING.resubmitHere() + "," + GATEWAY_ARP_REQUEST.gotoHere());
        f.add(PORT_SECURITY, 100, in + ip, toRouter + GATEWAY_UNSNAT.gotoHere());
        if (gw.nextHopMac(v6) != null)
        {
            f.add(GATEWAY_MAC_BINDING, STATIC_BINDING, ip + "," + reg9, "mod_dl_dst:" + gw.nextHopMac(v6));
        }
        f.add(GATEWAY_ARP_REQUEST, 100, ip + "," + reg9 + "," + UNRESOLVED,
            ControllerOps.neighbourRequestAction(gw.ofport(), gw.mac(), self.getAddress(), nextHop.getAddress()));
        final String neighbour = toRouter + GATEWAY_LEARN_NEIGHBOUR.gotoHere();
        if (!v6)
        {
            f.add(PORT_SECURITY, 100, in + "arp", neighbour);
            f.add(GATEWAY_NEIGHBOUR_RESPONDER, 100, reg9 + ",arp,arp_op=1,arp_tpa=" + Ip.text(self),
                SwitchFlows.arpReplyActions(self, gw.mac()));
            if (gw.nextHopMac(false) == null)
            {
                // What the next hop says of itself, asked or not (OVN learns from requests too).
                f.add(GATEWAY_LEARN_NEIGHBOUR, 100, reg9 + ",arp,arp_spa=" + Ip.text(nextHop), learn(reg9, 0x800,
                    "NXM_NX_ARP_SHA[]") + "," + GATEWAY_NEIGHBOUR_RESPONDER.gotoHere());
            }
            return;
        }
        // Neighbour discovery is ICMPv6: above the port's IPv6, which goes to un-SNAT.
        for (final int type : new int[] {135, 136})
        {
            f.add(PORT_SECURITY, 110, in + "icmp6,icmpv6_type=" + type + ",icmpv6_code=0", neighbour);
            if (gw.nextHopMac(true) == null)
            {
                // The sender's Ethernet source: the link-layer address option may be absent.
                f.add(GATEWAY_LEARN_NEIGHBOUR, 100, reg9 + ",icmp6,icmpv6_type=" + type + ",icmpv6_code=0,ipv6_src="
                    + Ip.text(nextHop), learn(reg9, 0x86dd, "NXM_OF_ETH_SRC[]") + "," + GATEWAY_NEIGHBOUR_RESPONDER.gotoHere());
            }
        }
        f.add(GATEWAY_NEIGHBOUR_RESPONDER, 100, reg9 + "," + NdResponderFlows.SOLICITATION + ",nd_target=" + Ip.text(self),
            NdResponderFlows.routerAdvertiseActions(self, gw.mac()));
    }

    /**
     * The learned MAC binding of the router in {@code reg9} for one ethertype: {@code mac} becomes
     * the Ethernet destination. It ages out after {@link #MAC_BINDING_AGE_SECONDS} without a packet
     * using it (OVN-K's {@code mac_binding_age_threshold} on the gateway routers, which OVN measures
     * on the binding's flow statistics, as an idle timeout does); the next packet asks again.
     */
    private static String learn(final String reg9, final int ethType, final String mac)
    {
        return "learn(table=" + GATEWAY_MAC_BINDING.table + ",idle_timeout=" + MAC_BINDING_AGE_SECONDS + ",priority="
            + LEARNED_BINDING + ",NXM_NX_REG9[],eth_type="
            + hex(ethType) + ",load:" + mac + "->NXM_OF_ETH_DST[])";
    }

    /** {@code ct(commit)} with SNAT to {@code ip} in the gateway zone, then the output stage. */
    static String snat(final InetAddress ip)
    {
        return "ct(commit,table=" + GATEWAY_OUTPUT.table + ",zone=" + BridgeLayout.GATEWAY_ZONE + ",nat(src=" + Ip.text(ip) + "))";
    }

    static String owner(final String node)
    {
        return "gateway:" + node;
    }

    /**
     * What is inside the cluster and so never leaves it: the node switches' subnets, the join
     * subnet, node addresses and service VIPs. A packet for one of them that no pod route or load
     * balancer took is dropped rather than sent out with the node's address.
     */
    static void clusterAddresses(final FlowSet f, final ClusterModel model, final BridgeLayout layout)
    {
        f.owner(CLUSTER_ADDRESSES);
        final Set<String> matches = new LinkedHashSet<>();
        network(matches, OvnNames.JOIN_SUBNET_V4);
        network(matches, OvnNames.JOIN_SUBNET_V6);
        // Link-local and multicast IPv6 is never routed off the link.
        network(matches, LINK_LOCAL);
        network(matches, MULTICAST);
        for (final BridgeLayout.Switch sw : layout.switches())
        {
            sw.subnets().forEach(c -> network(matches, c));
        }
        model.nodes().forEach(n -> n.internalIps().forEach(ip -> addHost(matches, ip)));
        for (final GatewayPort g : layout.gateways())
        {
            for (final boolean v6 : FAMILIES)
            {
                if (g.ip(v6) != null)
                {
                    addHost(matches, g.ip(v6));
                }
            }
        }
        for (final Service s : model.services())
        {
            s.clusterIps().forEach(ip -> addHost(matches, ip));
            s.externalIps().forEach(ip -> addHost(matches, ip));
            s.loadBalancerIngress().forEach(ip -> addHost(matches, ip));
        }
        for (final String m : matches)
        {
            f.add(ROUTING, CLUSTER_ADDRESS, m, "drop");
        }
    }

    static final String CLUSTER_ADDRESSES = "cluster-addresses";
    private static final Cidr LINK_LOCAL = Cidr.parse("fe80::/10");
    private static final Cidr MULTICAST = Cidr.parse("ff00::/8");

    private static void addHost(final Set<String> matches, final InetAddress ip)
    {
        matches.add(Matches.ipToken(Ip.isIpv6(ip)) + "," + Matches.address(false, ip));
    }

    private static void network(final Set<String> matches, final Cidr c)
    {
        matches.add(Matches.ipToken(c.isIpv6()) + "," + Matches.network(false, c));
    }
}
