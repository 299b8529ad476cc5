package dev.junction.control.probe;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.flows.GatewayPort;
import dev.junction.control.flows.Stage;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.ManifestLoader;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static dev.junction.control.probe.EgressProbeTest.Frames;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ClientIP affinity and ICMP errors on the gateway routers' load balancers, by packets on one
 * bridge (manifests/nodeport, services shop/sticky and shop/sticky-local, timeoutSeconds 10):
 * an outside client's connections stick to one backend until 10 s after its last packet to the
 * VIP, per router; ICMP errors about a DNATed and SNATed connection reach the other side with the
 * quoted packet translated back. Virtual time, as the datapath runs on packet time.
 */
class NodePortAffinityTest
{
    private static final String CLIENT_MAC = "02:00:00:00:00:99";
    private static final String CLIENT = "8.8.8.8";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final int PROTO_ICMP = 1;

    private OneBridge bridge;

    @BeforeEach
    void compile() throws Exception
    {
        final ManifestLoader.Result r = ManifestLoader.load(NodePortProbeTest.MANIFESTS);
        assertEquals(List.of(), r.report().problems());
        bridge = new OneBridge(FlowCompiler.cluster(r.model()));
    }

    /** What a frame in on a router's external port delivered to a pod: the pod and the frame. */
    private record Delivered(BridgeLayout.PodPort pod, byte[] frame)
    {
    }

    private Delivered fromOutside(final GatewayPort gw, final String client, final String vip, final int proto, final int sport,
        final int dport, final int flags)
    {
        return delivered(bridge.send(gw.ofport(), ProbeFrames.frame(CLIENT_MAC, gw.mac(), Ip.parse(client), Ip.parse(vip), proto,
            sport, dport, flags, 1, 0)), "from " + client + ":" + sport + " to " + vip + ":" + dport);
    }

    private Delivered delivered(final List<Object[]> out, final String what)
    {
        assertEquals(1, out.size(), what + ": exactly one frame out");
        final int port = (Integer)out.get(0)[0];
        final BridgeLayout.PodPort pod = bridge.compiled.layout().ports().stream().filter(p -> p.ofport() == port).findFirst()
            .orElseThrow(() -> new AssertionError(what + ": out of port " + port + ", no pod's"));
        return new Delivered(pod, (byte[])out.get(0)[1]);
    }

    private String connect(final GatewayPort gw, final String vip, final int port, final int sport)
    {
        return fromOutside(gw, CLIENT, vip, ProbeFrames.PROTO_TCP, sport, port, ProbeFrames.TCP_SYN).pod().name();
    }

    @Test
    void tenConnectionsOfOneClientGoToOneBackendThenBalancedAgainAfterTimeout()
    {
        final GatewayPort n1 = bridge.gateway("n1");
        final Set<String> first = new TreeSet<>();
        for (int i = 0; i < 10; i++)
        {
            first.add(connect(n1, "172.18.0.2", 30090, 51000 + i));
        }
        assertEquals(1, first.size(), "10 connections from one client to n1's node port: one backend " + first);
        // The control: ten clients without a learned backend each are balanced over the three.
        final Set<String> others = new TreeSet<>();
        for (int i = 0; i < 10; i++)
        {
            others.add(fromOutside(n1, "203.0.113." + (10 + i), "172.18.0.2", ProbeFrames.PROTO_TCP, 51000, 30090,
                ProbeFrames.TCP_SYN).pod().name());
        }
        assertTrue(others.size() > 1, "the select group balances other clients: " + others);
        // After timeoutSeconds of silence the next connection is balanced again; within a round it sticks.
        final Set<String> chosen = new TreeSet<>(first);
        for (int round = 0; round < 30 && chosen.size() < 3; round++)
        {
            bridge.advance(TIMEOUT.plusSeconds(1));
            final Set<String> inRound = new TreeSet<>();
            for (int i = 0; i < 3; i++)
            {
                inRound.add(connect(n1, "172.18.0.2", 30090, 52000 + round * 3 + i));
            }
            assertEquals(1, inRound.size(), "sticky within a round: " + inRound);
            chosen.addAll(inRound);
        }
        assertEquals(Set.of("shop/s1", "shop/s2", "shop/s3"), chosen, "rebalanced after the timeout");
        assertTrue(bridge.datapath().expiredRules() > 0, "the learned backends expired");
    }

