package dev.junction.control.agent;

import dev.junction.control.ShopCluster;
import dev.junction.control.journal.FlowJournal;
import dev.junction.control.k8s.ManifestLoader;
import dev.junction.control.k8s.live.ApiServerSource;
import dev.junction.flowtable.ofp.FlowRule;
import dev.junction.flowtable.ofp.FlowTables;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Objects created, changed and deleted through a (mock, CRUD) API server reach the published
 * flow table through the informers, the incremental compiler and the journal; a restarted loop
 * publishes the journal's last version before any source speaks; a snapshot that cannot be
 * compiled leaves the last good version in force.
 */
class ControlLoopTest
{
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String NODE = ShopCluster.nodeAndNamespace();

    private static String pod(final String name, final String ip, final String app)
    {
        return ShopCluster.pod(name, ip, app);
    }

    @TempDir
    Path state;

    private KubernetesMockServer server;
    private KubernetesClient client;
    private ApiServerSource source;
    private final AtomicReference<FlowTables> table = new AtomicReference<>();

    @AfterEach
    void stop()
    {
        if (source != null)
        {
            source.close();
        }
        if (server != null)
        {
            server.destroy();
        }
    }

    private void create(final String yaml)
    {
        for (final HasMetadata o : client.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items())
        {
            client.resource(o).create();
        }
    }

    private static boolean hasPortSecurityFor(final FlowTables t, final String ip)
    {
        return t != null && t.rules().stream().map(dev.junction.flowtable.ofp.FlowPrinter::flowLine).anyMatch(s -> s.contains("nw_src=" + ip));
    }

    private void await(final String what, final Predicate<FlowTables> until)
    {
        final long deadline = System.nanoTime() + WAIT.toNanos();
        while (!until.test(table.get()))
        {
            if (System.nanoTime() > deadline)
            {
                fail("flow table never " + what);
            }
            LockSupport.parkNanos(20_000_000L);
        }
    }

    @Test
    void apiObjectsReachTheFlowTableAndSurviveARestart() throws Exception
    {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(List.of()),
            false);
        server.init();
        client = server.createClient();
        create(NODE + "---\n" + pod("a", "10.244.1.5", "web"));
        final ControlLoop loop = new ControlLoop("n1", FlowJournal.open(state), ApiServerSource.SOURCE_NAME, table::set);
        source = ApiServerSource.start(client, Duration.ofMillis(50), loop::accept);
        await("had pod a's port", t -> hasPortSecurityFor(t, "10.244.1.5"));
        create(pod("b", "10.244.1.6", "db"));
        await("had pod b's port", t -> hasPortSecurityFor(t, "10.244.1.6"));
        create("""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: db-deny, namespace: shop}
            spec: {podSelector: {matchLabels: {app: db}}, policyTypes: [Ingress]}
            """);
        await("had the policy's default deny", t -> t.rules().stream().map(dev.junction.flowtable.ofp.FlowPrinter::flowLine)
            .anyMatch(s -> s.contains("table=41") && s.contains("priority=900")));
        client.pods().inNamespace("shop").withName("a").delete();
        await("lost pod a's port", t -> !hasPortSecurityFor(t, "10.244.1.5") && hasPortSecurityFor(t, "10.244.1.6"));
        final FlowTables last = table.get();
        source.close();
        source = null;
        final long versions = loop.version();
        assertTrue(versions >= 4, "one version per change: " + versions);
        assertEquals(0, loop.failures(), loop.lastFailure());
        loop.close();

        // Restart: the journal's last version is published before any source.
        table.set(null);
        try (ControlLoop again = new ControlLoop("n1", FlowJournal.open(state), ApiServerSource.SOURCE_NAME, table::set))
        {
            assertTrue(again.restore().isPresent());
            assertEquals(versions, again.version());
            assertEquals(last.rules().stream().map(dev.junction.flowtable.ofp.FlowPrinter::flowLine).sorted().toList(),
                table.get().rules().stream().map(dev.junction.flowtable.ofp.FlowPrinter::flowLine).sorted().toList(), "the same table as before the restart");
            // A snapshot the compiler refuses (the node is gone): the last good version stays.
            final FlowTables before = table.get();
            again.accept(ManifestLoader.fromObjects(List.of(), "apiserver"));
            assertEquals(1, again.failures(), "counted");
            assertTrue(table.get() == before, "fail closed: nothing published");
            assertTrue(again.lastFailure().contains("n1"), again.lastFailure());
        }
    }
}
