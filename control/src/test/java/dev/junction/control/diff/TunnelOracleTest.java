package dev.junction.control.diff;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Geneve and VXLAN judged by Open vSwitch 3.1's native userspace tunnelling
 * ({@code src/test/oracle/ovs-tunnel-oracle}: tunnel ports on br0, the underlay on br-phy with
 * its address, routes and static neighbours, a TLV map).
 *
 * <p>Seeded generated cases: an IPv4 or IPv6 underlay (or both), Geneve ports with a fixed or
 * {@code flow} remote, {@code key=flow} or a fixed VNI, checksums on or off, a VXLAN port, a TLV
 * map with OVN's option (class 0x102, type 0x80, critical) and sometimes a second, non-critical
 * 8-byte option. Flows encapsulate pod traffic (TCP, UDP, ICMP, IPv6, ARP, random TOS/ECN) with
 * set tun_id/tun_dst/tun_metadata, sometimes copying it to a local port too; and decapsulated
 * traffic is matched on tun_id, tun_src, tun_metadata and tun_flags. Underlay input: Geneve with
 * and without options, with the OAM bit, with unknown non-critical and critical options, UDP
 * checksums on and off, from known and unknown remotes, with matching and other VNIs; VXLAN
 * likewise. Every port's output, the underlay's encapsulated frames included (UDP source port,
 * checksums, options), must be byte-identical with the oracle's, and so must flow-stats.txt.
 *
 * <p>System properties: {@code junction.tunnels.seed}, {@code junction.tunnels.cases} (default
 * 24), {@code junction.tunnels.only} (comma-separated case indices). A failing case keeps its
 * directory.
 */
class TunnelOracleTest
{
    static final long SEED = DifferentialOracleTest.parseSeed(System.getProperty("junction.tunnels.seed", "0x6e7e"));
    static final int CASES = Integer.getInteger("junction.tunnels.cases", 24);
    private static final Pattern CLOCK = Pattern.compile(" duration=[0-9.]+s,| idle_age=[0-9]+,");
    private static final AtomicInteger COMPARED = new AtomicInteger();
    private static final AtomicLong PACKETS = new AtomicLong();
    private static final AtomicLong UNDERLAY_PACKETS = new AtomicLong();

    static IntStream caseIndices()
    {
        final String only = System.getProperty("junction.tunnels.only", "").trim();
        if (!only.isEmpty())
        {
            return Arrays.stream(only.split(",")).map(String::trim).mapToInt(Integer::parseInt);
        }
        return IntStream.range(0, CASES);
    }

    @ParameterizedTest(name = "case {0}")
    @MethodSource("caseIndices")
    void tunnelTrafficMatchesOpenVswitch(final int caseIndex) throws Exception
    {
        final OracleRunner oracle = OracleRunner.requireTunnels();
        run(oracle, TunnelCase.generate(SEED, caseIndex), "junction-tunnels-" + caseIndex + "-", "tunnel case " + caseIndex,
            "mvn -pl control test -Dtest=TunnelOracleTest -Djunction.tunnels.only=" + caseIndex);
    }

    private static void run(final OracleRunner oracle, final TunnelCase c, final String dirPrefix, final String label,
        final String reproduce) throws Exception
    {
        run(oracle, c, dirPrefix, label, reproduce, TunnelOracleTest::judge);
    }

    private static void run(final OracleRunner oracle, final TunnelCase c, final String dirPrefix, final String label,
        final String reproduce, final OracleCase.Judge judge) throws Exception
    {
        OracleCase.run(oracle, dirPrefix, label, dir ->
        {
            final List<String> inputArgs = c.flowCase.writeTo(dir);
            final Path tunnels = dir.resolve("tunnels.yaml");
            Files.writeString(tunnels, c.tunnels, StandardCharsets.UTF_8);
            inputArgs.add("--tunnels");
            inputArgs.add(tunnels.toString());
            return inputArgs;
        }, judge, "reproduce: " + reproduce + "\n\ntunnels.yaml:\n" + c.tunnels + "\nflows.txt:\n"
            + c.flowCase.flows() + "\ninputs:\n" + c.flowCase.describeInputs(), DifferentialOracleTest.SHARED_STATE_WORKERS);
    }

