package dev.junction.control.probe;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.DnsResolver;
import dev.junction.control.flows.GatewayPort;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.ManifestLoader;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static dev.junction.control.probe.EgressProbeTest.Frames;
import static dev.junction.control.probe.EgressV6ProbeTest.V6;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The IPv6-only nodes of manifests/gateway-v6, each running only its own bridge, joined by an IPv6
 * underlay ({@link TwoNodeWire} at fc00:f853::2 and ::3): with no IPv4 address anywhere, the tunnel
 * to another node's pods and to another node's gateway router goes to its IPv6 address
 * ({@code tun_ipv6_dst}). A node port on n1 reaches the backend on n2 and the reply to GR_n1's IPv6
 * join address crosses back and leaves n1's external port; pods talk across the nodes.
 */
class GatewayV6TwoNodeTest
{
    private static final String CLIENT_MAC = "02:00:00:00:00:99";
    private static final String WORLD = "2001:4860:4860::8888";
    private TwoNodeWire wire;

    @BeforeEach
    void nodes() throws Exception
    {
        final ManifestLoader.Result r = ManifestLoader.load(Path.of("src/test/resources/manifests/gateway-v6"));
        assertEquals(List.of(), r.report().problems());
        wire = new TwoNodeWire(r.model(), DnsResolver.NONE, "fc00:f853::2", "fc00:f853::3", 64);
    }

    @Test
    void ipv6NodePortOnOneNodeReachesTheBackendOnTheOtherOverTheIpv6UnderlayAndTheReplyComesBack()
    {
        final GatewayPort n1 = wire.n1.gateway();
        final BridgeLayout.PodPort w2 = wire.n2.pod("shop/w2");
        wire.send(wire.n1, n1.ofport(), ProbeFrames.frame(CLIENT_MAC, n1.mac(), Ip.parse(WORLD), n1.ip6(), ProbeFrames.PROTO_TCP,
            51000, 30080, ProbeFrames.TCP_SYN, 1, 0));
        assertEquals(0, wire.n1.sent.size(), "nothing out of n1 but the tunnel");
        final byte[] in = wire.n2.onlyOut(w2.ofport(), "the SYN");
        assertEquals(w2.ip(true).orElseThrow(), V6.dst(in));
        assertEquals(8080, V6.dport(in));
        assertEquals(OneBridge.joinIp(n1, true), V6.src(in), "SNAT to GR_n1's IPv6 join address");
        assertEquals(w2.mac(), Frames.mac(in, 0));
        V6.assertChecksum(in);

        wire.send(wire.n2, w2.ofport(), ProbeFrames.frame(w2.mac(), w2.sw().gatewayMac(), w2.ip(true).orElseThrow(), V6.src(in),
            ProbeFrames.PROTO_TCP, 8080, V6.sport(in), ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK, 7, 2));
        assertEquals(0, wire.n2.sent.size(), "not out of n2's own external port");
        final byte[] out = wire.n1.onlyOut(n1.ofport(), "the SYN-ACK");
        assertEquals(n1.ip6(), V6.src(out));
        assertEquals(30080, V6.sport(out));
        assertEquals(Ip.parse(WORLD), V6.dst(out));
        assertEquals(51000, V6.dport(out));
        assertEquals(CLIENT_MAC, Frames.mac(out, 0));
        assertEquals(n1.mac(), Frames.mac(out, 6));
        V6.assertChecksum(out);
    }

    @Test
    void podsOfIpv6OnlyNodesTalkAcrossTheTunnel()
    {
        final BridgeLayout.PodPort c1 = wire.n1.pod("shop/c1");
        final BridgeLayout.PodPort w2 = wire.n2.pod("shop/w2");
        wire.send(wire.n1, c1.ofport(), ProbeFrames.frame(c1.mac(), c1.sw().gatewayMac(), c1.ip(true).orElseThrow(),
            w2.ip(true).orElseThrow(), ProbeFrames.PROTO_TCP, 41000, 8080, ProbeFrames.TCP_SYN, 1, 0));
        final byte[] syn = wire.n2.onlyOut(w2.ofport(), "c1's SYN on n2");
        assertEquals(c1.ip(true).orElseThrow(), V6.src(syn));
        assertEquals(w2.mac(), Frames.mac(syn, 0));
        wire.send(wire.n2, w2.ofport(), ProbeFrames.frame(w2.mac(), w2.sw().gatewayMac(), w2.ip(true).orElseThrow(),
            c1.ip(true).orElseThrow(), ProbeFrames.PROTO_TCP, 8080, 41000, ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK, 7, 2));
        final byte[] back = wire.n1.onlyOut(c1.ofport(), "w2's SYN-ACK on n1");
        assertEquals(w2.ip(true).orElseThrow(), V6.src(back));
        V6.assertChecksum(back);
    }
}
