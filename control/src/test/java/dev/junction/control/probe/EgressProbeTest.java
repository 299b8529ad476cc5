package dev.junction.control.probe;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.DnsResolver;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.flows.GatewayPort;
import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.ManifestLoader;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Traffic to outside the cluster through the derived flows on one bridge (every node's gateway
 * router with its external port), by packets (manifests/egress): SNAT to the node address out of
 * the pod's node's external port to the next hop, replies un-SNATed back to the pod, nothing
 * unasked from outside into a pod, cluster addresses never leaving, the EgressFirewall's first
 * matching rule deciding (CIDR, port, dnsName), EgressIP sending from the egress node with the
 * egress IP.
 */
class EgressProbeTest
{
    static final Path MANIFESTS = Path.of("src/test/resources/manifests/egress");
    static final DnsResolver DNS = DnsResolver.of(Map.of("api.example.com", List.of(Ip.parse("203.0.113.10"))));

    private ClusterModel model;
    private FlowCompiler.Compiled compiled;
    private OneBridge bridge;
    private int sourcePort = 40000;

    @BeforeEach
    void compile() throws Exception
    {
        final ManifestLoader.Result r = ManifestLoader.load(MANIFESTS);
        assertEquals(List.of(), r.report().problems());
        model = r.model();
        build(DNS);
    }

    private void build(final DnsResolver dns) throws Exception
    {
        compiled = FlowCompiler.cluster(model, dns);
        bridge = new OneBridge(compiled);
    }

    private BridgeLayout.PodPort pod(final String key)
    {
        return bridge.pod(key);
    }

    private GatewayPort gateway(final String node)
    {
        return bridge.gateway(node);
    }

    private List<Object[]> send(final int port, final byte[] frame)
    {
        return bridge.send(port, frame);
    }

    private List<Object[]> fromPod(final BridgeLayout.PodPort p, final String dst, final int proto, final int sport, final int dport,
        final int flags)
    {
        return bridge.fromPod(p, dst, proto, sport, dport, flags);
    }

    private static byte[] outOf(final List<Object[]> out, final GatewayPort gw)
    {
        return OneBridge.outOf(out, gw);
    }

    @Test
    void podToOutsideLeavesItsNodesExternalPortWithTheNodeAddress()
    {
        final BridgeLayout.PodPort p = pod("plain/p");
        final GatewayPort n1 = gateway("n1");
        final byte[] f = outOf(fromPod(p, "8.8.8.8", ProbeFrames.PROTO_TCP, 41000, 443, ProbeFrames.TCP_SYN), n1);
        assertEquals("02:42:ac:12:00:01", Frames.mac(f, 0), "to the next hop's MAC (annotation)");
        assertEquals("02:42:ac:12:00:02", Frames.mac(f, 6), "from the node's br-ex MAC (l3-gateway-config)");
        assertEquals(Ip.parse("172.18.0.2"), Frames.src(f), "SNAT to the node address");
        assertEquals(Ip.parse("8.8.8.8"), Frames.dst(f));
        assertEquals(41000, Frames.sport(f), "the source port is free: kept");
        assertEquals(443, Frames.dport(f));
        assertEquals(62, Frames.ttl(f), "two router hops (ovn_cluster_router, GR_n1): 64 -> 62");
        Frames.assertChecksums(f);

        // n2 has no annotation: OVN-K's MAC of its InternalIP, next hop .1 of its /24.
        final byte[] g = outOf(fromPod(pod("plain/q"), "8.8.8.8", ProbeFrames.PROTO_UDP, 41001, 53, -1), gateway("n2"));
        assertEquals("0a:58:ac:12:00:01", Frames.mac(g, 0));
        assertEquals("0a:58:ac:12:00:03", Frames.mac(g, 6));
        assertEquals(Ip.parse("172.18.0.3"), Frames.src(g));
        Frames.assertChecksums(g);
    }