    /**
     * Fields beyond tun_metadata7 (issue 5): OVN's option and the 8-byte one mapped to
     * tun_metadata13 and tun_metadata63, in both orders, so that slots, present bits, option order
     * on encapsulation (field order) and dump-flows names all have to follow the TLV map.
     */
    @ParameterizedTest(name = "case {0}")
    @MethodSource("wideCaseIndices")
    void wideFieldNumbersMatchOpenVswitch(final int caseIndex) throws Exception
    {
        final OracleRunner oracle = OracleRunner.requireTunnels();
        final boolean ovnFirst = caseIndex % 2 == 0;
        final TunnelCase c = TunnelCase.generate(SEED, caseIndex, ovnFirst ? 13 : 63, ovnFirst ? 63 : 13, true);
        run(oracle, c, "junction-tunnels-wide-" + caseIndex + "-", "wide tunnel case " + caseIndex,
            "mvn -pl control test -Dtest='TunnelOracleTest#wideFieldNumbersMatchOpenVswitch'");
    }

    /**
     * A flow naming a tun_metadata field the TLV map lacks: OVS refuses the flows
     * (NXFMFC_INVALID_TLV_FIELD, the oracle exits 3), and so must Junction (exit 2, saying why).
     */
    @org.junit.jupiter.api.Test
    void anUnmappedFieldIsRefusedAsOpenVswitchRefusesIt() throws Exception
    {
        final OracleRunner oracle = OracleRunner.requireTunnels();
        final TunnelCase wide = TunnelCase.generate(SEED, 1000, 13, 63, true);
        final TunnelCase c = new TunnelCase(wide.tunnels, new FlowCaseGenerator.FlowCase("unmapped", wide.flowCase.flows()
            + "priority=5,in_port=3,actions=set_field:0x1->tun_metadata12,output:10\n", wide.flowCase.inputs(), List.of()));
        run(oracle, c, "junction-tunnels-unmapped-", "a flow naming an unmapped tun_metadata field",
            "mvn -pl control test -Dtest='TunnelOracleTest#anUnmappedFieldIsRefusedAsOpenVswitchRefusesIt'",
            (ovs, junction, expected, actual) ->
            {
                if (!ovs.refused())
                {
                    return "the oracle did not refuse the flows (exit " + ovs.exitCode() + ")";
                }
                if (junction.exitCode() != 2 || !junction.output().contains("tun_metadata12 is not in the TLV map"))
                {
                    return "Junction did not refuse the flows as expected (exit " + junction.exitCode() + ")";
                }
                return null;
            });
    }

    /**
     * OVN's path-MTU check in front of a tunnel: check_pkt_larger(1400)->reg0[0], frames up to
     * 1400 bytes go into the Geneve tunnel (with tun_metadata13), longer ones to port 3 (where
     * OVN sends them to ovn-controller, which answers with ICMP "fragmentation needed"). From
     * port 2, frames go into the tunnel unchecked: a 1500-byte frame's encapsulation exceeds the
     * underlay MTU and is dropped by both.
     */
    @org.junit.jupiter.api.Test
    void pathMtuCheckBranchesBeforeTheTunnelAsOpenVswitch() throws Exception
    {
        final OracleRunner oracle = OracleRunner.requireTunnels();
        final String tunnels = "underlay: {port: 9, mac: \"aa:55:aa:55:00:01\", ip: [172.31.1.1/24]}\n"
            + "neighbours:\n  - {ip: 172.31.1.2, mac: \"aa:55:aa:55:00:02\"}\n"
            + "tunnels:\n  - {port: 10, type: geneve, remote_ip: 172.31.1.2, key: flow, csum: true}\n"
            + "tlv_map:\n  - \"{class=0x102,type=0x80,len=4}->tun_metadata13\"\n";
        final String flows = "priority=100,in_port=1,ip,actions=check_pkt_larger(1400)->NXM_NX_REG0[0],resubmit(,1)\n"
            + "priority=100,in_port=2,actions=set_field:0x6->tun_id,output:10\n"
            + "table=1,priority=100,reg0=0x1/0x1,actions=output:3\n"
            + "table=1,priority=0,actions=set_field:0x5->tun_id,set_field:0x10002->tun_metadata13,output:10\n";
        final List<FlowCaseGenerator.Packet> pod = udpFrames(1399, 1400, 1401, 1500, 64, 1400, 1401, 1514);
        final List<FlowCaseGenerator.Packet> other = List.of(
            new FlowCaseGenerator.Packet(1_700_000_000_100_000_000L, udpFrame(1400, 90), "1400 bytes, unchecked"),
            new FlowCaseGenerator.Packet(1_700_000_000_101_000_000L, udpFrame(1500, 91), "1500 bytes, unchecked"));
        final TunnelCase c = new TunnelCase(tunnels, new FlowCaseGenerator.FlowCase("path-mtu", flows,
            List.of(new FlowCaseGenerator.Input(1, pod), new FlowCaseGenerator.Input(2, other)), List.of()));
        run(oracle, c, "junction-tunnels-pmtu-", "the path-MTU check before a tunnel",
            "mvn -pl control test -Dtest='TunnelOracleTest#pathMtuCheckBranchesBeforeTheTunnelAsOpenVswitch'",
            (ovs, junction, expected, actual) ->
            {
                final String differs = judge(ovs, junction, expected, actual);
                if (differs != null)
                {
                    return differs;
                }
                // OVS itself must have branched: 1401, 1500, 1401 and 1514 bytes to port 3; 1399,
                // 1400, 64, 1400 and the unchecked 1400 encapsulated; the unchecked 1500 dropped.
                final int big = PcapCompare.readFrames(expected.resolve("3.pcap")).size();
                final int encapsulated = PcapCompare.readFrames(expected.resolve(TunnelCase.UNDERLAY + ".pcap")).size();
                return big == 4 && encapsulated == 5 ? null
                    : "unexpected split by OVS: " + big + " frames to port 3, " + encapsulated + " encapsulated";
            });
    }

