package dev.junction.control.probe;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.DnsResolver;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.flows.GatewayPort;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.ManifestLoader;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Dual-stack traffic to outside the cluster through the derived flows (manifests/egress-v6), by
 * packets, the IPv6 side of {@link EgressProbeTest}: a pod's IPv6 traffic is SNATed to its node's
 * IPv6 address with the hop limit decremented twice (ovn_cluster_router, GR_<node>) and leaves to
 * the next hop's static MAC; the reply is un-SNATed back to the pod; its IPv4 traffic still leaves
 * with the node's IPv4 address; cluster IPv6 addresses never leave; the EgressFirewall's IPv6 rules
 * (CIDR, port, dnsName resolved to an IPv6 address) decide; a dual-stack EgressIP moves the IPv6
 * traffic too.
 */
class EgressV6ProbeTest
{
    private static final Path MANIFESTS = Path.of("src/test/resources/manifests/egress-v6");
    private static final DnsResolver DNS = DnsResolver.of(Map.of("api.example.com",
        List.of(Ip.parse("203.0.113.10"), Ip.parse("2001:db8:113::10"))));
    private static final String WORLD = "2001:4860:4860::8888";

    private OneBridge bench;
    private int sourcePort = 42000;

    @BeforeEach
    void compile() throws Exception
    {
        final ManifestLoader.Result r = ManifestLoader.load(MANIFESTS);
        assertEquals(List.of(), r.report().problems());
        bench = new OneBridge(FlowCompiler.cluster(r.model(), DNS));
    }

    @Test
    void podsIpv6TrafficLeavesWithTheNodesIpv6AddressAndItsIpv4TrafficWithTheIpv4One()
    {
        final BridgeLayout.PodPort p = bench.pod("plain/p");
        final GatewayPort n1 = bench.gateway("n1");
        final byte[] f = OneBridge.outOf(bench.fromPod(p, WORLD, ProbeFrames.PROTO_TCP, 41000, 443, ProbeFrames.TCP_SYN), n1);
        assertEquals("02:42:ac:12:00:01", EgressProbeTest.Frames.mac(f, 0), "to the next hop's static MAC (annotation)");
        assertEquals("02:42:ac:12:00:02", EgressProbeTest.Frames.mac(f, 6), "from the node's br-ex MAC (l3-gateway-config)");
        assertEquals(0x86dd, V6.u16(f, 12));
        assertEquals(Ip.parse("fc00:f853::2"), V6.src(f), "SNAT to the node's IPv6 address (l3-gateway-config)");
        assertEquals(Ip.parse(WORLD), V6.dst(f));
        assertEquals(41000, V6.sport(f), "the source port is free: kept");
        assertEquals(62, V6.hopLimit(f), "two router hops (ovn_cluster_router, GR_n1): 64 -> 62");
        V6.assertChecksum(f);

        // The same pod's IPv4: the IPv4 address, as before.
        final byte[] g = OneBridge.outOf(bench.fromPod(p, "8.8.8.8", ProbeFrames.PROTO_TCP, 41000, 443, ProbeFrames.TCP_SYN), n1);
        assertEquals(Ip.parse("172.18.0.2"), EgressProbeTest.Frames.src(g));
        assertEquals(62, EgressProbeTest.Frames.ttl(g));

        // n3 has no l3-gateway-config: its IPv6 InternalIP, OVN-K's MAC of the next hop's address (first host of the /64).
        final GatewayPort n3 = bench.gateway("n3");
        final byte[] h = OneBridge.outOf(bench.fromPod(bench.pod("plain/r"), WORLD, ProbeFrames.PROTO_UDP, 41001, 53, -1), n3);
        assertEquals(Ip.parse("fc00:f853::4"), V6.src(h));
        assertEquals(n3.nextHopMac(true), EgressProbeTest.Frames.mac(h, 0));
        assertEquals(Ip.parse("fc00:f853::1"), n3.nextHop(true));
        V6.assertChecksum(h);
    }

