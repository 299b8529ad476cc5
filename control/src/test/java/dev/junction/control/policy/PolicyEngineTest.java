package dev.junction.control.policy;

import dev.junction.control.k8s.ContainerPort;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.ManifestLoader;
import dev.junction.control.k8s.Pod;
import dev.junction.control.k8s.Protocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine's edges: addresses outside the pod network, host-network pods, the names a decision reports. */
class PolicyEngineTest
{
    @TempDir
    Path dir;

    private PolicyEngine engine(final String yaml) throws IOException
    {
        Files.writeString(dir.resolve("m.yaml"), yaml);
        final ManifestLoader.Result r = ManifestLoader.load(dir);
        assertEquals(List.of(), r.report().problems());
        return new PolicyEngine(r.model());
    }

    private static final String PODS = """
        apiVersion: v1
        kind: Pod
        metadata: {name: server, namespace: app, labels: {app: server}}
        spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
        status: {podIPs: [{ip: 10.244.1.10}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: client, namespace: app, labels: {app: client}}
        status: {podIPs: [{ip: 10.244.1.11}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: agent, namespace: app, labels: {app: client}}
        spec: {hostNetwork: true}
        status: {podIPs: [{ip: 172.18.0.2}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: done, namespace: app, labels: {app: client}}
        status: {phase: Succeeded, podIPs: [{ip: 10.244.1.12}]}
        """;

    @Test
    void externalSourcesMatchOnlyIpBlocksAndTheDecisionNamesThePolicies() throws IOException
    {
        final PolicyEngine e = engine(PODS + """
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: from-clients, namespace: app}
            spec:
              podSelector: {matchLabels: {app: server}}
              ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: http}]}]
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: from-lb, namespace: app}
            spec:
              podSelector: {matchLabels: {app: server}}
              ingress: [{from: [{ipBlock: {cidr: 192.0.2.0/24, except: [192.0.2.128/25]}}]}]
            """);
        final Pod server = e.model().pod("app", "server").orElseThrow();
        final Pod client = e.model().pod("app", "client").orElseThrow();

        final Decision fromClient = e.decide(new Connection(Peer.pod(client), Peer.pod(server), Protocol.TCP, 8080));
        assertTrue(fromClient.allowed());
        assertEquals(List.of("app/from-clients"), fromClient.ingress().allowedBy());
        assertEquals(List.of("app/from-clients", "app/from-lb"), fromClient.ingress().isolatedBy());
        assertFalse(fromClient.egress().isolated());

        final Decision wrongPort = e.decide(new Connection(Peer.pod(client), Peer.pod(server), Protocol.TCP, 80));
        assertFalse(wrongPort.allowed());
        assertEquals(List.of(), wrongPort.ingress().allowedBy());

        assertTrue(e.allowed(new Connection(Peer.external(Ip.parse("192.0.2.7")), Peer.pod(server), Protocol.TCP, 80)));
        assertFalse(e.allowed(new Connection(Peer.external(Ip.parse("192.0.2.200")), Peer.pod(server), Protocol.TCP, 80)),
            "in the except");
        assertFalse(e.allowed(new Connection(Peer.external(Ip.parse("10.244.1.11")), Peer.pod(server), Protocol.TCP, 8080)),
            "a pod's address without the pod is no pod: selectors do not match it");
    }

    @Test
    void hostNetworkAndCompletedPodsAreNeitherSelectedNorMatched() throws IOException
    {
        final PolicyEngine e = engine(PODS + """
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny-all, namespace: app}
            spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: clients-to-server, namespace: app}
            spec:
              podSelector: {matchLabels: {app: server}}
              ingress: [{from: [{podSelector: {matchLabels: {app: client}}}]}]
            """);
        final Pod server = e.model().pod("app", "server").orElseThrow();
        final Pod agent = e.model().pod("app", "agent").orElseThrow();
        final Pod done = e.model().pod("app", "done").orElseThrow();
        final Decision fromAgent = e.decide(new Connection(Peer.pod(agent), Peer.pod(server), Protocol.TCP, 8080));
        assertFalse(fromAgent.egress().isolated(), "a host-network pod has no logical port, so no policy selects it");
        assertFalse(fromAgent.allowed(), "and it does not match app=client as a peer");
        assertFalse(e.allowed(new Connection(Peer.pod(done), Peer.pod(server), Protocol.TCP, 8080)));
        assertTrue(e.decide(new Connection(Peer.pod(server), Peer.pod(agent), Protocol.TCP, 22)).ingress().allowed());
    }

