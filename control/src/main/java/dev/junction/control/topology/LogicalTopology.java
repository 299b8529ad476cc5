package dev.junction.control.topology;

import dev.junction.control.k8s.Cidr;
import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.Node;
import dev.junction.control.k8s.Pod;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One node's part of the logical network as OVN-Kubernetes lays it out: the node switch with the
 * node's subnet(s), the management port (.2), the cluster router's port on it (.1, the pods'
 * gateway), the join switch and the node's gateway router on it, and one logical port per pod of
 * the node (host-network and completed pods have none). Every list is per IP family, IPv4 first
 * when the node is dual-stack, in the order of the node-subnets annotation.
 */
public record LogicalTopology(String node, String nodeSwitch, List<Cidr> subnets,
    String managementPort, List<InetAddress> managementIps, String managementMac,
    String routerPort, List<InetAddress> gatewayIps, String routerPortMac,
    String clusterRouter, String joinSwitch, List<Cidr> joinSubnets,
    String gatewayRouter, String gatewayRouterJoinPort, List<Cidr> gatewayRouterJoinAddresses, String gatewayRouterJoinMac,
    List<PodPort> pods)
{
    /** A pod's logical switch port, MAC derived from its first address as OVN-K does. */
    public record PodPort(String name, String namespace, String pod, String mac, List<InetAddress> ips)
    {
        public PodPort
        {
            ips = List.copyOf(ips);
        }
    }

    public LogicalTopology
    {
        subnets = List.copyOf(subnets);
        managementIps = List.copyOf(managementIps);
        gatewayIps = List.copyOf(gatewayIps);
        joinSubnets = List.copyOf(joinSubnets);
        gatewayRouterJoinAddresses = List.copyOf(gatewayRouterJoinAddresses);
        pods = List.copyOf(pods);
    }

    /**
     * Builds node {@code nodeName}'s topology. The node must carry its subnets annotation: without
     * it OVN-K has not admitted the node, and neither is anything here made up for it.
     */
    public static LogicalTopology forNode(final ClusterModel model, final String nodeName)
    {
        final Node node = model.node(nodeName).orElseThrow(() -> new IllegalArgumentException("no node " + nodeName));
        if (node.subnets().isEmpty())
        {
            throw new IllegalArgumentException("node " + nodeName + " has no " + Node.NODE_SUBNETS + " annotation");
        }
        final List<InetAddress> mgmt = new ArrayList<>();
        final List<InetAddress> gw = new ArrayList<>();
        final List<Cidr> join = new ArrayList<>();
        for (final Cidr s : node.subnets())
        {
            mgmt.add(OvnNames.managementIp(s));
            gw.add(OvnNames.gatewayIp(s));
            join.add(s.isIpv6() ? OvnNames.JOIN_SUBNET_V6 : OvnNames.JOIN_SUBNET_V4);
        }
        final List<Cidr> grJoin = node.gatewayRouterJoinAddresses().isEmpty()
            ? allocatedJoinAddresses(model, node, join) : node.gatewayRouterJoinAddresses();
        final List<PodPort> pods = new ArrayList<>();
        for (final Pod p : model.podsOn(nodeName))
        {
            if (p.hostNetwork() || p.isCompleted() || p.ips().isEmpty())
            {
                continue;
            }
            pods.add(new PodPort(OvnNames.podPort(p.namespace(), p.name()), p.namespace(), p.name(),
                OvnNames.mac(p.ips().get(0)), p.ips()));
        }
        return new LogicalTopology(nodeName, OvnNames.nodeSwitch(nodeName), node.subnets(),
            OvnNames.managementPort(nodeName), mgmt, OvnNames.mac(mgmt.get(0)),
            OvnNames.routerToSwitchPort(nodeName), gw, OvnNames.mac(gw.get(0)),
            OvnNames.CLUSTER_ROUTER, OvnNames.JOIN_SWITCH, join,
            OvnNames.gatewayRouter(nodeName), OvnNames.gatewayRouterJoinPort(nodeName), grJoin,
            OvnNames.mac(grJoin.get(0).address()), pods);
    }

    /**
     * When the node lacks OVN-K's lrp-ifaddr annotation: a deterministic stand-in for the cluster
     * manager's allocator. The cluster router holds .1 of the join subnet; nodes (by name) take .2,
     * .3, ... OVN-K hands them out in the order nodes arrive, so only the annotation is the truth.
     */
    private static List<Cidr> allocatedJoinAddresses(final ClusterModel model, final Node node, final List<Cidr> joinSubnets)
    {
        final List<String> names = model.nodes().stream().map(Node::name).sorted(Comparator.naturalOrder()).toList();
        final int index = names.indexOf(node.name());
        final List<Cidr> out = new ArrayList<>();
        for (final Cidr j : joinSubnets)
        {
            out.add(Cidr.of(j.host(index + 2L), j.prefix()));
        }
        return out;
    }

    /** The gateway router's join address of the first family, without its prefix. */
    public InetAddress gatewayRouterJoinIp()
    {
        return gatewayRouterJoinAddresses.get(0).address();
    }

    @Override
    public String toString()
    {
        return "node " + node + ": switch " + nodeSwitch + " " + subnets + ", " + managementPort + " "
            + managementIps.stream().map(Ip::text).toList() + ", " + clusterRouter + " port " + routerPort + " "
            + gatewayIps.stream().map(Ip::text).toList() + ", " + joinSwitch + " " + joinSubnets + ", " + gatewayRouter + " "
            + gatewayRouterJoinAddresses.stream().map(Cidr::addressText).toList() + ", " + pods.size() + " pod ports";
    }
}
