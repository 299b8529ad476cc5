package dev.junction.control.flows;

import dev.junction.control.k8s.Cidr;
import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.Service;
import dev.junction.control.topology.OvnNames;

import java.net.InetAddress;
import java.util.LinkedHashSet;
import java.util.Set;

import static dev.junction.control.flows.SwitchFlows.hex;
import static dev.junction.control.flows.Stage.*;

/**
 * Traffic leaving the cluster, as OVN-K's shared gateway mode routes it: ovn_cluster_router sends
 * what is for no cluster address over the join switch to {@code GR_<node>} of the source's node
 * (its "default route" per node switch), the gateway router SNATs it to the node's address
 * (conntrack with nat in {@link BridgeLayout#GATEWAY_ZONE}, committed) and sends it out of its
 * external port to the next hop. What the external port receives is un-SNATed in the same zone;
 * a reply of such a connection is routed back through ovn_cluster_router to the pod, anything
 * else is dropped (nothing from outside is sent into pods unasked).
 *
 * <p>IPv4 only: IPv6 traffic to outside the cluster is dropped (by the routing stage's default).
 */
final class GatewayFlows
{
    private static final String ROUTER = "load:%s->NXM_NX_REG9[],";
    /** The default route's priority: below every pod route (100) and the cluster addresses' drops. */
    static final int DEFAULT_ROUTE = 10;
    private static final int CLUSTER_ADDRESS = 20;

    private GatewayFlows()
    {
    }

    /** Defaults of the egress stages and the un-SNAT of what an external port receives. */
    static void fixed(final FlowSet f)
    {
        f.owner("egress");
        f.add(EGRESS_FIREWALL, 0, "", EGRESS_REROUTE.gotoHere());
        f.add(EGRESS_REROUTE, 0, "", GATEWAY_DISPATCH.gotoHere());
        f.add(GATEWAY_DISPATCH, 0, "", "drop");
        f.add(GATEWAY_SNAT, 0, "", "drop");
        f.add(GATEWAY_OUTPUT, 0, "", "drop");
        f.add(GATEWAY_UNSNAT, 100, "ip", "ct(table=" + GATEWAY_REPLY.table + ",zone=" + BridgeLayout.GATEWAY_ZONE + ",nat)");
        f.add(GATEWAY_UNSNAT, 0, "", "drop");
        // A reply (or an ICMP error about the connection) leaves the gateway router (one hop)
        // as if from no port of the cluster, and ovn_cluster_router routes it to the pod.
        final String back = "dec_ttl,load:0->NXM_NX_REG14[],load:0->NXM_NX_REG9[],set_field:0->metadata," + ROUTING.resubmitHere();
        f.add(GATEWAY_REPLY, 100, "ct_state=+est+rpl+trk,ip", back);
        f.add(GATEWAY_REPLY, 100, "ct_state=+rel+trk,ip", back);
        f.add(GATEWAY_REPLY, 0, "", "drop");
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
        if (gw.local())
        {
            // ovn_cluster_router's route for the node switch's traffic (one hop: dec_ttl); the
            // node layout has only its own node's pods sending.
            f.add(ROUTING, DEFAULT_ROUTE, "ip,metadata=" + gw.key(), "dec_ttl," + String.format(ROUTER, hex(gw.key()))
                + EGRESS_FIREWALL.gotoHere());
        }
        if (!gw.local())
        {
            f.add(GATEWAY_DISPATCH, 100, reg9, "set_field:" + hex(BridgeLayout.GATEWAY_VNI | gw.key()) + "->tun_id,set_field:"
                + Ip.text(gw.ip()) + "->tun_dst,move:NXM_NX_REG14[0..14]->NXM_NX_TUN_METADATA0[16..30],"
                + "set_field:0x0/0xffff->tun_metadata0,output:" + BridgeLayout.TUNNEL_OFPORT);
            return;
        }
        f.add(GATEWAY_DISPATCH, 100, reg9, GATEWAY_SNAT.gotoHere());
        // OVN-K's SNAT of the cluster's pods to the node address (EgressIP pods' SNATs are above it).
        f.add(GATEWAY_SNAT, 10, "ip," + reg9, snat(gw.ip()));
        f.add(GATEWAY_OUTPUT, 100, "ip," + reg9,
            "dec_ttl,mod_dl_src:" + gw.mac() + ",mod_dl_dst:" + gw.nextHopMac() + ",output:" + gw.ofport());
        f.add(PORT_SECURITY, 100, "in_port=" + gw.ofport() + ",ip", String.format(ROUTER, hex(gw.key())) + GATEWAY_UNSNAT.gotoHere());
        if (gw.ofport() == BridgeLayout.EXTERNAL_OFPORT)
        {
            // Node layout: another node's pods rerouted here (EgressIP) arrive through the tunnel.
            f.add(PORT_SECURITY, 100, "in_port=" + BridgeLayout.TUNNEL_OFPORT + ",tun_id=" + hex(BridgeLayout.GATEWAY_VNI | gw.key()),
                "move:NXM_NX_TUN_METADATA0[16..30]->NXM_NX_REG14[0..14]," + String.format(ROUTER, hex(gw.key()))
                    + GATEWAY_SNAT.gotoHere());
        }
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
        matches.add(Matches.network(false, OvnNames.JOIN_SUBNET_V4));
        for (final BridgeLayout.Switch sw : layout.switches())
        {
            for (final Cidr c : sw.subnets())
            {
                if (!c.isIpv6())
                {
                    matches.add(Matches.network(false, c));
                }
            }
        }
        model.nodes().forEach(n -> n.internalIps().forEach(ip -> addHost(matches, ip)));
        layout.gateways().forEach(g -> addHost(matches, g.ip()));
        for (final Service s : model.services())
        {
            s.clusterIps().forEach(ip -> addHost(matches, ip));
            s.externalIps().forEach(ip -> addHost(matches, ip));
            s.loadBalancerIngress().forEach(ip -> addHost(matches, ip));
        }
        for (final String m : matches)
        {
            f.add(ROUTING, CLUSTER_ADDRESS, "ip," + m, "drop");
        }
    }

    static final String CLUSTER_ADDRESSES = "cluster-addresses";

    private static void addHost(final Set<String> matches, final InetAddress ip)
    {
        if (!Ip.isIpv6(ip))
        {
            matches.add(Matches.address(false, ip));
        }
    }
}
