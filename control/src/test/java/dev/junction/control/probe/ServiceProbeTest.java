package dev.junction.control.probe;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.ManifestLoader;
import dev.junction.control.k8s.Protocol;
import dev.junction.flowtable.ofp.FlowTables;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Services through the derived flows, by packets (manifests/services): which endpoints a VIP
 * balances over, internalTrafficPolicy Local, node ports, a VIP without endpoints, a policy
 * judging the backend (not the VIP), and ClientIP affinity with its timeout counted from the
 * client's last packet.
 */
class ServiceProbeTest
{
    private static final Path MANIFESTS = Path.of("src/test/resources/manifests/services");

    private FlowCompiler.Compiled compiled;
    private FlowTables tables;
    private Prober prober;

    @BeforeEach
    void compile() throws Exception
    {
        final ManifestLoader.Result r = ManifestLoader.load(MANIFESTS);
        assertEquals(List.of(), r.report().problems());
        compiled = FlowCompiler.cluster(r.model());
        tables = compiled.tables();
        prober = new Prober(compiled.layout(), tables);
    }

    private BridgeLayout.PodPort pod(final String name)
    {
        return compiled.layout().port("shop/" + name).orElseThrow();
    }

    private Set<String> backends(final String client, final String vip, final int port, final Protocol protocol, final int n)
    {
        final Set<String> seen = new TreeSet<>();
        for (int i = 0; i < n; i++)
        {
            final Prober.ServiceConnection c = prober.connectService(pod(client), Ip.parse(vip), port, protocol);
            assertTrue(c.established(), client + " -> " + vip + ":" + port + " connection " + i + ": " + c.detail());
            seen.add(c.backend().pod().name());
        }
        return seen;
    }

    @ParameterizedTest
    @EnumSource(value = Protocol.class, names = {"TCP", "UDP"})
    void clusterIpBalancesOverReadyEndpointsOnly(final Protocol protocol)
    {
        final int port = protocol == Protocol.TCP ? 80 : 53;
        assertEquals(Set.of("web-1", "web-2"), backends("client-1", "10.96.0.10", port, protocol, 40));
    }

    @Test
    void noEndpointsNoConnection()
    {
        final Prober.ServiceConnection c = prober.connectService(pod("client-1"), Ip.parse("10.96.0.12"), 80, Protocol.TCP);
        assertFalse(c.established());
        assertEquals(null, c.backend(), "nothing received the SYN");
    }

    @ParameterizedTest
    @EnumSource(value = Protocol.class, names = {"TCP", "UDP"})
    void noEndpointsIsRejectedBackToTheClient(final Protocol protocol)
    {
        final int port = protocol == Protocol.TCP ? 80 : 53;
        final Prober.ServiceConnection c = prober.connectService(pod("client-1"), Ip.parse("10.96.0.12"), port, protocol);
        assertTrue(c.rejected(), c.detail());
        assertEquals(protocol == Protocol.TCP ? "rejected: TCP RST" : "rejected: ICMP unreachable (code 3)", c.detail());
        // A VIP with endpoints is not rejected, and without a packet-in handler nothing answers.
        assertFalse(prober.connectService(pod("client-1"), Ip.parse("10.96.0.10"), port, protocol).rejected());
        final Prober silent = new Prober(compiled.layout(), tables, null);
        final Prober.ServiceConnection dropped = silent.connectService(pod("client-1"), Ip.parse("10.96.0.12"), port, protocol);
        assertFalse(dropped.rejected(), dropped.detail());
        assertFalse(dropped.established());
    }

    @Test
    void terminatingServingEndpointWhenNoneReady()
    {
        assertEquals(Set.of("web-4"), backends("client-1", "10.96.0.14", 80, Protocol.TCP, 10));
    }

    @Test
    void internalTrafficPolicyLocalKeepsToTheClientsNode()
    {
        assertEquals(Set.of("web-1"), backends("client-1", "10.96.0.13", 80, Protocol.TCP, 20));
        assertEquals(Set.of("web-1"), backends("web-4", "10.96.0.13", 80, Protocol.TCP, 10));
    }

