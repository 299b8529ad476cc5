package dev.junction.control.flows;

import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.ContainerPort;
import dev.junction.control.k8s.NetworkPolicy;
import dev.junction.control.k8s.Pod;

import java.net.InetAddress;
import java.util.List;

/**
 * Which policies' ACL flows a pod can appear in, as {@link AclFlows} expands them: the question
 * an incremental update asks for each pod that changed, for its version before and after. A
 * pod appears in a rule's flows (its addresses, in egress its named ports' numbers) only
 * <ul>
 * <li>through a selector peer that selects it (namespace and pod selector);</li>
 * <li>in an egress rule with a named port, whose peers are everything or an ipBlock holding one
 *     of its addresses: such a rule is expanded pod by pod, since a named port has a number only
 *     at a pod; and only if the rule's ports give that pod any match.</li>
 * </ul>
 * A rule without peers or with ipBlocks otherwise names networks, never pods, and an ingress
 * named port reads the selected pod's own ports (its own ACLs, recomputed when it changes).
 */
final class PolicyPeers
{
    private PolicyPeers()
    {
    }

    /** Could any rule of {@code policy} expand to flows naming one of {@code pods} (ports of pods before or after a change)? */
    static boolean mayName(final ClusterModel model, final NetworkPolicy policy, final List<BridgeLayout.PodPort> pods)
    {
        for (final NetworkPolicy.Rule r : policy.ingress())
        {
            if (mayName(model, policy, r, false, pods))
            {
                return true;
            }
        }
        for (final NetworkPolicy.Rule r : policy.egress())
        {
            if (mayName(model, policy, r, true, pods))
            {
                return true;
            }
        }
        return false;
    }

    private static boolean mayName(final ClusterModel model, final NetworkPolicy policy, final NetworkPolicy.Rule rule,
        final boolean egress, final List<BridgeLayout.PodPort> pods)
    {
        final boolean podByPod = egress && rule.ports().stream().anyMatch(x -> x.port() != null && x.port().isNamed());
        for (final BridgeLayout.PodPort port : pods)
        {
            final Pod pod = port.pod();
            if (rule.peers().isEmpty())
            {
                if (podByPod && hasMatch(rule, pod))
                {
                    return true;
                }
                continue;
            }
            for (final NetworkPolicy.Peer peer : rule.peers())
            {
                if (peer.ipBlock() != null)
                {
                    // Excepts left out: a superset only recomputes a little more.
                    if (podByPod && holds(peer.ipBlock(), port) && hasMatch(rule, pod))
                    {
                        return true;
                    }
                    continue;
                }
                final boolean ns = peer.namespaceSelector() == null ? pod.namespace().equals(policy.namespace())
                    : peer.namespaceSelector().matches(model.namespaceLabels(pod.namespace()));
                if (ns && (peer.podSelector() == null || peer.podSelector().matches(pod.labels())))
                {
                    return true;
                }
            }
        }
        return false;
    }

    /** The port's addresses: a pod without status IPs has the one its layout gave it. */
    private static boolean holds(final NetworkPolicy.IpBlock block, final BridgeLayout.PodPort port)
    {
        for (final InetAddress ip : port.ips())
        {
            if (block.cidr().contains(ip))
            {
                return true;
            }
        }
        return false;
    }

    /** Do the rule's ports give this destination pod any L4 match (a numbered port, or a named one it has)? */
    private static boolean hasMatch(final NetworkPolicy.Rule rule, final Pod pod)
    {
        for (final NetworkPolicy.Port port : rule.ports())
        {
            if (port.port() == null || !port.port().isNamed())
            {
                return true;
            }
            for (final ContainerPort cp : pod.ports())
            {
                if (cp.name().equals(port.port().name()) && cp.protocol() == port.protocol())
                {
                    return true;
                }
            }
        }
        return false;
    }
}