    /**
     * A separate underlay MTU (the tunnel oracle's {@code mtu_request} on the underlay NIC, 1400):
     * Geneve over IPv4 adds 50 bytes, so inner frames up to 1364 bytes leave encapsulated within
     * 1400 + 14 and longer ones are dropped by the underlay port in both, while the bridge's own
     * ports keep the 1500-byte MTU (a 1500-byte frame to port 3 leaves).
     */
    @org.junit.jupiter.api.Test
    void underlayMtuDropsLongerEncapsulationsAsOpenVswitch() throws Exception
    {
        final OracleRunner oracle = OracleRunner.requireTunnels();
        final String tunnels = "underlay: {port: 9, mac: \"aa:55:aa:55:00:01\", ip: [172.31.1.1/24], mtu: 1400}\n"
            + "neighbours:\n  - {ip: 172.31.1.2, mac: \"aa:55:aa:55:00:02\"}\n"
            + "tunnels:\n  - {port: 10, type: geneve, remote_ip: 172.31.1.2, key: flow}\n";
        final String flows = "priority=100,in_port=1,actions=set_field:0x5->tun_id,output:10\n"
            + "priority=100,in_port=2,actions=output:3\n";
        final List<FlowCaseGenerator.Packet> pod = udpFrames(1300, 1364, 1365, 1400, 1500);
        final List<FlowCaseGenerator.Packet> other = List.of(
            new FlowCaseGenerator.Packet(1_700_000_000_100_000_000L, udpFrame(1500, 90), "1500 bytes to a bridge port"));
        final TunnelCase c = new TunnelCase(tunnels, new FlowCaseGenerator.FlowCase("underlay-mtu", flows,
            List.of(new FlowCaseGenerator.Input(1, pod), new FlowCaseGenerator.Input(2, other)), List.of()));
        run(oracle, c, "junction-tunnels-underlay-mtu-", "the underlay's own MTU",
            "mvn -pl control test -Dtest='TunnelOracleTest#underlayMtuDropsLongerEncapsulationsAsOpenVswitch'",
            (ovs, junction, expected, actual) ->
            {
                final String differs = judge(ovs, junction, expected, actual);
                if (differs != null)
                {
                    return differs;
                }
                final List<byte[]> encapsulated = PcapCompare.readFrames(actual.resolve(TunnelCase.UNDERLAY + ".pcap"));
                final int bridge = PcapCompare.readFrames(actual.resolve("3.pcap")).size();
                return encapsulated.size() == 2 && encapsulated.get(1).length == 1414 && bridge == 1 ? null
                    : "unexpected: " + encapsulated.size() + " encapsulated, " + bridge + " to port 3";
            });
    }

