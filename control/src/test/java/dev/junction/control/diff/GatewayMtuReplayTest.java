package dev.junction.control.diff;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.flows.GatewayPort;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.ManifestLoader;
import dev.junction.control.pinctrl.BigEndian;
import dev.junction.control.pinctrl.InternetChecksum;
import dev.junction.datapath.pcap.PcapWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway routers' MTU (OVN-K's gateway_mtu, 1400 by default) through {@code junction replay
 * --manifests ... --pinctrl}: what a router would send into the cluster larger than the MTU
 * (northd's check_pkt_larger(MTU + 18): the IP packet plus Ethernet and one VLAN tag) is answered
 * out of the external port with ICMP fragmentation needed (next-hop MTU 1400) or ICMPv6 packet too
 * big, decoded by tshark with every checksum verified; smaller ones reach the pod. Both ways in
 * are covered: a node port's DNAT (manifests/nodeport) and the replies of SNATed connections, IPv4
 * and IPv6 (manifests/egress-v6, dual stack). Without {@code --pinctrl} the large packets are
 * controller drops, as in OVS without ovn-controller; with {@code --mtu 0} nothing is checked.
 */
class GatewayMtuReplayTest
{
    private static final String CLIENT_MAC = "02:00:00:00:00:99";
    private static final InetAddress CLIENT4 = Ip.parse("198.51.100.7");
    private static final InetAddress CLIENT6 = Ip.parse("2001:db8::7");

    private Path dir;

    @BeforeEach
    void temp() throws Exception
    {
        dir = Files.createTempDirectory("junction-gateway-mtu-");
    }

    @AfterEach
    void clean() throws Exception
    {
        DifferentialOracleTest.deleteRecursively(dir);
    }

    @Test
    void nodePortPacketsOverTheMtuGetFragmentationNeededAndTheRestReachThePod() throws Exception
    {
        TunnelTsharkTest.requireTshark();
        final Path manifests = Path.of("src/test/resources/manifests/nodeport");
        final BridgeLayout layout = layout(manifests);
        final GatewayPort n1 = gateway(layout, "n1");
        final BridgeLayout.PodPort w2 = layout.port("shop/w2").orElseThrow();
        // IP lengths: 1404 makes a 1418-byte frame, the check's limit; 1405 is one byte over.
        final int[] lengths = {1500, 1400, 1404, 1405};
        final List<byte[]> frames = new ArrayList<>();
        for (int i = 0; i < lengths.length; i++)
        {
            frames.add(udp(CLIENT_MAC, n1.mac(), CLIENT4, n1.ip(), 41000 + i, 30053, lengths[i]));
        }
        final Map<Integer, Path> in = Map.of(n1.ofport(), pcap("in.pcap", frames, 0));

        final String output = replay(manifests, in, "out", "--pinctrl", "--json");
        assertTrue(output.contains("\"too_big\": 2}"), output);
        final List<String> rows = TunnelTsharkTest.tshark(dir.resolve("out/" + n1.ofport() + ".pcap"), "frame.len", "eth.src",
            "eth.dst", "ip.src", "ip.dst", "ip.ttl", "ip.checksum.status", "icmp.type", "icmp.code", "icmp.mtu",
            "icmp.checksum.status", "udp.srcport", "udp.dstport");
        // The quoted datagram as the client sent it (to the node port): its header and 534 bytes more, 576 in all
        // (RFC 1812); its ports decoded inside.
        assertEquals(List.of(
            "576|" + n1.mac() + "|" + CLIENT_MAC + "|172.18.0.2|198.51.100.7|255|1|3|4|1400|1|41000|30053",
            "576|" + n1.mac() + "|" + CLIENT_MAC + "|172.18.0.2|198.51.100.7|255|1|3|4|1400|1|41003|30053"), rows);
        assertEquals(List.of("1414|5353", "1418|5353"),
            TunnelTsharkTest.tshark(dir.resolve("out/" + w2.ofport() + ".pcap"), "frame.len", "udp.dstport"),
            "the packets within the MTU reach the backend, DNATed");

        final String plain = replay(manifests, in, "plain", "--json");
        assertTrue(plain.contains("\"controller\": 2"), "without a handler the larger ones are controller drops: " + plain);
        assertFalse(Files.exists(dir.resolve("plain/" + n1.ofport() + ".pcap")), "no answer without pinctrl");
        assertEquals(2, TunnelTsharkTest.tshark(dir.resolve("plain/" + w2.ofport() + ".pcap"), "frame.len").size());

        replay(manifests, in, "unchecked", "--pinctrl", "--mtu", "0");
        assertEquals(List.of("1514", "1414", "1418", "1419"),
            TunnelTsharkTest.tshark(dir.resolve("unchecked/" + w2.ofport() + ".pcap"), "frame.len"), "--mtu 0: no check");
    }

    @Test
    void repliesOverTheMtuGetFragmentationNeededOrPacketTooBigInBothFamilies() throws Exception
    {
        TunnelTsharkTest.requireTshark();
        final Path manifests = Path.of("src/test/resources/manifests/egress-v6");
        final BridgeLayout layout = layout(manifests);
        final GatewayPort n1 = gateway(layout, "n1");
        final BridgeLayout.PodPort p = layout.port("plain/p").orElseThrow();
        final String nextHop = n1.nextHopMac(false);
        final List<byte[]> fromPod = new ArrayList<>();
        final List<byte[]> replies = new ArrayList<>();
        for (final boolean v6 : new boolean[] {false, true})
        {
            final InetAddress client = v6 ? CLIENT6 : CLIENT4;
            fromPod.add(udp(p.mac(), p.sw().gatewayMac(), p.ip(v6).orElseThrow(), client, 40000, 53, 100));
            for (final int length : new int[] {1500, 1400})
            {
                replies.add(udp(nextHop, n1.mac(), client, n1.ip(v6), 53, 40000, length));
            }
        }
        final Map<Integer, Path> in = new TreeMap<>(Map.of(p.ofport(), pcap("pod.pcap", fromPod, 0),
            n1.ofport(), pcap("outside.pcap", replies, 1_000_000_000L)));

        final String output = replay(manifests, in, "out", "--pinctrl", "--json");
        assertTrue(output.contains("\"too_big\": 2}"), output);
        final List<String> rows = TunnelTsharkTest.tshark(dir.resolve("out/" + n1.ofport() + ".pcap"), "frame.len", "eth.src",
            "eth.dst", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "ip.checksum.status", "icmp.type", "icmp.code", "icmp.mtu",
            "icmp.checksum.status", "icmpv6.type", "icmpv6.code", "icmpv6.mtu", "icmpv6.checksum.status", "ipv6.hlim",
            "udp.srcport", "udp.dstport");
        final String gw = n1.mac() + "|" + nextHop + "|";
        // The pod's two datagrams leave SNATed, then one error per family; the quoted reply was un-SNATed (to the pod).
        assertEquals(4, rows.size(), String.join("\n", rows));
        assertEquals("576|" + gw + "172.18.0.2|198.51.100.7|||1|3|4|1400|1||||||53|40000", rows.get(2));
        // ICMPv6 packet too big: as much of the packet as fits in 1280 bytes with the Ethernet header (as OVN).
        assertEquals("1280|" + gw + "||fc00:f853::2|2001:db8::7||||||2|0|1400|1|255|53|40000", rows.get(3));
        assertEquals(List.of("1414|10.244.1.30|", "1414||fd00:10:244:1::30"),
            TunnelTsharkTest.tshark(dir.resolve("out/" + p.ofport() + ".pcap"), "frame.len", "ip.dst", "ipv6.dst"),
            "the replies within the MTU reach the pod");
    }

    private static BridgeLayout layout(final Path manifests)
    {
        final ManifestLoader.Result r = ManifestLoader.load(manifests);
        assertEquals(List.of(), r.report().problems());
        return FlowCompiler.cluster(r.model()).layout();
    }

    private static GatewayPort gateway(final BridgeLayout layout, final String node)
    {
        return layout.gateways().stream().filter(g -> g.node().equals(node)).findFirst().orElseThrow();
    }

    private String replay(final Path manifests, final Map<Integer, Path> in, final String out, final String... extra)
    {
        final List<String> args = new ArrayList<>(List.of("--manifests", manifests.toString()));
        in.forEach((port, pcap) -> args.addAll(List.of("--in", port + "=" + pcap)));
        args.addAll(List.of("--out", dir.resolve(out).toString()));
        args.addAll(List.of(extra));
        final DifferentialOracleTest.JunctionRun run = DifferentialOracleTest.runJunction(args, new int[0]);
        assertEquals(0, run.exitCode(), run.output());
        return run.output();
    }

    private Path pcap(final String name, final List<byte[]> frames, final long offsetNanos) throws Exception
    {
        final Path p = dir.resolve(name);
        try (PcapWriter w = new PcapWriter(p))
        {
            long ts = 1_700_000_000_000_000_000L + offsetNanos;
            for (final byte[] f : frames)
            {
                w.write(ts, f, 0, f.length);
                ts += 1_000_000L;
            }
        }
        return p;
    }

    /** A UDP datagram whose IP packet is {@code ipLength} bytes, checksums correct, DF set (IPv4). */
    private static byte[] udp(final String srcMac, final String dstMac, final InetAddress src, final InetAddress dst,
        final int sport, final int dport, final int ipLength)
    {
        final boolean v6 = src.getAddress().length == 16;
        final int l3 = 14;
        final int header = v6 ? 40 : 20;
        final int l4 = l3 + header;
        final int udpLength = ipLength - header;
        final byte[] f = new byte[l3 + ipLength];
        System.arraycopy(mac(dstMac), 0, f, 0, 6);
        System.arraycopy(mac(srcMac), 0, f, 6, 6);
        BigEndian.put16(f, 12, v6 ? 0x86dd : 0x0800);
        final int addresses = l3 + (v6 ? 8 : 12);
        final int alen = v6 ? 16 : 4;
        if (v6)
        {
            f[l3] = 0x60;
            BigEndian.put16(f, l3 + 4, udpLength);
            f[l3 + 6] = 17;
            f[l3 + 7] = 64;
        }
        else
        {
            f[l3] = 0x45;
            BigEndian.put16(f, l3 + 2, ipLength);
            BigEndian.put16(f, l3 + 6, 0x4000);
            f[l3 + 8] = 64;
            f[l3 + 9] = 17;
        }
        System.arraycopy(src.getAddress(), 0, f, addresses, alen);
        System.arraycopy(dst.getAddress(), 0, f, addresses + alen, alen);
        if (!v6)
        {
            BigEndian.put16(f, l3 + 10, dev.junction.datapath.exec.Checksum.finish(InternetChecksum.sum(f, l3, 20, 0)));
        }
        BigEndian.put16(f, l4, sport);
        BigEndian.put16(f, l4 + 2, dport);
        BigEndian.put16(f, l4 + 4, udpLength);
        for (int i = l4 + 8; i < f.length; i++)
        {
            f[i] = (byte)i;
        }
        BigEndian.put16(f, l4 + 6, InternetChecksum.transport(f, addresses, addresses + alen, alen, 17, l4, udpLength));
        return f;
    }

    private static byte[] mac(final String mac)
    {
        final byte[] m = new byte[6];
        final String[] octets = mac.split(":");
        for (int i = 0; i < 6; i++)
        {
            m[i] = (byte)Integer.parseInt(octets[i], 16);
        }
        return m;
    }
}
