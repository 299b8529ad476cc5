package dev.junction.control.flows;

import dev.junction.control.k8s.Ip;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

/**
 * A logical switch port the flows treat alike, whatever stands behind it: a pod
 * ({@link BridgeLayout.PodPort}) or the node's host stack ({@link BridgeLayout.ManagementPort}).
 * Port security, the ARP and ND responders, L2 lookup, routing and delivery need only these.
 */
public interface LogicalPort
{
    /** The OpenFlow port on this bridge; 0 for a port of another node, reached through the tunnel. */
    int ofport();

    /** The logical key (reg14 / reg15, the tunnel option): unique in the cluster; also the conntrack zone. */
    int key();

    String mac();

    List<InetAddress> ips();

    /** The node switch the port is on. */
    BridgeLayout.Switch sw();

    /** How the port is named in reports and OVN: {@code namespace/pod}, or {@code k8s-<node>}. */
    String name();

    /** The flow owner its flows are filed under, what an incremental update replaces. */
    String owner();

    default boolean local()
    {
        return ofport() != 0;
    }

    default int zone()
    {
        return key();
    }

    default int lbZone()
    {
        return key() | BridgeLayout.LB_ZONE_BIT;
    }

    default Optional<InetAddress> ip(final boolean ipv6)
    {
        return ips().stream().filter(ip -> Ip.isIpv6(ip) == ipv6).findFirst();
    }
}
