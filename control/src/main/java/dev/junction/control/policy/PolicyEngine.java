package dev.junction.control.policy;

import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.ContainerPort;
import dev.junction.control.k8s.Cidr;
import dev.junction.control.k8s.NetworkPolicy;
import dev.junction.control.k8s.Pod;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * NetworkPolicy semantics as the Kubernetes API defines them, over a {@link ClusterModel}: the
 * reference the generated ACLs are held to.
 *
 * <ul>
 * <li>A policy selects pods of its own namespace by podSelector. A pod is isolated for a direction
 *     when any policy selecting it has that policy type; then only what some rule of those
 *     policies allows gets through (rules and policies are a union; there is no deny rule).</li>
 * <li>A connection needs both: the source pod's egress and the destination pod's ingress.</li>
 * <li>Peers: podSelector alone means pods of the policy's namespace; namespaceSelector alone means
 *     all pods of the matching namespaces; both means pods matching both (AND); an ipBlock
 *     matches addresses in its CIDR and in none of its excepts.</li>
 * <li>ipBlock and pods: the API says a plugin "may" apply ipBlocks to pod addresses; OVN-K does
 *     (its ACLs match ip4.src/ip4.dst against the CIDR whatever the address is), so here an
 *     ipBlock matches a pod by the address the connection uses.</li>
 * <li>Ports: none means all; protocol defaults to TCP; a port entry with no port means every
 *     port of its protocol; endPort makes a range; a named port is resolved against the
 *     destination pod's container ports (name, protocol and number must all agree), in both
 *     directions, so an egress rule's named port never matches an address that is no pod.</li>
 * <li>Host-network pods have no logical switch port in OVN-K: policies neither select them nor
 *     match them by selector (only an ipBlock can match their node address), and completed pods
 *     (Succeeded/Failed) are out of the address sets.</li>
 * </ul>
 *
 * The engine is immutable; build a new one for a new model.
 */
public final class PolicyEngine
{
    private final ClusterModel model;
    private final Map<String, List<NetworkPolicy>> byNamespace = new LinkedHashMap<>();

    public PolicyEngine(final ClusterModel model)
    {
        this.model = model;
        for (final NetworkPolicy p : model.networkPolicies())
        {
            byNamespace.computeIfAbsent(p.namespace(), k -> new ArrayList<>()).add(p);
        }
    }

    public ClusterModel model()
    {
        return model;
    }

    public Decision decide(final Connection c)
    {
        final Pod destinationPod = c.destination() instanceof Peer.PodPeer ? ((Peer.PodPeer)c.destination()).pod() : null;
        final Verdict egress = c.source() instanceof Peer.PodPeer
            ? verdict(((Peer.PodPeer)c.source()).pod(), NetworkPolicy.Type.Egress, c.destination(), destinationPod, c)
            : Verdict.NOT_APPLICABLE;
        final Verdict ingress = destinationPod != null
            ? verdict(destinationPod, NetworkPolicy.Type.Ingress, c.source(), destinationPod, c)
            : Verdict.NOT_APPLICABLE;
        return new Decision(egress, ingress);
    }

    public boolean allowed(final Connection c)
    {
        return decide(c).allowed();
    }

    /** The policies selecting {@code subject} for one direction, and which of them allow the connection from/to {@code other}. */
    private Verdict verdict(final Pod subject, final NetworkPolicy.Type type, final Peer other, final Pod destinationPod,
        final Connection c)
    {
        if (!isPolicyPod(subject))
        {
            return Verdict.NOT_APPLICABLE;
        }
        final List<String> isolatedBy = new ArrayList<>();
        final List<String> allowedBy = new ArrayList<>();
        for (final NetworkPolicy p : byNamespace.getOrDefault(subject.namespace(), List.of()))
        {
            if (!p.affects(type) || !p.podSelector().matches(subject.labels()))
            {
                continue;
            }
            isolatedBy.add(p.key());
            for (final NetworkPolicy.Rule rule : type == NetworkPolicy.Type.Ingress ? p.ingress() : p.egress())
            {
                if (peersMatch(p.namespace(), rule.peers(), other) && portsMatch(rule.ports(), destinationPod, c))
                {
                    allowedBy.add(p.key());
                    break;
                }
            }
        }
        return new Verdict(isolatedBy, allowedBy);
    }

    private static boolean isPolicyPod(final Pod pod)
    {
        return !pod.hostNetwork() && !pod.isCompleted();
    }

    private boolean peersMatch(final String policyNamespace, final List<NetworkPolicy.Peer> peers, final Peer other)
    {
        if (peers.isEmpty())
        {
            return true;
        }
        for (final NetworkPolicy.Peer peer : peers)
        {
            if (peerMatches(policyNamespace, peer, other))
            {
                return true;
            }
        }
        return false;
    }

    private boolean peerMatches(final String policyNamespace, final NetworkPolicy.Peer peer, final Peer other)
    {
        if (peer.ipBlock() != null)
        {
            return inIpBlock(peer.ipBlock(), other.ip());
        }
        if (!(other instanceof Peer.PodPeer))
        {
            return false;
        }
        final Pod pod = ((Peer.PodPeer)other).pod();
        if (!isPolicyPod(pod))
        {
            return false;
        }
        final boolean namespaceMatches = peer.namespaceSelector() == null
            ? pod.namespace().equals(policyNamespace)
            : peer.namespaceSelector().matches(model.namespaceLabels(pod.namespace()));
        return namespaceMatches && (peer.podSelector() == null || peer.podSelector().matches(pod.labels()));
    }

    static boolean inIpBlock(final NetworkPolicy.IpBlock block, final InetAddress ip)
    {
        if (!block.cidr().contains(ip))
        {
            return false;
        }
        for (final Cidr except : block.except())
        {
            if (except.contains(ip))
            {
                return false;
            }
        }
        return true;
    }

    private static boolean portsMatch(final List<NetworkPolicy.Port> ports, final Pod destinationPod, final Connection c)
    {
        if (ports.isEmpty())
        {
            return true;
        }
        for (final NetworkPolicy.Port p : ports)
        {
            if (portMatches(p, destinationPod, c))
            {
                return true;
            }
        }
        return false;
    }

    private static boolean portMatches(final NetworkPolicy.Port p, final Pod destinationPod, final Connection c)
    {
        if (p.protocol() != c.protocol())
        {
            return false;
        }
        if (p.port() == null)
        {
            return true;
        }
        if (p.port().isNamed())
        {
            if (destinationPod == null)
            {
                return false;
            }
            for (final ContainerPort cp : destinationPod.ports())
            {
                if (p.port().name().equals(cp.name()) && cp.protocol() == c.protocol() && cp.port() == c.port())
                {
                    return true;
                }
            }
            return false;
        }
        final int end = p.endPort() == null ? p.port().number() : p.endPort();
        return c.port() >= p.port().number() && c.port() <= end;
    }
}
