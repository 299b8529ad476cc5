package dev.junction.control.diff;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Wireshark's dissectors judge what Junction encapsulates: every frame Junction sends on the
 * underlay must decode (tshark) as Geneve or VXLAN with the VNI, option class, type and value
 * the flows set, a correct IPv4 header checksum, and a correct UDP checksum when the port asks
 * for one (always over IPv6), zero otherwise.
 */
class TunnelTsharkTest
{
    @ParameterizedTest(name = "{0} csum={1} v6={2}")
    @CsvSource({"geneve,false,false", "geneve,true,false", "geneve,false,true", "vxlan,false,false"})
    void tsharkDecodesWhatTheFlowsSet(final String type, final boolean csum, final boolean v6) throws Exception
    {
        requireTshark();
        final Path dir = Files.createTempDirectory("junction-tshark-");
        final SplittableRandom r = new SplittableRandom(type.hashCode() * 31L + (csum ? 7 : 0) + (v6 ? 3 : 0));
        final int vni = 1 + r.nextInt(0xffffff);
        final long option = r.nextLong() & 0x7fffffffL;
        Files.writeString(dir.resolve("tunnels.yaml"), String.join("\n",
            "underlay: {port: 9, mac: \"aa:55:aa:55:00:01\", ip: [172.31.1.1/24, \"fd00:31::1/64\"]}",
            "neighbours: [{ip: 172.31.1.2, mac: \"aa:55:aa:55:00:02\"}, {ip: \"fd00:31::2\", mac: \"aa:55:aa:55:00:02\"}]",
            "tunnels: [{port: 10, type: " + type + ", remote_ip: \"" + (v6 ? "fd00:31::2" : "172.31.1.2")
                + "\", key: flow, csum: " + csum + "}]",
            "tlv_map: [\"{class=0x102,type=0x80,len=4}->tun_metadata0\"]", ""));
        Files.writeString(dir.resolve("flows.txt"), "in_port=1,actions=set_field:0x" + Integer.toHexString(vni)
            + "->tun_id," + (type.equals("geneve") ? "set_field:0x" + Long.toHexString(option) + "->tun_metadata0," : "")
            + "output:10\n");
        final List<FlowCaseGenerator.Packet> in = new ArrayList<>();
        for (int i = 0; i < 40; i++)
        {
            final byte[] payload = new byte[r.nextInt(2) == 0 ? r.nextInt(64) : 1000 + r.nextInt(400)];
            r.nextBytes(payload);
            final byte[] frame = PacketFactory.ethernet(PacketFactory.mac("02:00:00:00:00:02"), PacketFactory.mac("02:00:00:00:00:01"),
                new int[0], 0x0800, new PacketFactory.Ip4().src(0x0a000001 + i).dst(0x0a010001).tos(r.nextInt(256))
                    .build(i % 2 == 0 ? 17 : 6, i % 2 == 0 ? PacketFactory.udp(1000 + i, 53, payload)
                        : PacketFactory.tcp(2000 + i, 80, i, 0, 0x10, new byte[0], payload), PacketFactory.Checksum.CORRECT));
            in.add(new FlowCaseGenerator.Packet(1_700_000_000_000_000_000L + i * 1000L, frame, "pod"));
        }
        final List<String> args = new FlowCaseGenerator.FlowCase("tshark", Files.readString(dir.resolve("flows.txt")),
            List.of(new FlowCaseGenerator.Input(1, in)), List.of()).writeTo(dir);
        args.addAll(List.of("--tunnels", dir.resolve("tunnels.yaml").toString(), "--out", dir.resolve("out").toString()));
        final DifferentialOracleTest.JunctionRun run = DifferentialOracleTest.runJunction(args);
        assertEquals(0, run.exitCode(), run.output());
        final List<String> fields = tshark(dir.resolve("out/9.pcap"), type.equals("geneve")
            ? new String[] {"ip.checksum.status", "udp.checksum", "udp.checksum.status", "geneve.vni", "geneve.option.class",
                "geneve.option.type", "geneve.option.unknown.data", "geneve.flags.critical"}
            : new String[] {"ip.checksum.status", "udp.checksum", "udp.checksum.status", "vxlan.vni", "vxlan.flag_i"});
        assertEquals(in.size(), fields.size(), "one encapsulated frame per pod frame");
        for (final String line : fields)
        {
            final String[] f = line.split("\\|", -1);
            if (!v6)
            {
                assertEquals("1", f[0], "IPv4 header checksum must verify: " + line);
            }
            if (csum || v6)
            {
                assertEquals("1", f[2], "UDP checksum must verify: " + line);
            }
            else
            {
                assertEquals("0x0000", f[1].toLowerCase(Locale.ROOT), "no UDP checksum when csum is off: " + line);
            }
            assertEquals(vni, Integer.decode(f[3]), line);
            if (type.equals("geneve"))
            {
                assertEquals(0x102, Integer.decode(f[4]), line);
                assertEquals(0x80, Integer.decode(f[5]), line);
                assertEquals(String.format("%08x", option), f[6].replace(":", ""), line);
                assertTrue(f[7].equals("1") || f[7].equalsIgnoreCase("true"), "C bit for OVN's critical option: " + line);
            }
            else
            {
                assertTrue(f[4].equals("1") || f[4].equalsIgnoreCase("true"), "VXLAN I flag: " + line);
            }
        }
        DifferentialOracleTest.deleteRecursively(dir);
    }

    /** Each frame's {@code fields}, {@code |}-separated (first occurrence), with IPv4, UDP and TCP checksums verified. */
    static List<String> tshark(final Path pcap, final String... fields) throws Exception
    {
        final List<String> cmd = new ArrayList<>(List.of("tshark", "-r", pcap.toString(), "-o", "ip.check_checksum:TRUE",
            "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-T", "fields", "-E", "separator=|",
            "-E", "occurrence=f"));
        for (final String f : fields)
        {
            cmd.add("-e");
            cmd.add(f);
        }
        final Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "tshark hung");
        assertEquals(0, p.exitValue(), "tshark failed");
        return out.lines().filter(l -> !l.isBlank()).toList();
    }

    static void requireTshark()
    {
        if (OracleRunner.findExecutable("tshark") == null)
        {
            if (OracleRunner.isCi())
            {
                Assertions.fail("tshark is not installed [CI is set, so this is a failure, not a skip]");
            }
            Assumptions.assumeTrue(false, "tshark is not installed");
        }
    }
}
