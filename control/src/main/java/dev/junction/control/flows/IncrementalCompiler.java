package dev.junction.control.flows;

import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.NetworkPolicy;
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
 * the change touches, as ovn-northd's and ovn-controller's incremental processing do. The change
 * is found object by object ({@link ModelChange}); the layout is edited for the changed pods
 * alone when nothing else moves ({@link BridgeLayout#next(ClusterModel, BridgeLayout, ModelChange)}).
 * <ul>
 * <li>a pod's port flows when its port changed (numbers stay);</li>
 * <li>a local pod's ACLs when the pod changed; the local pods of a namespace whose policies
 *     changed; the local pods a policy selects when a changed pod, before or after the change,
 *     may appear in that policy's flows ({@link PolicyPeers}: a peer selector selects it, or an
 *     egress rule with a named port expands pod by pod and includes it);</li>
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
    /** The model's policies by namespace, made again only when a policy changes. */
    private Map<String, List<NetworkPolicy>> policies;
    private long version;

    /** A full compile of the cluster on one bridge ({@code node} null) or of one node's bridge. */
    public IncrementalCompiler(final ClusterModel model, final String node)
    {
        this(model, node, DnsResolver.NONE);
    }

    /** As {@link #IncrementalCompiler(ClusterModel, String)}, EgressFirewall {@code dnsName} rules resolved by {@code dns}. */
    public IncrementalCompiler(final ClusterModel model, final String node, final DnsResolver dns)
    {
        this(model, node, dns, GatewayMtuFlows.DEFAULT_MTU);
    }

    /** As {@link #IncrementalCompiler(ClusterModel, String, DnsResolver)}, the gateway routers' MTU {@code gatewayMtu} (0: none). */
    public IncrementalCompiler(final ClusterModel model, final String node, final DnsResolver dns, final int gatewayMtu)
    {
        this(model, node == null ? BridgeLayout.cluster(model) : BridgeLayout.node(model, node), dns, gatewayMtu);
    }

    IncrementalCompiler(final ClusterModel model, final BridgeLayout layout)
    {
        this(model, layout, DnsResolver.NONE);
    }

    IncrementalCompiler(final ClusterModel model, final BridgeLayout layout, final DnsResolver dns)
    {
        this(model, layout, dns, GatewayMtuFlows.DEFAULT_MTU);
    }

    IncrementalCompiler(final ClusterModel model, final BridgeLayout layout, final DnsResolver dns, final int gatewayMtu)
    {
        this.model = model;
        this.layout = layout;
        this.egress = new EgressFlows(dns, gatewayMtu);
        this.lbs = new LoadBalancerFlows(model, layout);
        SwitchFlows.fixed(flows);
        LoadBalancerFlows.fixed(flows);
        HairpinFlows.fixed(flows);
        NdResponderFlows.fixed(flows);
        FloodFlows.fixed(flows);
        for (final BridgeLayout.Switch sw : layout.switches())
        {
            switchFlows(sw);
            FloodFlows.forSwitch(flows, layout, sw);
        }
        for (final BridgeLayout.PodPort p : layout.allPods())
        {
            podFlows(p);
        }
        policies = AclFlows.byNamespace(model.networkPolicies());
        final AclFlows acls = new AclFlows(model, layout, cookies, policies);
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

    /**
     * The EgressFirewall rules naming any of {@code dnsNames} compiled again, after the resolver
     * found new addresses for them: the flows of every local pod whose namespace's firewall has
     * such a rule are replaced; nothing else is touched. Names compare as the resolver's: lower
     * case, without a trailing dot.
     */
    public void resolved(final Set<String> dnsNames)
    {
        final Set<String> namespaces = new HashSet<>();
        for (final dev.junction.control.k8s.EgressFirewall fw : model.egressFirewalls())
        {
            for (final dev.junction.control.k8s.EgressFirewall.Rule r : fw.rules())
            {
                if (r.dnsName() != null && dnsNames.contains(DnsResolver.canonical(r.dnsName())))
                {
                    namespaces.add(fw.namespace());
                }
            }
        }
        final Set<String> owners = new LinkedHashSet<>();
        for (final BridgeLayout.PodPort p : layout.ports())
        {
            if (namespaces.contains(p.pod().namespace()))
            {
                owners.add(EgressFirewallFlows.owner(p));
            }
        }
        owners.forEach(flows::removeOwner);
        egress.emit(flows, model, layout, owners);
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
        NdResponderFlows.forSwitch(flows, sw);
        if (layout.localSwitch().map(l -> l.key() == sw.key()).orElse(false))
        {
            SwitchFlows.tunnelReceive(flows, sw);
        }
        // The management port is the switch's: its flows go and come with the switch's.
        layout.managementPort(sw).ifPresent(mp ->
        {
            if (mp.local())
            {
                SwitchFlows.forPort(flows, mp);
                NdResponderFlows.forPort(flows, mp);
                FloodFlows.forPort(flows, mp);
            }
            else
            {
                SwitchFlows.forRemotePod(flows, mp);
            }
        });
    }

    private void podFlows(final BridgeLayout.PodPort p)
    {
        if (p.local())
        {
            SwitchFlows.forPort(flows, p);
            HairpinFlows.forPort(flows, p);
            NdResponderFlows.forPort(flows, p);
            FloodFlows.forPort(flows, p);
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
        final ModelChange change = ModelChange.between(before, next);
        final BridgeLayout now = BridgeLayout.next(next, old, change);
        final boolean everything = change.namespaces();
        // The same switches list: the layout was edited pod by pod, so only the changed pods can differ.
        final boolean podsOnly = now.switches() == old.switches() && !everything;

        final Set<String> switchOwners = new LinkedHashSet<>();
        boolean switchesChanged = false;
        if (!podsOnly)
        {
            final Map<String, BridgeLayout.Switch> oldSwitches = new HashMap<>();
            old.switches().forEach(s -> oldSwitches.put(s.node(), s));
            switchesChanged = old.switches().size() != now.switches().size();
            for (final BridgeLayout.Switch s : now.switches())
            {
                if (everything || !s.equals(oldSwitches.remove(s.node())))
                {
                    switchOwners.add(s.node());
                    switchesChanged = true;
                }
            }
            switchOwners.addAll(oldSwitches.keySet());
        }

        // Pods whose port changed: their port flows and their ACLs (a pod that moved to another
        // node leaves its ACLs behind it).
        final Set<String> podOwners = new LinkedHashSet<>();
        final Set<String> aclOwners = new LinkedHashSet<>();
        final List<BridgeLayout.PodPort> changedPods = new ArrayList<>();
        for (final String key : podsOnly ? podKeys(change) : union(old.podKeys(), now.podKeys()))
        {
            final BridgeLayout.PodPort was = old.pod(key);
            final BridgeLayout.PodPort p = now.pod(key);
            if (everything || !Objects.equals(p, was))
            {
                podOwners.add(key);
                aclOwners.add(key);
                if (p != null)
                {
                    changedPods.add(p);
                }
                if (was != null)
                {
                    changedPods.add(was);
                }
            }
        }

        // ACLs: the local pods of namespaces whose policies changed; the local pods a policy
        // selects when a changed pod may be one of its peers.
        final Set<String> aclNamespaces = change.policyNamespaces();
        if (everything)
        {
            now.ports().forEach(p -> aclOwners.add(p.name()));
        }
        else
        {
            for (final String ns : aclNamespaces)
            {
                localPods(now, ns, null, aclOwners);
            }
            if (!changedPods.isEmpty())
            {
                for (final NetworkPolicy p : next.networkPolicies())
                {
                    if (!aclNamespaces.contains(p.namespace()) && PolicyPeers.mayName(next, p, changedPods))
                    {
                        localPods(now, p.namespace(), p, aclOwners);
                    }
                }
            }
        }

        // Services: changed ones, those whose slices changed; all when nodes or switches did.
        final boolean allServices = everything || switchesChanged || change.nodes();
        final Set<String> serviceKeys = new LinkedHashSet<>();
        final Set<String> goneServices = new LinkedHashSet<>();
        for (final String k : allServices ? union(before.servicesByKey().keySet(), next.servicesByKey().keySet())
            : change.services())
        {
            if (next.servicesByKey().containsKey(k))
            {
                serviceKeys.add(k);
            }
            else if (before.servicesByKey().containsKey(k))
            {
                goneServices.add(k);
            }
        }
        // Egress: gateways, cluster addresses, and the firewall and EgressIP owners of changed pods.
        final Set<String> egressOwners = new LinkedHashSet<>();
        podOwners.forEach(k -> egressOwners.add("pod:" + k));
        // The cluster's addresses list service VIPs: a change of endpoints (slices) leaves them be.
        boolean serviceObjects = !goneServices.isEmpty();
        for (final String k : serviceKeys)
        {
            serviceObjects = serviceObjects || !Objects.equals(before.servicesByKey().get(k), next.servicesByKey().get(k));
        }
        egress.changed(before, next, old, now, everything, serviceObjects, egressOwners);
        podOwners.forEach(k -> egressOwners.remove("pod:" + k));

        // Flood sets: of the changed switches, and of the switches a changed pod leaves or joins.
        final Set<String> floodOwners = new LinkedHashSet<>(switchOwners);
        for (final String k : podOwners)
        {
            for (final BridgeLayout.PodPort p : new BridgeLayout.PodPort[] {old.pod(k), now.pod(k)})
            {
                if (p != null && p.local())
                {
                    floodOwners.add(p.sw().node());
                }
            }
        }

        // Replace the owners' flows.
        final List<String> allOwners = new ArrayList<>();
        switchOwners.forEach(n -> allOwners.add("switch:" + n));
        floodOwners.forEach(n -> allOwners.add("flood:" + n));
        podOwners.forEach(k -> allOwners.add("pod:" + k));
        aclOwners.forEach(k -> allOwners.add("acl:" + k));
        serviceKeys.forEach(k -> allOwners.add("service:" + k));
        goneServices.forEach(k -> allOwners.add("service:" + k));
        allOwners.addAll(egressOwners);
        final Set<String> oldLines = new HashSet<>();
        for (final String o : allOwners)
        {
            oldLines.addAll(flows.linesOf(o));
            flows.removeOwner(o);
        }
        model = next;
        layout = now;
        lbs.update(next, now);
        goneServices.forEach(lbs::remove);
        if (!switchOwners.isEmpty())
        {
            for (final BridgeLayout.Switch s : now.switches())
            {
                if (switchOwners.contains(s.node()))
                {
                    switchFlows(s);
                }
            }
        }
        for (final BridgeLayout.Switch s : now.switches())
        {
            if (floodOwners.contains(s.node()))
            {
                FloodFlows.forSwitch(flows, now, s);
            }
        }
        for (final String k : podOwners)
        {
            final BridgeLayout.PodPort p = now.pod(k);
            if (p != null)
            {
                podFlows(p);
            }
        }
        if (!change.policyNamespaces().isEmpty())
        {
            policies = AclFlows.byNamespace(next.networkPolicies());
        }
        final AclFlows acls = new AclFlows(next, now, cookies, policies);
        for (final String k : aclOwners)
        {
            final BridgeLayout.PodPort p = now.pod(k);
            if (p != null && p.local())
            {
                acls.forPort(flows, p);
            }
        }
        for (final String k : serviceKeys)
        {
            lbs.forService(flows, next.servicesByKey().get(k));
        }
        egress.emit(flows, next, now, egressOwners);
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

    private static List<String> podKeys(final ModelChange change)
    {
        final List<String> keys = new ArrayList<>(change.pods().size());
        change.pods().forEach(c -> keys.add(c.key()));
        return keys;
    }

    /** Adds the local pods of {@code namespace} ({@code selectedBy} null) or those {@code selectedBy} selects. */
    private static void localPods(final BridgeLayout layout, final String namespace, final NetworkPolicy selectedBy,
        final Set<String> out)
    {
        for (final BridgeLayout.PodPort q : layout.podsIn(namespace))
        {
            if (q.local() && (selectedBy == null || selectedBy.podSelector().matches(q.pod().labels())))
            {
                out.add(q.name());
            }
        }
    }

    private static Set<String> union(final Set<String> a, final Set<String> b)
    {
        final Set<String> u = new HashSet<>(a);
        u.addAll(b);
        return u;
    }

}
