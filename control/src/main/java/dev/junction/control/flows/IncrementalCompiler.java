package dev.junction.control.flows;

import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.NetworkPolicy;
import dev.junction.control.k8s.Pod;
import dev.junction.control.k8s.Service;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Keeps one bridge's compiled flows and, for each new cluster model, recomputes only the owners
 * the change touches, as ovn-northd's and ovn-controller's incremental processing do:
 * <ul>
 * <li>a pod's port flows when its port changed (numbers stay: {@link BridgeLayout#next});</li>
 * <li>a local pod's ACLs when the pod changed, a policy of its namespace changed, or a changed
 *     pod may be a peer of one of those policies (its old or new labels match a peer selector,
 *     an ipBlock holds one of its addresses, or a rule has a named port);</li>
 * <li>a service's load balancer when the service or its EndpointSlices changed (all of them
 *     when nodes or switches changed: node ports and internalTrafficPolicy Local read those);</li>
 * <li>a switch's flows when the switch changed; everything when namespace labels changed
 *     (namespace selectors read them).</li>
 * </ul>
 * Each update is one {@link Delta}: the lines removed and added, i.e. one new table version.
 * Not thread-safe: one control thread owns it.
 */
public final class IncrementalCompiler
{
    /** One version's change: flow lines to remove and to add, the complete groups, the owners recomputed. */
    public record Delta(long version, List<String> removed, List<String> added, List<String> groups, Set<String> owners)
    {
        public boolean isEmpty()
        {
            return removed.isEmpty() && added.isEmpty();
        }
    }

    private ClusterModel model;
    private BridgeLayout layout;
    private final FlowSet flows = new FlowSet();
    private final LoadBalancerFlows lbs;
    private final AclCookies cookies = new AclCookies();
    private final EgressFlows egress;
    private long version;

    /** A full compile of the cluster on one bridge ({@code node} null) or of one node's bridge. */
    public IncrementalCompiler(final ClusterModel model, final String node)
    {
        this(model, node, DnsResolver.NONE);
    }

    /** As {@link #IncrementalCompiler(ClusterModel, String)}, EgressFirewall {@code dnsName} rules resolved by {@code dns}. */
    public IncrementalCompiler(final ClusterModel model, final String node, final DnsResolver dns)
    {
        this(model, node == null ? BridgeLayout.cluster(model) : BridgeLayout.node(model, node), dns);
    }

    IncrementalCompiler(final ClusterModel model, final BridgeLayout layout)
    {
        this(model, layout, DnsResolver.NONE);
    }

    IncrementalCompiler(final ClusterModel model, final BridgeLayout layout, final DnsResolver dns)
    {
        this.model = model;
        this.layout = layout;
        this.egress = new EgressFlows(dns);
        this.lbs = new LoadBalancerFlows(model, layout);
        SwitchFlows.fixed(flows);
        LoadBalancerFlows.fixed(flows);
        for (final BridgeLayout.Switch sw : layout.switches())
        {
            switchFlows(sw);
        }
        for (final BridgeLayout.PodPort p : layout.allPods())
        {
            podFlows(p);
        }
        final AclFlows acls = new AclFlows(model, layout, cookies);
        for (final BridgeLayout.PodPort p : layout.ports())
        {
            acls.forPort(flows, p);
        }
        for (final Service s : model.services())
        {
            lbs.forService(flows, s);
        }
        egress.all(flows, model, layout);
    }

    public FlowCompiler.Compiled current()
    {
        final List<String> notes = new ArrayList<>(layout.notes());
        notes.addAll(lbs.notes());
        notes.addAll(egress.notes(model, layout));
        return new FlowCompiler.Compiled(layout, flows, lbs.groups(), notes, cookies.meanings());
    }

    public long version()
    {
        return version;
    }