    @Test
    void replyIsUnSnatedBackToThePodAndUnaskedTrafficIsNot()
    {
        final BridgeLayout.PodPort p = pod("plain/p");
        final GatewayPort n1 = gateway("n1");
        final byte[] syn = outOf(fromPod(p, "8.8.8.8", ProbeFrames.PROTO_TCP, 41002, 443, ProbeFrames.TCP_SYN), n1);
        final int port = Frames.sport(syn);
        final byte[] synAck = ProbeFrames.frame(n1.nextHopMac(), n1.mac(), Ip.parse("8.8.8.8"), n1.ip(), ProbeFrames.PROTO_TCP, 443,
            port, ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK, 7, 2);
        final List<Object[]> back = send(n1.ofport(), synAck);
        assertEquals(1, back.size(), "the reply is delivered once");
        assertEquals(p.ofport(), (int)(Integer)back.get(0)[0], "to the pod that connected");
        final byte[] f = (byte[])back.get(0)[1];
        assertEquals(p.ips().get(0), Frames.dst(f), "un-SNATed");
        assertEquals(41002, Frames.dport(f));
        assertEquals(Ip.parse("8.8.8.8"), Frames.src(f));
        assertEquals(p.mac(), Frames.mac(f, 0));
        assertEquals(p.sw().gatewayMac(), Frames.mac(f, 6), "routed by ovn_cluster_router");
        assertEquals(62, Frames.ttl(f), "GR_n1 and ovn_cluster_router: 64 -> 62");
        Frames.assertChecksums(f);
        // The pod's ACK continues the connection.
        outOf(fromPod(p, "8.8.8.8", ProbeFrames.PROTO_TCP, 41002, 443, ProbeFrames.TCP_ACK), n1);

        // Unasked: a new connection to the node address, a packet for the pod address itself.
        assertEquals(List.of(), send(n1.ofport(), ProbeFrames.frame(n1.nextHopMac(), n1.mac(), Ip.parse("8.8.8.8"), n1.ip(),
            ProbeFrames.PROTO_TCP, 443, port + 1, ProbeFrames.TCP_SYN, 7, 0)), "a SYN from outside to the node address");
        assertEquals(List.of(), send(n1.ofport(), ProbeFrames.frame(n1.nextHopMac(), n1.mac(), Ip.parse("8.8.8.8"), p.ips().get(0),
            ProbeFrames.PROTO_TCP, 443, 41002, ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK, 7, 2)), "straight to the pod address");
        assertEquals(List.of(), send(n1.ofport(), ProbeFrames.frame(n1.nextHopMac(), n1.mac(), Ip.parse("8.8.4.4"), n1.ip(),
            ProbeFrames.PROTO_TCP, 443, port, ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK, 7, 2)), "a reply from another host");
    }

    @Test
    void clusterAddressesNeverLeave()
    {
        final BridgeLayout.PodPort p = pod("plain/p");
        for (final String dst : List.of("172.18.0.3", "172.18.0.2", "10.96.0.10", "100.64.0.4", "10.244.2.99"))
        {
            assertEquals(List.of(), fromPod(p, dst, ProbeFrames.PROTO_TCP, 41003, 81, ProbeFrames.TCP_SYN), dst);
        }
        // The control: an outside address next to them does leave.
        outOf(fromPod(p, "172.18.0.77", ProbeFrames.PROTO_TCP, 41003, 81, ProbeFrames.TCP_SYN), gateway("n1"));
    }

    @ParameterizedTest(name = "{0} -> {1} {2}/{3}: {4}")
    @CsvSource({
        "shop/a, 203.0.113.10, TCP, 443, allowed",   // rule 0 (dnsName api.example.com) before rule 1
        "shop/a, 203.0.113.10, TCP, 80, denied",     // rule 1: the /24
        "shop/a, 203.0.113.11, TCP, 443, denied",    // rule 1: only the resolved address is rule 0's
        "shop/a, 198.51.100.5, TCP, 80, allowed",    // rule 2
        "shop/a, 198.51.100.5, TCP, 81, denied",     // rule 3
        "shop/a, 198.51.100.5, UDP, 80, denied",     // rule 2 is TCP only
        "shop/a, 192.0.2.1, UDP, 53, denied",        // rule 5
        "shop/a, 192.0.2.1, TCP, 53, allowed",       // no rule: allowed
        "shop/a, 8.8.8.8, UDP, 53, allowed",         // no rule
        "shop/b, 203.0.113.10, TCP, 80, denied",     // the other node's pod of the namespace too
        "plain/p, 203.0.113.10, TCP, 80, allowed",   // another namespace: no firewall
    })
    void egressFirewallFirstMatchWins(final String pod, final String dst, final String protocol, final int port, final String verdict)
    {
        final BridgeLayout.PodPort p = pod(pod);
        final boolean tcp = protocol.equals("TCP");
        final List<Object[]> out = fromPod(p, dst, tcp ? ProbeFrames.PROTO_TCP : ProbeFrames.PROTO_UDP, sourcePort++, port,
            tcp ? ProbeFrames.TCP_SYN : -1);
        if (verdict.equals("allowed"))
        {
            final byte[] f = outOf(out, gateway(p.pod().nodeName()));
            assertEquals(Ip.parse(dst), Frames.dst(f));
        }
        else
        {
            assertEquals(List.of(), out, "denied: nothing leaves");
        }
    }

