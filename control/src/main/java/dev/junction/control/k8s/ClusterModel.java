package dev.junction.control.k8s;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * An immutable snapshot of the cluster's network state: what the logical topology and the
 * policy engine are computed from. Lists keep the order objects were read in (files sorted by
 * name, documents in file order) so everything derived from the model is reproducible.
 */
public final class ClusterModel
{
    private final Map<String, Namespace> namespaces;
    private final Map<String, Node> nodes;
    private final Map<String, Pod> pods;
    private final Map<String, Service> services;
    private final List<EndpointSlice> endpointSlices;
    private final List<NetworkPolicy> networkPolicies;
    private final List<EgressFirewall> egressFirewalls;
    private final List<EgressIp> egressIps;
    /** Slices by their service's namespace/name: services look theirs up once per compile. */
    private final Map<String, List<EndpointSlice>> slicesByService = new java.util.HashMap<>();

    public ClusterModel(final List<Namespace> namespaces, final List<Node> nodes, final List<Pod> pods,
        final List<Service> services, final List<EndpointSlice> endpointSlices, final List<NetworkPolicy> networkPolicies,
        final List<EgressFirewall> egressFirewalls, final List<EgressIp> egressIps)
    {
        this.namespaces = index(namespaces, Namespace::name);
        this.nodes = index(nodes, Node::name);
        this.pods = index(pods, Pod::key);
        this.services = index(services, Service::key);
        this.endpointSlices = List.copyOf(endpointSlices);
        this.networkPolicies = List.copyOf(networkPolicies);
        this.egressFirewalls = List.copyOf(egressFirewalls);
        this.egressIps = List.copyOf(egressIps);
        for (final EndpointSlice s : this.endpointSlices)
        {
            if (s.serviceName() != null)
            {
                slicesByService.computeIfAbsent(s.namespace() + "/" + s.serviceName(), k -> new java.util.ArrayList<>()).add(s);
            }
        }
    }

    public static ClusterModel empty()
    {
        return new ClusterModel(List.of(), List.of(), List.of(), List.of(), List.of(), List.of(), List.of(), List.of());
    }

    private static <T> Map<String, T> index(final List<T> items, final Function<T, String> key)
    {
        final Map<String, T> m = new LinkedHashMap<>();
        for (final T t : items)
        {
            if (m.putIfAbsent(key.apply(t), t) != null)
            {
                throw new IllegalArgumentException("two objects named " + key.apply(t));
            }
        }
        return Collections.unmodifiableMap(m);
    }

    public List<Namespace> namespaces()
    {
        return List.copyOf(namespaces.values());
    }

    public Optional<Namespace> namespace(final String name)
    {
        return Optional.ofNullable(namespaces.get(name));
    }

    /**
     * A namespace's labels; a namespace the model has no object for still has the name label
     * the API server would give it, so selectors by name keep working on partial manifests.
     */
    public Map<String, String> namespaceLabels(final String name)
    {
        final Namespace ns = namespaces.get(name);
        return ns != null ? ns.labels() : Map.of(Namespace.NAME_LABEL, name);
    }

    public List<Node> nodes()
    {
        return List.copyOf(nodes.values());
    }

    public Optional<Node> node(final String name)
    {
        return Optional.ofNullable(nodes.get(name));
    }

    public List<Pod> pods()
    {
        return List.copyOf(pods.values());
    }

    /** Pods by namespace/name, without a copy: what a diff against the next model walks. */
    public Map<String, Pod> podsByKey()
    {
        return pods;
    }

    /** Services by namespace/name, without a copy. */
    public Map<String, Service> servicesByKey()
    {
        return services;
    }

    /** Nodes by name, without a copy. */
    public Map<String, Node> nodesByName()
    {
        return nodes;
    }

    /** Namespaces by name, without a copy. */
    public Map<String, Namespace> namespacesByName()
    {
        return namespaces;
    }

    /** EndpointSlices by their service's namespace/name, without a copy. */
    public Map<String, List<EndpointSlice>> endpointSlicesByService()
    {
        return Collections.unmodifiableMap(slicesByService);
    }

    public Optional<Pod> pod(final String namespace, final String name)
    {
        return Optional.ofNullable(pods.get(namespace + "/" + name));
    }

    public List<Pod> podsOn(final String node)
    {
        return pods.values().stream().filter(p -> node.equals(p.nodeName())).collect(Collectors.toUnmodifiableList());
    }

    public List<Service> services()
    {
        return List.copyOf(services.values());
    }

    public Optional<Service> service(final String namespace, final String name)
    {
        return Optional.ofNullable(services.get(namespace + "/" + name));
    }

    public List<EndpointSlice> endpointSlices()
    {
        return endpointSlices;
    }

    public List<EndpointSlice> endpointSlicesOf(final Service service)
    {
        return List.copyOf(slicesByService.getOrDefault(service.key(), List.of()));
    }

    public List<NetworkPolicy> networkPolicies()
    {
        return networkPolicies;
    }

    public List<EgressFirewall> egressFirewalls()
    {
        return egressFirewalls;
    }

    public List<EgressIp> egressIps()
    {
        return egressIps;
    }
}