    /** UDP frames of these sizes, a millisecond apart. */
    private static List<FlowCaseGenerator.Packet> udpFrames(final int... sizes)
    {
        final List<FlowCaseGenerator.Packet> frames = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++)
        {
            frames.add(new FlowCaseGenerator.Packet(1_700_000_000_000_000_000L + i * 1_000_000L, udpFrame(sizes[i], i),
                "udp frame of " + sizes[i] + " bytes"));
        }
        return frames;
    }

    private static byte[] udpFrame(final int length, final int n)
    {
        return PacketFactory.ethernet(PacketFactory.mac("02:00:00:00:00:09"), PacketFactory.mac("02:00:00:00:00:01"),
            new int[0], 0x0800, new PacketFactory.Ip4().src(0x0a000001 + n).dst(0x0a010002).build(17,
                PacketFactory.udp(5000 + n, 53, new byte[length - 42]), PacketFactory.Checksum.CORRECT));
    }

    static IntStream wideCaseIndices()
    {
        return IntStream.range(1000, 1000 + Integer.getInteger("junction.tunnels.wideCases", 6));
    }

    private static String judge(final OracleRunner.Result ovs, final DifferentialOracleTest.JunctionRun junction,
        final Path expected, final Path actual) throws Exception
    {
        if (ovs.timedOut() || !ovs.ok())
        {
            return "the oracle failed (exit " + ovs.exitCode() + ")";
        }
        if (junction.thrown() != null)
        {
            return "Junction threw " + junction.thrown();
        }
        if (junction.exitCode() != 0)
        {
            return "OVS accepted the case but Junction exited " + junction.exitCode();
        }
        final PcapCompare.Report report = PcapCompare.compare(expected, actual);
        if (!report.identical())
        {
            return "outputs differ\n" + report.text();
        }
        final String ours = rules(actual.resolve("flow-stats.txt"));
        final String theirs = rules(expected.resolve("flow-stats.txt"));
        if (!ours.equals(theirs))
        {
            return "flow-stats.txt differs\nOVS:\n" + theirs + "\nJunction:\n" + ours;
        }
        COMPARED.incrementAndGet();
        PACKETS.addAndGet(report.packetsCompared());
        if (Files.exists(expected.resolve(TunnelCase.UNDERLAY + ".pcap")))
        {
            UNDERLAY_PACKETS.addAndGet(PcapCompare.readFrames(expected.resolve(TunnelCase.UNDERLAY + ".pcap")).size());
        }
        return null;
    }

    /** The suite must really exercise both directions, or identical outputs would prove little. */
    @org.junit.jupiter.api.AfterAll
    static void bothDirectionsCompared()
    {
        System.out.printf("tunnel cases: %d compared, %d output packets, %d of them encapsulated%n",
            COMPARED.get(), PACKETS.get(), UNDERLAY_PACKETS.get());
        if (COMPARED.get() >= 4)
        {
            assertTrue(UNDERLAY_PACKETS.get() > 10 * COMPARED.get(), "encapsulated output is too rare");
            assertTrue(PACKETS.get() - UNDERLAY_PACKETS.get() > 5L * COMPARED.get(), "decapsulated output is too rare");
        }
    }

    private static String rules(final Path file) throws Exception
    {
        return Files.readAllLines(file).stream()
            .filter(l -> l.startsWith(" cookie="))
            .map(l -> CLOCK.matcher(l).replaceAll(""))
            .sorted() // the order of dump-flows follows OVS's classifier hashing: compare the rules, not their order
            .collect(Collectors.joining("\n"));
    }

    /** One generated case: the tunnels file, flows, pod traffic on ports 1-2 and tunnel traffic on the underlay. */
    static final class TunnelCase
    {
        static final int UNDERLAY = 9;
        private static final long BASE_NANOS = 1_700_000_000L * 1_000_000_000L;
        private static final String LOCAL4 = "172.31.1.1";
        private static final String LOCAL6 = "fd00:31::1";
        private static final String[] REMOTES4 = {"172.31.1.2", "172.31.1.3"};
        private static final String REMOTE6 = "fd00:31::2";
        private static final String UNDERLAY_MAC = "aa:55:aa:55:00:01";
        private static final int OVN_CLASS = 0x102;
        private static final int OVN_TYPE = 0x80;
        private static final int EXTRA_CLASS = 0xffff;
        private static final int EXTRA_TYPE = 0x01;

        final String tunnels;
        final FlowCaseGenerator.FlowCase flowCase;

        private TunnelCase(final String tunnels, final FlowCaseGenerator.FlowCase flowCase)
        {
            this.tunnels = tunnels;
            this.flowCase = flowCase;
        }

        static TunnelCase generate(final long seed, final int index)
        {
            return generate(seed, index, 0, 1, false);
        }

        /**
         * A case whose TLV map puts OVN's option in tun_metadata{@code ovnField} and the 8-byte
         * option (always mapped when {@code forceExtra}) in tun_metadata{@code extraField}.
         */
        static TunnelCase generate(final long seed, final int index, final int ovnField, final int extraField,
            final boolean forceExtra)
        {
            final SplittableRandom r = FlowCaseGenerator.randomFor(seed, index);
            final boolean v6 = r.nextInt(3) == 0;
            final boolean extraOption = r.nextBoolean() || forceExtra;
            final String md = "tun_metadata" + ovnField;
            final String mdNxm = "NXM_NX_TUN_METADATA" + ovnField;
            final String extra = "tun_metadata" + extraField;
            final boolean csum10 = r.nextBoolean();
            final boolean csum11 = r.nextBoolean();
            final boolean vxlanKeyFlow = r.nextBoolean();
            final int vxlanKey = 1 + r.nextInt(0xfff);
            final int vni = 1 + r.nextInt(0xffffff);
            final long md0 = r.nextLong() & 0x7fff_ffffL;
            final String remote10 = v6 ? REMOTE6 : REMOTES4[0];
            final StringBuilder t = new StringBuilder();
            t.append("underlay: {port: ").append(UNDERLAY).append(", mac: \"").append(UNDERLAY_MAC).append("\", ip: [")
                .append(LOCAL4).append("/24, \"").append(LOCAL6).append("/64\"]}\n");
            t.append("neighbours:\n");
            t.append("  - {ip: 172.31.1.2, mac: \"aa:55:aa:55:00:02\"}\n");
            t.append("  - {ip: 172.31.1.3, mac: \"aa:55:aa:55:00:03\"}\n");
            t.append("  - {ip: 172.31.1.254, mac: \"aa:55:aa:55:00:fe\"}\n");
            t.append("  - {ip: \"fd00:31::2\", mac: \"aa:55:aa:55:00:62\"}\n");
            t.append("routes:\n  - {prefix: 10.9.0.0/16, via: 172.31.1.254}\n");
            t.append("tunnels:\n");
            t.append("  - {port: 10, type: geneve, remote_ip: \"").append(remote10).append("\", key: flow, csum: ")
                .append(csum10).append("}\n");
            t.append("  - {port: 11, type: geneve, remote_ip: flow, key: flow, csum: ").append(csum11).append("}\n");
            t.append("  - {port: 12, type: vxlan, remote_ip: ").append(REMOTES4[1]).append(", key: ")
                .append(vxlanKeyFlow ? "flow" : String.valueOf(vxlanKey)).append("}\n");
            t.append("tlv_map:\n  - \"{class=0x102,type=0x80,len=4}->").append(md).append("\"\n");
            if (extraOption)
            {
                t.append("  - \"{class=0xffff,type=0x1,len=8}->").append(extra).append("\"\n");
            }

            final String vniHex = "0x" + Integer.toHexString(vni);
            final String md0Hex = "0x" + Long.toHexString(md0);
            final String farDst = r.nextBoolean() ? "10.9.3.4" : REMOTES4[1];
            final StringBuilder f = new StringBuilder();
            // Pod side: encapsulation.
            f.append("priority=20,in_port=1,tcp,actions=set_field:").append(vniHex).append("->tun_id,set_field:")
                .append(md0Hex).append("->").append(md).append(",output:10").append(r.nextInt(3) == 0 ? ",output:2" : "").append('\n');
            f.append("priority=20,in_port=1,udp,actions=set_field:").append(vniHex).append("->tun_id,set_field:")
                .append(farDst).append("->tun_dst,").append(extraOption ? "set_field:0x1122334455667788->" + extra + "," : "")
                .append("output:11\n");
            f.append("priority=20,in_port=1,icmp,actions=").append(vxlanKeyFlow ? "set_field:0x" + Integer.toHexString(vni & 0xffffff) + "->tun_id," : "")
                .append("output:12\n");
            f.append("priority=20,in_port=1,ipv6,actions=set_field:0x7->tun_id,output:10\n");
            f.append("priority=20,in_port=1,arp,actions=set_field:").append(REMOTES4[0]).append("->tun_dst,output:11,output:2\n");
            f.append("priority=10,in_port=2,actions=set_field:").append(vniHex).append("->tun_id,set_field:oam->tun_flags,")
                .append("load:0x").append(Long.toHexString(md0 & 0xffff)).append("->").append(mdNxm).append("[0..15],output:10\n");
            // Tunnel side: decapsulation.
            f.append("priority=30,in_port=10,tun_id=").append(vniHex).append(",").append(md).append("=").append(md0Hex)
                .append(",actions=output:3\n");
            f.append("priority=25,in_port=10,tun_flags=+oam,actions=output:2\n");
            f.append("priority=20,in_port=10,actions=move:").append(mdNxm).append("[0..15]->NXM_NX_REG0[0..15],")
                .append("move:NXM_NX_TUN_ID[0..15]->NXM_NX_REG1[0..15],resubmit(,1)\n");
            f.append("table=1,priority=10,reg0=0x").append(Long.toHexString(md0 & 0xffff)).append(",actions=output:3\n");
            f.append("table=1,priority=0,actions=output:4\n");
            f.append("priority=20,in_port=11,tun_src=").append(REMOTES4[1]).append(",actions=output:3\n");
            if (extraOption)
            {
                f.append("priority=21,in_port=11,").append(extra).append("=0x1122334455667788,actions=output:2\n");
            }
            f.append("priority=10,in_port=11,actions=output:4\n");
            f.append("priority=20,in_port=12,actions=output:4\n");

            final List<FlowCaseGenerator.Input> inputs = new ArrayList<>();
            inputs.add(new FlowCaseGenerator.Input(1, podTraffic(r, 0, 24, (byte)1)));
            inputs.add(new FlowCaseGenerator.Input(2, podTraffic(r, 100_000, 4, (byte)2)));
            inputs.add(new FlowCaseGenerator.Input(UNDERLAY, underlayTraffic(r, 500, 24, vni, md0, vxlanKeyFlow ? vni : vxlanKey,
                extraOption)));
            return new TunnelCase(t.toString(), new FlowCaseGenerator.FlowCase("tunnels-" + index, f.toString(),
                inputs, List.of()));
        }

        private static byte[] podMac(final int n)
        {
            return PacketFactory.mac(String.format("02:00:00:00:00:%02x", n));
        }

        /** An inner frame of a random kind (TCP, UDP, ICMP, IPv6, ARP) with random addresses, ports and TOS. */
        private static byte[] inner(final SplittableRandom r, final byte src, final StringBuilder what)
        {
            final int kind = r.nextInt(10);
            final int a = 0x0a000000 | r.nextInt(1 << 16);
            final int b = 0x0a010000 | r.nextInt(1 << 16);
            final int tos = r.nextInt(3) == 0 ? r.nextInt(256) : 0;
            final byte[] payload = new byte[r.nextInt(3) == 0 ? 300 + r.nextInt(900) : r.nextInt(40)];
            r.nextBytes(payload);
            final PacketFactory.Ip4 ip = new PacketFactory.Ip4().src(a).dst(b).tos(tos).id(r.nextInt(65536))
                .dontFragment(r.nextBoolean());
            if (kind < 3)
            {
                what.append("tcp");
                return PacketFactory.ethernet(podMac(9), podMac(src), new int[0], 0x0800, ip.build(6,
                    PacketFactory.tcp(1024 + r.nextInt(60000), 80, r.nextLong() & 0xffffffffL, 0, 0x002,
                        new byte[0], payload), PacketFactory.Checksum.CORRECT));
            }
            if (kind < 6)
            {
                what.append("udp");
                return PacketFactory.ethernet(podMac(9), podMac(src), new int[0], 0x0800, ip.build(17,
                    PacketFactory.udp(1024 + r.nextInt(60000), 53 + r.nextInt(3), payload), PacketFactory.Checksum.CORRECT));
            }
            if (kind < 8)
            {
                what.append("icmp");
                return PacketFactory.ethernet(podMac(9), podMac(src), new int[0], 0x0800, ip.build(1,
                    PacketFactory.icmp(8, 0, r.nextInt(), payload), PacketFactory.Checksum.CORRECT));
            }
            if (kind < 9)
            {
                what.append("udp6");
                final byte[] s6 = PacketFactory.ip6("fd01::" + Integer.toHexString(1 + r.nextInt(0xfff)));
                final byte[] d6 = PacketFactory.ip6("fd02::" + Integer.toHexString(1 + r.nextInt(0xfff)));
                return PacketFactory.ethernet(podMac(9), podMac(src), new int[0], 0x86dd,
                    new PacketFactory.Ip6().src(s6).dst(d6).trafficClass(tos).build(17,
                        PacketFactory.udp(1024 + r.nextInt(60000), 53, payload), PacketFactory.Checksum.CORRECT));
            }
            what.append("arp");
            return PacketFactory.ethernet(PacketFactory.BROADCAST, podMac(src), new int[0], 0x0806,
                PacketFactory.arp(1, podMac(src), a, new byte[6], b));
        }

        private static List<FlowCaseGenerator.Packet> podTraffic(final SplittableRandom r, final long offsetMicros,
            final int n, final byte src)
        {
            final List<FlowCaseGenerator.Packet> out = new ArrayList<>();
            for (int i = 0; i < n; i++)
            {
                final StringBuilder what = new StringBuilder("pod ");
                final byte[] frame = inner(r, src, what);
                out.add(new FlowCaseGenerator.Packet(BASE_NANOS + (offsetMicros + i * 1000L) * 1000, frame, what.toString()));
            }
            return out;
        }

        /** Geneve and VXLAN packets to our endpoint: mostly well-formed and accepted, some for other VNIs or remotes. */
        private static List<FlowCaseGenerator.Packet> underlayTraffic(final SplittableRandom r, final long offsetMicros,
            final int n, final int vni, final long md0, final int vxlanVni, final boolean extraOption)
        {
            final List<FlowCaseGenerator.Packet> out = new ArrayList<>();
            // 172.31.1.3's MAC: an ARP reply or gratuitous ARP may move it, and its later tunnel
            // packets then come from the new MAC (a remote that really moved). OVS snoops outer
            // sources only on upcalls of the outer packet, Junction on upcalls of the inner one:
            // with consistent MACs both learn the same thing.
            final byte[][] mac3 = {PacketFactory.mac("aa:55:aa:55:00:03")};
            for (int i = 0; i < n; i++)
            {
                final StringBuilder what = new StringBuilder();
                if (r.nextInt(10) == 0)
                {
                    out.add(new FlowCaseGenerator.Packet(BASE_NANOS + (offsetMicros + i * 1000L) * 1000,
                        underlayArp(r, what, mac3), what.toString()));
                    continue;
                }
                final byte[] inner = inner(r, (byte)(0x20 + r.nextInt(8)), new StringBuilder());
                final int kind = r.nextInt(12);
                final byte[] udpPayload;
                final int dstPort;
                String remote = r.nextBoolean() ? REMOTES4[0] : REMOTES4[1];
                if (kind < 9)
                {
                    dstPort = 6081;
                    final int v = r.nextInt(4) == 0 ? 1 + r.nextInt(100) : vni;
                    final java.io.ByteArrayOutputStream opts = new java.io.ByteArrayOutputStream();
                    boolean critical = false;
                    if (r.nextInt(4) != 0)
                    {
                        final long value = r.nextInt(3) == 0 ? r.nextLong() & 0x7fffffffL : md0;
                        option(opts, OVN_CLASS, OVN_TYPE, 4, value);
                        critical = true;
                        what.append("ovn-opt=0x").append(Long.toHexString(value)).append(' ');
                    }
                    if (extraOption && r.nextInt(3) == 0)
                    {
                        option(opts, EXTRA_CLASS, EXTRA_TYPE, 8, r.nextBoolean() ? 0x1122334455667788L : r.nextLong());
                        what.append("extra-opt ");
                    }
                    if (r.nextInt(8) == 0)
                    {
                        option(opts, 0x0123, 0x05, 4, r.nextInt());
                        what.append("unknown-noncritical-opt ");
                    }
                    final boolean oam = r.nextInt(6) == 0;
                    final byte[] o = opts.toByteArray();
                    final byte[] g = new byte[8 + o.length];
                    g[0] = (byte)(o.length / 4);
                    g[1] = (byte)((oam ? 0x80 : 0) | (critical ? 0x40 : 0));
                    g[2] = 0x65;
                    g[3] = 0x58;
                    g[4] = (byte)(v >>> 16);
                    g[5] = (byte)(v >>> 8);
                    g[6] = (byte)v;
                    System.arraycopy(o, 0, g, 8, o.length);
                    udpPayload = PacketFactory.concat(g, inner);
                    what.insert(0, "geneve vni=0x" + Integer.toHexString(v) + (oam ? " oam " : " "));
                }
                else
                {
                    dstPort = 4789;
                    remote = REMOTES4[1];
                    final int v = r.nextInt(3) == 0 ? vxlanVni + 1 : vxlanVni;
                    final byte[] x = {0x08, 0, 0, 0, (byte)(v >>> 16), (byte)(v >>> 8), (byte)v, 0};
                    udpPayload = PacketFactory.concat(x, inner);
                    what.append("vxlan vni=").append(v).append(' ');
                }
                final boolean csum = r.nextBoolean();
                // Outer ECN CE sometimes: OVS marks an ECN-capable inner packet CE and drops one that is not.
                final int outerTos = r.nextInt(6) == 0 ? 0x03 : r.nextInt(6) == 0 ? 0xb8 : 0;
                if (outerTos != 0)
                {
                    what.append(" outer-tos=0x").append(Integer.toHexString(outerTos)).append(' ');
                }
                final byte[] udp = PacketFactory.udp(49152 + r.nextInt(16000), dstPort, udpPayload);
                final byte[] frame;
                if (dstPort == 6081 && r.nextInt(4) == 0)
                {
                    frame = PacketFactory.ethernet(PacketFactory.mac(UNDERLAY_MAC), PacketFactory.mac("aa:55:aa:55:00:62"),
                        new int[0], 0x86dd, new PacketFactory.Ip6().src(PacketFactory.ip6(REMOTE6))
                            .dst(PacketFactory.ip6(LOCAL6)).build(17, udp, PacketFactory.Checksum.CORRECT));
                    what.append("from ").append(REMOTE6);
                }
                else
                {
                    final int src = ip4(remote);
                    frame = PacketFactory.ethernet(PacketFactory.mac(UNDERLAY_MAC),
                        remote.endsWith(".2") ? PacketFactory.mac("aa:55:aa:55:00:02") : mac3[0], new int[0],
                        0x0800, new PacketFactory.Ip4().src(src).dst(ip4(LOCAL4)).ttl(64).dontFragment(r.nextBoolean())
                            .tos(outerTos)
                            .build(17, udp, csum ? PacketFactory.Checksum.CORRECT : PacketFactory.Checksum.ZERO));
                    what.append("from ").append(remote).append(csum ? " csum" : "");
                }
                out.add(new FlowCaseGenerator.Packet(BASE_NANOS + (offsetMicros + i * 1000L) * 1000, frame, what.toString()));
            }
            return out;
        }

        /**
         * ARP on the underlay: a request for our endpoint (answered), or a reply or gratuitous ARP
         * that moves 172.31.1.3 to another MAC (snooped: later encapsulations must follow it).
         */
        private static byte[] underlayArp(final SplittableRandom r, final StringBuilder what, final byte[][] current3)
        {
            final byte[] mac2 = PacketFactory.mac("aa:55:aa:55:00:02");
            final int kind = r.nextInt(3);
            final byte[] mac3 = kind == 0 ? current3[0]
                : PacketFactory.mac(r.nextInt(3) == 0 ? "aa:55:aa:55:00:03" : "aa:55:aa:55:00:33");
            current3[0] = mac3;
            switch (kind)
            {
                case 0:
                    what.append("arp who-has ").append(LOCAL4);
                    return PacketFactory.ethernet(PacketFactory.BROADCAST, mac2, new int[0], 0x0806,
                        PacketFactory.arp(1, mac2, ip4(REMOTES4[0]), new byte[6], ip4(LOCAL4)));
                case 1:
                    what.append("arp reply from ").append(REMOTES4[1]).append(" at ").append(PacketFactory.macString(mac3));
                    return PacketFactory.ethernet(PacketFactory.mac(UNDERLAY_MAC), mac3, new int[0], 0x0806,
                        PacketFactory.arp(2, mac3, ip4(REMOTES4[1]), PacketFactory.mac(UNDERLAY_MAC), ip4(LOCAL4)));
                default:
                    what.append("gratuitous arp ").append(REMOTES4[1]).append(" at ").append(PacketFactory.macString(mac3));
                    return PacketFactory.ethernet(PacketFactory.BROADCAST, mac3, new int[0], 0x0806,
                        PacketFactory.arp(1, mac3, ip4(REMOTES4[1]), new byte[6], ip4(REMOTES4[1])));
            }
        }

        private static void option(final java.io.ByteArrayOutputStream o, final int cls, final int type, final int len,
            final long value)
        {
            o.write(cls >>> 8);
            o.write(cls);
            o.write(type);
            o.write(len / 4);
            for (int i = len - 1; i >= 0; i--)
            {
                o.write((int)(value >>> (8 * i)));
            }
        }

        private static int ip4(final String s)
        {
            final String[] p = s.split("\\.");
            return Integer.parseInt(p[0]) << 24 | Integer.parseInt(p[1]) << 16 | Integer.parseInt(p[2]) << 8
                | Integer.parseInt(p[3]);
        }
    }
}
