package dev.junction.control.flows;

import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.Service;
import dev.junction.control.k8s.ServicePort;
import dev.junction.control.pinctrl.ControllerOps;
import dev.junction.control.topology.OvnNames;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import static dev.junction.control.flows.Stage.*;
import static dev.junction.control.flows.SwitchFlows.hex;

/**
 * Services reached from outside the cluster through a node's gateway router, as OVN-K's shared
 * gateway mode configures {@code GR_<node>}'s load balancers: a node port on the router's address,
 * every external IP and LB ingress IP on its port. What the external port receives and is no reply
 * of an SNATed connection ({@link GatewayFlows}) is looked up in the router's DNAT zone (zone 0);
 * a new connection to a VIP picks a backend through a select group and is DNATed and committed
 * there, the client's MAC kept in the connection's {@code ct_label} (OVN learns it by ARP; here
 * the reply goes back to the MAC the connection came from, a neighbour or the next hop). Then
 * over join to ovn_cluster_router, which routes to the backend like any packet to a pod: the
 * pod's switch runs its egress pipeline with the NetworkPolicy ingress ACLs (across the tunnel
 * for a pod of another node). The DNATed packet is checked against the gateway MTU first
 * ({@link GatewayMtuFlows}: the buckets and established connections go to
 * {@link Stage#GATEWAY_CHK_PKT_LEN}, which resubmits to the SNAT stage).
 *
 * <p>{@code externalTrafficPolicy: Cluster} (OVN-K's {@code lb_force_snat_ip=router_ip}): any
 * endpoint; the router also SNATs the client to its join IP (in the gateway SNAT zone), so the
 * backend's reply comes back to this router, is un-SNATed, then un-DNATed to the VIP, and leaves
 * the external port. The join IP is {@code 100.64.0.(key + 1)} of OVN-K's join subnet, key = the
 * node switch's key ({@link #joinIp}; OVN-K allocates {@code 100.64.0.2} upwards as well, keeping
 * its own order). {@code Local} (OVN-K's {@code skip_snat}): only this node's endpoints, the
 * client's address preserved; the backend's reply takes its node's default route to this router,
 * where {@link Stage#EGRESS_FIREWALL}'s first flow (above every EgressFirewall rule and EgressIP
 * reroute, as OVN-K's load-balancer reply policies are) sends what comes from a backend's address
 * and port through the DNAT zone: a reply of such a connection gets the VIP back and leaves;
 * anything else continues where it was ({@code reg0} bit 3 keeps it from looping). A VIP whose
 * router has no backend (no endpoint, or none on the node for {@code Local}: OVN-K's
 * {@code buildPerNodeLBs} then puts it on the router with no targets) rejects new connections as
 * the node switches' load balancers do (dropped where no packet-in handler runs).
 *
 * <p>Both families, as far as the router has them: IPv6 external IPs and LB ingress IPs on a router
 * with an IPv6 address, a node port on the router's IPv6 address for a service with an IPv6 cluster
 * IP, {@code Cluster} SNATing to the router's IPv6 join address {@code fd98::(key + 1)}; the same
 * stages and zones, each flow once per family. {@code sessionAffinity: ClientIP}:
 * {@link GatewayAffinityFlows}. ICMP errors about these connections, either way:
 * {@link GatewayIcmpErrorFlows}.
 */
final class GatewayLoadBalancerFlows
{
    /** The routers' DNAT zone: key 0's port zone, which no port has. */
    static final int DNAT_ZONE = 0;
    /** ct_mark in the DNAT zone: 0x2 load-balanced, 0x8 "SNAT the client to the join IP" (Cluster). */
    private static final int MARK_LB = 0x2;
    private static final int MARK_SNAT = 0x8;
    /** reg0 bit 3: the un-DNAT was tried on a backend's packet that was no reply. */
    static final int FLAG_UNDNAT_TRIED = 0x8;
    /** Above the cluster addresses' drops (20) in ovn_cluster_router's routing. */
    private static final int JOIN_ROUTE = 30;
    /** Above EgressIP's SNATs (100) in lr_out_snat. */
    private static final int JOIN_REPLY = 200;
    /** Above every EgressFirewall rule ({@link EgressFirewallFlows#START_PRIORITY}). */
    private static final int BACKEND_REPLY = 20000;
    static final String DNAT_LOOKUP = "ct(table=" + GATEWAY_UNDNAT.table + ",zone=" + DNAT_ZONE + ",nat)";