    private void switchFlows(final BridgeLayout.Switch sw)
    {
        SwitchFlows.forSwitch(flows, sw);
        if (layout.localSwitch().map(l -> l.key() == sw.key()).orElse(false))
        {
            SwitchFlows.tunnelReceive(flows, sw);
        }
    }

    private void podFlows(final BridgeLayout.PodPort p)
    {
        if (p.local())
        {
            SwitchFlows.forPort(flows, p);
        }
        else
        {
            SwitchFlows.forRemotePod(flows, p);
        }
    }

    /** Moves to {@code next}, recomputing what changed; the returned delta is the new version. */
    public Delta update(final ClusterModel next)
    {
        final ClusterModel before = model;
        final BridgeLayout old = layout;
        final BridgeLayout now = BridgeLayout.next(next, old);
        final Set<String> owners = new LinkedHashSet<>();
        final boolean everything = !before.namespaces().equals(next.namespaces());

        final Map<String, BridgeLayout.Switch> oldSwitches = new HashMap<>();
        old.switches().forEach(s -> oldSwitches.put(s.node(), s));
        boolean switchesChanged = old.switches().size() != now.switches().size();
        for (final BridgeLayout.Switch s : now.switches())
        {
            if (everything || !s.equals(oldSwitches.remove(s.node())))
            {
                owners.add("switch:" + s.node());
                switchesChanged = true;
            }
        }
        oldSwitches.keySet().forEach(n -> owners.add("switch:" + n));

        final Map<String, BridgeLayout.PodPort> oldPods = new HashMap<>();
        old.allPods().forEach(p -> oldPods.put(p.name(), p));
        final List<Pod> changedPods = new ArrayList<>();
        for (final BridgeLayout.PodPort p : now.allPods())
        {
            final BridgeLayout.PodPort was = oldPods.remove(p.name());
            if (everything || !p.equals(was))
            {
                owners.add("pod:" + p.name());
                changedPods.add(p.pod());
                if (was != null)
                {
                    changedPods.add(was.pod());
                }
                // Its ACLs too (a pod that moved to another node leaves its ACLs behind it).
                owners.add("acl:" + p.name());
            }
        }
        for (final BridgeLayout.PodPort gone : oldPods.values())
        {
            owners.add("pod:" + gone.name());
            owners.add("acl:" + gone.name());
            changedPods.add(gone.pod());
        }

        // ACLs: namespaces whose policies changed, or may name a changed pod as a peer.
        final Set<String> aclNamespaces = new HashSet<>();
        final Map<String, List<NetworkPolicy>> oldPolicies = byNamespace(before.networkPolicies());
        final Map<String, List<NetworkPolicy>> newPolicies = byNamespace(next.networkPolicies());
        for (final String ns : union(oldPolicies.keySet(), newPolicies.keySet()))
        {
            if (!Objects.equals(oldPolicies.get(ns), newPolicies.get(ns)))
            {
                aclNamespaces.add(ns);
            }
        }
        if (!changedPods.isEmpty())
        {
            for (final NetworkPolicy p : next.networkPolicies())
            {
                if (!aclNamespaces.contains(p.namespace()) && mayName(next, p, changedPods))
                {
                    aclNamespaces.add(p.namespace());
                }
            }
        }
        for (final BridgeLayout.PodPort p : now.ports())
        {
            if (everything || aclNamespaces.contains(p.pod().namespace()))
            {
                owners.add("acl:" + p.name());
            }
        }

        // Services: changed ones, those whose slices changed; all when nodes or switches did.
        final boolean allServices = everything || switchesChanged || !before.nodes().equals(next.nodes());
        final Set<String> serviceKeys = new LinkedHashSet<>();
        final Map<String, Service> oldServices = new HashMap<>();
        before.services().forEach(s -> oldServices.put(s.key(), s));
        for (final Service s : next.services())
        {
            final Service was = oldServices.remove(s.key());
            if (allServices || !s.equals(was) || !before.endpointSlicesOf(s).equals(next.endpointSlicesOf(s)))
            {
                serviceKeys.add(s.key());
            }
        }
        final Set<String> goneServices = oldServices.keySet();
        egress.changed(before, next, old, now, everything, !serviceKeys.isEmpty() || !goneServices.isEmpty(), owners);

        // Replace the owners' flows.
        final Set<String> oldLines = new HashSet<>();
        final List<String> allOwners = new ArrayList<>(owners);
        serviceKeys.forEach(k -> allOwners.add("service:" + k));
        goneServices.forEach(k -> allOwners.add("service:" + k));
        for (final String o : allOwners)
        {
            oldLines.addAll(flows.linesOf(o));
            flows.removeOwner(o);
        }
        model = next;
        layout = now;
        lbs.update(next, now);
        goneServices.forEach(lbs::remove);
        final AclFlows acls = new AclFlows(next, now, cookies);
        for (final BridgeLayout.Switch s : now.switches())
        {
            if (owners.contains("switch:" + s.node()))
            {
                switchFlows(s);
            }
        }
        for (final BridgeLayout.PodPort p : now.allPods())
        {
            if (owners.contains("pod:" + p.name()))
            {
                podFlows(p);
            }
            if (p.local() && owners.contains("acl:" + p.name()))
            {
                acls.forPort(flows, p);
            }
        }
        for (final Service s : next.services())
        {
            if (serviceKeys.contains(s.key()))
            {
                lbs.forService(flows, s);
            }
        }
        egress.emit(flows, next, now, owners);
        final Set<String> newLines = new LinkedHashSet<>();
        for (final String o : allOwners)
        {
            newLines.addAll(flows.linesOf(o));
        }
        final List<String> removed = new ArrayList<>();
        for (final String l : oldLines)
        {
            if (!flows.hasLine(l))
            {
                removed.add(l);
            }
        }
        final List<String> added = new ArrayList<>();
        for (final String l : newLines)
        {
            if (!oldLines.contains(l))
            {
                added.add(l);
            }
        }
        version++;
        return new Delta(version, removed, added, lbs.groups(), new LinkedHashSet<>(allOwners));
    }

