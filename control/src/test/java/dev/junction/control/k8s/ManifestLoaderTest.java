package dev.junction.control.k8s;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ManifestLoaderTest
{
    static Path repo()
    {
        Path p = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(p.resolve("examples")))
        {
            p = p.getParent();
        }
        return p;
    }

    @Test
    void exampleClusterLoadsClean()
    {
        final ManifestLoader.Result r = ManifestLoader.load(repo().resolve("examples/cluster"));
        assertEquals(List.of(), r.report().problems());
        final ClusterModel m = r.model();
        assertEquals(List.of("web", "db", "ops"), m.namespaces().stream().map(Namespace::name).collect(Collectors.toList()));
        assertEquals("db", m.namespaceLabels("db").get(Namespace.NAME_LABEL));
        assertEquals("{\"deny\": \"alert\", \"allow\": \"notice\"}", m.namespace("web").orElseThrow().aclLogging().orElseThrow());

        final Node w = m.node("ovn-worker").orElseThrow();
        assertEquals(List.of(Cidr.parse("10.244.1.0/24")), w.subnets());
        assertEquals(List.of(Ip.parse("172.18.0.2")), w.internalIps());

        final Pod server = m.pod("db", "server-1").orElseThrow();
        assertEquals(List.of(new ContainerPort("http", 8080, Protocol.TCP), new ContainerPort("metrics", 9090, Protocol.TCP)),
            server.ports());
        assertEquals("ovn-worker", server.nodeName());
        assertEquals(2, m.podsOn("ovn-worker").size());

        final Service svc = m.service("db", "server").orElseThrow();
        assertTrue(svc.hasClientIpAffinity());
        assertEquals(600, svc.affinityTimeoutSeconds());
        assertEquals(PortRef.named("http"), svc.ports().get(0).targetPort());
        assertEquals(List.of(Ip.parse("10.96.10.10")), svc.clusterIps());
        assertNull(svc.externalTrafficPolicy(), "a ClusterIP service has no external traffic policy");
        final Service fe = m.service("web", "frontend").orElseThrow();
        assertEquals(30080, fe.ports().get(0).nodePort());
        assertEquals("Local", fe.externalTrafficPolicy());
        assertEquals(PortRef.number(8080), fe.ports().get(0).targetPort());

        final List<EndpointSlice> slices = m.endpointSlicesOf(svc);
        assertEquals(1, slices.size());
        assertEquals(2, slices.get(0).endpoints().size());
        assertEquals(new EndpointSlice.ObjectRef("Pod", "db", "server-1"), slices.get(0).endpoints().get(0).targetRef());

        assertEquals(3, m.networkPolicies().size());
        final NetworkPolicy egress = m.networkPolicies().get(2);
        assertEquals("web/client-egress", egress.key());
        assertEquals(java.util.Set.of(NetworkPolicy.Type.Ingress, NetworkPolicy.Type.Egress), egress.policyTypes(),
            "defaulted: Ingress always, Egress because there are egress rules");
        assertEquals(List.of(Cidr.parse("172.18.0.0/16")), egress.egress().get(1).peers().get(0).ipBlock().except());

        final EgressFirewall fw = m.egressFirewalls().get(0);
        assertEquals(3, fw.rules().size());
        assertEquals(EgressFirewall.Action.Deny, fw.rules().get(2).action());
        assertEquals(new EgressIp.Assignment("ovn-worker", Ip.parse("172.18.0.100")), m.egressIps().get(0).assignments().get(0));
    }

    @Test
    void badObjectsAreReportedAndSkippedAlone()
    {
        final ManifestLoader.Result r = ManifestLoader.load(Path.of("src/test/resources/manifests/broken"));
        final List<LoadReport.Problem> problems = r.report().problems();
        problems.forEach(System.out::println);

        expect(problems, "b-bad-objects.yaml", "Pod", "x", "bad-ip", "status.podIP: 10.244.1.300: not an IPv4 or IPv6 address");
        expect(problems, "b-bad-objects.yaml", "NetworkPolicy", "x", "bad-operator", "unknown operator 'Among'");
        expect(problems, "b-bad-objects.yaml", "NetworkPolicy", "x", "named-end-port", "spec.ingress[0].ports[0].endPort needs a numeric port");
        expect(problems, "b-bad-objects.yaml", "NetworkPolicy", "x", "except-outside", "must be a strict subset");
        expect(problems, "b-bad-objects.yaml", "NetworkPolicy", "x", "empty-peer", "a peer needs");
        expect(problems, "b-bad-objects.yaml", "Service", "x", "bad-protocol", "unsupported protocol 'tcp'");
        expect(problems, "b-bad-objects.yaml", "Namespace", null, "bool-label", "metadata.labels.enabled: expected a string value");
        expect(problems, "b-bad-objects.yaml", "Pod", "x", null, "metadata.name is required");
        expect(problems, "b-bad-objects.yaml", null, null, null, "document 10: not an object but a list");
        expect(problems, "b-bad-objects.yaml", "Pod", "x", "a", "a second Pod x/a (the first, from a-good.yaml, is kept)");
        expect(problems, "b-bad-objects.yaml", "EgressFirewall", "x", "not-default", "must be named 'default'");
        expect(problems, "b-bad-objects.yaml", "Node", null, "bad-subnets", "not a CIDR");
        expect(problems, "c-list.yaml", "Service", "x", "two-unnamed", "required when a service has more than one port");
        expect(problems, "d-invalid.yaml", null, null, null, "document 2: not valid YAML, the rest of the file is skipped");
        expect(problems, "e-duplicate-key.yaml", null, null, null, "document 1: not valid YAML");
        assertEquals(15, problems.size(), "no problem beyond those expected");

        final ClusterModel m = r.model();
        assertEquals(List.of("x/a", "x/b", "x/c"), m.pods().stream().map(Pod::key).collect(Collectors.toList()),
            "good pods load around the bad ones; the duplicate did not replace the first");
        assertEquals(Map.of("pod", "a"), m.pod("x", "a").orElseThrow().labels());
        assertEquals(List.of(Ip.parse("10.244.1.3"), Ip.parse("fd00:10:244:1::3")), m.pod("x", "a").orElseThrow().ips());
        assertEquals(List.of("x", "before-the-break"), m.namespaces().stream().map(Namespace::name).collect(Collectors.toList()));
        assertTrue(r.report().notes().stream().anyMatch(n -> n.contains("Deployment (apps/v1) ignored")), r.report().notes().toString());
        assertFalse(r.report().notes().stream().anyMatch(n -> n.contains("README")), "only .yaml/.yml/.json files are read");
    }

    @Test
    void aPodOnItsNodesManagementAddressIsABadObject(@TempDir final Path dir) throws IOException
    {
        final String next = dev.junction.control.ShopCluster.NEXT;
        Files.writeString(dir.resolve("shop.yaml"), dev.junction.control.ShopCluster.nodeAndNamespace() + next
            + dev.junction.control.ShopCluster.pod("squatter", "10.244.1.2", "web") + next
            + dev.junction.control.ShopCluster.pod("web", "10.244.1.3", "web"));
        final ManifestLoader.Result r = ManifestLoader.load(dir);
        assertEquals(1, r.report().problems().size(), r.report().problems().toString());
        expect(r.report().problems(), "shop.yaml", "Pod", "shop", "squatter",
            "holds 10.244.1.2, the management port address (.2) of node n1's subnet 10.244.1.0/24");
        assertEquals(List.of("shop/web"), r.model().pods().stream().map(Pod::key).collect(Collectors.toList()), "skipped");
        // The host keeps its address: its port answers ARP for .2, no pod port has it.
        final dev.junction.control.flows.BridgeLayout layout = dev.junction.control.flows.FlowCompiler.cluster(r.model()).layout();
        assertEquals(List.of(Ip.parse("10.244.1.2")), layout.managementPorts().get(0).ips());
        assertTrue(layout.portOf(Ip.parse("10.244.1.2")).isEmpty());
        assertEquals(3, r.report().objects(), "node, namespace, the good pod");
    }

    @Test
    void unreadableInputIsAProblemNotAnException(@TempDir final Path dir) throws IOException
    {
        Files.write(dir.resolve("binary.yaml"), new byte[] {(byte)0xff, (byte)0xfe, 0, 1, 2, (byte)0xc3});
        Files.writeString(dir.resolve("ok.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: fine}\n");
        final ManifestLoader.Result r = ManifestLoader.load(dir);
        assertEquals(1, r.report().problems().size(), r.report().problems().toString());
        assertEquals("binary.yaml", r.report().problems().get(0).file());
        assertEquals(1, r.model().namespaces().size());

        final ManifestLoader.Result missing = ManifestLoader.load(dir.resolve("nope"));
        assertEquals(1, missing.report().problems().size());
        assertTrue(missing.model().pods().isEmpty());
    }

    @Test
    void parsedObjectsAreCheckedAsFilesAre() throws IOException
    {
        // The same documents, once as a file and once already parsed (as a live source hands them over).
        final Path file = Path.of("src/test/resources/manifests/broken/b-bad-objects.yaml");
        final List<Map<String, ?>> objects = new ArrayList<>();
        final List<Object> lists = new ArrayList<>();
        try (java.io.Reader in = Files.newBufferedReader(file))
        {
            for (final Object doc : dev.junction.control.yaml.SafeYaml.yaml().loadAll(in))
            {
                if (doc instanceof Map)
                {
                    @SuppressWarnings("unchecked")
                    final Map<String, ?> m = (Map<String, ?>)doc;
                    objects.add(m);
                }
                else if (doc != null)
                {
                    lists.add(doc);
                }
            }
        }
        final ManifestLoader.Result fromFile = ManifestLoader.load(file);
        final ManifestLoader.Result parsed = ManifestLoader.fromObjects(objects, "test");
        assertEquals(1, lists.size(), "the file's one document that is not an object is left out here");
        assertEquals(fromFile.report().problems().size() - 1, parsed.report().problems().size());
        for (final LoadReport.Problem p : parsed.report().problems())
        {
            assertEquals("test", p.file());
            assertTrue(fromFile.report().problems().contains(new LoadReport.Problem("b-bad-objects.yaml", p.kind(),
                p.namespace(), p.name(), p.reason())), p.toString());
        }
        assertEquals(fromFile.report().objects(), parsed.report().objects());
        assertEquals(fromFile.model().pods(), parsed.model().pods());
        assertEquals(fromFile.model().namespaces(), parsed.model().namespaces());

        // What only an in-memory caller can hand over: a map that holds itself, a null, a list.
        final Map<String, Object> loop = new java.util.HashMap<>();
        loop.put("self", loop);
        final List<Map<String, ?>> odd = new ArrayList<>();
        odd.add(loop);
        odd.add(null);
        odd.add(Map.of("apiVersion", "v1", "kind", "Namespace", "metadata", Map.of("name", "fine")));
        final ManifestLoader.Result r = ManifestLoader.fromObjects(odd, "mem");
        assertEquals(2, r.report().problems().size(), r.report().problems().toString());
        assertTrue(r.report().problems().get(0).reason().startsWith("object 0: "), r.report().problems().toString());
        assertEquals("object 1: not an object but nothing", r.report().problems().get(1).reason());
        assertEquals(List.of("fine"), r.model().namespaces().stream().map(Namespace::name).collect(Collectors.toList()));
    }

    private static void expect(final List<LoadReport.Problem> problems, final String file, final String kind, final String ns,
        final String name, final String reason)
    {
        assertTrue(problems.stream().anyMatch(p -> p.file().equals(file) && java.util.Objects.equals(p.kind(), kind)
            && java.util.Objects.equals(p.namespace(), ns) && java.util.Objects.equals(p.name(), name)
            && p.reason().contains(reason)), "expected " + file + " " + kind + " " + ns + "/" + name + ": " + reason
            + "\nbut got:\n" + problems.stream().map(Object::toString).collect(Collectors.joining("\n")));
    }
}