    /** A service port's backends ({@code ADDR:PORT}) for one VIP, only {@code node}'s unless null. */
    @FunctionalInterface
    interface Backends
    {
        List<String> of(ServicePort sp, InetAddress vip, String node);
    }

    /** The id of the select group with these buckets, named by the service being compiled. */
    @FunctionalInterface
    interface Groups
    {
        int name(String body);
    }

    private GatewayLoadBalancerFlows()
    {
    }

    /** Defaults of the stages: nothing unasked passes. */
    static void fixed(final FlowSet f)
    {
        f.owner("egress");
        for (final boolean v6 : GatewayFlows.FAMILIES)
        {
            final String ip = Matches.ipToken(v6);
            f.add(GATEWAY_DNAT, 50, "ct_state=-new+est-rpl+trk," + ip, GATEWAY_CHK_PKT_LEN.gotoHere());
            // One router hop (the hop limit for IPv6), then ovn_cluster_router as for a reply of an SNATed connection.
            f.add(GATEWAY_TO_CLUSTER, 100, ip, "dec_ttl,load:0->NXM_NX_REG14[],load:0->NXM_NX_REG9[],set_field:0->metadata,"
                + ROUTING.resubmitHere());
            f.add(GATEWAY_JOIN_UNSNAT, 100, "ct_state=+est+rpl+trk," + ip, DNAT_LOOKUP);
        }
        f.add(GATEWAY_DNAT, 0, "", "drop");
        f.add(GATEWAY_LB_SNAT, 0, "", GATEWAY_TO_CLUSTER.gotoHere());
        f.add(GATEWAY_TO_CLUSTER, 0, "", "drop");
        f.add(GATEWAY_JOIN_UNSNAT, 0, "", "drop");
        // A backend's packet that is no reply: on to the EgressFirewall, EgressIP and SNAT as before.
        f.add(GATEWAY_UNDNAT, 10, "reg0=" + hex(FLAG_UNDNAT_TRIED) + "/" + hex(FLAG_UNDNAT_TRIED), EGRESS_FIREWALL.resubmitHere());
        f.add(GATEWAY_UNDNAT, 0, "", "drop");
        GatewayAffinityFlows.fixed(f);
        GatewayIcmpErrorFlows.fixed(f);
    }

    /**
     * One router's flows that no service decides: the join IPs' routes and the way out, for each
     * family the router has (OVN-K gives the join port an address of each family the node has).
     */
    static void forGateway(final FlowSet f, final GatewayPort gw)
    {
        f.owner(GatewayFlows.owner(gw.node()));
        for (final boolean v6 : GatewayFlows.FAMILIES)
        {
            if (gw.ip(v6) != null)
            {
                family(f, gw, v6);
            }
        }
        if (gw.local())
        {
            GatewayAffinityFlows.forGateway(f, gw);
            GatewayIcmpErrorFlows.forGateway(f, gw, toClient(gw));
        }
    }

    /** Out of the external port to the client: its MAC, kept in the connection's label. */
    private static String toClient(final GatewayPort gw)
    {
        return "dec_ttl,mod_dl_src:" + gw.mac() + ",move:NXM_NX_CT_LABEL[0..47]->NXM_OF_ETH_DST[],output:" + gw.ofport();
    }