    @Test
    void replyIsUnSnatedBackToThePodAndUnaskedIpv6IsNot()
    {
        final BridgeLayout.PodPort p = bench.pod("plain/p");
        final GatewayPort n1 = bench.gateway("n1");
        final byte[] syn = OneBridge.outOf(bench.fromPod(p, WORLD, ProbeFrames.PROTO_TCP, 41002, 443, ProbeFrames.TCP_SYN), n1);
        final int port = V6.sport(syn);
        final String nh = n1.nextHopMac(true);
        final List<Object[]> back = bench.send(n1.ofport(), ProbeFrames.frame(nh, n1.mac(), Ip.parse(WORLD), n1.ip6(),
            ProbeFrames.PROTO_TCP, 443, port, ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK, 7, 2));
        assertEquals(1, back.size(), "the reply is delivered once");
        assertEquals(p.ofport(), (int)(Integer)back.get(0)[0], "to the pod that connected");
        final byte[] f = (byte[])back.get(0)[1];
        assertEquals(p.ip(true).orElseThrow(), V6.dst(f), "un-SNATed");
        assertEquals(41002, V6.dport(f));
        assertEquals(Ip.parse(WORLD), V6.src(f));
        assertEquals(p.mac(), EgressProbeTest.Frames.mac(f, 0));
        assertEquals(p.sw().gatewayMac(), EgressProbeTest.Frames.mac(f, 6), "routed by ovn_cluster_router");
        assertEquals(62, V6.hopLimit(f), "GR_n1 and ovn_cluster_router: 64 -> 62");
        V6.assertChecksum(f);
        OneBridge.outOf(bench.fromPod(p, WORLD, ProbeFrames.PROTO_TCP, 41002, 443, ProbeFrames.TCP_ACK), n1);

        assertEquals(List.of(), bench.send(n1.ofport(), ProbeFrames.frame(nh, n1.mac(), Ip.parse(WORLD), n1.ip6(), ProbeFrames.PROTO_TCP,
            443, port + 1, ProbeFrames.TCP_SYN, 7, 0)), "a SYN from outside to the node's IPv6 address");
        assertEquals(List.of(), bench.send(n1.ofport(), ProbeFrames.frame(nh, n1.mac(), Ip.parse(WORLD), p.ip(true).orElseThrow(),
            ProbeFrames.PROTO_TCP, 443, 41002, ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK, 7, 2)), "straight to the pod address");
    }

    @Test
    void clusterIpv6AddressesNeverLeave()
    {
        final BridgeLayout.PodPort p = bench.pod("plain/p");
        for (final String dst : List.of("fc00:f853::3", "fc00:f853::2", "fd00:10:96::10", "fd98::4", "fd00:10:244:2::99",
            "fe80::1", "ff0e::1"))
        {
            assertEquals(List.of(), bench.fromPod(p, dst, ProbeFrames.PROTO_TCP, 41003, 81, ProbeFrames.TCP_SYN), dst);
        }
        OneBridge.outOf(bench.fromPod(p, "fc00:f853::77", ProbeFrames.PROTO_TCP, 41003, 81, ProbeFrames.TCP_SYN), bench.gateway("n1"));
    }

