package dev.junction.control.diff;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.flows.GatewayPort;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.ManifestLoader;
import dev.junction.datapath.pcap.PcapWriter;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway router's next hop resolved on its external port, by {@code junction replay
 * --manifests} (manifests/egress-v6: GR_n2 has l3-gateway-config and no static next-hop MAC, as a
 * real OVN-K node). Pod plain/q on n2 sends to outside while the next hop is unknown: each packet
 * is dropped and pinctrl sends an ARP request (IPv4) or neighbour solicitation (IPv6) out of the
 * external port, rate-limited; the next hop answers (ARP reply, neighbour advertisement) and the
 * next packet leaves to the learned MAC. The next hop's own ARP request and solicitation for the
 * router's addresses are answered. Every frame on the external port is decoded by tshark with
 * checksums verified. Without pinctrl, the answers and the packets sent after them through real
 * Open vSwitch (the flows {@code junction flows} prints) give byte-identical outputs: the
 * learning is OpenFlow's {@code learn}, OVS's own.
 */
class NextHopResolutionTest
{
    private static final Path MANIFESTS = Path.of("src/test/resources/manifests/egress-v6");
    private static final String NEXT_HOP_MAC = "02:00:5e:aa:bb:cc";
    private static final InetAddress WORLD4 = Ip.parse("8.8.8.8");
    private static final InetAddress WORLD6 = Ip.parse("2001:4860:4860::8888");
    private static final long START = 1_700_000_000_000_000_000L;