    private static void family(final FlowSet f, final GatewayPort gw, final boolean v6)
    {
        final String ip = Matches.ipToken(v6);
        final InetAddress join = joinIp(gw, v6);
        final String reg9 = "reg9=" + hex(gw.key());
        // ovn_cluster_router's route to the router's join port (one hop), on to the router here or through the tunnel.
        f.add(ROUTING, JOIN_ROUTE, ip + "," + Matches.address(false, join),
            "dec_ttl,load:" + hex(gw.key()) + "->NXM_NX_REG9[]," + GATEWAY_DISPATCH.gotoHere());
        if (!gw.local())
        {
            return;
        }
        f.add(GATEWAY_REPLY, 50, ip + "," + reg9, "ct(table=" + GATEWAY_DNAT.table + ",zone=" + DNAT_ZONE + ",nat)");
        f.add(GATEWAY_LB_SNAT, 100, ip + "," + reg9 + ",ct_mark=" + hex(MARK_SNAT) + "/" + hex(MARK_SNAT),
            "ct(commit,table=" + GATEWAY_TO_CLUSTER.table + ",zone=" + BridgeLayout.GATEWAY_ZONE + ",nat(src=" + Ip.text(join) + "))");
        f.add(GATEWAY_SNAT, JOIN_REPLY, ip + "," + reg9 + "," + Matches.address(false, join),
            "ct(table=" + GATEWAY_JOIN_UNSNAT.table + ",zone=" + BridgeLayout.GATEWAY_ZONE + ",nat)");
        f.add(GATEWAY_UNDNAT, 100, "ct_state=+est+rpl+trk," + ip + "," + reg9, toClient(gw));
    }

    /** The router's IPv4 address on the join switch: {@code 100.64.0.(key + 1)}. */
    static InetAddress joinIp(final GatewayPort gw)
    {
        return joinIp(gw, false);
    }

    /**
     * The router's address of a family on the join switch: {@code 100.64.0.(key + 1)} or
     * {@code fd98::(key + 1)} (OVN-K allocates both from its join subnets, {@code .2} / {@code ::2} upwards).
     */
    static InetAddress joinIp(final GatewayPort gw, final boolean v6)
    {
        return (v6 ? OvnNames.JOIN_SUBNET_V6 : OvnNames.JOIN_SUBNET_V4).host(gw.key() + 1L);
    }

    /** The service's VIPs on every router of this bridge. */
    static void forService(final FlowSet f, final Service svc, final List<GatewayPort> gateways, final Backends backends,
        final Groups groups)
    {
        final boolean local = "Local".equals(svc.externalTrafficPolicy());
        final boolean nodePorts = "NodePort".equals(svc.type()) || "LoadBalancer".equals(svc.type());
        for (final GatewayPort gw : gateways)
        {
            if (!gw.local())
            {
                continue;
            }
            for (final ServicePort sp : svc.ports())
            {
                for (final InetAddress vip : vips(svc, gw))
                {
                    vip(f, gw, svc, sp, vip, sp.port(), local, backends.of(sp, vip, local ? gw.node() : null), groups);
                }
                if (nodePorts && sp.nodePort() > 0)
                {
                    for (final InetAddress nodeIp : nodePortIps(svc, gw))
                    {
                        vip(f, gw, svc, sp, nodeIp, sp.nodePort(), local, backends.of(sp, nodeIp, local ? gw.node() : null), groups);
                    }
                }
            }
        }
    }

    /** The service's external IPs and LB ingress IPs of the families the router has (in that order). */
    static List<InetAddress> vips(final Service svc, final GatewayPort gw)
    {
        final List<InetAddress> vips = new ArrayList<>(svc.externalIps());
        vips.addAll(svc.loadBalancerIngress());
        vips.removeIf(a -> gw.ip(Ip.isIpv6(a)) == null);
        return vips;
    }

    /**
     * The router's addresses a node port listens on: one per family the router has and the
     * service has a cluster IP of (IPv4 first). A single-stack IPv4 service on a dual-stack node
     * has no IPv6 node port: OVN-K's per-node load balancer would have no backend of that family.
     */
    static List<InetAddress> nodePortIps(final Service svc, final GatewayPort gw)
    {
        final List<InetAddress> ips = new ArrayList<>(2);
        for (final boolean v6 : GatewayFlows.FAMILIES)
        {
            if (gw.ip(v6) != null && hasFamily(svc, v6))
            {
                ips.add(gw.ip(v6));
            }
        }
        return ips;
    }

