package dev.junction.control.flows;

import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.NetworkPolicy;
import dev.junction.control.k8s.Pod;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What changed from one cluster model to the next, found object by object (the same object, or
 * an equal one, is no change), as an informer's events would name it: the pods added, removed
 * or changed, the services whose object or EndpointSlices changed, the namespaces whose
 * policies changed, and whether namespaces or nodes changed at all. Models keep the objects a
 * change did not touch, so the walk is mostly reference comparisons; nothing is compiled here.
 */
final class ModelChange
{
    /** One pod's change: {@code before} null when added, {@code after} null when removed. */
    record PodChange(String key, Pod before, Pod after)
    {
    }

    private final boolean namespaces;
    private final boolean nodes;
    private final List<PodChange> pods;
    private final Set<String> services;
    private final Set<String> policyNamespaces;

    private ModelChange(final boolean namespaces, final boolean nodes, final List<PodChange> pods, final Set<String> services,
        final Set<String> policyNamespaces)
    {
        this.namespaces = namespaces;
        this.nodes = nodes;
        this.pods = pods;
        this.services = services;
        this.policyNamespaces = policyNamespaces;
    }

    static ModelChange between(final ClusterModel before, final ClusterModel after)
    {
        final List<PodChange> pods = new ArrayList<>();
        diff(before.podsByKey(), after.podsByKey(), (k, a, b) -> pods.add(new PodChange(k, a, b)));
        // Sorted by key: the order a full layout hands out numbers in.
        pods.sort(Comparator.comparing(PodChange::key));
        final Set<String> services = new LinkedHashSet<>();
        diff(before.servicesByKey(), after.servicesByKey(), (k, a, b) -> services.add(k));
        diff(before.endpointSlicesByService(), after.endpointSlicesByService(), (k, a, b) -> services.add(k));
        final boolean nodes = isChanged(before.nodesByName(), after.nodesByName());
        final boolean namespaces = isChanged(before.namespacesByName(), after.namespacesByName());
        return new ModelChange(namespaces, nodes, pods, services, policyNamespaces(before.networkPolicies(),
            after.networkPolicies()));
    }

    /** Namespace labels changed: namespace selectors read them, so every ACL may change. */
    boolean namespaces()
    {
        return namespaces;
    }

    /** Nodes changed: subnets, addresses (node ports, the tunnel) may have. */
    boolean nodes()
    {
        return nodes;
    }

    /** Pods added, removed or changed, by namespace/name. */
    List<PodChange> pods()
    {
        return pods;
    }

    /** Keys of services added, removed or changed, or whose EndpointSlices changed. */
    Set<String> services()
    {
        return services;
    }

    /** Namespaces where a policy was added, removed or changed. */
    Set<String> policyNamespaces()
    {
        return policyNamespaces;
    }

    private interface Changed<T>
    {
        void on(String key, T before, T after);
    }

    /** Calls {@code changed} for each key whose value was added, removed or is no longer equal. */
    private static <T> void diff(final Map<String, T> before, final Map<String, T> after, final Changed<T> changed)
    {
        if (before == after)
        {
            return;
        }
        // Models keep objects in the order they were read: walk both in step while the keys
        // agree (no hashing), then look up the rest, where the orders part.
        final Iterator<Map.Entry<String, T>> was = before.entrySet().iterator();
        final Iterator<Map.Entry<String, T>> now = after.entrySet().iterator();
        Map.Entry<String, T> x = null;
        Map.Entry<String, T> y = null;
        while (was.hasNext() && now.hasNext())
        {
            x = was.next();
            y = now.next();
            if (!x.getKey().equals(y.getKey()))
            {
                break;
            }
            if (!same(x.getValue(), y.getValue()))
            {
                changed.on(y.getKey(), x.getValue(), y.getValue());
            }
            x = null;
            y = null;
        }
        // Keys walked in step are in both maps, so a key left on one side is, on the other, left too or nowhere.
        for (Map.Entry<String, T> e = y != null ? y : next(now); e != null; e = next(now))
        {
            final T old = before.get(e.getKey());
            if (!same(old, e.getValue()))
            {
                changed.on(e.getKey(), old, e.getValue());
            }
        }
        for (Map.Entry<String, T> e = x != null ? x : next(was); e != null; e = next(was))
        {
            if (!after.containsKey(e.getKey()))
            {
                changed.on(e.getKey(), e.getValue(), null);
            }
        }
    }

    private static <E> E next(final Iterator<E> i)
    {
        return i.hasNext() ? i.next() : null;
    }

    private static <T> boolean isChanged(final Map<String, T> before, final Map<String, T> after)
    {
        final boolean[] changed = {false};
        diff(before, after, (k, a, b) -> changed[0] = true);
        return changed[0];
    }

    /** Equal, looking at references first: lists of slices element by element. */
    private static boolean same(final Object a, final Object b)
    {
        if (a == b)
        {
            return true;
        }
        if (a instanceof List<?> x && b instanceof List<?> y && x.size() == y.size())
        {
            for (int i = 0; i < x.size(); i++)
            {
                if (x.get(i) != y.get(i) && !Objects.equals(x.get(i), y.get(i)))
                {
                    return false;
                }
            }
            return true;
        }
        return Objects.equals(a, b);
    }

    private static Set<String> policyNamespaces(final List<NetworkPolicy> before, final List<NetworkPolicy> after)
    {
        final Set<String> out = new HashSet<>();
        if (same(before, after))
        {
            return out;
        }
        final Map<String, List<NetworkPolicy>> was = AclFlows.byNamespace(before);
        final Map<String, List<NetworkPolicy>> now = AclFlows.byNamespace(after);
        diff(was, now, (k, a, b) -> out.add(k));
        return out;
    }
}