    @ParameterizedTest(name = "{0} -> {1} {2}/{3}: {4}")
    @CsvSource({
        "shop/a, 2001:db8:113::10, TCP, 443, allowed",   // rule 0: api.example.com's IPv6 answer
        "shop/a, 203.0.113.10, TCP, 443, allowed",       // rule 0: its IPv4 answer
        "shop/a, 2001:db8:113::10, TCP, 80, denied",     // rule 1: the IPv6 /64
        "shop/a, 2001:db8:113::11, TCP, 443, denied",    // rule 1: only the resolved address is rule 0's
        "shop/a, 203.0.113.11, TCP, 443, denied",        // rule 2: the IPv4 /24
        "shop/a, 2001:db8:100::5, TCP, 80, allowed",     // rule 3
        "shop/a, 2001:db8:100::5, TCP, 81, denied",      // rule 4
        "shop/a, 2001:db8:100::5, UDP, 80, denied",      // rule 3 is TCP only
        "shop/a, 2001:db8:2::1, UDP, 53, denied",        // rule 5
        "shop/a, 2001:db8:2::1, TCP, 53, allowed",       // no rule
        "shop/a, 2001:4860:4860::8888, UDP, 53, allowed",
        "plain/p, 2001:db8:113::10, TCP, 80, allowed",   // another namespace: no firewall
    })
    void egressFirewallIpv6RulesFirstMatchWins(final String pod, final String dst, final String protocol, final int port,
        final String verdict)
    {
        final BridgeLayout.PodPort p = bench.pod(pod);
        final boolean tcp = protocol.equals("TCP");
        final List<Object[]> out = bench.fromPod(p, dst, tcp ? ProbeFrames.PROTO_TCP : ProbeFrames.PROTO_UDP, sourcePort++, port,
            tcp ? ProbeFrames.TCP_SYN : -1);
        if (verdict.equals("allowed"))
        {
            OneBridge.outOf(out, bench.gateway(p.pod().nodeName()));
        }
        else
        {
            assertEquals(List.of(), out, "denied: nothing leaves");
        }
    }

    @Test
    void dualStackEgressIpMovesBothFamilies()
    {
        final GatewayPort n3 = bench.gateway("n3");
        for (final String name : List.of("eip/x", "eip/y"))
        {
            final BridgeLayout.PodPort p = bench.pod(name);
            final byte[] f = OneBridge.outOf(bench.fromPod(p, WORLD, ProbeFrames.PROTO_TCP, 41010, 443, ProbeFrames.TCP_SYN), n3);
            assertEquals(Ip.parse("fc00:f853::100"), V6.src(f), name + " leaves with the IPv6 egress IP");
            assertEquals(n3.mac(), EgressProbeTest.Frames.mac(f, 6));
            V6.assertChecksum(f);
            final List<Object[]> back = bench.send(n3.ofport(), ProbeFrames.frame(n3.nextHopMac(true), n3.mac(), Ip.parse(WORLD),
                Ip.parse("fc00:f853::100"), ProbeFrames.PROTO_TCP, 443, V6.sport(f), ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK, 7, 2));
            assertEquals(1, back.size(), name + ": the reply to the egress IP comes back");
            assertEquals(p.ofport(), (int)(Integer)back.get(0)[0]);
            assertEquals(p.ip(true).orElseThrow(), V6.dst((byte[])back.get(0)[1]));
            final byte[] g = OneBridge.outOf(bench.fromPod(p, "8.8.8.8", ProbeFrames.PROTO_TCP, 41011, 443, ProbeFrames.TCP_SYN), n3);
            assertEquals(Ip.parse("172.18.0.100"), EgressProbeTest.Frames.src(g), name + " leaves with the IPv4 egress IP");
        }
    }

    /** Reading an untagged IPv6 frame. */
    static final class V6
    {
        private V6()
        {
        }

        static InetAddress src(final byte[] f)
        {
            return Ip.of(Arrays.copyOfRange(f, 22, 38));
        }

        static InetAddress dst(final byte[] f)
        {
            return Ip.of(Arrays.copyOfRange(f, 38, 54));
        }

        static int hopLimit(final byte[] f)
        {
            return f[21] & 0xff;
        }

        static int sport(final byte[] f)
        {
            return u16(f, 54);
        }

        static int dport(final byte[] f)
        {
            return u16(f, 56);
        }

        /** The TCP/UDP segment with the IPv6 pseudo-header sums to 0xffff. */
        static void assertChecksum(final byte[] f)
        {
            final int len = u16(f, 18);
            long s = (f[20] & 0xff) + len;
            for (int i = 22; i < 54 + len; i += 2)
            {
                s += u16(f, i);
            }
            while (s >>> 16 != 0)
            {
                s = (s & 0xffff) + (s >>> 16);
            }
            assertEquals(0xffff, s, "L4 checksum with the IPv6 pseudo-header");
        }

        static int u16(final byte[] f, final int at)
        {
            return (f[at] & 0xff) << 8 | (at + 1 < f.length ? f[at + 1] & 0xff : 0);
        }
    }
}
