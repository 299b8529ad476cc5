package dev.junction.control.probe;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.DnsResolver;
import dev.junction.control.flows.GatewayPort;
import dev.junction.control.k8s.Ip;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;


import static dev.junction.control.probe.EgressProbeTest.Frames;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Node ports with each node running only its own bridge (manifests/nodeport, {@link TwoNodeWire}):
 * what n1's router receives for a service whose backend is on n2 crosses the tunnel to the pod,
 * SNATed to GR_n1's join IP; the pod's reply to that join IP crosses back to GR_n1 (VNI
 * {@link BridgeLayout#GATEWAY_VNI} | n1's key) and leaves n1's external port from the node port.
 */
class NodePortTwoNodeTest
{
    private static final String CLIENT_MAC = "02:00:00:00:00:99";
    private TwoNodeWire wire;

    @BeforeEach
    void nodes() throws Exception
    {
        wire = TwoNodeWire.of(NodePortProbeTest.MANIFESTS, DnsResolver.NONE);
    }

    @Test
    void nodePortOnOneNodeReachesTheBackendOnTheOtherAndTheReplyComesBackThroughTheFirst()
    {
        final GatewayPort n1 = wire.n1.gateway();
        final BridgeLayout.PodPort w2 = wire.n2.pod("shop/w2");
        wire.send(wire.n1, n1.ofport(), ProbeFrames.frame(CLIENT_MAC, n1.mac(), Ip.parse("8.8.8.8"), n1.ip(), ProbeFrames.PROTO_TCP,
            51000, 30080, ProbeFrames.TCP_SYN, 1, 0));
        assertEquals(0, wire.n1.sent.size(), "nothing out of n1 but the tunnel");
        final byte[] in = wire.n2.onlyOut(w2.ofport(), "the SYN");
        assertEquals(w2.ips().get(0), Frames.dst(in));
        assertEquals(8080, Frames.dport(in));
        assertEquals(Ip.parse("100.64.0." + (n1.key() + 1)), Frames.src(in), "SNAT to GR_n1's join IP");
        assertEquals(w2.mac(), Frames.mac(in, 0));
        Frames.assertChecksums(in);

        wire.send(wire.n2, w2.ofport(), ProbeFrames.frame(w2.mac(), w2.sw().gatewayMac(), w2.ips().get(0), Frames.src(in),
            ProbeFrames.PROTO_TCP, 8080, Frames.sport(in), ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK, 7, 2));
        assertEquals(0, wire.n2.sent.size(), "not out of n2's own external port");
        final byte[] out = wire.n1.onlyOut(n1.ofport(), "the SYN-ACK");
        assertEquals(n1.ip(), Frames.src(out));
        assertEquals(30080, Frames.sport(out));
        assertEquals(Ip.parse("8.8.8.8"), Frames.dst(out));
        assertEquals(51000, Frames.dport(out));
        assertEquals(CLIENT_MAC, Frames.mac(out, 0));
        assertEquals(n1.mac(), Frames.mac(out, 6));
        Frames.assertChecksums(out);
    }

    @Test
    void localPolicyOnANodeBridgeWithoutTheEndpointDrops()
    {
        final GatewayPort n2 = wire.n2.gateway();
        wire.send(wire.n2, n2.ofport(), ProbeFrames.frame(CLIENT_MAC, n2.mac(), Ip.parse("8.8.8.8"), Ip.parse("198.51.100.7"),
            ProbeFrames.PROTO_TCP, 51001, 80, ProbeFrames.TCP_SYN, 1, 0));
        assertEquals(0, wire.n1.sent.size() + wire.n2.sent.size(), "no local endpoint on n2: nothing anywhere");
        final GatewayPort n1 = wire.n1.gateway();
        final BridgeLayout.PodPort l1 = wire.n1.pod("shop/l1");
        wire.send(wire.n1, n1.ofport(), ProbeFrames.frame(CLIENT_MAC, n1.mac(), Ip.parse("8.8.8.8"), Ip.parse("198.51.100.7"),
            ProbeFrames.PROTO_TCP, 51002, 80, ProbeFrames.TCP_SYN, 1, 0));
        assertEquals(Ip.parse("8.8.8.8"), Frames.src(wire.n1.onlyOut(l1.ofport(), "n1 has the endpoint")));
        wire.send(wire.n1, l1.ofport(), ProbeFrames.frame(l1.mac(), l1.sw().gatewayMac(), l1.ips().get(0), Ip.parse("8.8.8.8"),
            ProbeFrames.PROTO_TCP, 8080, 51002, ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK, 7, 2));
        assertEquals(Ip.parse("198.51.100.7"), Frames.src(wire.n1.onlyOut(n1.ofport(), "the reply")));
    }
}
