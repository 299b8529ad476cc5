package dev.junction.control.flows;

import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.EgressFirewall;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Everything about traffic leaving the cluster, for {@link IncrementalCompiler}: the gateway
 * routers ({@link GatewayFlows}), EgressFirewalls ({@link EgressFirewallFlows}) and EgressIPs
 * ({@link EgressIpFlows}), each under owners of its own so that one object's change recomputes
 * only its flows: {@code gateway:<node>} per router, {@code cluster-addresses} for the drops of
 * cluster destinations, {@code egressfw:<pod>} and {@code egressip:<pod>} per pod.
 */
final class EgressFlows
{
    private final DnsResolver dns;
    /** The gateway routers' MTU ({@link GatewayMtuFlows}); 0: not checked. */
    private final int gatewayMtu;

    EgressFlows(final DnsResolver dns, final int gatewayMtu)
    {
        this.dns = dns;
        this.gatewayMtu = GatewayMtuFlows.checked(gatewayMtu);
    }

    /** All egress flows of a full compile. */
    private static final String GATEWAY_OWNER = GatewayFlows.owner("");
    static final String FIREWALL_OWNER = "egressfw:";
    static final String EGRESS_IP_OWNER = "egressip:";

    void all(final FlowSet f, final ClusterModel model, final BridgeLayout layout)
    {
        GatewayFlows.fixed(f, gatewayMtu);
        GatewayLoadBalancerFlows.fixed(f);
        GatewayFlows.clusterAddresses(f, model, layout);
        layout.gateways().forEach(gw -> gateway(f, gw));
        final Map<String, EgressFirewall> firewalls = firewalls(model);
        for (final BridgeLayout.PodPort p : layout.allPods())
        {
            pod(f, model, layout, firewalls, p);
        }
    }

    /** A gateway router: its egress and, under the same owner, what its load balancers and MTU need of it. */
    private void gateway(final FlowSet f, final GatewayPort gw)
    {
        GatewayFlows.forGateway(f, gw);
        GatewayLoadBalancerFlows.forGateway(f, gw);
        GatewayMtuFlows.forGateway(f, gw, gatewayMtu);
    }

    private void pod(final FlowSet f, final ClusterModel model, final BridgeLayout layout,
        final Map<String, EgressFirewall> firewalls, final BridgeLayout.PodPort p)
    {
        if (p.local())
        {
            EgressFirewallFlows.forPort(f, p, firewalls.get(p.pod().namespace()), dns);
        }
        EgressIpFlows.forPod(f, model, layout, p);
    }