    @Test
    void unresolvedNextHopIsAskedThenLearnedFromItsAnswer() throws Exception
    {
        TunnelTsharkTest.requireTshark();
        final ManifestLoader.Result loaded = ManifestLoader.load(MANIFESTS);
        assertEquals(List.of(), loaded.report().problems());
        final FlowCompiler.Compiled compiled = FlowCompiler.cluster(loaded.model());
        final BridgeLayout.PodPort q = compiled.layout().port("plain/q").orElseThrow();
        final GatewayPort n2 = compiled.layout().gateway("n2").orElseThrow();
        assertEquals(null, n2.nextHopMac(false), "n2's next hop is resolved, not static");
        final Path dir = Files.createTempDirectory("junction-next-hop-");

        // Pod side: five packets to the unresolved IPv4 next hop (three requests go: the burst;
        // two are suppressed), then one after the reply; the same for IPv6 later.
        final List<byte[]> podFrames = new ArrayList<>();
        final List<Long> podTimes = new ArrayList<>();
        for (int i = 0; i < 5; i++)
        {
            podFrames.add(fromPod(q, WORLD4, 40000 + i));
            podTimes.add(ms(i));
        }
        podFrames.add(fromPod(q, WORLD4, 40010));
        podTimes.add(ms(20));
        podFrames.add(fromPod(q, WORLD6, 40020));
        podTimes.add(ms(30));
        podFrames.add(fromPod(q, WORLD6, 40021));
        podTimes.add(ms(50));
        // External side: the next hop's ARP reply at 10 ms, its advertisement at 40 ms, then its
        // own questions for the router's addresses.
        final byte[] router = PacketFactory.mac(n2.mac());
        final byte[] nh = PacketFactory.mac(NEXT_HOP_MAC);
        final List<byte[]> extFrames = List.of(
            PacketFactory.pad(PacketFactory.ethernet(router, nh, new int[0], PacketFactory.ETH_ARP,
                PacketFactory.arp(2, nh, ManifestTrafficGenerator.v4(n2.nextHop()), router, ManifestTrafficGenerator.v4(n2.ip()))), 60),
            ipv6(router, n2.nextHop(true).getAddress(), n2.ip6().getAddress(),
                PacketFactory.neighborAdvertisement(0x60000000, n2.nextHop(true).getAddress(), nh)),
            PacketFactory.pad(PacketFactory.ethernet(PacketFactory.BROADCAST, nh, new int[0], PacketFactory.ETH_ARP,
                PacketFactory.arp(1, nh, ManifestTrafficGenerator.v4(n2.nextHop()), new byte[6], ManifestTrafficGenerator.v4(n2.ip()))),
                60),
            ipv6(solicitedNodeMac(n2.ip6()), n2.nextHop(true).getAddress(), solicitedNode(n2.ip6()),
                PacketFactory.neighborSolicitation(n2.ip6().getAddress(), nh)));
        final List<Long> extTimes = List.of(ms(10), ms(40), ms(60), ms(70));
        final Path podIn = pcap(dir.resolve("in-pod.pcap"), podFrames, podTimes);
        final Path extIn = pcap(dir.resolve("in-ext.pcap"), extFrames, extTimes);
        final List<String> inputs = List.of("--in", q.ofport() + "=" + podIn, "--in", n2.ofport() + "=" + extIn);

        // 1. With pinctrl: the requests, then the learned MAC.
        final List<String> args = new ArrayList<>(List.of("--manifests", MANIFESTS.toString()));
        args.addAll(inputs);
        args.addAll(List.of("--out", dir.resolve("pinctrl").toString(), "--pinctrl", "--json"));
        final DifferentialOracleTest.JunctionRun run = DifferentialOracleTest.runJunction(args, new int[0]);
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("\"neighbour_requests\": 4, \"neighbour_requests_suppressed\": 2"),
            "3 ARP requests (the burst) and 1 solicitation sent, 2 packets past the burst not asked for: " + run.output());
        final List<String> rows = TunnelTsharkTest.tshark(dir.resolve("pinctrl/" + n2.ofport() + ".pcap"), "eth.src", "eth.dst",
            "arp.opcode", "arp.src.hw_mac", "arp.src.proto_ipv4", "arp.dst.hw_mac", "arp.dst.proto_ipv4", "ipv6.src", "ipv6.dst",
            "ipv6.hlim", "icmpv6.type", "icmpv6.nd.ns.target_address", "icmpv6.nd.na.target_address", "icmpv6.opt.linkaddr",
            "icmpv6.nd.na.flag.r", "icmpv6.nd.na.flag.s", "icmpv6.checksum.status", "ip.src", "ip.ttl", "udp.checksum.status");
        final String mac = n2.mac();
        final String arpRequest = String.join("|", mac, "ff:ff:ff:ff:ff:ff", "1", mac, "172.18.0.3", "00:00:00:00:00:00",
            "172.18.0.1", "", "", "", "", "", "", "", "", "", "", "", "", "");
        final String v4Out = String.join("|", mac, NEXT_HOP_MAC, "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
            "172.18.0.3", "62", "1");
        // To the next hop's solicited-node group (ff02::1:ff + its low 24 bits) and that group's MAC.
        final String solicitation = String.join("|", mac, "33:33:ff:00:00:01", "", "", "", "", "", "fc00:f853::3",
            "ff02::1:ff00:1", "255", "135", "fc00:f853::1", "", mac, "", "", "1", "", "", "");
        final String v6Out = String.join("|", mac, NEXT_HOP_MAC, "", "", "", "", "", "fc00:f853::3", Ip.text(WORLD6), "62", "", "",
            "", "", "", "", "", "", "", "1");
        final String arpReply = String.join("|", mac, NEXT_HOP_MAC, "2", mac, "172.18.0.3", NEXT_HOP_MAC, "172.18.0.1", "", "", "",
            "", "", "", "", "", "", "", "", "", "");
        final String advert = String.join("|", mac, NEXT_HOP_MAC, "", "", "", "", "", "fc00:f853::3", "fc00:f853::1", "255", "136",
            "", "fc00:f853::3", mac, "1", "1", "1", "", "", "");
        assertEquals(List.of(arpRequest, arpRequest, arpRequest, v4Out, solicitation, v6Out, arpReply, advert), rows,
            "on GR_n2's external port");