    @Test
    void namedPortsInEgressResolveAgainstTheDestinationPod() throws IOException
    {
        final PolicyEngine e = engine(PODS + """
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: to-http, namespace: app}
            spec:
              podSelector: {matchLabels: {app: client}}
              egress: [{ports: [{port: http}]}]
            """);
        final Pod server = e.model().pod("app", "server").orElseThrow();
        final Pod client = e.model().pod("app", "client").orElseThrow();
        assertTrue(e.allowed(new Connection(Peer.pod(client), Peer.pod(server), Protocol.TCP, 8080)));
        assertFalse(e.allowed(new Connection(Peer.pod(client), Peer.pod(server), Protocol.TCP, 8081)));
        assertFalse(e.allowed(new Connection(Peer.pod(client), Peer.external(Ip.parse("198.51.100.1")), Protocol.TCP, 8080)),
            "an address outside has no named ports");
        assertEquals(List.of(new ContainerPort("http", 8080, Protocol.TCP)), server.ports(), "http is TCP by default");
        assertFalse(e.allowed(new Connection(Peer.pod(client), Peer.pod(server), Protocol.UDP, 8080)),
            "the name resolves to a TCP port only");
    }

    @Test
    void theExampleClusterBehavesAsItsCommentsSay() throws IOException
    {
        final ManifestLoader.Result r = ManifestLoader.load(repo().resolve("examples/cluster"));
        final PolicyEngine e = new PolicyEngine(r.model());
        final Map<String, Map<String, Boolean>> http = Reachability.matrix(e, r.model().pods(), Protocol.TCP, 8080, false);
        assertTrue(http.get("web/client-1").get("db/server-2"), "web clients reach the servers' named port http");
        assertFalse(http.get("ops/prometheus").get("db/server-1"), "ops only scrapes metrics");
        assertFalse(http.get("web/client-1").get("ops/prometheus"), "web clients may talk to db and DNS only");
        final Map<String, Map<String, Boolean>> metrics = Reachability.matrix(e, r.model().pods(), Protocol.TCP, 9090, false);
        assertTrue(metrics.get("ops/prometheus").get("db/server-1"));
        assertFalse(metrics.get("db/server-2").get("db/server-1"));
        final Pod client = r.model().pod("web", "client-1").orElseThrow();
        assertTrue(e.allowed(new Connection(Peer.pod(client), Peer.external(Ip.parse("8.8.8.8")), Protocol.UDP, 53)));
        assertFalse(e.allowed(new Connection(Peer.pod(client), Peer.external(Ip.parse("172.18.0.2")), Protocol.UDP, 53)),
            "the node network is excepted");
        assertFalse(e.decide(new Connection(Peer.pod(client), Peer.pod(r.model().pod("web", "client-2").orElseThrow()),
            Protocol.TCP, 80)).allowed(), "client-egress has egress rules, so by default it isolates ingress too");
    }

    static Path repo()
    {
        Path p = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(p.resolve("examples/cluster")))
        {
            p = p.getParent();
        }
        return p;
    }

    @Test
    void aPodPeerUsesOneOfItsOwnAddresses() throws IOException
    {
        final PolicyEngine e = engine(PODS);
        final Pod server = e.model().pod("app", "server").orElseThrow();
        assertThrows(IllegalArgumentException.class, () -> Peer.pod(server, Ip.parse("10.9.9.9")));
    }
}
