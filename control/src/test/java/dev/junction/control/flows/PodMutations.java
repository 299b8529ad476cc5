package dev.junction.control.flows;

import dev.junction.control.k8s.Cidr;
import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.ContainerPort;
import dev.junction.control.k8s.EndpointSlice;
import dev.junction.control.k8s.Pod;
import dev.junction.control.k8s.Protocol;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One seeded change to a model's pods, of the kinds an informer reports: added (with an
 * address in its node's /24, without one, on a node no pod was on), removed, relabelled, moved,
 * completed, readdressed, a named port appearing or going, or the same pods listed in another
 * order. Every other object of the model is kept as it was.
 */
final class PodMutations
{
    private PodMutations()
    {
    }

    static ClusterModel mutate(final ClusterModel m, final Random r, final int step)
    {
        final List<Pod> pods = new ArrayList<>(m.pods());
        final Pod p = pods.get(r.nextInt(pods.size()));
        final int i = pods.indexOf(p);
        final Pod other = pods.get(r.nextInt(pods.size()));
        switch (r.nextInt(10))
        {
            case 0 -> pods.remove(p);
            case 1 -> pods.add(copy(p, "add-" + step, p.labels(), p.nodeName(), List.of(near(p, step)), p.phase(), p.ports()));
            case 2 -> pods.add(copy(p, "noip-" + step, p.labels(), p.nodeName(), List.of(), p.phase(), p.ports()));
            case 3 ->
            {
                final Map<String, String> labels = new HashMap<>(p.labels());
                labels.put("pod", labels.getOrDefault("pod", "a").equals("a") ? "b" : "a");
                pods.set(i, copy(p, p.name(), labels, p.nodeName(), p.ips(), p.phase(), p.ports()));
            }
            case 4 -> pods.set(i, copy(p, p.name(), p.labels(), other.nodeName(), p.ips(), p.phase(), p.ports()));
            case 5 -> pods.set(i, copy(p, p.name(), p.labels(), p.nodeName(), p.ips(), "Succeeded", p.ports()));
            case 6 -> pods.set(i, copy(p, p.name(), p.labels(), p.nodeName(), p.ips().isEmpty() ? p.ips() : List.of(near(p, step)),
                p.phase(), p.ports()));
            case 7 ->
            {
                // A named port appears (the other pod's, or one the policies name) or the pod loses its ports.
                final List<ContainerPort> ports = p.ports().isEmpty()
                    ? (other.ports().isEmpty() ? List.of(new ContainerPort("serve-80-tcp", 80, Protocol.TCP)) : other.ports())
                    : List.of();
                pods.set(i, copy(p, p.name(), p.labels(), p.nodeName(), p.ips(), p.phase(), ports));
            }
            case 8 -> pods.add(copy(p, "far-" + step, p.labels(), "node-far-" + step % 3,
                List.of(near(p, step)), p.phase(), p.ports()));
            default -> Collections.shuffle(pods, r);
        }
        return new ClusterModel(m.namespaces(), m.nodes(), pods, m.services(), m.endpointSlices(), m.networkPolicies(),
            m.egressFirewalls(), m.egressIps());
    }

    /** One slice loses one endpoint (a pod no longer ready, as its service sees it). */
    static void dropEndpoint(final List<EndpointSlice> slices, final Random r)
    {
        if (slices.isEmpty())
        {
            return;
        }
        final int i = r.nextInt(slices.size());
        final EndpointSlice s = slices.get(i);
        final List<EndpointSlice.Endpoint> eps = new ArrayList<>(s.endpoints());
        if (!eps.isEmpty())
        {
            eps.remove(r.nextInt(eps.size()));
        }
        slices.set(i, new EndpointSlice(s.namespace(), s.name(), s.serviceName(), s.addressType(), eps, s.ports()));
    }

    private static Pod copy(final Pod p, final String name, final Map<String, String> labels, final String node,
        final List<InetAddress> ips, final String phase, final List<ContainerPort> ports)
    {
        return new Pod(p.namespace(), name, labels, node, ips, false, phase, ports);
    }

    /** An address in the /24 of the pod's first IPv4 address (10.250.0.0/24 without one), above the usual hosts. */
    private static InetAddress near(final Pod p, final int step)
    {
        final InetAddress base = p.ips().stream().filter(ip -> ip.getAddress().length == 4).findFirst()
            .orElse(dev.junction.control.k8s.Ip.parse("10.250.0.1"));
        return Cidr.of(base, 24).host(180 + step % 70);
    }
}