    /** Could a rule of {@code p} match one of these pods as a peer (old or new version of it)? */
    private static boolean mayName(final ClusterModel model, final NetworkPolicy p, final List<Pod> pods)
    {
        for (final List<NetworkPolicy.Rule> rules : List.of(p.ingress(), p.egress()))
        {
            for (final NetworkPolicy.Rule r : rules)
            {
                if (r.peers().isEmpty() || r.ports().stream().anyMatch(x -> x.port() != null && x.port().isNamed()))
                {
                    // Any peer (or a named port, resolved per destination pod): every pod counts.
                    return true;
                }
                for (final NetworkPolicy.Peer peer : r.peers())
                {
                    for (final Pod pod : pods)
                    {
                        if (peer.ipBlock() != null)
                        {
                            if (pod.ips().stream().anyMatch(ip -> peer.ipBlock().cidr().contains(ip)))
                            {
                                return true;
                            }
                            continue;
                        }
                        final boolean ns = peer.namespaceSelector() == null ? pod.namespace().equals(p.namespace())
                            : peer.namespaceSelector().matches(model.namespaceLabels(pod.namespace()));
                        if (ns && (peer.podSelector() == null || peer.podSelector().matches(pod.labels())))
                        {
                            return true;
                        }
                    }
                }
            }
        }
        return false;
    }

    private static Map<String, List<NetworkPolicy>> byNamespace(final List<NetworkPolicy> policies)
    {
        final Map<String, List<NetworkPolicy>> m = new HashMap<>();
        for (final NetworkPolicy p : policies)
        {
            m.computeIfAbsent(p.namespace(), k -> new ArrayList<>()).add(p);
        }
        return m;
    }

    private static Set<String> union(final Set<String> a, final Set<String> b)
    {
        final Set<String> u = new HashSet<>(a);
        u.addAll(b);
        return u;
    }

}
