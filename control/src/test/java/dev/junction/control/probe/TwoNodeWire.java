package dev.junction.control.probe;

import dev.junction.control.cli.TunnelsFile;
import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.DnsResolver;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.flows.GatewayPort;
import dev.junction.control.k8s.ClusterModel;
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
 * Two nodes (n1 at 172.18.0.2, n2 at 172.18.0.3, or other underlay addresses: IPv6 for IPv6-only
 * nodes), each running only its own bridge's flows
 * ({@link FlowCompiler#node}), joined by a Geneve underlay: what one node's tunnel port sends
 * (encapsulated by the datapath, VNI and OVN's option set by the flows) is received on the other
 * node's underlay port. Every other port's output is recorded per node.
 */
final class TwoNodeWire
{
    static final int UNDERLAY = 16385;

    /** One node: its compiled bridge and datapath, and what its other ports (pods, external) sent. */
    final class Node
    {
        final String name;
        final FlowCompiler.Compiled compiled;
        final Datapath datapath;
        final List<int[]> sentPorts = new ArrayList<>();
        final List<byte[]> sent = new ArrayList<>();
        Node peer;

        Node(final ClusterModel model, final DnsResolver dns, final String name, final String ip, final int prefix,
            final String peerIp, final String mac, final String peerMac) throws Exception
        {
            this.name = name;
            compiled = FlowCompiler.node(model, name, dns);
            final GroupTable groups = new GroupParser("groups").parseAll(compiled.groups());
            final Tunnels tunnels = TunnelsFile.parse(Map.of(
                "underlay", Map.of("port", UNDERLAY, "mac", mac, "ip", ip + "/" + prefix),
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

        BridgeLayout.PodPort pod(final String key)
        {
            return compiled.layout().port(key).orElseThrow();
        }

        /** This node's own gateway router, with its external port on this bridge. */
        GatewayPort gateway()
        {
            return compiled.layout().gateway(name).orElseThrow();
        }

        /** The one frame this node sent in the last {@link #send}, which must be out of {@code port}. */
        byte[] onlyOut(final int port, final String what)
        {
            assertEquals(1, sent.size(), what + ": " + name + " sent one frame");
            assertEquals(port, sentPorts.get(0)[0], what + ": out of port " + port);
            return sent.get(0);
        }
    }

    private final ArrayDeque<Object[]> wire = new ArrayDeque<>();
    final Node n1;
    final Node n2;

    TwoNodeWire(final ClusterModel model, final DnsResolver dns) throws Exception
    {
        this(model, dns, "172.18.0.2", "172.18.0.3", 16);
    }

    /** n1 and n2 with these underlay addresses (the nodes' InternalIPs the tunnel flows name) on one prefix. */
    TwoNodeWire(final ClusterModel model, final DnsResolver dns, final String ip1, final String ip2, final int prefix)
        throws Exception
    {
        n1 = new Node(model, dns, "n1", ip1, prefix, ip2, "aa:55:aa:55:00:02", "aa:55:aa:55:00:03");
        n2 = new Node(model, dns, "n2", ip2, prefix, ip1, "aa:55:aa:55:00:03", "aa:55:aa:55:00:02");
        n1.peer = n2;
        n2.peer = n1;
    }

    /** The two nodes of the manifests in {@code dir}, which must load without problems. */
    static TwoNodeWire of(final Path dir, final DnsResolver dns) throws Exception
    {
        final ManifestLoader.Result r = ManifestLoader.load(dir);
        assertEquals(List.of(), r.report().problems());
        return new TwoNodeWire(r.model(), dns);
    }

    /** Injects a frame on {@code port} of {@code node}, carries underlay frames across until quiet. */
    void send(final Node node, final int port, final byte[] frame)
    {
        for (final Node n : List.of(n1, n2))
        {
            n.sent.clear();
            n.sentPorts.clear();
        }
        receive(node, port, frame);
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
}
