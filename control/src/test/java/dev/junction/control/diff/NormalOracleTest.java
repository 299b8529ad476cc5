package dev.junction.control.diff;

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
 * The NORMAL action (an L2 learning switch) judged by OVS: hosts on ports 1-4, some on VLANs,
 * announce themselves with a broadcast, then talk unicast (to learned hosts, to unknown
 * addresses, to hosts on their own port), multicast and to reserved link-local addresses; outputs
 * must be byte-identical.
 *
 * <p>OVS revalidates megaflows after a MAC table change asynchronously, so a packet right after a
 * change may or may not meet a stale megaflow there; Junction revalidates before the next packet.
 * The traces keep clear of that race: every host announces itself before anything is sent to it,
 * and no host moves, so no megaflow ever depends on a MAC learned after it was installed.
 */
class NormalOracleTest
{
    static final long SEED = DifferentialOracleTest.parseSeed(System.getProperty("junction.normal.seed", "0x2"));
    static final int CASES = Integer.getInteger("junction.normal.cases", 16);

    static IntStream cases()
    {
        return IntStream.range(0, CASES);
    }

    private record Host(byte[] mac, int port, int vlan, int ip)
    {
    }

    @ParameterizedTest(name = "normal case {0}")
    @MethodSource("cases")
    void learningSwitchMatchesOpenVswitch(final int index) throws Exception
    {
        final SplittableRandom r = new SplittableRandom(SEED + index * 0x9E3779B97F4A7C15L);
        final List<Host> hosts = new ArrayList<>();
        final int n = 3 + r.nextInt(6);
        for (int h = 0; h < n; h++)
        {
            final int vlan = r.nextInt(4) == 0 ? 10 + r.nextInt(2) : 0;
            hosts.add(new Host(PacketFactory.mac(String.format("02:00:00:00:%02x:%02x", index & 0xff, h + 1)),
                1 + r.nextInt(4), vlan, 0x0a000001 + h));
        }
        final String flows = r.nextBoolean() ? "actions=NORMAL\n"
            : "priority=100,udp,tp_dst=9,actions=drop\npriority=10,actions=NORMAL\n";
        final Map<Integer, List<FlowCaseGenerator.Packet>> byPort = new HashMap<>();
        final long[] t = {LearnOracleTest.BASE_NANOS};
        final List<Host> known = new ArrayList<>();
        final List<Host> order = new ArrayList<>(hosts);
        java.util.Collections.shuffle(order, new java.util.Random(r.nextLong()));
        for (final Host h : order)
        {
            // Announce: a broadcast ARP request; then some traffic among the hosts known so far.
            send(byPort, t, h, PacketFactory.BROADCAST, PacketFactory.ETH_ARP,
                PacketFactory.arp(1, h.mac(), h.ip(), new byte[6], 0x0a0000fe));
            known.add(h);
            for (int i = 0, m = r.nextInt(6); i < m; i++)
            {
                final Host a = known.get(r.nextInt(known.size()));
                final int kind = r.nextInt(10);
                final byte[] dst;
                if (kind < 6)
                {
                    dst = known.get(r.nextInt(known.size())).mac();
                }
                else if (kind == 6)
                {
                    dst = PacketFactory.mac("02:ff:00:00:00:" + String.format("%02x", r.nextInt(256))); // never seen
                }
                else if (kind == 7)
                {
                    dst = PacketFactory.mac("01:00:5e:00:00:" + String.format("%02x", 1 + r.nextInt(200)));
                }
                else if (kind == 8)
                {
                    dst = PacketFactory.mac("01:80:c2:00:00:0" + Integer.toHexString(r.nextInt(16)));
                }
                else
                {
                    dst = PacketFactory.BROADCAST;
                }
                final byte[] udp = PacketFactory.udp(1000 + r.nextInt(1000), r.nextInt(4) == 0 ? 9 : 53, new byte[8]);
                send(byPort, t, a, dst, PacketFactory.ETH_IPV4, new PacketFactory.Ip4().src(a.ip()).dst(0x0a000063)
                    .build(PacketFactory.PROTO_UDP, udp, PacketFactory.Checksum.CORRECT));
            }
        }
        final List<FlowCaseGenerator.Input> inputs = new ArrayList<>();
        byPort.forEach((port, pkts) -> inputs.add(new FlowCaseGenerator.Input(port, pkts)));
        inputs.sort((a, b) -> Integer.compare(a.port(), b.port()));
        final OracleRunner oracle = OracleRunner.require();
        final Path dir = Files.createTempDirectory("junction-normal-" + index + "-");
        boolean passed = false;
        try
        {
            final List<String> in = new FlowCaseGenerator.FlowCase("normal-" + index, flows, inputs, List.of()).writeTo(dir);
            final Path expected = dir.resolve("expected");
            final Path actual = dir.resolve("actual");
            final OracleRunner.Running running = oracle.start(DifferentialOracleTest.replayArgs(in, expected), dir);
            final DifferentialOracleTest.JunctionRun junction =
                DifferentialOracleTest.runJunction(DifferentialOracleTest.replayArgs(in, actual),
                    DifferentialOracleTest.SHARED_STATE_WORKERS);
            final OracleRunner.Result ovs = running.await(OracleRunner.DEFAULT_TIMEOUT);
            final String where = String.format("%nflows:%n%shosts: %s%nreproduce: mvn -o test -pl control "
                + "-Dtest=NormalOracleTest -Djunction.normal.seed=0x%x (case %d); kept in %s", flows, describe(hosts),
                SEED, index, dir);
            assertTrue(ovs.ok(), "the oracle failed: " + ovs.stderr() + where);
            assertEquals(0, junction.exitCode(), "Junction failed: " + junction.output() + where);
            final PcapCompare.Report report = PcapCompare.compare(expected, actual);
            if (!report.identical())
            {
                fail("outputs differ from OVS\n" + report.text() + where);
            }
            assertTrue(report.packetsCompared() > 0, "NORMAL must forward something" + where);
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

    private static void send(final Map<Integer, List<FlowCaseGenerator.Packet>> byPort, final long[] t, final Host h,
        final byte[] dst, final int type, final byte[] payload)
    {
        final int[] tags = h.vlan() == 0 ? new int[0] : new int[] {0x8100_0000 | h.vlan()};
        byPort.computeIfAbsent(h.port(), p -> new ArrayList<>())
            .add(new FlowCaseGenerator.Packet(t[0], PacketFactory.ethernet(dst, h.mac(), tags, type, payload), ""));
        t[0] += 1_000_000L;
    }

    private static String describe(final List<Host> hosts)
    {
        final StringBuilder sb = new StringBuilder();
        for (final Host h : hosts)
        {
            sb.append(String.format("%02x@port%d/vlan%d ", h.mac()[5], h.port(), h.vlan()));
        }
        return sb.toString();
    }
}
