package dev.junction.control.k8s.live;

import dev.junction.control.k8s.Cidr;
import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.EgressFirewall;
import dev.junction.control.k8s.EgressIp;
import dev.junction.control.k8s.EndpointSlice;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.LoadReport;
import dev.junction.control.k8s.ManifestLoader;
import dev.junction.control.k8s.NetworkPolicy;
import dev.junction.control.k8s.Pod;
import dev.junction.control.k8s.Service;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link ApiServerSource} against fabric8's mock API server in CRUD mode: objects created,
 * changed and deleted through the API reach the snapshots, bad objects are reported by name,
 * and the OVN-K kinds work when their CRDs are served and are reported when they are not.
 * Every wait is a bounded poll on {@link ApiServerSource#snapshot()}.
 */
class LiveSourceTest
{
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration DEBOUNCE = Duration.ofMillis(50);
    private static final long POLL_NANOS = 1_000_000;

    private KubernetesMockServer server;
    private KubernetesClient client;
    private ApiServerSource source;
    private final List<ManifestLoader.Result> delivered = new CopyOnWriteArrayList<>();

    @AfterEach
    void tearDown()
    {
        try
        {
            if (source != null)
            {
                source.close();
            }
            if (client != null)
            {
                client.close();
            }
        }
        finally
        {
            if (server != null)
            {
                server.destroy();
            }
        }
    }

    /** A CRUD mock API server; with {@code ovnCrds}, serving EgressFirewall and EgressIP as their CRDs define them. */
    private void serve(final boolean ovnCrds)
    {
        final List<CustomResourceDefinitionContext> crds = !ovnCrds ? List.of() : List.of(
            new CustomResourceDefinitionContext.Builder().withGroup("k8s.ovn.org").withVersion("v1")
                .withKind("EgressFirewall").withPlural("egressfirewalls").withScope("Namespaced").build(),
            new CustomResourceDefinitionContext.Builder().withGroup("k8s.ovn.org").withVersion("v1")
                .withKind("EgressIP").withPlural("egressips").withScope("Cluster").build());
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
            new KubernetesCrudDispatcher(crds), false);
        server.init();
        client = server.createClient();
    }

    private void startSource()
    {
        source = ApiServerSource.start(client, DEBOUNCE, delivered::add);
    }

    /** Creates every object in a YAML text (multi-document, Lists too) through the API. */
    private void create(final String yaml)
    {
        create(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)));
    }

    private void create(final InputStream in)
    {
        for (final HasMetadata o : client.load(in).items())
        {
            client.resource(o).create();
        }
    }

    /** The first snapshot, within {@link #WAIT}, that {@code until} accepts; fails with the last one seen. */
    private ManifestLoader.Result await(final Predicate<ManifestLoader.Result> until)
    {
        final long deadline = System.nanoTime() + WAIT.toNanos();
        ManifestLoader.Result r = source.snapshot();
        while (!until.test(r))
        {
            if (System.nanoTime() > deadline)
            {
                fail("no snapshot as expected within " + WAIT + "; the last: " + r.model().pods() + " "
                    + r.report().problems() + " " + r.report().notes());
            }
            LockSupport.parkNanos(POLL_NANOS);
            r = source.snapshot();
        }
        return r;
    }

    /** Waits, within {@link #WAIT}, for what the listener thread does; fails saying what did not happen. */
    private static void awaitTrue(final java.util.function.BooleanSupplier condition, final String what)
    {
        final long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                fail("not within " + WAIT + ": " + what);
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
    }

    private static final String NAMESPACE_AND_NODE = String.join("\n",
        "apiVersion: v1",
        "kind: Namespace",
        "metadata: {name: web, labels: {tier: web}}",
        "---",
        "apiVersion: v1",
        "kind: Node",
        "metadata:",
        "  name: ovn-worker",
        "  annotations: {k8s.ovn.org/node-subnets: '{\"default\":\"10.244.1.0/24\"}'}",
        "status:",
        "  addresses: [{type: InternalIP, address: 172.18.0.2}]",
        "");

    private static String pod(final String name, final String app, final String ip)
    {
        return String.join("\n",
            "apiVersion: v1",
            "kind: Pod",
            "metadata: {name: " + name + ", namespace: web, labels: {app: " + app + "}}",
            "spec:",
            "  nodeName: ovn-worker",
            "  containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 8080}]}]",
            "status: {phase: Running, podIP: '" + ip + "', podIPs: [{ip: '" + ip + "'}]}",
            "");
    }

    private static final String SERVICE_AND_SLICE = String.join("\n",
        "apiVersion: v1",
        "kind: Service",
        "metadata: {name: web, namespace: web}",
        "spec:",
        "  clusterIP: 10.96.0.10",
        "  clusterIPs: [10.96.0.10]",
        "  selector: {app: server}",
        "  sessionAffinity: ClientIP",
        "  sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}",
        "  ports: [{name: http, port: 80, targetPort: http, protocol: TCP}]",
        "---",
        "apiVersion: discovery.k8s.io/v1",
        "kind: EndpointSlice",
        "metadata: {name: web-abcde, namespace: web, labels: {kubernetes.io/service-name: web}}",
        "addressType: IPv4",
        "endpoints:",
        "- addresses: [10.244.1.5]",
        "  conditions: {ready: true}",
        "  nodeName: ovn-worker",
        "  targetRef: {kind: Pod, namespace: web, name: server-1}",
        "ports: [{name: http, port: 8080, protocol: TCP}]",
        "");

    private static final String POLICY = String.join("\n",
        "apiVersion: networking.k8s.io/v1",
        "kind: NetworkPolicy",
        "metadata: {name: server-ingress, namespace: web}",
        "spec:",
        "  podSelector: {matchLabels: {app: server}}",
        "  ingress:",
        "  - from: [{namespaceSelector: {}}]",
        "    ports: [{port: http}]",
        "");

    @Test
    void objectsCreatedThroughTheApiAppearInTheSnapshot()
    {
        serve(false);
        create(NAMESPACE_AND_NODE);
        create(pod("server-1", "server", "10.244.1.5"));
        startSource();
        final ManifestLoader.Result first = source.snapshot();
        assertEquals(List.of(), first.report().problems());
        assertEquals(Map.of("tier", "web", "kubernetes.io/metadata.name", "web"),
            first.model().namespace("web").orElseThrow().labels());
        assertEquals(List.of(Cidr.parse("10.244.1.0/24")), first.model().node("ovn-worker").orElseThrow().subnets());
        assertEquals(List.of(Ip.parse("172.18.0.2")), first.model().node("ovn-worker").orElseThrow().internalIps());
        awaitTrue(() -> !delivered.isEmpty(), "the listener gets the first snapshot");
        assertTrue(first == delivered.get(0), "the listener gets the first snapshot, the one start() built");

        create(pod("client-1", "client", "10.244.1.6"));
        create(SERVICE_AND_SLICE);
        create(POLICY);
        final ManifestLoader.Result r = await(s -> s.model().networkPolicies().size() == 1
            && s.model().endpointSlices().size() == 1 && s.model().pods().size() == 2);
        final ClusterModel m = r.model();
        assertEquals(List.of(), r.report().problems());

        final Pod server = m.pod("web", "server-1").orElseThrow();
        assertEquals(List.of(Ip.parse("10.244.1.5")), server.ips());
        assertEquals("ovn-worker", server.nodeName());
        assertEquals(Map.of("app", "server"), server.labels());
        assertEquals(8080, server.ports().get(0).port());
        assertEquals(List.of(Ip.parse("10.244.1.6")), m.pod("web", "client-1").orElseThrow().ips());
        assertEquals(2, m.podsOn("ovn-worker").size());

        final Service svc = m.service("web", "web").orElseThrow();
        assertEquals(List.of(Ip.parse("10.96.0.10")), svc.clusterIps());
        assertTrue(svc.hasClientIpAffinity());
        assertEquals(600, svc.affinityTimeoutSeconds());
        assertEquals("http", svc.ports().get(0).targetPort().name(), "a named targetPort survives fabric8's IntOrString");
        final List<EndpointSlice> slices = m.endpointSlicesOf(svc);
        assertEquals(1, slices.size());
        assertEquals(List.of(Ip.parse("10.244.1.5")), slices.get(0).endpoints().get(0).addresses());
        assertEquals(new EndpointSlice.ObjectRef("Pod", "web", "server-1"), slices.get(0).endpoints().get(0).targetRef());

        final NetworkPolicy p = m.networkPolicies().get(0);
        assertEquals("web/server-ingress", p.key());
        final NetworkPolicy.Peer peer = p.ingress().get(0).peers().get(0);
        assertNull(peer.podSelector(), "an absent podSelector stays absent through the typed model");
        assertNotNull(peer.namespaceSelector(), "an empty namespaceSelector ({}: all namespaces) stays present");
        assertTrue(peer.namespaceSelector().matchLabels().isEmpty());
        assertEquals("http", p.ingress().get(0).ports().get(0).port().name());

        assertEquals(0, source.listenerFailures());
        awaitTrue(() -> delivered.get(delivered.size() - 1) == r, "the listener gets the snapshot too");
    }

    @Test
    void changesReachTheNextSnapshot()
    {
        serve(false);
        create(NAMESPACE_AND_NODE);
        create(pod("server-1", "server", "10.244.1.5"));
        create(pod("client-1", "client", "10.244.1.6"));
        create(POLICY);
        startSource();
        assertEquals(2, source.snapshot().model().pods().size());
        assertEquals(1, source.snapshot().model().networkPolicies().size());

        client.pods().inNamespace("web").withName("client-1").edit(p ->
        {
            p.getMetadata().getLabels().put("app", "admin");
            return p;
        });
        ManifestLoader.Result r = await(s -> s.model().pod("web", "client-1").map(p -> p.labels().get("app"))
            .orElse("").equals("admin"));
        assertEquals(Map.of("app", "admin"), r.model().pod("web", "client-1").orElseThrow().labels());

        client.pods().inNamespace("web").withName("server-1").delete();
        r = await(s -> s.model().pod("web", "server-1").isEmpty());
        assertEquals(List.of("web/client-1"), r.model().pods().stream().map(Pod::key).collect(Collectors.toList()));

        client.network().v1().networkPolicies().inNamespace("web").withName("server-ingress").delete();
        r = await(s -> s.model().networkPolicies().isEmpty());
        assertEquals(1, r.model().pods().size(), "the rest is still there");
        assertEquals(1, r.model().nodes().size());
    }

    @Test
    void aBadObjectIsReportedByNameAndTheRestKeepsWorking()
    {
        serve(false);
        create(NAMESPACE_AND_NODE);
        create(pod("server-1", "server", "10.244.1.5"));
        create(SERVICE_AND_SLICE);
        startSource();
        assertTrue(source.snapshot().report().isClean());

        create(pod("broken-1", "server", "10.244.1.300"));
        create(SERVICE_AND_SLICE.replace("name: web, namespace: web}", "name: sticky, namespace: web}")
            .replace("timeoutSeconds: 600", "timeoutSeconds: 0")
            .replace("name: web-abcde", "name: sticky-abcde"));
        create(pod("client-1", "client", "10.244.1.6"));
        final ManifestLoader.Result r = await(s -> s.report().problems().size() == 2 && s.model().pods().size() == 2);

        final LoadReport.Problem pod = problem(r, "Pod", "broken-1");
        assertEquals(ApiServerSource.SOURCE_NAME, pod.file());
        assertEquals("web", pod.namespace());
        assertTrue(pod.reason().startsWith("status.podIP"), pod.reason());
        final LoadReport.Problem svc = problem(r, "Service", "sticky");
        assertEquals("spec.sessionAffinityConfig.clientIP.timeoutSeconds: 0 out of range 1-86400", svc.reason());

        assertTrue(r.model().service("web", "sticky").isEmpty());
        assertTrue(r.model().pod("web", "broken-1").isEmpty());
        assertEquals(List.of("web/client-1", "web/server-1"), r.model().pods().stream().map(Pod::key).collect(Collectors.toList()));
        assertTrue(r.model().service("web", "web").isPresent());
        assertEquals(2, r.model().endpointSlices().size(), "the slice of the bad service is fine by itself");

        // Fixing the object through the API clears the problem.
        client.pods().inNamespace("web").withName("broken-1").delete();
        final ManifestLoader.Result fixed = await(s -> s.report().problems().size() == 1);
        assertEquals("Service", fixed.report().problems().get(0).kind());
    }

    private static LoadReport.Problem problem(final ManifestLoader.Result r, final String kind, final String name)
    {
        return r.report().problems().stream().filter(p -> kind.equals(p.kind()) && name.equals(p.name())).findFirst()
            .orElseThrow(() -> new AssertionError("no problem with " + kind + " " + name + " in " + r.report().problems()));
    }

    @Test
    void ovnKindsReachTheModelWhenTheirCrdsAreServed()
    {
        serve(true);
        create(NAMESPACE_AND_NODE);
        startSource();
        assertEquals(List.of(), source.unwatched());
        assertTrue(source.snapshot().model().egressFirewalls().isEmpty());

        create(String.join("\n",
            "apiVersion: k8s.ovn.org/v1",
            "kind: EgressFirewall",
            "metadata: {name: default, namespace: web}",
            "spec:",
            "  egress:",
            "  - {type: Allow, to: {cidrSelector: 8.8.8.8/32}, ports: [{protocol: UDP, port: 53}]}",
            "  - {type: Deny, to: {cidrSelector: 0.0.0.0/0}}",
            "---",
            "apiVersion: k8s.ovn.org/v1",
            "kind: EgressIP",
            "metadata: {name: web-egress}",
            "spec:",
            "  egressIPs: [172.18.0.100]",
            "  namespaceSelector: {matchLabels: {tier: web}}",
            "status:",
            "  items: [{node: ovn-worker, egressIP: 172.18.0.100}]",
            ""));
        final ManifestLoader.Result r = await(s -> s.model().egressFirewalls().size() == 1 && s.model().egressIps().size() == 1);
        assertEquals(List.of(), r.report().problems());
        final EgressFirewall fw = r.model().egressFirewalls().get(0);
        assertEquals("web", fw.namespace());
        assertEquals(2, fw.rules().size());
        assertEquals(new EgressFirewall.Port(dev.junction.control.k8s.Protocol.UDP, 53), fw.rules().get(0).ports().get(0));
        assertEquals(EgressFirewall.Action.Deny, fw.rules().get(1).action());
        final EgressIp eip = r.model().egressIps().get(0);
        assertEquals("web-egress", eip.name());
        assertEquals(List.of(Ip.parse("172.18.0.100")), eip.egressIps());
        assertEquals(List.of(new EgressIp.Assignment("ovn-worker", Ip.parse("172.18.0.100"))), eip.assignments());

        client.genericKubernetesResources("k8s.ovn.org/v1", "EgressFirewall").inNamespace("web").withName("default").delete();
        final ManifestLoader.Result after = await(s -> s.model().egressFirewalls().isEmpty());
        assertEquals(1, after.model().egressIps().size());
    }

    @Test
    void missingOvnCrdsAreReportedAndTheRestWorks()
    {
        serve(false);
        create(NAMESPACE_AND_NODE);
        startSource();
        assertEquals(2, source.unwatched().size(), source.unwatched().toString());
        assertTrue(source.unwatched().get(0).startsWith("EgressFirewall (k8s.ovn.org/v1) not watched"), source.unwatched().get(0));
        assertTrue(source.unwatched().get(1).startsWith("EgressIP (k8s.ovn.org/v1) not watched"), source.unwatched().get(1));
        assertTrue(source.snapshot().report().notes().containsAll(source.unwatched()), "every snapshot says so");
        assertTrue(source.snapshot().report().isClean(), "a missing CRD is a note, not a problem");

        create(pod("server-1", "server", "10.244.1.5"));
        final ManifestLoader.Result r = await(s -> s.model().pods().size() == 1);
        assertEquals(List.of(Ip.parse("10.244.1.5")), r.model().pod("web", "server-1").orElseThrow().ips());
        assertTrue(r.report().notes().containsAll(source.unwatched()));
    }

    @Test
    void theExampleClusterThroughTheApiIsTheExampleClusterFromFiles() throws IOException
    {
        serve(true);
        final Path dir = repo().resolve("examples/cluster");
        try (Stream<Path> files = Files.list(dir))
        {
            for (final Path f : files.sorted().collect(Collectors.toList()))
            {
                try (InputStream in = Files.newInputStream(f))
                {
                    create(in);
                }
            }
        }
        startSource();
        final ManifestLoader.Result live = source.snapshot();
        final ManifestLoader.Result files = ManifestLoader.load(dir);
        assertEquals(List.of(), live.report().problems());
        assertEquals(files.report().objects(), live.report().objects());
        final ClusterModel a = live.model();
        final ClusterModel b = files.model();
        assertEquals(new HashSet<>(b.namespaces()), new HashSet<>(a.namespaces()));
        assertEquals(new HashSet<>(b.nodes()), new HashSet<>(a.nodes()));
        assertEquals(new HashSet<>(b.pods()), new HashSet<>(a.pods()));
        assertEquals(new HashSet<>(b.services()), new HashSet<>(a.services()));
        assertEquals(new HashSet<>(b.endpointSlices()), new HashSet<>(a.endpointSlices()));
        assertEquals(new HashSet<>(b.networkPolicies()), new HashSet<>(a.networkPolicies()));
        assertEquals(b.egressFirewalls(), a.egressFirewalls());
        assertEquals(b.egressIps(), a.egressIps());
        assertFalse(a.pods().isEmpty());
    }

    @Test
    void snapshotsAreOrderedByKindNamespaceAndName()
    {
        serve(false);
        create(NAMESPACE_AND_NODE);
        for (final String name : List.of("zeta", "alpha", "mid"))
        {
            create(pod(name, "x", "10.244.1." + (10 + name.length())));
        }
        create(pod("first", "x", "10.244.1.50").replace("namespace: web", "namespace: api"));
        startSource();
        assertEquals(List.of("api/first", "web/alpha", "web/mid", "web/zeta"),
            source.snapshot().model().pods().stream().map(Pod::key).collect(Collectors.toList()));
    }

    @Test
    void aBurstOfEventsGivesFewSnapshotsDeliveredOneAtATime()
    {
        serve(false);
        create(NAMESPACE_AND_NODE);
        final AtomicInteger inListener = new AtomicInteger();
        final AtomicInteger overlaps = new AtomicInteger();
        final List<Integer> podCounts = new CopyOnWriteArrayList<>();
        source = ApiServerSource.start(client, Duration.ofSeconds(2), r ->
        {
            if (inListener.incrementAndGet() != 1)
            {
                overlaps.incrementAndGet();
            }
            podCounts.add(r.model().pods().size());
            inListener.decrementAndGet();
        });
        final long before = source.snapshots();
        for (int i = 0; i < 20; i++)
        {
            create(pod("p" + i, "x", "10.244.1." + (10 + i)));
        }
        await(s -> s.model().pods().size() == 20);
        // 20 creations inside one 2 s debounce make one snapshot; two if they straddle its end.
        assertTrue(source.snapshots() - before <= 2, "snapshots for the burst: " + (source.snapshots() - before));
        assertEquals(0, overlaps.get());
        final List<Integer> seen = new ArrayList<>(podCounts);
        for (int i = 1; i < seen.size(); i++)
        {
            assertTrue(seen.get(i) >= seen.get(i - 1), "delivered in order: " + seen);
        }
    }

    @Test
    void aListenerThatThrowsIsCountedAndDeliveryGoesOn()
    {
        serve(false);
        create(NAMESPACE_AND_NODE);
        final List<Integer> podCounts = new CopyOnWriteArrayList<>();
        source = ApiServerSource.start(client, DEBOUNCE, r ->
        {
            podCounts.add(r.model().pods().size());
            if (podCounts.size() == 1)
            {
                throw new IllegalStateException("listener bug");
            }
        });
        create(pod("server-1", "server", "10.244.1.5"));
        await(s -> s.model().pods().size() == 1);
        awaitTrue(() -> podCounts.contains(1), "delivered after the failure: " + podCounts);
        assertEquals(0, podCounts.get(0));
        assertEquals(1, source.listenerFailures());
    }

    @Test
    void closeStopsDelivery()
    {
        serve(false);
        create(NAMESPACE_AND_NODE);
        startSource();
        source.close();
        final int count = delivered.size();
        final long snapshots = source.snapshots();
        create(pod("server-1", "server", "10.244.1.5"));
        // Nothing can arrive: the informers are stopped. A bounded look for a snapshot that should not come.
        final long deadline = System.nanoTime() + DEBOUNCE.toNanos() * 4;
        while (System.nanoTime() < deadline)
        {
            assertEquals(snapshots, source.snapshots());
            LockSupport.parkNanos(POLL_NANOS);
        }
        assertEquals(count, delivered.size());
        assertTrue(source.snapshot().model().pods().isEmpty());
        source.close();
    }

    @Test
    void connectMakesItsOwnClientFromAKubeconfig(@TempDir final Path dir) throws IOException
    {
        serve(false);
        create(NAMESPACE_AND_NODE);
        final Path kubeconfig = dir.resolve("config");
        Files.writeString(kubeconfig, String.join("\n",
            "apiVersion: v1",
            "kind: Config",
            "clusters: [{name: mock, cluster: {server: '" + client.getMasterUrl() + "'}}]",
            "users: [{name: tester, user: {token: not-checked}}]",
            "contexts: [{name: mock, context: {cluster: mock, user: tester}}]",
            "current-context: mock",
            ""));
        source = ApiServerSource.connect(kubeconfig, DEBOUNCE, delivered::add);
        assertEquals(List.of("ovn-worker"), source.snapshot().model().nodes().stream().map(n -> n.name())
            .collect(Collectors.toList()));
        create(pod("server-1", "server", "10.244.1.5"));
        assertEquals(List.of(Ip.parse("10.244.1.5")),
            await(s -> s.model().pods().size() == 1).model().pod("web", "server-1").orElseThrow().ips());
    }

    static Path repo()
    {
        Path p = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(p.resolve("examples")))
        {
            p = p.getParent();
        }
        return p;
    }
}