    @Test
    void affinityTimerCountsFromTheClientsLastPacket()
    {
        final GatewayPort n2 = bridge.gateway("n2");
        final GatewayPort n1 = bridge.gateway("n1");
        final Delivered syn = fromOutside(n2, CLIENT, "192.0.2.90", ProbeFrames.PROTO_TCP, 53000, 80, ProbeFrames.TCP_SYN);
        final BridgeLayout.PodPort backend = syn.pod();
        // The backend's SYN-ACK to GR_n2's join IP leaves to the client: the connection is established.
        final byte[] synAck = OneBridge.outOf(bridge.send(backend.ofport(), ProbeFrames.frame(backend.mac(), backend.sw().gatewayMac(),
            Frames.dst(syn.frame()), Frames.src(syn.frame()), ProbeFrames.PROTO_TCP, 8080, Frames.sport(syn.frame()),
            ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK, 1, 2)), n2);
        assertEquals(Ip.parse("192.0.2.90"), Frames.src(synAck));
        // 24 s of a busy connection, a packet every 4 s: the learned backend never goes 10 s idle.
        for (int i = 0; i < 6; i++)
        {
            bridge.advance(Duration.ofSeconds(4));
            assertEquals(backend.name(), fromOutside(n2, CLIENT, "192.0.2.90", ProbeFrames.PROTO_TCP, 53000, 80, ProbeFrames.TCP_ACK)
                .pod().name(), "the open connection keeps its backend");
        }
        assertEquals(0, bridge.datapath().expiredRules(), "no learned backend expired while the client was busy");
        final int learned = Stage.GATEWAY_AFFINITY_CHECK.table;
        assertEquals(2, bridge.datapath().tables().ruleCount(learned), "the default rule and the client's learned backend");
        for (int i = 0; i < 5; i++)
        {
            assertEquals(backend.name(), connect(n2, "192.0.2.90", 80, 53001 + i), "still sticky 24 s after the first connection");
        }
        // The same external IP through GR_n1 is another router's load balancer: its own learned flow.
        connect(n1, "192.0.2.90", 80, 53010);
        assertEquals(3, bridge.datapath().tables().ruleCount(learned), "one learned backend per router");
        // The control: 11 s of silence and the learned flows are gone at the next packet.
        bridge.advance(TIMEOUT.plusSeconds(1));
        connect(n2, "192.0.2.90", 80, 53020);
        assertEquals(2, bridge.datapath().expiredRules(), "both expired after timeoutSeconds of silence");
    }

    @Test
    void externalTrafficPolicyLocalSticksToTheRoutersOwnBackends()
    {
        final GatewayPort n1 = bridge.gateway("n1");
        final GatewayPort n2 = bridge.gateway("n2");
        final Delivered first = fromOutside(n1, CLIENT, "198.51.100.8", ProbeFrames.PROTO_TCP, 54000, 80, ProbeFrames.TCP_SYN);
        assertTrue(Set.of("shop/s1", "shop/s3").contains(first.pod().name()), "a backend on n1: " + first.pod().name());
        assertEquals(Ip.parse(CLIENT), Frames.src(first.frame()), "the client's address preserved");
        for (int i = 1; i < 8; i++)
        {
            assertEquals(first.pod().name(), connect(n1, "198.51.100.8", 80, 54000 + i), "sticky on GR_n1");
        }
        // GR_n2 has only s2: a client learned on GR_n1 is not sent to n1's backends through it.
        for (int i = 0; i < 4; i++)
        {
            assertEquals("shop/s2", connect(n2, "198.51.100.8", 80, 54100 + i), "GR_n2's own backend");
        }
    }