    /** A cluster IP of the family; without cluster IPs, the ipFamilies, else IPv4 (the API server's default). */
    private static boolean hasFamily(final Service svc, final boolean v6)
    {
        if (!svc.clusterIps().isEmpty())
        {
            return svc.clusterIps().stream().anyMatch(a -> Ip.isIpv6(a) == v6);
        }
        if (!svc.ipFamilies().isEmpty())
        {
            return svc.ipFamilies().contains(v6 ? "IPv6" : "IPv4");
        }
        return !v6;
    }

    private static void vip(final FlowSet f, final GatewayPort gw, final Service svc, final ServicePort sp, final InetAddress vip,
        final int port, final boolean local, final List<String> backends, final Groups groups)
    {
        final boolean v6 = Ip.isIpv6(vip);
        final String proto = Matches.protoToken(sp.protocol(), v6);
        final String match = "ct_state=+new+trk,reg9=" + hex(gw.key()) + "," + proto + "," + Matches.address(false, vip) + ",tp_dst=" + port;
        if (backends.isEmpty())
        {
            f.add(GATEWAY_DNAT, 100, match, ControllerOps.rejectAction());
            return;
        }
        final int mark = MARK_LB | (local ? 0 : MARK_SNAT);
        final String l4 = sp.protocol().name().toLowerCase();
        final String hashFields = (Ip.isIpv6(vip) ? "ipv6_src,ipv6_dst," : "ip_src,ip_dst,") + l4 + "_src," + l4 + "_dst";
        if (svc.hasClientIpAffinity())
        {
            GatewayAffinityFlows.vip(f, gw, vip, AffinityStages.key(sp.protocol(), port), match, mark, backends, groups, hashFields,
                svc.affinityTimeoutSeconds());
        }
        else
        {
            final StringBuilder buckets = new StringBuilder();
            for (int i = 0; i < backends.size(); i++)
            {
                buckets.append(",bucket=bucket_id=").append(i).append(",weight:100,actions=").append(commit(backends.get(i), mark));
            }
            final int gid = groups.name("type=select,selection_method=hash,fields(" + hashFields + ")" + buckets);
            f.add(GATEWAY_DNAT, 100, match, "group:" + gid);
        }
        if (local)
        {
            // The backends' replies leave through this router, un-DNATed, not SNATed to the node.
            for (final String b : backends)
            {
                // ADDR:PORT, [ADDR]:PORT for IPv6.
                final int colon = b.lastIndexOf(':');
                final String address = v6 ? b.substring(1, colon - 1) : b.substring(0, colon);
                f.add(EGRESS_FIREWALL, BACKEND_REPLY, proto + ",reg9=" + hex(gw.key()) + ",reg0=0/" + hex(FLAG_UNDNAT_TRIED) + ","
                    + Matches.address(true, Ip.parse(address)) + ",tp_src=" + b.substring(colon + 1),
                    "load:0x1->NXM_NX_REG0[3]," + DNAT_LOOKUP);
                GatewayIcmpErrorFlows.fromLocalBackend(f, gw, AffinityRegisters.backendAddress(b), BACKEND_REPLY);
            }
        }
    }

    /**
     * A new connection to {@code backend} DNATed and committed with {@code mark}, the client's MAC
     * in its label; then the router's MTU check before the SNAT to the join IP.
     */
    static String commit(final String backend, final int mark)
    {
        return "ct(commit,zone=" + DNAT_ZONE + ",nat(dst=" + backend + "),exec(set_field:" + hex(mark) + "->ct_mark,"
            + "move:NXM_OF_ETH_SRC[]->NXM_NX_CT_LABEL[0..47]),table=" + GATEWAY_CHK_PKT_LEN.table + ")";
    }
}
