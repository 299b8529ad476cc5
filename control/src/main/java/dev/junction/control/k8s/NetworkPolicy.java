package dev.junction.control.k8s;

import java.util.List;
import java.util.Set;

/**
 * A NetworkPolicy (networking.k8s.io/v1), with its policy types already defaulted as the API
 * server defaults them: Ingress always, Egress when the policy has egress rules.
 */
public record NetworkPolicy(String namespace, String name, LabelSelector podSelector, Set<Type> policyTypes,
    List<Rule> ingress, List<Rule> egress)
{
    public enum Type
    {
        Ingress, Egress
    }

    /**
     * One ingress or egress rule: it matches when a peer matches (no peers: any peer) and a port
     * matches (no ports: any port and protocol).
     */
    public record Rule(List<Peer> peers, List<Port> ports)
    {
        public Rule
        {
            peers = List.copyOf(peers);
            ports = List.copyOf(ports);
        }
    }

    /**
     * A peer: either selectors (null podSelector: all pods of the selected namespaces; null
     * namespaceSelector: the policy's own namespace) or an ipBlock, never both.
     */
    public record Peer(LabelSelector podSelector, LabelSelector namespaceSelector, IpBlock ipBlock)
    {
    }

    /** An ipBlock: addresses in {@code cidr} and in none of {@code except}. */
    public record IpBlock(Cidr cidr, List<Cidr> except)
    {
        public IpBlock
        {
            except = List.copyOf(except);
        }
    }

    /** A port entry: protocol (TCP by default), a port (null: all) and, for a numeric port, an end of range. */
    public record Port(Protocol protocol, PortRef port, Integer endPort)
    {
    }

    public NetworkPolicy
    {
        policyTypes = Set.copyOf(policyTypes);
        ingress = List.copyOf(ingress);
        egress = List.copyOf(egress);
    }

    public String key()
    {
        return namespace + "/" + name;
    }

    public boolean affects(final Type type)
    {
        return policyTypes.contains(type);
    }
}