    @Test
    void backendsIcmpErrorReachesTheClientUnNated()
    {
        final GatewayPort n1 = bridge.gateway("n1");
        final Delivered in = fromOutside(n1, CLIENT, "172.18.0.2", ProbeFrames.PROTO_UDP, 5000, 30091, -1);
        final BridgeLayout.PodPort b = in.pod();
        assertEquals(Ip.parse("100.64.0.2"), Frames.src(in.frame()), "SNATed to GR_n1's join IP");
        // The backend's port unreachable about the datagram as it arrived (to the join IP).
        final byte[] error = OneBridge.outOf(bridge.send(b.ofport(), icmpError(b.mac(), b.sw().gatewayMac(), b.ips().get(0),
            Frames.src(in.frame()), 3, 3, 0, in.frame())), n1);
        assertEquals(Ip.parse("172.18.0.2"), Frames.src(error), "from the node port's address, un-DNATed");
        assertEquals(Ip.parse(CLIENT), Frames.dst(error), "to the client, un-SNATed");
        assertEquals(CLIENT_MAC, Frames.mac(error, 0), "to the MAC the connection came from");
        assertEquals(n1.mac(), Frames.mac(error, 6));
        assertEquals(62, Frames.ttl(error), "ovn_cluster_router and GR_n1");
        assertIcmp(error, 3, 3);
        assertEquals(Ip.parse(CLIENT), innerSrc(error), "the quoted datagram: from the client");
        assertEquals(5000, innerSport(error));
        assertEquals(Ip.parse("172.18.0.2"), innerDst(error), "to the node port, as the client sent it");
        assertEquals(30091, innerDport(error));

        // Externally Local: the backend sends its error to the client itself.
        final Delivered local = fromOutside(n1, CLIENT, "198.51.100.8", ProbeFrames.PROTO_TCP, 5001, 80, ProbeFrames.TCP_SYN);
        final BridgeLayout.PodPort l = local.pod();
        final byte[] localError = OneBridge.outOf(bridge.send(l.ofport(), icmpError(l.mac(), l.sw().gatewayMac(), l.ips().get(0),
            Ip.parse(CLIENT), 3, 1, 0, local.frame())), n1);
        assertEquals(Ip.parse("198.51.100.8"), Frames.src(localError), "from the LB ingress IP, not SNATed to the node");
        assertEquals(Ip.parse(CLIENT), Frames.dst(localError));
        assertIcmp(localError, 3, 1);
        assertEquals(Ip.parse("198.51.100.8"), innerDst(localError));
        assertEquals(80, innerDport(localError));
    }