    /**
     * Adds to {@code owners} the egress owners a change touches. {@code owners} already holds
     * {@code pod:<name>} for every pod whose port changed (or went); {@code everything} is set
     * when namespace labels changed; {@code servicesChanged} when any service was added, removed
     * or changed.
     */
    void changed(final ClusterModel before, final ClusterModel next, final BridgeLayout old, final BridgeLayout now,
        final boolean everything, final boolean servicesChanged, final Set<String> owners)
    {
        final Map<String, GatewayPort> oldGateways = new HashMap<>();
        old.gateways().forEach(g -> oldGateways.put(g.node(), g));
        boolean gatewaysChanged = old.gateways().size() != now.gateways().size();
        for (final GatewayPort g : now.gateways())
        {
            if (everything || !g.equals(oldGateways.remove(g.node())))
            {
                owners.add(GatewayFlows.owner(g.node()));
                gatewaysChanged = true;
            }
        }
        oldGateways.keySet().forEach(n -> owners.add(GatewayFlows.owner(n)));
        if (everything || gatewaysChanged || servicesChanged || !old.switches().equals(now.switches())
            || !before.nodes().equals(next.nodes()))
        {
            owners.add(GatewayFlows.CLUSTER_ADDRESSES);
        }
        // Firewalls: the pods of namespaces whose firewall changed. EgressIPs: the pods an old or
        // new EgressIP selects, when any EgressIP or router changed. Changed pods: both, below.
        final Map<String, EgressFirewall> oldFirewalls = firewalls(before);
        final Map<String, EgressFirewall> newFirewalls = firewalls(next);
        final Set<String> firewallNamespaces = new HashSet<>();
        for (final String ns : union(oldFirewalls.keySet(), newFirewalls.keySet()))
        {
            if (!Objects.equals(oldFirewalls.get(ns), newFirewalls.get(ns)))
            {
                firewallNamespaces.add(ns);
            }
        }
        final boolean egressIpsChanged = gatewaysChanged || !before.egressIps().equals(next.egressIps());
        if (everything || !firewallNamespaces.isEmpty() || egressIpsChanged)
        {
            for (final BridgeLayout.PodPort p : now.allPods())
            {
                if (everything || firewallNamespaces.contains(p.pod().namespace()))
                {
                    owners.add(EgressFirewallFlows.owner(p));
                }
                if (everything || egressIpsChanged && EgressIpFlows.matching(next, p.pod()) != null)
                {
                    owners.add(EgressIpFlows.owner(p));
                }
            }
        }
        if (egressIpsChanged)
        {
            for (final BridgeLayout.PodPort p : old.allPods())
            {
                if (EgressIpFlows.matching(before, p.pod()) != null)
                {
                    owners.add(EgressIpFlows.owner(p));
                }
            }
        }
        // Pods whose port changed or went: their owners are recomputed (or go with them).
        for (final String o : new ArrayList<>(owners))
        {
            if (o.startsWith("pod:"))
            {
                owners.add(FIREWALL_OWNER + o.substring(4));
                owners.add(EGRESS_IP_OWNER + o.substring(4));
            }
        }
    }

    private static Set<String> union(final Set<String> a, final Set<String> b)
    {
        final Set<String> u = new HashSet<>(a);
        u.addAll(b);
        return u;
    }

    /** Recomputes the egress owners among {@code owners} (their old flows already removed). */
    void emit(final FlowSet f, final ClusterModel model, final BridgeLayout layout, final Set<String> owners)
    {
        // Walks the owners, not the cluster: an update touches a handful of 30,000 pods.
        Map<String, EgressFirewall> firewalls = null;
        for (final String o : owners)
        {
            if (o.equals(GatewayFlows.CLUSTER_ADDRESSES))
            {
                GatewayFlows.clusterAddresses(f, model, layout);
            }
            else if (o.startsWith(GATEWAY_OWNER))
            {
                layout.gateway(o.substring(GATEWAY_OWNER.length())).ifPresent(gw -> gateway(f, gw));
            }
            else if (o.startsWith(FIREWALL_OWNER))
            {
                final BridgeLayout.PodPort p = layout.pod(o.substring(FIREWALL_OWNER.length()));
                if (p != null && p.local())
                {
                    firewalls = firewalls != null ? firewalls : firewalls(model);
                    EgressFirewallFlows.forPort(f, p, firewalls.get(p.pod().namespace()), dns);
                }
            }
            else if (o.startsWith(EGRESS_IP_OWNER))
            {
                final BridgeLayout.PodPort p = layout.pod(o.substring(EGRESS_IP_OWNER.length()));
                if (p != null)
                {
                    EgressIpFlows.forPod(f, model, layout, p);
                }
            }
        }
    }

    List<String> notes(final ClusterModel model, final BridgeLayout layout)
    {
        final List<String> notes = new ArrayList<>();
        EgressFirewallFlows.notes(model.egressFirewalls(), dns, notes);
        EgressIpFlows.notes(model, layout, notes);
        return notes;
    }

    private static Map<String, EgressFirewall> firewalls(final ClusterModel model)
    {
        final Map<String, EgressFirewall> m = new HashMap<>();
        model.egressFirewalls().forEach(fw -> m.put(fw.namespace(), fw));
        return m;
    }
}
