package dev.junction.control.diff;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.ManifestLoader;
import dev.junction.control.k8s.Protocol;
import dev.junction.control.probe.Prober;
import dev.junction.datapath.pcap.PcapWriter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code junction replay --manifests DIR --pinctrl} on manifests/pinctrl: a new connection to a
 * VIP without endpoints is answered on the client's port (a TCP RST, ICMP or ICMPv6 port
 * unreachable), decoded by tshark with every checksum verified; ACL logging writes one line per
 * allowed connection and per denied packet of the annotated namespace and none for the other.
 * Without {@code --pinctrl} nothing answers (as OVS without a controller, the oracle).
 */
class PinctrlReplayTest
{
    private static final Path MANIFESTS = Path.of("src/test/resources/manifests/pinctrl");
    private static final InetAddress VIP4 = Ip.parse("10.96.0.50");
    private static final InetAddress VIP6 = Ip.parse("fd00:10:96::50");

    private BridgeLayout layout;
    private Path dir;

    @BeforeEach
    void compile() throws Exception
    {
        final ManifestLoader.Result r = ManifestLoader.load(MANIFESTS);
        assertEquals(List.of(), r.report().problems());
        layout = FlowCompiler.cluster(r.model()).layout();
        dir = Files.createTempDirectory("junction-pinctrl-");
    }

    private BridgeLayout.PodPort pod(final String key)
    {
        return layout.port(key).orElseThrow();
    }

    /** The client's first packet to {@code dst:port}, to {@code dstMac}. */
    private byte[] first(final String dstMac, final InetAddress dst, final Protocol protocol, final int sport, final int port)
    {
        final BridgeLayout.PodPort client = pod("clients/client");
        return Prober.firstPacket(client, dstMac, client.ip(dst.getAddress().length == 16).orElseThrow(), dst, protocol, sport, port);
    }

    private Path pcap(final String name, final List<byte[]> frames) throws Exception
    {
        final Path p = dir.resolve(name);
        try (PcapWriter w = new PcapWriter(p))
        {
            long ts = 1_700_000_000_000_000_000L;
            for (final byte[] f : frames)
            {
                w.write(ts, f, 0, f.length);
                ts += 1_000_000L;
            }
        }
        return p;
    }

    private String replay(final Path in, final String out, final int[] workers, final String... extra)
    {
        final List<String> args = new ArrayList<>(List.of("replay", "--manifests", MANIFESTS.toString(),
            "--in", pod("clients/client").ofport() + "=" + in, "--out", dir.resolve(out).toString()));
        args.addAll(List.of(extra));
        final DifferentialOracleTest.JunctionRun run = DifferentialOracleTest.runJunction(args.subList(1, args.size()), workers);
        assertEquals(0, run.exitCode(), run.output());
        return run.output();
    }