    @Test
    void outsideIcmpErrorReachesTheBackendTranslated()
    {
        final GatewayPort n1 = bridge.gateway("n1");
        final Delivered in = fromOutside(n1, CLIENT, "172.18.0.2", ProbeFrames.PROTO_UDP, 5002, 30091, -1);
        final BridgeLayout.PodPort b = in.pod();
        final InetAddress join = Frames.src(in.frame());
        final byte[] reply = OneBridge.outOf(bridge.send(b.ofport(), ProbeFrames.frame(b.mac(), b.sw().gatewayMac(), b.ips().get(0),
            join, ProbeFrames.PROTO_UDP, 5353, Frames.sport(in.frame()), -1, 0, 0)), n1);
        assertEquals(30091, Frames.sport(reply));
        // A router on the client's path: fragmentation needed (MTU 1400) about the reply, to the node port's address.
        final Delivered error = delivered(bridge.send(n1.ofport(), icmpError(CLIENT_MAC, n1.mac(), Ip.parse("192.0.2.254"),
            Ip.parse("172.18.0.2"), 3, 4, 1400, reply)), "the outside router's error");
        assertEquals(b.name(), error.pod().name(), "to the backend of the connection");
        final byte[] f = error.frame();
        assertEquals(join, Frames.src(f), "SNATed to GR_n1's join IP, as the connection");
        assertEquals(b.ips().get(0), Frames.dst(f), "DNATed to the backend");
        assertIcmp(f, 3, 4);
        assertEquals(1400, u16(f, 40), "the next hop's MTU kept");
        assertEquals(b.ips().get(0), innerSrc(f), "the quoted reply: as the backend sent it");
        assertEquals(5353, innerSport(f));
        assertEquals(join, innerDst(f));
        assertEquals(Frames.sport(in.frame()), innerDport(f));

        // The control: an error about no connection of the router's stays out.
        final byte[] stranger = ProbeFrames.frame(n1.mac(), CLIENT_MAC, Ip.parse("172.18.0.2"), Ip.parse("9.9.9.9"),
            ProbeFrames.PROTO_UDP, 30091, 7000, -1, 0, 0);
        assertEquals(List.of(), bridge.send(n1.ofport(), icmpError(CLIENT_MAC, n1.mac(), Ip.parse("192.0.2.254"),
            Ip.parse("172.18.0.2"), 3, 4, 1400, stranger)), "unrelated");
    }

    /** An IPv4 ICMP error from {@code src} to {@code dst} quoting the IP packet of {@code about}. */
    static byte[] icmpError(final String srcMac, final String dstMac, final InetAddress src, final InetAddress dst, final int type,
        final int code, final int rest, final byte[] about)
    {
        final byte[] quoted = Arrays.copyOfRange(about, 14, 14 + u16(about, 16));
        final byte[] f = new byte[14 + 20 + 8 + quoted.length];
        final byte[] header = ProbeFrames.frame(srcMac, dstMac, src, dst, ProbeFrames.PROTO_UDP, 0, 0, -1, 0, 0);
        System.arraycopy(header, 0, f, 0, 34);
        put16(f, 16, f.length - 14);
        f[23] = PROTO_ICMP;
        put16(f, 24, 0);
        put16(f, 24, ~sum(f, 14, 20) & 0xffff);
        f[34] = (byte)type;
        f[35] = (byte)code;
        put16(f, 38, rest >>> 16);
        put16(f, 40, rest);
        System.arraycopy(quoted, 0, f, 42, quoted.length);
        put16(f, 36, ~sum(f, 34, f.length - 34) & 0xffff);
        return f;
    }

    /** Outer IPv4 header, ICMP message and quoted IPv4 header all sum to 0xffff. */
    private static void assertIcmp(final byte[] f, final int type, final int code)
    {
        assertEquals(PROTO_ICMP, f[23], "ICMP");
        assertEquals(type, f[34] & 0xff, "type");
        assertEquals(code, f[35] & 0xff, "code");
        assertEquals(0xffff, sum(f, 14, 20), "IPv4 header checksum");
        assertEquals(0xffff, sum(f, 34, u16(f, 16) - 20), "ICMP checksum");
        assertEquals(0xffff, sum(f, 42, 20), "quoted IPv4 header checksum");
    }

    private static InetAddress innerSrc(final byte[] f)
    {
        return Ip.of(Arrays.copyOfRange(f, 54, 58));
    }

    private static InetAddress innerDst(final byte[] f)
    {
        return Ip.of(Arrays.copyOfRange(f, 58, 62));
    }

    private static int innerSport(final byte[] f)
    {
        return u16(f, 62);
    }

    private static int innerDport(final byte[] f)
    {
        return u16(f, 64);
    }

    private static int sum(final byte[] b, final int off, final int len)
    {
        return Frames.sum(b, off, len, 0);
    }

    private static int u16(final byte[] f, final int at)
    {
        return Frames.u16(f, at);
    }

    private static void put16(final byte[] f, final int at, final int v)
    {
        f[at] = (byte)(v >>> 8);
        f[at + 1] = (byte)v;
    }
}
