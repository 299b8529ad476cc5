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
import static dev.junction.control.probe.EgressV6ProbeTest.V6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IPv6 on the gateway routers, by packets on one bridge (manifests/gateway-v6): the routers of the
 * IPv6-only nodes n1 and n2 exist, their pods' traffic to outside leaves SNATed to the node's IPv6
 * address and the reply comes back; outside clients reach IPv6 node ports, external IPs and LB
 * ingress IPs on IPv6-only and dual-stack routers, {@code externalTrafficPolicy: Cluster} with the
 * client SNATed to the router's IPv6 join address, {@code Local} with the client's address kept and
 * nothing on a node without a local endpoint; the backend's IPv6 ipBlock judges the client.
 */
class GatewayV6ProbeTest
{
    private static final Path MANIFESTS = Path.of("src/test/resources/manifests/gateway-v6");
    /** A client on the routers' own L2 segment: its MAC is neither the next hop's nor any router's. */
    private static final String CLIENT_MAC = "02:00:00:00:00:99";
    private static final String WORLD = "2001:4860:4860::8888";

    private OneBridge bridge;

    @BeforeEach
    void compile() throws Exception
    {
        final ManifestLoader.Result r = ManifestLoader.load(MANIFESTS);
        assertEquals(List.of(), r.report().problems());
        bridge = new OneBridge(FlowCompiler.cluster(r.model()));
    }

    /** A client's packet arriving on {@code gw}'s external port. */
    private List<Object[]> fromOutside(final GatewayPort gw, final String client, final InetAddress vip, final int proto,
        final int sport, final int dport, final int flags)
    {
        return bridge.send(gw.ofport(), ProbeFrames.frame(CLIENT_MAC, gw.mac(), Ip.parse(client), vip, proto, sport, dport, flags, 1, 0));
    }

    @Test
    void ipv6OnlyNodesHaveGatewayRoutersWithoutIpv4()
    {
        final GatewayPort n1 = bridge.gateway("n1");
        final GatewayPort n2 = bridge.gateway("n2");
        assertNull(n1.ip(), "no IPv4 side");
        assertEquals(Ip.parse("fc00:f853::2"), n1.ip6(), "l3-gateway-config's IPv6 address");
        assertEquals("02:42:ac:12:00:02", n1.mac(), "l3-gateway-config's MAC");
        assertNull(n2.ip());
        assertEquals(Ip.parse("fc00:f853::3"), n2.ip6(), "the IPv6 InternalIP");
        assertTrue(n2.mac().startsWith("0a:58:"), "OVN-K's MAC of an address: " + n2.mac());
        assertNotEquals(n1.mac(), n2.mac());
        assertEquals(Ip.parse("fc00:f853::1"), n2.nextHop(true), "first host of the /64");
        assertNull(n2.nextHop(false));
        assertNotEquals(OneBridge.joinIp(n1, true), OneBridge.joinIp(n2, true));
    }

    @Test
    void ipv6OnlyPodsReachOutsideSnatedToTheNodesIpv6AddressAndTheReplyComesBack()
    {
        final GatewayPort n1 = bridge.gateway("n1");
        final BridgeLayout.PodPort c1 = bridge.pod("shop/c1");
        final byte[] syn = OneBridge.outOf(bridge.fromPod(c1, WORLD, ProbeFrames.PROTO_TCP, 41000, 443, ProbeFrames.TCP_SYN), n1);
        assertEquals("02:42:ac:12:00:01", Frames.mac(syn, 0), "to the next hop's static MAC");
        assertEquals(n1.mac(), Frames.mac(syn, 6));
        assertEquals(Ip.parse("fc00:f853::2"), V6.src(syn), "SNAT to the node's IPv6 address");
        assertEquals(Ip.parse(WORLD), V6.dst(syn));
        assertEquals(62, V6.hopLimit(syn), "ovn_cluster_router and GR_n1: 64 -> 62");
        V6.assertChecksum(syn);

        final byte[] back = OneBridge.only(bridge.send(n1.ofport(), ProbeFrames.frame("02:42:ac:12:00:01", n1.mac(), Ip.parse(WORLD), n1.ip6(),
            ProbeFrames.PROTO_TCP, 443, V6.sport(syn), ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK, 7, 2)), c1.ofport(), "the reply");
        assertEquals(c1.ip(true).orElseThrow(), V6.dst(back), "un-SNATed to the pod");
        assertEquals(41000, V6.dport(back));
        assertEquals(c1.mac(), Frames.mac(back, 0));
        assertEquals(c1.sw().gatewayMac(), Frames.mac(back, 6));
        assertEquals(62, V6.hopLimit(back));
        V6.assertChecksum(back);

        // n2 without l3-gateway-config: its InternalIP, its derived MAC, the next hop's derived static MAC.
        final GatewayPort n2 = bridge.gateway("n2");
        final byte[] udp = OneBridge.outOf(bridge.fromPod(bridge.pod("shop/w2"), WORLD, ProbeFrames.PROTO_UDP, 41001, 53, -1), n2);
        assertEquals(Ip.parse("fc00:f853::3"), V6.src(udp));
        assertEquals(n2.mac(), Frames.mac(udp, 6));
        assertEquals(n2.nextHopMac(true), Frames.mac(udp, 0));
        V6.assertChecksum(udp);
    }

