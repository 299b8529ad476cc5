package dev.junction.control.probe;

import dev.junction.control.cli.TunnelsFile;
import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.ManifestLoader;
import dev.junction.datapath.Bridge;
import dev.junction.datapath.Datapath;
import dev.junction.datapath.cache.CacheConfig;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.TunMetadataSlots;
import dev.junction.flowtable.ofp.FlowParser;
import dev.junction.flowtable.ofp.FlowTables;
import dev.junction.flowtable.ofp.GroupParser;
import dev.junction.flowtable.ofp.GroupTable;
import dev.junction.geneve.Tunnels;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two nodes, each running only its own bridge's flows ({@link FlowCompiler#node}), joined by a
 * Geneve underlay: what one node's tunnel port sends (encapsulated by the datapath, VNI and
 * OVN's option set by the flows) is received on the other node's underlay port. Pod to pod
 * across nodes, replies back, a service whose backend is on the other node (un-DNAT on the
 * client's node), and a NetworkPolicy enforced at the destination's node.
 */
class TwoNodeOverlayTest
{
    private static final Path MANIFESTS = Path.of("src/test/resources/manifests/services");
    private static final int UNDERLAY = 16385;

    /** One node: its compiled bridge and datapath, and what its pod ports sent. */
    private final class Node
    {
        final String name;
        final FlowCompiler.Compiled compiled;
        final Datapath datapath;
        final List<int[]> sentPorts = new ArrayList<>();
        final List<byte[]> sent = new ArrayList<>();
        Node peer;

        Node(final ClusterModel model, final String name, final String ip, final String peerIp, final String mac,
            final String peerMac) throws Exception
        {
            this.name = name;
            compiled = FlowCompiler.node(model, name);
            final GroupTable groups = new GroupParser("groups").parseAll(compiled.groups());
            final Tunnels tunnels = TunnelsFile.parse(Map.of(
                "underlay", Map.of("port", UNDERLAY, "mac", mac, "ip", ip + "/16"),
                "neighbours", List.of(Map.of("ip", peerIp, "mac", peerMac)),
                "tunnels", List.of(Map.of("port", BridgeLayout.TUNNEL_OFPORT, "type", "geneve", "remote_ip", "flow",
                    "key", "flow", "csum", true)),
                "tlv_map", List.of("{class=0x102,type=0x80,len=4}->tun_metadata0")));
            final TunMetadataSlots slots = tunnels.tlvMap().slots();
            final FlowTables tables = new FlowTables(new FlowParser(name).groups(groups).tunMetadata(slots)
                .parseAll(compiled.flows().lines()), groups);
            final int[] ports = IntStream.concat(Arrays.stream(compiled.layout().ofports()), IntStream.of(UNDERLAY)).toArray();
            datapath = new Datapath(new Bridge(tables).tunnels(tunnels), ports, (port, p) ->
            {
                final byte[] frame = Arrays.copyOfRange(p.buf, p.start, p.end());
                if (port == UNDERLAY)
                {
                    wire.add(new Object[] {peer, frame});
                }
                else
                {
                    sentPorts.add(new int[] {port});
                    sent.add(frame);
                }
            }, Datapath.DEFAULT_MTU, 1, CacheConfig.DEFAULTS, System::nanoTime);
        }

        BridgeLayout.PodPort pod(final String n)
        {
            return compiled.layout().port("shop/" + n).orElseThrow();
        }
    }

    private final ArrayDeque<Object[]> wire = new ArrayDeque<>();
    private Node n1;
    private Node n2;

    @BeforeEach
    void nodes() throws Exception
    {
        final ManifestLoader.Result r = ManifestLoader.load(MANIFESTS);
        assertEquals(List.of(), r.report().problems());
        n1 = new Node(r.model(), "n1", "172.18.0.2", "172.18.0.3", "aa:55:aa:55:00:02", "aa:55:aa:55:00:03");
        n2 = new Node(r.model(), "n2", "172.18.0.3", "172.18.0.2", "aa:55:aa:55:00:03", "aa:55:aa:55:00:02");
        n1.peer = n2;
        n2.peer = n1;
    }

    /** Injects a frame on a pod port of {@code node}, carries underlay frames across until quiet. */
    private void send(final Node node, final BridgeLayout.PodPort from, final byte[] frame)
    {
        for (final Node n : List.of(n1, n2))
        {
            n.sent.clear();
            n.sentPorts.clear();
        }
        receive(node, from.ofport(), frame);
        for (int hops = 0; !wire.isEmpty() && hops < 100; hops++)
        {
            final Object[] w = wire.poll();
            receive((Node)w[0], UNDERLAY, (byte[])w[1]);
        }
        assertTrue(wire.isEmpty(), "no underlay loop");
    }

    private static void receive(final Node node, final int port, final byte[] frame)
    {
        final Packet p = new Packet(frame.length + Packet.HEADROOM);
        p.wrap(frame, 0, frame.length);
        p.inPort = port;
        node.datapath.receive(p, null);
    }

    /** The frame {@code node}'s pod port sent with these addresses and ports, or null. */
    private static byte[] got(final Node node, final BridgeLayout.PodPort port, final InetAddress src, final InetAddress dst,
        final int sport, final int dport)
    {
        for (int i = 0; i < node.sent.size(); i++)
        {
            final byte[] f = node.sent.get(i);
            if (node.sentPorts.get(i)[0] == port.ofport() && Arrays.equals(f, 26, 30, src.getAddress(), 0, 4)
                && Arrays.equals(f, 30, 34, dst.getAddress(), 0, 4)
                && ((f[34] & 0xff) << 8 | (f[35] & 0xff)) == sport && ((f[36] & 0xff) << 8 | (f[37] & 0xff)) == dport)
            {
                return f;
            }
        }
        return null;
    }

    private static byte[] tcp(final BridgeLayout.PodPort from, final String dstMac, final InetAddress src, final InetAddress dst,
        final int sport, final int dport, final int flags, final long seq, final long ack)
    {
        return ProbeFrames.frame(from.mac(), dstMac, src, dst, ProbeFrames.PROTO_TCP, sport, dport, flags, seq, ack);
    }

    /** A TCP handshake from {@code client} on n1 to {@code server} on n2 (pod addresses); true when all three arrive. */
    private boolean handshake(final Node cn, final String client, final Node sn, final String server, final int port, final int sport)
    {
        final BridgeLayout.PodPort c = cn.pod(client);
        final BridgeLayout.PodPort s = sn.pod(server);
        final InetAddress ci = c.ips().get(0);
        final InetAddress si = s.ips().get(0);
        send(cn, c, tcp(c, c.sw().gatewayMac(), ci, si, sport, port, ProbeFrames.TCP_SYN, 1, 0));
        if (got(sn, s, ci, si, sport, port) == null)
        {
            return false;
        }
        send(sn, s, tcp(s, s.sw().gatewayMac(), si, ci, port, sport, ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK, 9, 2));
        if (got(cn, c, si, ci, port, sport) == null)
        {
            return false;
        }
        send(cn, c, tcp(c, c.sw().gatewayMac(), ci, si, sport, port, ProbeFrames.TCP_ACK, 2, 10));
        return got(sn, s, ci, si, sport, port) != null;
    }

    @Test
    void podToPodAcrossNodesAndBack()
    {
        // client-1 (n1) may reach web pods; web-2 is on n2.
        assertTrue(handshake(n1, "client-1", n2, "web-2", 8080, 41000), "client-1 -> web-2 over Geneve");
        final byte[] delivered = got(n2, n2.pod("web-2"), n1.pod("client-1").ips().get(0), n2.pod("web-2").ips().get(0), 41000, 8080);
        assertEquals(n2.pod("web-2").sw().gatewayMac().replace(":", ""),
            java.util.HexFormat.of().formatHex(delivered, 6, 12), "routed: the source MAC is n2's router port");
        assertEquals(63, delivered[22] & 0xff, "one router hop: TTL 64 -> 63");
    }

    @Test
    void policyEnforcedAtTheDestinationNode()
    {
        // client-2 (n2) is not allowed into web pods: web-1 on n1 drops it at its ingress ACL.
        assertTrue(!handshake(n2, "client-2", n1, "web-1", 8080, 41001), "client-2 -> web-1 denied");
        assertTrue(handshake(n1, "web-1", n2, "client-2", 8080, 41002), "client-2 isolates nothing: web-1 -> client-2 allowed");
    }

    @Test
    void serviceBackendOnTheOtherNode()
    {
        // internalTrafficPolicy Local is not it; "web" balances over web-1 (n1) and web-2 (n2).
        final BridgeLayout.PodPort c = n1.pod("client-1");
        final InetAddress ci = c.ips().get(0);
        final InetAddress vip = Ip.parse("10.96.0.10");
        boolean remote = false;
        for (int sport = 42000; sport < 42040 && !remote; sport++)
        {
            send(n1, c, tcp(c, c.sw().gatewayMac(), ci, vip, sport, 80, ProbeFrames.TCP_SYN, 1, 0));
            final BridgeLayout.PodPort w2 = n2.pod("web-2");
            final InetAddress wi = w2.ips().get(0);
            if (got(n2, w2, ci, wi, sport, 8080) == null)
            {
                continue;
            }
            remote = true;
            send(n2, w2, tcp(w2, w2.sw().gatewayMac(), wi, ci, 8080, sport, ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK, 9, 2));
            assertTrue(got(n1, c, vip, ci, 80, sport) != null, "the reply came back from the VIP (un-DNAT on n1)");
        }
        assertTrue(remote, "some connection went to web-2 on n2");
    }
}
