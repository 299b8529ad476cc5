package dev.junction.control.k8s;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;

/**
 * A node: its InternalIP addresses and the pod subnets OVN-K's cluster manager gave it
 * ({@code k8s.ovn.org/node-subnets}, one per IP family), which name its logical switch's range.
 */
public record Node(String name, List<InetAddress> internalIps, Map<String, String> labels,
    Map<String, String> annotations, List<Cidr> subnets, List<Cidr> gatewayRouterJoinAddresses)
{
    public static final String NODE_SUBNETS = "k8s.ovn.org/node-subnets";
    /** The gateway router's join-switch address(es): {@code {"ipv4":"100.64.0.2/16"}}. */
    public static final String GATEWAY_LRP_IFADDR = "k8s.ovn.org/node-gateway-router-lrp-ifaddr";
    /** The newer, per-network form: {@code {"default":{"ipv4":"100.64.0.2/16"}}}. */
    public static final String GATEWAY_LRP_IFADDRS = "k8s.ovn.org/node-gateway-router-lrp-ifaddrs";

    public Node
    {
        internalIps = List.copyOf(internalIps);
        labels = Map.copyOf(labels);
        annotations = Map.copyOf(annotations);
        subnets = List.copyOf(subnets);
        gatewayRouterJoinAddresses = List.copyOf(gatewayRouterJoinAddresses);
    }
}