    @Test
    void endpointlessVipAnswersTheClientWithRstOrPortUnreachable() throws Exception
    {
        TunnelTsharkTest.requireTshark();
        final BridgeLayout.PodPort client = pod("clients/client");
        final String gw = client.sw().gatewayMac();
        final Path in = pcap("in.pcap", List.of(
            first(gw, VIP4, Protocol.TCP, 40001, 80),
            first(gw, VIP4, Protocol.UDP, 40002, 53),
            first(gw, VIP6, Protocol.TCP, 40003, 80),
            first(gw, VIP6, Protocol.UDP, 40004, 53)));
        // Through the pipeline too (runJunction compares its outputs with the single thread's).
        final String output = replay(in, "out", DifferentialOracleTest.PIPELINE_WORKERS, "--pinctrl", "--json");
        assertTrue(output.contains("\"packet_ins\": 4, \"pinctrl\": {\"rejected\": 4, \"unanswered\": 0, "
            + "\"acl_log_lines\": 0, \"acl_log_suppressed\": 0, \"neighbour_requests\": 0, \"neighbour_requests_suppressed\": 0, \"too_big\": 0}"), output);
        assertTrue(output.contains("\"controller\": 0"), "packet-ins a handler took are no drops: " + output);
        final Path answers = dir.resolve("out/" + client.ofport() + ".pcap");
        final List<String> rows = TunnelTsharkTest.tshark(answers, "eth.src", "eth.dst", "ip.src", "ip.dst", "ipv6.src",
            "ipv6.dst", "ip.checksum.status", "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.ack_raw", "tcp.flags.reset",
            "tcp.flags.ack", "tcp.checksum.status", "icmp.type", "icmp.code", "icmp.checksum.status", "icmpv6.type",
            "icmpv6.code", "icmpv6.checksum.status", "udp.srcport", "udp.dstport", "ip.ttl", "ipv6.hlim");
        assertEquals(4, rows.size(), "one answer per rejected packet: " + rows);
        final String[] rst4 = rows.get(0).split("\\|", -1);
        final String[] icmp4 = rows.get(1).split("\\|", -1);
        final String[] rst6 = rows.get(2).split("\\|", -1);
        final String[] icmp6 = rows.get(3).split("\\|", -1);
        for (final String[] r : List.of(rst4, icmp4, rst6, icmp6))
        {
            assertEquals(gw, r[0], "from the MAC the client sent to");
            assertEquals(client.mac(), r[1], "to the client");
        }
        // TCP RST from the VIP: seq 0, ack = SYN's seq (1000) + 1, RST+ACK, checksums good.
        assertEquals(List.of("10.96.0.50", "10.244.1.10", "1", "80", "40001", "0", "1001", "1", "1", "1", "63"),
            List.of(rst4[2], rst4[3], rst4[6], rst4[7], rst4[8], rst4[9], rst4[10], rst4[11], rst4[12], rst4[13], rst4[22]));
        assertEquals(List.of("fd00:10:96::50", "fd00:10:244:1::10", "80", "40003", "0", "1001", "1", "1", "1", "63"),
            List.of(rst6[4], rst6[5], rst6[7], rst6[8], rst6[9], rst6[10], rst6[11], rst6[12], rst6[13], rst6[23]));
        // ICMP destination unreachable, port unreachable, quoting the datagram (its ports decoded inside).
        assertEquals(List.of("10.96.0.50", "10.244.1.10", "1", "3", "3", "1", "40002", "53", "255"),
            List.of(icmp4[2], icmp4[3], icmp4[6], icmp4[14], icmp4[15], icmp4[16], icmp4[20], icmp4[21], icmp4[22]));
        assertEquals(List.of("fd00:10:96::50", "fd00:10:244:1::10", "1", "4", "1", "40004", "53", "255"),
            List.of(icmp6[4], icmp6[5], icmp6[17], icmp6[18], icmp6[19], icmp6[20], icmp6[21], icmp6[23]));

        // Without --pinctrl (OVS without a controller): the same packets get no answer at all.
        final String plain = replay(in, "plain", new int[0], "--json");
        assertTrue(plain.contains("\"packet_ins\": 0, \"conntrack\"") && plain.contains("\"controller\": 4"),
            "without a handler each packet-in is a controller drop: " + plain);
        assertFalse(Files.exists(dir.resolve("plain/" + client.ofport() + ".pcap")), "no answer without pinctrl");
        DifferentialOracleTest.deleteRecursively(dir);
    }

