package dev.junction.control.probe;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.flows.GatewayPort;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.ManifestLoader;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;

import static dev.junction.control.probe.EgressProbeTest.Frames;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * Services reached from outside the cluster through the gateway routers, by packets on one bridge
 * (manifests/nodeport): a client on the external port connects to a node port, an external IP or
 * an LB ingress IP; externalTrafficPolicy Cluster reaches a backend on any node with the client
 * SNATed to the router's join IP and the reply leaves with the VIP as source to the client's MAC;
 * Local keeps the client's address and has no backend on a node without a local endpoint; the
 * backend's NetworkPolicy judges the client's address.
 */
class NodePortProbeTest
{
    static final Path MANIFESTS = Path.of("src/test/resources/manifests/nodeport");
    /** A client on the routers' own L2 segment: its MAC is neither the next hop's nor any router's. */
    private static final String CLIENT_MAC = "02:00:00:00:00:99";

    private OneBridge bridge;

    @BeforeEach
    void compile() throws Exception
    {
        final ManifestLoader.Result r = ManifestLoader.load(MANIFESTS);
        assertEquals(List.of(), r.report().problems());
        bridge = new OneBridge(FlowCompiler.cluster(r.model()));
    }

    /** A client's segment arriving on {@code gw}'s external port. */
    private List<Object[]> fromOutside(final GatewayPort gw, final String client, final String vip, final int proto, final int sport,
        final int dport, final int flags)
    {
        return bridge.send(gw.ofport(), ProbeFrames.frame(CLIENT_MAC, gw.mac(), Ip.parse(client), Ip.parse(vip), proto, sport, dport, flags, 1, 0));
    }

    @Test
    void nodePortFromOutsideReachesTheBackendOnAnotherNodeAndTheReplyLeavesFromTheNodePort()
    {
        final GatewayPort n1 = bridge.gateway("n1");
        final BridgeLayout.PodPort w2 = bridge.pod("shop/w2");
        final byte[] in = OneBridge.only(fromOutside(n1, "8.8.8.8", "172.18.0.2", ProbeFrames.PROTO_TCP, 50000, 30080, ProbeFrames.TCP_SYN),
            w2.ofport(), "SYN to n1's node port");
        assertEquals(w2.ips().get(0), Frames.dst(in), "DNAT to the backend (on n2)");
        assertEquals(8080, Frames.dport(in));
        assertEquals(OneBridge.joinIp(n1, false), Frames.src(in), "externalTrafficPolicy Cluster: SNAT to GR_n1's join IP");
        assertEquals(w2.mac(), Frames.mac(in, 0));
        assertEquals(w2.sw().gatewayMac(), Frames.mac(in, 6), "routed by ovn_cluster_router");
        assertEquals(62, Frames.ttl(in), "GR_n1 and ovn_cluster_router: 64 -> 62");
        Frames.assertChecksums(in);

        final byte[] out = OneBridge.only(bridge.fromPod(w2, Frames.src(in), ProbeFrames.PROTO_TCP, 8080, Frames.sport(in),
            ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK), n1.ofport(), "the backend's SYN-ACK");
        assertEquals(Ip.parse("172.18.0.2"), Frames.src(out), "un-DNATed: from the node port");
        assertEquals(30080, Frames.sport(out));
        assertEquals(Ip.parse("8.8.8.8"), Frames.dst(out), "un-SNATed: to the client");
        assertEquals(50000, Frames.dport(out));
        assertEquals(n1.mac(), Frames.mac(out, 6), "from GR_n1's external MAC");
        assertEquals(CLIENT_MAC, Frames.mac(out, 0), "to the MAC the connection came from");
        assertEquals(62, Frames.ttl(out));
        Frames.assertChecksums(out);

        // The client's ACK continues the connection to the same backend and source.
        final byte[] ack = OneBridge.only(fromOutside(n1, "8.8.8.8", "172.18.0.2", ProbeFrames.PROTO_TCP, 50000, 30080, ProbeFrames.TCP_ACK),
            w2.ofport(), "the client's ACK");
        assertEquals(OneBridge.joinIp(n1, false), Frames.src(ack));
        assertEquals(Frames.sport(in), Frames.sport(ack));
    }

    @Test
    void udpNodePortAndExternalIpOnEitherRouter()
    {
        final GatewayPort n2 = bridge.gateway("n2");
        final BridgeLayout.PodPort w2 = bridge.pod("shop/w2");
        final byte[] in = OneBridge.only(fromOutside(n2, "9.9.9.9", "172.18.0.3", ProbeFrames.PROTO_UDP, 50001, 30053, -1),
            w2.ofport(), "UDP to n2's node port");
        assertEquals(5353, Frames.dport(in));
        assertEquals(OneBridge.joinIp(n2, false), Frames.src(in), "SNAT to GR_n2's join IP");
        Frames.assertChecksums(in);
        final byte[] out = OneBridge.only(bridge.fromPod(w2, OneBridge.joinIp(n2, false), ProbeFrames.PROTO_UDP, 5353, Frames.sport(in), -1),
            n2.ofport(), "UDP reply");
        assertEquals(Ip.parse("172.18.0.3"), Frames.src(out));
        assertEquals(30053, Frames.sport(out));
        assertEquals(Ip.parse("9.9.9.9"), Frames.dst(out));
        Frames.assertChecksums(out);

        // The external IP on port 80 through n1's router.
        final GatewayPort n1 = bridge.gateway("n1");
        final byte[] viaExternalIp = OneBridge.only(fromOutside(n1, "8.8.4.4", "192.0.2.80", ProbeFrames.PROTO_TCP, 50002, 80,
            ProbeFrames.TCP_SYN), w2.ofport(), "SYN to the external IP");
        assertEquals(OneBridge.joinIp(n1, false), Frames.src(viaExternalIp));
        final byte[] back = OneBridge.only(bridge.fromPod(w2, OneBridge.joinIp(n1, false), ProbeFrames.PROTO_TCP, 8080, Frames.sport(viaExternalIp),
            ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK), n1.ofport(), "its reply");
        assertEquals(Ip.parse("192.0.2.80"), Frames.src(back));
        assertEquals(80, Frames.sport(back));
    }