    @Test
    void ipv6NodePortReachesTheBackendOnAnotherNodeAndTheReplyLeavesFromTheNodePort()
    {
        final GatewayPort n1 = bridge.gateway("n1");
        final BridgeLayout.PodPort w2 = bridge.pod("shop/w2");
        final byte[] in = OneBridge.only(fromOutside(n1, WORLD, n1.ip6(), ProbeFrames.PROTO_TCP, 50000, 30080, ProbeFrames.TCP_SYN),
            w2.ofport(), "SYN to n1's IPv6 node port");
        assertEquals(w2.ip(true).orElseThrow(), V6.dst(in), "DNAT to the backend (on n2)");
        assertEquals(8080, V6.dport(in));
        assertEquals(OneBridge.joinIp(n1, true), V6.src(in), "externalTrafficPolicy Cluster: SNAT to GR_n1's IPv6 join address");
        assertEquals(w2.mac(), Frames.mac(in, 0));
        assertEquals(w2.sw().gatewayMac(), Frames.mac(in, 6), "routed by ovn_cluster_router");
        assertEquals(62, V6.hopLimit(in), "GR_n1 and ovn_cluster_router: 64 -> 62");
        V6.assertChecksum(in);

        final byte[] out = OneBridge.only(bridge.fromPod(w2, V6.src(in), ProbeFrames.PROTO_TCP, 8080, V6.sport(in),
            ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK), n1.ofport(), "the backend's SYN-ACK");
        assertEquals(Ip.parse("fc00:f853::2"), V6.src(out), "un-DNATed: from the node port");
        assertEquals(30080, V6.sport(out));
        assertEquals(Ip.parse(WORLD), V6.dst(out), "un-SNATed: to the client");
        assertEquals(50000, V6.dport(out));
        assertEquals(n1.mac(), Frames.mac(out, 6));
        assertEquals(CLIENT_MAC, Frames.mac(out, 0), "to the MAC the connection came from");
        assertEquals(62, V6.hopLimit(out));
        V6.assertChecksum(out);

        final byte[] ack = OneBridge.only(fromOutside(n1, WORLD, n1.ip6(), ProbeFrames.PROTO_TCP, 50000, 30080, ProbeFrames.TCP_ACK),
            w2.ofport(), "the client's ACK");
        assertEquals(OneBridge.joinIp(n1, true), V6.src(ack));
        assertEquals(V6.sport(in), V6.sport(ack), "the same connection");
    }

    @Test
    void dualStackRouterServesBothFamiliesAndIpv6ExternalIp()
    {
        final GatewayPort n3 = bridge.gateway("n3");
        final BridgeLayout.PodPort d3 = bridge.pod("dual/d3");
        final byte[] v6 = OneBridge.only(fromOutside(n3, WORLD, n3.ip6(), ProbeFrames.PROTO_TCP, 50001, 30443, ProbeFrames.TCP_SYN),
            d3.ofport(), "IPv6 node port of a dual-stack service");
        assertEquals(d3.ip(true).orElseThrow(), V6.dst(v6));
        assertEquals(OneBridge.joinIp(n3, true), V6.src(v6));
        final byte[] v6Back = OneBridge.only(bridge.fromPod(d3, OneBridge.joinIp(n3, true), ProbeFrames.PROTO_TCP, 8443, V6.sport(v6),
            ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK), n3.ofport(), "its reply");
        assertEquals(n3.ip6(), V6.src(v6Back));
        assertEquals(30443, V6.sport(v6Back));

        final byte[] v4 = OneBridge.only(bridge.send(n3.ofport(), ProbeFrames.frame(CLIENT_MAC, n3.mac(), Ip.parse("8.8.8.8"), n3.ip(),
            ProbeFrames.PROTO_TCP, 50002, 30443, ProbeFrames.TCP_SYN, 1, 0)), d3.ofport(), "IPv4 node port of the same service");
        assertEquals(d3.ip(false).orElseThrow(), Frames.dst(v4));
        assertEquals(OneBridge.joinIp(n3, false), Frames.src(v4), "SNAT to GR_n3's IPv4 join address");
        Frames.assertChecksums(v4);

        // shop/web is IPv6 only: its external IP over n3's router (backend on n2), no IPv4 node port there.
        final BridgeLayout.PodPort w2 = bridge.pod("shop/w2");
        final byte[] udp = OneBridge.only(fromOutside(n3, "2001:db8:100::9", Ip.parse("2001:db8:2::80"), ProbeFrames.PROTO_UDP, 50003, 53, -1),
            w2.ofport(), "UDP to the IPv6 external IP");
        assertEquals(5353, V6.dport(udp));
        assertEquals(OneBridge.joinIp(n3, true), V6.src(udp));
        V6.assertChecksum(udp);
        final byte[] udpBack = OneBridge.only(bridge.fromPod(w2, OneBridge.joinIp(n3, true), ProbeFrames.PROTO_UDP, 5353, V6.sport(udp), -1),
            n3.ofport(), "UDP reply");
        assertEquals(Ip.parse("2001:db8:2::80"), V6.src(udpBack));
        assertEquals(53, V6.sport(udpBack));
        assertEquals(Ip.parse("2001:db8:100::9"), V6.dst(udpBack));
        V6.assertChecksum(udpBack);
        assertEquals(List.of(), bridge.send(n3.ofport(), ProbeFrames.frame(CLIENT_MAC, n3.mac(), Ip.parse("8.8.8.8"), n3.ip(),
            ProbeFrames.PROTO_TCP, 50004, 30080, ProbeFrames.TCP_SYN, 1, 0)), "an IPv6-only service has no IPv4 node port");
    }

