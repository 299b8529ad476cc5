package dev.junction.control.probe;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.GatewayPort;
import dev.junction.control.k8s.Ip;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;

import static dev.junction.control.probe.EgressProbeTest.Frames;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Egress with each node running only its own bridge (manifests/egress, {@link TwoNodeWire}): a
 * pod leaves through its own node's external port with the node address; an EgressIP pod on n1
 * is carried through the tunnel to n2's gateway router (VNI {@link BridgeLayout#GATEWAY_VNI} | n2's
 * key) and leaves there with the egress IP, and the reply comes back to it across the tunnel; the
 * EgressFirewall is applied on the pod's own node.
 */
class EgressTwoNodeTest
{
    private TwoNodeWire wire;

    @BeforeEach
    void nodes() throws Exception
    {
        wire = TwoNodeWire.of(EgressProbeTest.MANIFESTS, EgressProbeTest.DNS);
    }

    private static GatewayPort external(final TwoNodeWire.Node node)
    {
        final GatewayPort g = node.compiled.layout().gateway(node.name).orElseThrow();
        assertEquals(BridgeLayout.EXTERNAL_OFPORT, g.ofport(), "a node bridge's external port");
        return g;
    }

    /** Sends from a pod of {@code node} to an outside address; returns the frames each node put out, n1's then n2's. */
    private List<List<byte[]>> fromPod(final TwoNodeWire.Node node, final String pod, final String dst, final int sport)
    {
        final BridgeLayout.PodPort p = node.pod(pod);
        wire.send(node, p.ofport(), ProbeFrames.frame(p.mac(), p.sw().gatewayMac(), p.ips().get(0), Ip.parse(dst),
            ProbeFrames.PROTO_TCP, sport, 443, ProbeFrames.TCP_SYN, 1, 0));
        return List.of(List.copyOf(wire.n1.sent), List.copyOf(wire.n2.sent));
    }

    /** The one frame {@code node} sent, checked to have left through its external port. */
    private static byte[] onlyOut(final TwoNodeWire.Node node, final int port)
    {
        assertEquals(1, node.sent.size(), node.name + " sent one frame");
        assertEquals(port, node.sentPorts.get(0)[0], node.name + ": out of port " + port);
        return node.sent.get(0);
    }

    @Test
    void podLeavesThroughItsOwnNodeAndTheReplyComesBack()
    {
        final GatewayPort n1 = external(wire.n1);
        fromPod(wire.n1, "plain/p", "8.8.8.8", 43000);
        assertEquals(0, wire.n2.sent.size(), "nothing through n2");
        final byte[] f = onlyOut(wire.n1, n1.ofport());
        assertEquals(Ip.parse("172.18.0.2"), Frames.src(f));
        assertEquals("02:42:ac:12:00:01", Frames.mac(f, 0));
        Frames.assertChecksums(f);
        final BridgeLayout.PodPort p = wire.n1.pod("plain/p");
        wire.send(wire.n1, n1.ofport(), ProbeFrames.frame(n1.nextHopMac(), n1.mac(), Ip.parse("8.8.8.8"), n1.ip(),
            ProbeFrames.PROTO_TCP, 443, Frames.sport(f), ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK, 5, 2));
        final byte[] back = onlyOut(wire.n1, p.ofport());
        assertEquals(p.ips().get(0), Frames.dst(back));
        assertEquals(43000, Frames.dport(back));
    }

    @Test
    void egressIpPodOnAnotherNodeLeavesFromTheEgressNode()
    {
        final GatewayPort n2 = external(wire.n2);
        final InetAddress egressIp = Ip.parse("172.18.0.100");
        fromPod(wire.n1, "eip/x", "8.8.8.8", 43001);
        assertEquals(0, wire.n1.sent.size(), "not out of n1's own external port");
        final byte[] f = onlyOut(wire.n2, n2.ofport());
        assertEquals(egressIp, Frames.src(f), "SNAT to the egress IP on n2");
        assertEquals(Ip.parse("8.8.8.8"), Frames.dst(f));
        assertEquals(n2.mac(), Frames.mac(f, 6));
        assertEquals(n2.nextHopMac(), Frames.mac(f, 0));
        assertEquals(62, Frames.ttl(f), "ovn_cluster_router on n1, GR_n2 on n2");
        Frames.assertChecksums(f);

        // The reply reaches n2's external port and crosses back to x on n1.
        final BridgeLayout.PodPort x = wire.n1.pod("eip/x");
        wire.send(wire.n2, n2.ofport(), ProbeFrames.frame(n2.nextHopMac(), n2.mac(), Ip.parse("8.8.8.8"), egressIp,
            ProbeFrames.PROTO_TCP, 443, Frames.sport(f), ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK, 5, 2));
        assertEquals(0, wire.n2.sent.size(), "nothing delivered on n2");
        final byte[] back = onlyOut(wire.n1, x.ofport());
        assertEquals(x.ips().get(0), Frames.dst(back));
        assertEquals(43001, Frames.dport(back));
        assertEquals(x.sw().gatewayMac(), Frames.mac(back, 6));
        Frames.assertChecksums(back);
    }

    @Test
    void egressIpPodOnTheEgressNodeSnatsLocally()
    {
        final GatewayPort n2 = external(wire.n2);
        fromPod(wire.n2, "eip/y", "8.8.8.8", 43002);
        assertEquals(0, wire.n1.sent.size());
        assertEquals(Ip.parse("172.18.0.100"), Frames.src(onlyOut(wire.n2, n2.ofport())));
        // Its neighbour of another namespace keeps the node address.
        fromPod(wire.n2, "plain/q", "8.8.8.8", 43003);
        assertEquals(Ip.parse("172.18.0.3"), Frames.src(onlyOut(wire.n2, n2.ofport())));
    }

    @Test
    void egressFirewallOnThePodsNode()
    {
        fromPod(wire.n1, "shop/a", "203.0.113.11", 43004);
        assertEquals(0, wire.n1.sent.size() + wire.n2.sent.size(), "denied by rule 1");
        fromPod(wire.n1, "shop/a", "203.0.113.10", 43005);
        assertEquals(Ip.parse("203.0.113.10"), Frames.dst(onlyOut(wire.n1, BridgeLayout.EXTERNAL_OFPORT)), "allowed by rule 0");
        fromPod(wire.n2, "shop/b", "203.0.113.11", 43006);
        assertEquals(0, wire.n1.sent.size() + wire.n2.sent.size(), "denied on n2 as well");
    }
}
