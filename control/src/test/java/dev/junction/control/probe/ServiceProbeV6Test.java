package dev.junction.control.probe;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.flows.Stage;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.Protocol;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IPv6 services through the derived flows, by packets (manifests/services-v6): ClientIP affinity
 * with 128-bit VIPs and backends (two backends that differ only in their high 64 bits), its
 * timeout counted from the client's last packet, and hairpin connections of both families: a pod
 * reaching itself through its service sees OVN-K's hairpin address and answers it.
 */
class ServiceProbeV6Test
{
    private static final Path MANIFESTS = Path.of("src/test/resources/manifests/services-v6");
    private static final InetAddress STICKY = Ip.parse("fd00:10:96::11");

    private FlowCompiler.Compiled compiled;
    private Prober prober;

    @BeforeEach
    void compile() throws Exception
    {
        compiled = ServiceProbeTest.compileCluster(MANIFESTS);
        prober = new Prober(compiled.layout(), compiled.tables());
    }

    private BridgeLayout.PodPort pod(final String name)
    {
        return compiled.layout().port("shop/" + name).orElseThrow();
    }

    private Prober.ServiceConnection connect(final String client, final InetAddress vip, final int port, final Protocol protocol)
    {
        final Prober.ServiceConnection c = prober.connectService(pod(client), vip, port, protocol);
        assertTrue(c.established(), client + " -> " + Ip.text(vip) + ":" + port + ": " + c.detail());
        return c;
    }

    private Set<String> backends(final String client, final InetAddress vip, final int n)
    {
        final Set<String> seen = new TreeSet<>();
        for (int i = 0; i < n; i++)
        {
            seen.add(connect(client, vip, 80, Protocol.TCP).backend().pod().name());
        }
        return seen;
    }

    @Test
    void withoutAffinityBothBackendsServeTheIpv6Vip()
    {
        assertEquals(Set.of("web-1", "web-2"), backends("client-1", Ip.parse("fd00:10:96::10"), 30));
    }

    @Test
    void clientIpAffinityStickyThenRebalancedAfterTimeout()
    {
        final Set<String> sticky = backends("client-1", STICKY, 10);
        assertEquals(1, sticky.size(), "10 connections from one client: one backend " + sticky);
        final Set<String> chosen = new TreeSet<>();
        for (int round = 0; round < 24 && chosen.size() < 2; round++)
        {
            prober.advance(Duration.ofSeconds(31));
            final Set<String> inRound = backends("client-1", STICKY, 3);
            assertEquals(1, inRound.size(), "sticky within a round: " + inRound);
            chosen.addAll(inRound);
        }
        assertEquals(Set.of("web-1", "web-2"), chosen, "rebalanced after the timeout");
    }

    @Test
    void affinityTimerCountsFromTheClientsLastPacket()
    {
        final Prober.ServiceConnection first = connect("client-1", STICKY, 80, Protocol.TCP);
        for (int i = 0; i < 5; i++)
        {
            prober.advance(Duration.ofSeconds(20));
            assertTrue(prober.send(first), "the open connection keeps its backend");
        }
        assertEquals(0, prober.datapath().expiredRules(), "the learned backend did not expire while the client was busy");
        assertEquals(2, prober.datapath().tables().ruleCount(Stage.LB_AFFINITY_CHECK.table), "the default rule and the learned one");
        for (int i = 0; i < 8; i++)
        {
            assertEquals(first.backend().pod().name(), connect("client-1", STICKY, 80, Protocol.TCP).backend().pod().name(),
                "still sticky 100 s after the first connection");
        }
        prober.advance(Duration.ofSeconds(31));
        connect("client-1", STICKY, 80, Protocol.TCP);
        assertEquals(1, prober.datapath().expiredRules(), "expired after timeoutSeconds of silence");
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.96.0.10", "fd00:10:96::10"})
    void hairpinTcpAndUdpFromTheHairpinAddressRepliesFromTheVip(final String vipText)
    {
        final InetAddress vip = Ip.parse(vipText);
        final InetAddress hairpin = Ip.parse(Ip.isIpv6(vip) ? "fd69::5" : "169.254.169.5");
        for (final Protocol protocol : new Protocol[] {Protocol.TCP, Protocol.UDP})
        {
            final int port = protocol == Protocol.TCP ? 80 : 53;
            int hairpins = 0;
            for (int i = 0; i < 30; i++)
            {
                // Each step is checked by Prober: the first packet reaches a backend on its target
                // port, the reply reaches the client from VIP:port, the TCP ACK reaches the backend.
                final Prober.ServiceConnection c = connect("web-1", vip, port, protocol);
                final boolean self = c.backend().pod().name().equals("web-1");
                hairpins += self ? 1 : 0;
                assertEquals(self ? hairpin : c.clientIp(), c.peerIp(), protocol + " " + i + " to " + c.backend().pod().name());
            }
            assertTrue(hairpins > 0, protocol + ": a hairpin connection was made");
        }
    }
}