    @Test
    void localPolicyKeepsTheClientAddressAndDropsWithoutALocalEndpoint()
    {
        final GatewayPort n1 = bridge.gateway("n1");
        final GatewayPort n2 = bridge.gateway("n2");
        final BridgeLayout.PodPort l1 = bridge.pod("shop/l1");
        final InetAddress ingress = Ip.parse("2001:db8:100::7");
        assertEquals(List.of(), fromOutside(n2, WORLD, ingress, ProbeFrames.PROTO_TCP, 50010, 80, ProbeFrames.TCP_SYN),
            "LB ingress IP on n2: no local endpoint");
        assertEquals(List.of(), fromOutside(n2, WORLD, n2.ip6(), ProbeFrames.PROTO_TCP, 50011, 30081, ProbeFrames.TCP_SYN),
            "node port on n2: no local endpoint");

        final byte[] in = OneBridge.only(fromOutside(n1, WORLD, ingress, ProbeFrames.PROTO_TCP, 50012, 80, ProbeFrames.TCP_SYN),
            l1.ofport(), "LB ingress IP on n1");
        assertEquals(Ip.parse(WORLD), V6.src(in), "externalTrafficPolicy Local: the client's address preserved");
        assertEquals(50012, V6.sport(in));
        assertEquals(l1.ip(true).orElseThrow(), V6.dst(in));
        final byte[] out = OneBridge.only(bridge.fromPod(l1, Ip.parse(WORLD), ProbeFrames.PROTO_TCP, 8080, 50012,
            ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK), n1.ofport(), "the reply, through GR_n1");
        assertEquals(ingress, V6.src(out), "un-DNATed, not SNATed to the node address");
        assertEquals(80, V6.sport(out));
        assertEquals(CLIENT_MAC, Frames.mac(out, 0));
        assertEquals(62, V6.hopLimit(out));
        V6.assertChecksum(out);

        // The backend's own connection from its service port is no reply: SNATed to the node address.
        final byte[] own = OneBridge.only(bridge.fromPod(l1, Ip.parse("2001:db8:2::1"), ProbeFrames.PROTO_TCP, 8080, 443, ProbeFrames.TCP_SYN),
            n1.ofport(), "the backend's own connection");
        assertEquals(n1.ip6(), V6.src(own));
        assertEquals("02:42:ac:12:00:01", Frames.mac(own, 0));
    }

    @Test
    void backendPolicyJudgesTheIpv6ClientAndUnaskedStaysOut()
    {
        final GatewayPort n1 = bridge.gateway("n1");
        final BridgeLayout.PodPort g1 = bridge.pod("guard/g1");
        final byte[] partner = OneBridge.only(fromOutside(n1, "2001:db8:113::5", n1.ip6(), ProbeFrames.PROTO_TCP, 50020, 30445,
            ProbeFrames.TCP_SYN), g1.ofport(), "a client in the policy's IPv6 ipBlock");
        assertEquals(Ip.parse("2001:db8:113::5"), V6.src(partner));
        assertEquals(8443, V6.dport(partner));
        assertEquals(List.of(), fromOutside(n1, "2001:db8:100::9", n1.ip6(), ProbeFrames.PROTO_TCP, 50021, 30445, ProbeFrames.TCP_SYN),
            "a client outside it");
        assertEquals(List.of(), fromOutside(n1, WORLD, n1.ip6(), ProbeFrames.PROTO_TCP, 50022, 30099, ProbeFrames.TCP_SYN),
            "a port no service has");
        assertEquals(List.of(), fromOutside(n1, WORLD, Ip.parse("fc00:f853::3"), ProbeFrames.PROTO_TCP, 50023, 30080,
            ProbeFrames.TCP_SYN), "n2's address is not GR_n1's");
        assertEquals(List.of(), fromOutside(n1, WORLD, n1.ip6(), ProbeFrames.PROTO_UDP, 50024, 30080, -1),
            "the node port's other protocol");
        assertEquals(List.of(), bridge.fromPod(bridge.pod("shop/c1"), OneBridge.joinIp(n1, true), ProbeFrames.PROTO_TCP, 41000, 80, ProbeFrames.TCP_SYN),
            "a pod cannot reach a join address by itself");
    }
}
