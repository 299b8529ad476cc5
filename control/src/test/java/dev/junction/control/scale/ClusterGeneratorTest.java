package dev.junction.control.scale;

import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.EndpointSlice;
import dev.junction.control.k8s.ManifestLoader;
import dev.junction.control.k8s.Node;
import dev.junction.control.k8s.Pod;
import dev.junction.control.k8s.Service;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

final class ClusterGeneratorTest
{
    private static final int NODES = 12;
    private static final int PODS = 400;
    private static final int SERVICES = 60;
    private static final int POLICIES = 70;

    @Test
    void hasTheRequestedCountsAndPodsLiveInTheirNodesSubnet()
    {
        final ClusterModel m = new ClusterGenerator(NODES, PODS, SERVICES, POLICIES, 7).model();
        assertEquals(NODES, m.nodes().size());
        assertEquals(PODS, m.pods().size());
        assertEquals(SERVICES, m.services().size());
        assertEquals(SERVICES, m.endpointSlices().size());
        assertEquals(POLICIES, m.networkPolicies().size());
        assertEquals(PODS / ClusterGenerator.PODS_PER_NAMESPACE, m.namespaces().size());
        final Set<Object> ips = new HashSet<>();
        for (final Pod p : m.pods())
        {
            final Node n = m.node(p.nodeName()).orElseThrow();
            assertTrue(n.subnets().get(0).contains(p.ips().get(0)), p.key() + " outside " + n.subnets());
            assertTrue(ips.add(p.ips().get(0)), "two pods with " + p.ips().get(0));
        }
        for (final Service s : m.services())
        {
            final long selected = m.pods().stream()
                .filter(p -> p.namespace().equals(s.namespace()) && p.labels().get("app").equals(s.selector().get("app"))).count();
            final EndpointSlice slice = m.endpointSlicesOf(s).get(0);
            assertEquals(selected, slice.endpoints().size(), s.key());
        }
        assertTrue(m.services().stream().anyMatch(s -> s.type().equals("NodePort")) || SERVICES < 50);
    }

    @Test
    void nodePortsAreUniqueAtFullScale()
    {
        final ClusterModel m = new ClusterGenerator().model();
        final Set<Integer> nodePorts = new HashSet<>();
        m.services().stream().flatMap(s -> s.ports().stream()).filter(p -> p.nodePort() > 0)
            .forEach(p -> assertTrue(nodePorts.add(p.nodePort()), "node port " + p.nodePort() + " twice"));
        assertTrue(nodePorts.size() > 100, "node ports: " + nodePorts.size());
        assertEquals(ClusterGenerator.DEFAULT_PODS, m.pods().size());
    }

    @Test
    void sameSeedSameModel()
    {
        final ClusterModel a = new ClusterGenerator(NODES, PODS, SERVICES, POLICIES, 3).model();
        final ClusterModel b = new ClusterGenerator(NODES, PODS, SERVICES, POLICIES, 3).model();
        assertEquals(a.pods(), b.pods());
        assertEquals(a.services(), b.services());
        assertEquals(a.networkPolicies(), b.networkPolicies());
    }

    @Test
    void manifestsLoadBackIntoTheSameModel(@TempDir final Path dir) throws Exception
    {
        final ClusterGenerator g = new ClusterGenerator(NODES, PODS, SERVICES, POLICIES, 7);
        g.writeManifests(dir);
        final ManifestLoader.Result r = ManifestLoader.load(dir);
        assertTrue(r.report().isClean(), r.report().problems().toString());
        assertTrue(r.report().notes().isEmpty(), r.report().notes().toString());
        final ClusterModel m = g.model();
        final ClusterModel loaded = r.model();
        assertEquals(m.namespaces(), loaded.namespaces());
        assertEquals(m.nodes(), loaded.nodes());
        assertEquals(m.pods(), loaded.pods());
        assertEquals(m.services(), loaded.services());
        assertEquals(m.endpointSlices(), loaded.endpointSlices());
        assertEquals(m.networkPolicies(), loaded.networkPolicies());
    }

    @Test
    void compilesForOneNode()
    {
        final ClusterModel m = new ClusterGenerator(NODES, PODS, SERVICES, POLICIES, 7).model();
        final FlowCompiler.Compiled c = FlowCompiler.node(m, ClusterGenerator.nodeName(0));
        assertEquals(m.pods().stream().filter(p -> p.nodeName().equals(ClusterGenerator.nodeName(0))).count(), c.layout().ports().size());
        assertTrue(c.flows().size() > 1000, "flows: " + c.flows().size());
        assertTrue(c.flows().lines().stream().anyMatch(l -> l.contains("tp_dst=5432")), "a named port resolved in an ACL");
        assertTrue(!c.groups().isEmpty());
    }
}
