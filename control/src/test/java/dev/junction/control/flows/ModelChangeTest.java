package dev.junction.control.flows;

import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.EndpointSlice;
import dev.junction.control.k8s.NetworkPolicy;
import dev.junction.control.k8s.Pod;
import dev.junction.control.k8s.Service;
import dev.junction.control.scale.ClusterGenerator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The object-by-object diff against the obvious one (every key of both models, compared by
 * equals): pod, service, EndpointSlice and policy changes, and lists reordered, so the walk in
 * step and the look-ups after it both meet changes.
 */
class ModelChangeTest
{
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void diffEqualsEveryKeyCompared(final long seed)
    {
        ClusterModel model = new ClusterGenerator(5, 120, 40, 40, seed).model();
        final Random random = new Random(seed);
        for (int i = 0; i < 100; i++)
        {
            final ClusterModel next = random.nextBoolean() ? PodMutations.mutate(model, random, i) : other(model, random);
            final ModelChange c = ModelChange.between(model, next);
            final Set<String> pods = new TreeSet<>();
            for (final ModelChange.PodChange p : c.pods())
            {
                pods.add(p.key());
                assertEquals(model.podsByKey().get(p.key()), p.before());
                assertEquals(next.podsByKey().get(p.key()), p.after());
            }
            assertEquals(changed(model.podsByKey(), next.podsByKey()), pods, "step " + i + ": pods");
            final Set<String> services = changed(model.servicesByKey(), next.servicesByKey());
            services.addAll(changed(model.endpointSlicesByService(), next.endpointSlicesByService()));
            assertEquals(services, new TreeSet<>(c.services()), "step " + i + ": services");
            assertEquals(changed(byNamespace(model.networkPolicies()), byNamespace(next.networkPolicies())),
                new TreeSet<>(c.policyNamespaces()), "step " + i + ": policy namespaces");
            model = next;
        }
    }

    /** A service's slice loses an endpoint, a service or policy goes, or the lists are read in another order. */
    private static ClusterModel other(final ClusterModel m, final Random r)
    {
        final List<Service> services = new ArrayList<>(m.services());
        final List<EndpointSlice> slices = new ArrayList<>(m.endpointSlices());
        final List<NetworkPolicy> policies = new ArrayList<>(m.networkPolicies());
        switch (r.nextInt(4))
        {
            case 0 -> PodMutations.dropEndpoint(slices, r);
            case 1 ->
            {
                if (!services.isEmpty())
                {
                    services.remove(r.nextInt(services.size()));
                }
            }
            case 2 ->
            {
                if (!policies.isEmpty())
                {
                    policies.remove(r.nextInt(policies.size()));
                }
            }
            default ->
            {
                Collections.shuffle(services, r);
                Collections.shuffle(slices, r);
                Collections.shuffle(policies, r);
            }
        }
        final List<Pod> pods = m.pods();
        return new ClusterModel(m.namespaces(), m.nodes(), pods, services, slices, policies, m.egressFirewalls(), m.egressIps());
    }

    private static <T> Set<String> changed(final Map<String, T> a, final Map<String, T> b)
    {
        final Set<String> keys = new HashSet<>(a.keySet());
        keys.addAll(b.keySet());
        final Set<String> out = new TreeSet<>();
        for (final String k : keys)
        {
            if (!Objects.equals(a.get(k), b.get(k)))
            {
                out.add(k);
            }
        }
        return out;
    }

    /** In the order read: a namespace's policies in another order name its default-deny cookies otherwise. */
    private static Map<String, List<NetworkPolicy>> byNamespace(final List<NetworkPolicy> policies)
    {
        final Map<String, List<NetworkPolicy>> m = new HashMap<>();
        policies.forEach(p -> m.computeIfAbsent(p.namespace(), k -> new ArrayList<>()).add(p));
        return m;
    }
}
