package dev.junction.control.k8s;

import java.net.InetAddress;
import java.util.List;

/**
 * OVN-K's EgressIP (k8s.ovn.org/v1, cluster scoped): pods selected by namespace and pod
 * selector leave the cluster with one of these source addresses, from the node the status names.
 */
public record EgressIp(String name, List<InetAddress> egressIps, LabelSelector namespaceSelector,
    LabelSelector podSelector, List<Assignment> assignments)
{
    /** {@code status.items[]}: which node carries which egress IP. */
    public record Assignment(String node, InetAddress egressIp)
    {
    }

    public EgressIp
    {
        egressIps = List.copyOf(egressIps);
        assignments = List.copyOf(assignments);
    }
}