    @Test
    void unresolvedDnsNameMatchesNothing() throws Exception
    {
        build(DnsResolver.NONE);
        assertTrue(compiled.notes().stream().anyMatch(n -> n.contains("api.example.com")), compiled.notes().toString());
        assertEquals(List.of(), fromPod(pod("shop/a"), "203.0.113.10", ProbeFrames.PROTO_TCP, 41004, 443, ProbeFrames.TCP_SYN),
            "rule 0 names nothing: rule 1 denies");
    }

    @Test
    void egressIpLeavesFromTheEgressNodeWithTheEgressIp()
    {
        final GatewayPort n2 = gateway("n2");
        final InetAddress egressIp = Ip.parse("172.18.0.100");
        for (final String name : List.of("eip/x", "eip/y"))
        {
            final BridgeLayout.PodPort p = pod(name);
            final byte[] f = outOf(fromPod(p, "8.8.8.8", ProbeFrames.PROTO_TCP, 41010, 443, ProbeFrames.TCP_SYN), n2);
            assertEquals(egressIp, Frames.src(f), name + " leaves with the egress IP");
            assertEquals(n2.mac(), Frames.mac(f, 6));
            Frames.assertChecksums(f);
            final List<Object[]> back = send(n2.ofport(), ProbeFrames.frame(n2.nextHopMac(), n2.mac(), Ip.parse("8.8.8.8"), egressIp,
                ProbeFrames.PROTO_TCP, 443, Frames.sport(f), ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK, 7, 2));
            assertEquals(1, back.size(), name + ": the reply to the egress IP comes back");
            assertEquals(p.ofport(), (int)(Integer)back.get(0)[0]);
            assertEquals(p.ips().get(0), Frames.dst((byte[])back.get(0)[1]));
        }
        // The firewall still applies first; another namespace's pod on n1 keeps its node's address.
        final byte[] plain = outOf(fromPod(pod("plain/p"), "8.8.8.8", ProbeFrames.PROTO_TCP, 41011, 443, ProbeFrames.TCP_SYN),
            gateway("n1"));
        assertNotNull(plain);
        assertEquals(Ip.parse("172.18.0.2"), Frames.src(plain));
    }

    /** Reading an untagged IPv4 frame. */
    static final class Frames
    {
        private Frames()
        {
        }

        static String mac(final byte[] f, final int at)
        {
            return HexFormat.ofDelimiter(":").formatHex(f, at, at + 6);
        }

        static InetAddress src(final byte[] f)
        {
            return Ip.of(Arrays.copyOfRange(f, 26, 30));
        }

        static InetAddress dst(final byte[] f)
        {
            return Ip.of(Arrays.copyOfRange(f, 30, 34));
        }

        static int ttl(final byte[] f)
        {
            return f[22] & 0xff;
        }

        static int sport(final byte[] f)
        {
            return u16(f, 34);
        }

        static int dport(final byte[] f)
        {
            return u16(f, 36);
        }

        /** The IPv4 header sums to 0xffff, and so does the TCP/UDP segment with its pseudo-header. */
        static void assertChecksums(final byte[] f)
        {
            final int ihl = (f[14] & 0x0f) * 4;
            assertEquals(0xffff, sum(f, 14, ihl, 0), "IPv4 header checksum");
            final int total = u16(f, 16);
            final int l4 = 14 + ihl;
            final int len = total - ihl;
            final long pseudo = sum(f, 26, 8, 0) + (f[23] & 0xff) + len;
            assertEquals(0xffff, sum(f, l4, len, pseudo), "L4 checksum");
        }

        static int sum(final byte[] b, final int off, final int len, final long start)
        {
            long s = start;
            for (int i = 0; i + 1 < len; i += 2)
            {
                s += u16(b, off + i);
            }
            if ((len & 1) != 0)
            {
                s += (b[off + len - 1] & 0xff) << 8;
            }
            while (s >>> 16 != 0)
            {
                s = (s & 0xffff) + (s >>> 16);
            }
            return (int)s;
        }

        static int u16(final byte[] f, final int at)
        {
            return (f[at] & 0xff) << 8 | (f[at + 1] & 0xff);
        }
    }
}