        // 2. Without pinctrl, against Open vSwitch: the learning, the learned MAC and the answers
        // agree byte for byte. Only the packets sent after the answers: OVS 3.1 (dpif-netdev)
        // handles a packet that meets the unresolved path's stale slow-path megaflow after the
        // learn by timing (its revalidator's), and drops it in some runs and sends it in others
        // (seen 2 of 4 runs of these very inputs); Junction sends it, as the table says.
        final Path resolvedIn = pcap(dir.resolve("in-pod-resolved.pcap"), List.of(podFrames.get(5), podFrames.get(7)),
            List.of(podTimes.get(5), podTimes.get(7)));
        final List<String> resolved = List.of("--in", q.ofport() + "=" + resolvedIn, "--in", n2.ofport() + "=" + extIn);
        final OracleRunner oracle = OracleRunner.require();
        final Path flows = dir.resolve("flows.txt");
        final Path groups = dir.resolve("groups.txt");
        Files.writeString(flows, compiled.flowsText());
        Files.write(groups, compiled.groups());
        final String ports = q.ofport() + "," + n2.ofport();
        final List<String> oracleArgs = new ArrayList<>(List.of("--flows", flows.toString(), "--groups", groups.toString()));
        oracleArgs.addAll(resolved);
        oracleArgs.addAll(List.of("--out", dir.resolve("expected").toString(), "--ports", ports));
        final OracleRunner.Result ovs = oracle.run(oracleArgs, dir, OracleRunner.DEFAULT_TIMEOUT);
        assertTrue(ovs.ok(), "the oracle failed: " + ovs.stderr());
        final List<String> plain = new ArrayList<>(List.of("--manifests", MANIFESTS.toString()));
        plain.addAll(resolved);
        plain.addAll(List.of("--out", dir.resolve("actual").toString(), "--ports", ports));
        final DifferentialOracleTest.JunctionRun junction = DifferentialOracleTest.runJunction(plain, new int[0]);
        assertEquals(0, junction.exitCode(), junction.output());
        final PcapCompare.Report report = PcapCompare.compare(dir.resolve("expected"), dir.resolve("actual"));
        assertTrue(report.identical(), report.text());
        assertEquals(4, report.packetsCompared(), "two learned-MAC packets, the ARP reply and the advertisement");
        DifferentialOracleTest.deleteRecursively(dir);
    }

    /**
     * The learned binding ages as OVN-K's {@code mac_binding_age_threshold} (300 s) makes OVN's
     * age: a packet 299 s after the last one still leaves to the learned MAC (and keeps it), one
     * 301 s after that is unresolved again and pinctrl asks anew. Packet time, no sleeps.
     */
    @Test
    void aLearnedNextHopAgesOutAfterThreeHundredIdleSeconds() throws Exception
    {
        TunnelTsharkTest.requireTshark();
        final FlowCompiler.Compiled compiled = FlowCompiler.cluster(ManifestLoader.load(MANIFESTS).model());
        final BridgeLayout.PodPort q = compiled.layout().port("plain/q").orElseThrow();
        final GatewayPort n2 = compiled.layout().gateway("n2").orElseThrow();
        final Path dir = Files.createTempDirectory("junction-next-hop-age-");
        final long second = 1_000_000_000L;
        // One packet asks, the reply teaches, then packets at +299 s (kept) and +600 s (aged: 301 s idle).
        final Path podIn = pcap(dir.resolve("in-pod.pcap"), List.of(fromPod(q, WORLD4, 41000), fromPod(q, WORLD4, 41001),
            fromPod(q, WORLD4, 41002), fromPod(q, WORLD4, 41003)), List.of(ms(0), ms(20), ms(20) + 299 * second, ms(20) + 600 * second));
        final byte[] router = PacketFactory.mac(n2.mac());
        final byte[] nh = PacketFactory.mac(NEXT_HOP_MAC);
        final Path extIn = pcap(dir.resolve("in-ext.pcap"), List.of(PacketFactory.pad(PacketFactory.ethernet(router, nh, new int[0],
            PacketFactory.ETH_ARP, PacketFactory.arp(2, nh, ManifestTrafficGenerator.v4(n2.nextHop()), router,
                ManifestTrafficGenerator.v4(n2.ip()))), 60)), List.of(ms(10)));
        final DifferentialOracleTest.JunctionRun run = DifferentialOracleTest.runJunction(List.of("--manifests", MANIFESTS.toString(),
            "--in", q.ofport() + "=" + podIn, "--in", n2.ofport() + "=" + extIn, "--out", dir.resolve("out").toString(), "--pinctrl",
            "--json"), new int[0]);
        assertEquals(0, run.exitCode(), run.output());
        final List<String> rows = TunnelTsharkTest.tshark(dir.resolve("out/" + n2.ofport() + ".pcap"), "eth.dst", "arp.opcode",
            "udp.srcport");
        assertEquals(List.of("ff:ff:ff:ff:ff:ff|1|", NEXT_HOP_MAC + "||41001", NEXT_HOP_MAC + "||41002", "ff:ff:ff:ff:ff:ff|1|"), rows,
            "asked, learned, kept within 300 s of use, asked again after 301 s idle");
        DifferentialOracleTest.deleteRecursively(dir);
    }

    private static long ms(final int n)
    {
        return START + n * 1_000_000L;
    }

    private static byte[] fromPod(final BridgeLayout.PodPort p, final InetAddress dst, final int sport)
    {
        final boolean v6 = Ip.isIpv6(dst);
        final byte[] udp = PacketFactory.udp(sport, 53, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        final byte[] ip = v6
            ? new PacketFactory.Ip6().src(p.ip(true).orElseThrow().getAddress()).dst(dst.getAddress()).hopLimit(64)
                .build(PacketFactory.PROTO_UDP, udp, PacketFactory.Checksum.CORRECT)
            : new PacketFactory.Ip4().src(ManifestTrafficGenerator.v4(p.ip(false).orElseThrow())).dst(ManifestTrafficGenerator.v4(dst))
                .ttl(64).build(PacketFactory.PROTO_UDP, udp, PacketFactory.Checksum.CORRECT);
        return PacketFactory.ethernet(PacketFactory.mac(p.sw().gatewayMac()), PacketFactory.mac(p.mac()), new int[0],
            v6 ? PacketFactory.ETH_IPV6 : PacketFactory.ETH_IPV4, ip);
    }

    private static byte[] ipv6(final byte[] dstMac, final byte[] src, final byte[] dst, final byte[] icmp)
    {
        final byte[] ip = new PacketFactory.Ip6().src(src).dst(dst).hopLimit(255).build(PacketFactory.PROTO_ICMPV6, icmp,
            PacketFactory.Checksum.CORRECT);
        return PacketFactory.ethernet(dstMac, PacketFactory.mac(NEXT_HOP_MAC), new int[0], PacketFactory.ETH_IPV6, ip);
    }

    private static byte[] solicitedNode(final InetAddress target)
    {
        final byte[] group = PacketFactory.ip6("ff02::1:ff00:0");
        System.arraycopy(target.getAddress(), 13, group, 13, 3);
        return group;
    }

    private static byte[] solicitedNodeMac(final InetAddress target)
    {
        final byte[] t = target.getAddress();
        return new byte[] {0x33, 0x33, (byte)0xff, t[13], t[14], t[15]};
    }

    private static Path pcap(final Path p, final List<byte[]> frames, final List<Long> times) throws Exception
    {
        try (PcapWriter w = new PcapWriter(p))
        {
            for (int i = 0; i < frames.size(); i++)
            {
                w.write(times.get(i), frames.get(i), 0, frames.get(i).length);
            }
        }
        return p;
    }
}