    @Test
    void localPolicyKeepsTheClientAddressAndDropsWithoutALocalEndpoint()
    {
        final GatewayPort n1 = bridge.gateway("n1");
        final GatewayPort n2 = bridge.gateway("n2");
        final BridgeLayout.PodPort l1 = bridge.pod("shop/l1");
        // n2 has no endpoint of shop/local: its router has no backend for the ingress IP or its node port.
        assertEquals(List.of(), fromOutside(n2, "8.8.8.8", "198.51.100.7", ProbeFrames.PROTO_TCP, 50010, 80, ProbeFrames.TCP_SYN),
            "LB ingress IP on n2");
        assertEquals(List.of(), fromOutside(n2, "8.8.8.8", "172.18.0.3", ProbeFrames.PROTO_TCP, 50011, 30081, ProbeFrames.TCP_SYN),
            "node port on n2");

        final byte[] in = OneBridge.only(fromOutside(n1, "8.8.8.8", "198.51.100.7", ProbeFrames.PROTO_TCP, 50012, 80, ProbeFrames.TCP_SYN),
            l1.ofport(), "LB ingress IP on n1");
        assertEquals(Ip.parse("8.8.8.8"), Frames.src(in), "externalTrafficPolicy Local: the client's address preserved");
        assertEquals(50012, Frames.sport(in));
        assertEquals(l1.ips().get(0), Frames.dst(in));
        final byte[] out = OneBridge.only(bridge.fromPod(l1, Ip.parse("8.8.8.8"), ProbeFrames.PROTO_TCP, 8080, 50012,
            ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK), n1.ofport(), "the reply, through GR_n1");
        assertEquals(Ip.parse("198.51.100.7"), Frames.src(out), "un-DNATed, not SNATed to the node address");
        assertEquals(80, Frames.sport(out));
        assertEquals(CLIENT_MAC, Frames.mac(out, 0));
        assertEquals(n1.mac(), Frames.mac(out, 6));
        assertEquals(62, Frames.ttl(out), "ovn_cluster_router and GR_n1");
        Frames.assertChecksums(out);

        // The same pod's own connection from its service port is no reply: SNATed to the node address as before.
        final byte[] own = OneBridge.only(bridge.fromPod(l1, Ip.parse("1.1.1.1"), ProbeFrames.PROTO_TCP, 8080, 443, ProbeFrames.TCP_SYN),
            n1.ofport(), "the backend's own connection");
        assertEquals(Ip.parse("172.18.0.2"), Frames.src(own));
        assertEquals(n1.nextHopMac(), Frames.mac(own, 0));
    }

    @Test
    void networkPolicyOfTheBackendJudgesTheClientAddress()
    {
        final GatewayPort n1 = bridge.gateway("n1");
        final BridgeLayout.PodPort g1 = bridge.pod("guard/g1");
        final byte[] partner = OneBridge.only(fromOutside(n1, "203.0.113.5", "172.18.0.2", ProbeFrames.PROTO_TCP, 50020, 30443,
            ProbeFrames.TCP_SYN), g1.ofport(), "a client in the policy's ipBlock");
        assertEquals(Ip.parse("203.0.113.5"), Frames.src(partner));
        assertEquals(8443, Frames.dport(partner));
        assertEquals(List.of(), fromOutside(n1, "198.51.100.9", "172.18.0.2", ProbeFrames.PROTO_TCP, 50021, 30443, ProbeFrames.TCP_SYN),
            "a client outside it: the ingress policy denies");
    }

    @Test
    void unaskedTrafficStaysOut()
    {
        final GatewayPort n1 = bridge.gateway("n1");
        assertEquals(List.of(), fromOutside(n1, "8.8.8.8", "172.18.0.2", ProbeFrames.PROTO_TCP, 50030, 30099, ProbeFrames.TCP_SYN),
            "a port no service has");
        assertEquals(List.of(), fromOutside(n1, "8.8.8.8", "172.18.0.3", ProbeFrames.PROTO_TCP, 50031, 30080, ProbeFrames.TCP_SYN),
            "n2's address is not GR_n1's");
        assertEquals(List.of(), fromOutside(n1, "8.8.8.8", "172.18.0.2", ProbeFrames.PROTO_UDP, 50032, 30080, -1),
            "the node port's other protocol");
        // A pod cannot reach a join IP by itself.
        assertEquals(List.of(), bridge.fromPod(bridge.pod("shop/c1"), OneBridge.joinIp(n1, false), ProbeFrames.PROTO_TCP, 41000, 80, ProbeFrames.TCP_SYN));
        assertNotEquals(OneBridge.joinIp(n1, false), OneBridge.joinIp(bridge.gateway("n2"), false));
    }
}
