package dev.junction.control.diff;

import dev.junction.datapath.pcap.PcapReader;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A Kubernetes service the way OVN builds it (ct_lb_mark): new connections to the VIP go through
 * a select group whose buckets DNAT to the backends with {@code ct(commit,nat(dst=...),table=)},
 * replies are un-DNATed by {@code ct(nat)}. Judged by OVS in two passes: the clients' SYNs alone
 * show which backend OVS chose for each connection (the group's bucket choice is OVS's), then the
 * whole conversations, with each backend answering the connections it got, must give
 * byte-identical outputs and the same conntrack table.
 */
class LoadBalancerOracleTest
{
    static final long SEED = DifferentialOracleTest.parseSeed(System.getProperty("junction.lb.seed", "0x1B"));
    static final int CASES = Integer.getInteger("junction.lb.cases", 12);
    private static final int VIP = 0x0a000032;
    private static final int[] BACKENDS = {0x0a000002, 0x0a000003, 0x0a000004};

    static IntStream cases()
    {
        return IntStream.range(0, CASES);
    }

    private record Conn(int client, int sport, long isn)
    {
        int clientIp()
        {
            return 0x0a000164 + client; // 10.0.1.100 + n
        }
    }

    @ParameterizedTest(name = "lb case {0}")
    @MethodSource("cases")
    void serviceMatchesOpenVswitch(final int index) throws Exception
    {
        final SplittableRandom r = new SplittableRandom(SEED + index * 0x9E3779B97F4A7C15L);
        final String method = switch (r.nextInt(3))
        {
            case 0 -> "";
            case 1 -> ",selection_method=dp_hash";
            default -> ",selection_method=hash,fields(ip_src,tcp_src)";
        };
        final int zone = 1 + r.nextInt(100);
        final StringBuilder groups = new StringBuilder("group_id=1,type=select" + method);
        for (int b = 0; b < BACKENDS.length; b++)
        {
            groups.append(",bucket=bucket_id=").append(b).append(",weight:").append(50 + r.nextInt(100))
                .append(",actions=ct(commit,table=2,zone=").append(zone).append(",nat(dst=")
                .append(ip(BACKENDS[b])).append(":8080),exec(set_field:").append(b + 1).append("->ct_mark))");
        }
        groups.append('\n');
        final String flows = "table=0,priority=100,ip,actions=ct(table=1,zone=" + zone + ",nat)\n"
            + "table=0,priority=0,actions=drop\n"
            + "table=1,priority=100,ct_state=+new+trk,tcp,nw_dst=10.0.0.50,tp_dst=80,actions=group:1\n"
            + "table=1,priority=90,ct_state=+est+trk,ip,actions=resubmit(,2)\n"
            + "table=1,priority=0,actions=drop\n"
            + "table=2,priority=100,ip,nw_dst=10.0.0.2,actions=output:2\n"
            + "table=2,priority=100,ip,nw_dst=10.0.0.3,actions=output:3\n"
            + "table=2,priority=100,ip,nw_dst=10.0.0.4,actions=output:4\n"
            + "table=2,priority=100,ip,nw_dst=10.0.1.0/24,actions=output:1\n";
        final List<Conn> conns = new ArrayList<>();
        final int n = 4 + r.nextInt(12);
        for (int i = 0; i < n; i++)
        {
            conns.add(new Conn(r.nextInt(4), 1024 + r.nextInt(60_000), r.nextInt() & 0xffffffffL));
        }
        final OracleRunner oracle = OracleRunner.require();
        final Path dir = Files.createTempDirectory("junction-lb-" + index + "-");
        boolean passed = false;
        try
        {
            Files.writeString(dir.resolve("groups.txt"), groups);
            // Pass 1: the SYNs alone, through OVS: which backend got each connection.
            final Map<String, Integer> backendOf = backends(oracle, dir, flows, conns);
            assertEquals(conns.size(), backendOf.size(), "OVS must deliver every SYN to a backend");
            // Pass 2: whole conversations, each backend answering what it got.
            final Map<Integer, List<FlowCaseGenerator.Packet>> byPort = new HashMap<>();
            long t = LearnOracleTest.BASE_NANOS;
            for (final Conn c : conns)
            {
                final int b = backendOf.get(c.clientIp() + ":" + c.sport());
                final long s = c.isn() ^ 0x5a5a5a5aL;
                t = add(byPort, 1, t, frame(c.clientIp(), VIP, c.sport(), 80, c.isn(), 0, PacketFactory.TCP_SYN, 0));
                t = add(byPort, 2 + b, t, frame(BACKENDS[b], c.clientIp(), 8080, c.sport(), s, c.isn() + 1,
                    PacketFactory.TCP_SYN | PacketFactory.TCP_ACK, 0));
                t = add(byPort, 1, t, frame(c.clientIp(), VIP, c.sport(), 80, c.isn() + 1, s + 1, PacketFactory.TCP_ACK, 0));
                t = add(byPort, 1, t, frame(c.clientIp(), VIP, c.sport(), 80, c.isn() + 1, s + 1,
                    PacketFactory.TCP_PSH | PacketFactory.TCP_ACK, 10));
                t = add(byPort, 2 + b, t, frame(BACKENDS[b], c.clientIp(), 8080, c.sport(), s + 1, c.isn() + 11,
                    PacketFactory.TCP_PSH | PacketFactory.TCP_ACK, 20));
            }
            final List<FlowCaseGenerator.Input> inputs = new ArrayList<>();
            byPort.forEach((port, pkts) -> inputs.add(new FlowCaseGenerator.Input(port, pkts)));
            inputs.sort((a, b) -> Integer.compare(a.port(), b.port()));
            final Path full = dir.resolve("full");
            final List<String> in = new FlowCaseGenerator.FlowCase("lb-" + index, flows, inputs, List.of()).writeTo(full);
            in.addAll(List.of("--groups", dir.resolve("groups.txt").toString()));
            final Path expected = full.resolve("expected");
            final Path actual = full.resolve("actual");
            final OracleRunner.Running running = oracle.start(DifferentialOracleTest.replayArgs(in, expected), full);
            final DifferentialOracleTest.JunctionRun junction =
                DifferentialOracleTest.runJunction(DifferentialOracleTest.replayArgs(in, actual),
                    DifferentialOracleTest.SHARED_STATE_WORKERS);
            final OracleRunner.Result ovs = running.await(OracleRunner.DEFAULT_TIMEOUT);
            final String where = String.format("%nflows:%n%sgroups:%n%sreproduce: mvn -o test -pl control "
                + "-Dtest=LoadBalancerOracleTest -Djunction.lb.seed=0x%x (case %d); kept in %s", flows, groups, SEED,
                index, dir);
            assertTrue(ovs.ok(), "the oracle failed: " + ovs.stderr() + where);
            assertEquals(0, junction.exitCode(), "Junction failed: " + junction.output() + where);
            final PcapCompare.Report report = PcapCompare.compare(expected, actual);
            if (!report.identical())
            {
                fail("outputs differ from OVS\n" + report.text() + where);
            }
            assertEquals(5L * conns.size(), report.packetsCompared(), "every packet of every conversation is delivered");
            final String table = Files.readString(expected.resolve("conntrack.txt"));
            assertEquals(conns.stream().map(c -> c.clientIp() + ":" + c.sport()).distinct().count(),
                table.lines().count(), "OVS must hold one connection per conversation");
            assertTrue(table.contains("mark="), "the buckets' ct_mark must show in the table");
            assertEquals(table, Files.readString(actual.resolve("conntrack.txt")), "conntrack tables differ" + where);
            passed = true;
        }
        finally
        {
            if (passed)
            {
                DifferentialOracleTest.deleteRecursively(dir);
            }
        }
    }