    @Test
    void nodePortOnEveryNodeAddress()
    {
        assertEquals(Set.of("web-1", "web-2"), backends("client-1", "172.18.0.3", 30080, Protocol.TCP, 30));
        assertEquals(Set.of("web-1", "web-2"), backends("client-1", "172.18.0.2", 30053, Protocol.UDP, 30));
    }

    @Test
    void policyJudgesTheBackendNotTheVip()
    {
        // client-2 may not reach web pods: the SYN is DNATed, then dropped at the backend's ACL.
        for (int i = 0; i < 10; i++)
        {
            final Prober.ServiceConnection c = prober.connectService(pod("client-2"), Ip.parse("10.96.0.10"), 80, Protocol.TCP);
            assertFalse(c.established(), "client-2 through the VIP: " + c.backend());
        }
        assertTrue(prober.connectService(pod("client-1"), Ip.parse("10.96.0.10"), 80, Protocol.TCP).established());
    }

    @Test
    void hairpinPodReachesItselfThroughItsService()
    {
        // web-1 and web-2 may talk to web pods; over enough connections one lands on the client itself.
        final Set<String> seen = backends("web-1", "10.96.0.10", 80, Protocol.TCP, 30);
        assertTrue(seen.contains("web-1"), "hairpin connection made: " + seen);
    }

    @Test
    void clientIpAffinityStickyThenRebalancedAfterTimeout()
    {
        final List<String> sticky = new ArrayList<>(backends("client-1", "10.96.0.11", 80, Protocol.TCP, 10));
        assertEquals(1, sticky.size(), "10 connections from one client: one backend " + sticky);
        // After timeoutSeconds (30) of silence each new connection is balanced again: over enough
        // rounds both backends are chosen, and within a round the choice sticks.
        final Set<String> chosen = new TreeSet<>();
        for (int round = 0; round < 24 && chosen.size() < 2; round++)
        {
            prober.advance(Duration.ofSeconds(31));
            final Set<String> inRound = backends("client-1", "10.96.0.11", 80, Protocol.TCP, 3);
            assertEquals(1, inRound.size(), "sticky within a round: " + inRound);
            chosen.addAll(inRound);
        }
        assertEquals(Set.of("web-1", "web-2"), chosen, "rebalanced after the timeout");
    }

    @Test
    void affinityTimerCountsFromTheClientsLastPacket()
    {
        final Prober.ServiceConnection first = prober.connectService(pod("client-1"), Ip.parse("10.96.0.11"), 80, Protocol.TCP);
        assertTrue(first.established());
        // 100 s of a busy connection, a packet every 20 s: the learned backend never goes idle 30 s.
        for (int i = 0; i < 5; i++)
        {
            prober.advance(Duration.ofSeconds(20));
            assertTrue(prober.send(first), "the open connection keeps its backend");
        }
        final int learnedTable = dev.junction.control.flows.Stage.LB_AFFINITY_CHECK.table;
        assertEquals(0, prober.datapath().expiredRules(), "the learned backend did not expire while the client was busy");
        assertEquals(2, prober.datapath().tables().ruleCount(learnedTable), "the default rule and the learned one");
        for (int i = 0; i < 8; i++)
        {
            final Prober.ServiceConnection next = prober.connectService(pod("client-1"), Ip.parse("10.96.0.11"), 80, Protocol.TCP);
            assertTrue(next.established());
            assertEquals(first.backend().pod().name(), next.backend().pod().name(), "still sticky 100 s after the first connection");
        }
        // The control: 31 s of silence and the learned flow is gone at the next packet.
        prober.advance(Duration.ofSeconds(31));
        assertTrue(prober.connectService(pod("client-1"), Ip.parse("10.96.0.11"), 80, Protocol.TCP).established());
        assertEquals(1, prober.datapath().expiredRules(), "expired after timeoutSeconds of silence");
    }
}
