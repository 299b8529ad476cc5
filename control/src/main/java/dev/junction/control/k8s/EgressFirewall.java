package dev.junction.control.k8s;

import java.util.List;

/**
 * OVN-K's EgressFirewall (k8s.ovn.org/v1): ordered allow/deny rules for traffic leaving the
 * cluster from a namespace's pods; the first rule that matches decides.
 */
public record EgressFirewall(String namespace, String name, List<Rule> rules)
{
    public enum Action
    {
        Allow, Deny
    }

    /** One rule; exactly one of cidrSelector, dnsName and nodeSelector is set. */
    public record Rule(Action action, Cidr cidrSelector, String dnsName, LabelSelector nodeSelector, List<Port> ports)
    {
        public Rule
        {
            ports = List.copyOf(ports);
        }
    }

    /** A port entry; a port of 0 means every port of the protocol. */
    public record Port(Protocol protocol, int port)
    {
    }

    public EgressFirewall
    {
        rules = List.copyOf(rules);
    }
}