    /** Runs the SYNs through OVS; maps "clientIp:sport" to the index of the backend that got it. */
    private static Map<String, Integer> backends(final OracleRunner oracle, final Path dir, final String flows,
        final List<Conn> conns) throws Exception
    {
        final List<FlowCaseGenerator.Packet> syns = new ArrayList<>();
        long t = LearnOracleTest.BASE_NANOS;
        for (final Conn c : conns)
        {
            syns.add(new FlowCaseGenerator.Packet(t, frame(c.clientIp(), VIP, c.sport(), 80, c.isn(), 0,
                PacketFactory.TCP_SYN, 0), "SYN"));
            t += 1_000_000L;
        }
        final Path probe = dir.resolve("probe");
        final List<String> in = new FlowCaseGenerator.FlowCase("probe", flows,
            List.of(new FlowCaseGenerator.Input(1, syns)), List.of()).writeTo(probe);
        in.addAll(List.of("--groups", dir.resolve("groups.txt").toString()));
        final OracleRunner.Result r = oracle.run(DifferentialOracleTest.replayArgs(in, probe.resolve("out")), probe,
            OracleRunner.DEFAULT_TIMEOUT);
        assertTrue(r.ok(), "the oracle failed on the SYN probe: " + r.stderr());
        final Map<String, Integer> out = new HashMap<>();
        for (int b = 0; b < BACKENDS.length; b++)
        {
            final Path pcap = probe.resolve("out/" + (2 + b) + ".pcap");
            if (!Files.exists(pcap))
            {
                continue;
            }
            try (PcapReader reader = PcapReader.open(pcap))
            {
                while (reader.next())
                {
                    final byte[] f = reader.frame();
                    final int src = (f[26] & 0xff) << 24 | (f[27] & 0xff) << 16 | (f[28] & 0xff) << 8 | (f[29] & 0xff);
                    final int sport = (f[34] & 0xff) << 8 | (f[35] & 0xff);
                    out.put(src + ":" + sport, b);
                }
            }
        }
        return out;
    }

    private static long add(final Map<Integer, List<FlowCaseGenerator.Packet>> byPort, final int port, final long t,
        final byte[] frame)
    {
        byPort.computeIfAbsent(port, p -> new ArrayList<>()).add(new FlowCaseGenerator.Packet(t, frame, ""));
        return t + 1_000_000L;
    }

    private static byte[] frame(final int src, final int dst, final int sport, final int dport, final long seq,
        final long ack, final int flags, final int payload)
    {
        final byte[] data = new byte[payload];
        for (int i = 0; i < payload; i++)
        {
            data[i] = (byte)('a' + i);
        }
        final byte[] tcp = PacketFactory.tcp(sport, dport, seq, ack, flags, new byte[0], data);
        final byte[] ip = new PacketFactory.Ip4().src(src).dst(dst).build(PacketFactory.PROTO_TCP, tcp,
            PacketFactory.Checksum.CORRECT);
        return PacketFactory.ethernet(PacketFactory.mac("0a:00:00:00:00:02"), PacketFactory.mac("0a:00:00:00:00:01"),
            new int[0], PacketFactory.ETH_IPV4, ip);
    }

    private static String ip(final int a)
    {
        return (a >>> 24) + "." + (a >>> 16 & 0xff) + "." + (a >>> 8 & 0xff) + "." + (a & 0xff);
    }
}