    @Test
    void probeKeepsItsMatrixAndWritesTheAclLog() throws Exception
    {
        final Path log = dir.resolve("probe-acl.log");
        final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        final java.io.PrintStream original = System.out;
        System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
        final int exit;
        try
        {
            exit = dev.junction.control.cli.JunctionCli.execute("probe", "--manifests", MANIFESTS.toString(), "--port", "80",
                "--json", "--acl-log", log.toString());
        }
        finally
        {
            System.setOut(original);
        }
        assertEquals(0, exit);
        final String json = out.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(json.contains("\"clients/client\": {\"clients/client\": \"allowed\", \"logged/server\": \"allowed\", "
            + "\"quiet/server\": \"allowed\"}"), json);
        assertTrue(json.contains("\"quiet/server\": {\"clients/client\": \"allowed\", \"logged/server\": \"denied\""), json);
        final List<String> lines = Files.readAllLines(log);
        // The probe's connection is a whole handshake: allow logs its first packet only, once per connection.
        assertEquals(1, lines.stream().filter(l -> l.contains("verdict=allow") && l.contains("nw_src=10.244.1.10,nw_dst=10.244.1.20")
            && l.endsWith("tp_dst=80")).count(), String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(l -> l.contains("verdict=drop") && l.contains("nw_src=10.244.1.30,nw_dst=10.244.1.20")),
            String.join("\n", lines));
        assertTrue(lines.stream().allMatch(l -> l.contains("policy=logged/web-from-clients") && !l.contains("nw_dst=10.244.1.30")),
            "only the annotated namespace logs: " + String.join("\n", lines));
        DifferentialOracleTest.deleteRecursively(dir);
    }

    @Test
    void aclLogNamesPolicyRuleDirectionVerdictAndFiveTupleInTheAnnotatedNamespaceOnly() throws Exception
    {
        final BridgeLayout.PodPort logged = pod("logged/server");
        final BridgeLayout.PodPort quiet = pod("quiet/server");
        final InetAddress loggedIp = logged.ip(false).orElseThrow();
        final InetAddress quietIp = quiet.ip(false).orElseThrow();
        final Path in = pcap("in.pcap", List.of(
            first(logged.mac(), loggedIp, Protocol.TCP, 41000, 80),
            first(logged.mac(), loggedIp, Protocol.TCP, 41001, 81),
            first(logged.mac(), loggedIp, Protocol.TCP, 41001, 81),
            first(quiet.mac(), quietIp, Protocol.TCP, 41002, 80),
            first(quiet.mac(), quietIp, Protocol.TCP, 41003, 81)));
        final Path log = dir.resolve("acl.log");
        replay(in, "out", new int[0], "--pinctrl", "--acl-log", log.toString());
        final List<String> lines = Files.readAllLines(log);
        final int port = pod("clients/client").ofport();
        final String client = pod("clients/client").mac();
        assertEquals(List.of(
            "acl_log: name=\"logged/web-from-clients:1\", policy=logged/web-from-clients, rule=1, verdict=allow, "
                + "severity=notice, direction=Ingress: tcp,in_port=" + port + ",dl_src=" + client + ",dl_dst=" + logged.mac()
                + ",nw_src=10.244.1.10,nw_dst=10.244.1.20,tp_src=41000,tp_dst=80",
            "acl_log: name=\"logged/web-from-clients:default-deny\", policy=logged/web-from-clients, rule=default-deny, "
                + "verdict=drop, severity=alert, direction=Ingress: tcp,in_port=" + port + ",dl_src=" + client + ",dl_dst="
                + logged.mac() + ",nw_src=10.244.1.10,nw_dst=10.244.1.20,tp_src=41001,tp_dst=81",
            // Deny logs every denied packet: the retransmitted SYN again.
            "acl_log: name=\"logged/web-from-clients:default-deny\", policy=logged/web-from-clients, rule=default-deny, "
                + "verdict=drop, severity=alert, direction=Ingress: tcp,in_port=" + port + ",dl_src=" + client + ",dl_dst="
                + logged.mac() + ",nw_src=10.244.1.10,nw_dst=10.244.1.20,tp_src=41001,tp_dst=81"), lines);
        // Logging does not change forwarding: each server got its allowed SYN, and only that.
        for (final BridgeLayout.PodPort server : List.of(logged, quiet))
        {
            final Path out = dir.resolve("out/" + server.ofport() + ".pcap");
            assertTrue(Files.exists(out), server.name() + " got its allowed SYN");
            assertEquals(24 + 16 + 54, Files.size(out), server.name() + ": one 54-byte frame");
        }
        DifferentialOracleTest.deleteRecursively(dir);
    }
}
