package dev.junction.control.diff;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Load-balancer session affinity with {@code learn}, in the form ovn-controller emits for
 * {@code commit_lb_aff}, judged by OVS: each client's first connection to the VIP picks a
 * backend (here by source-port parity, a stand-in for the select group), the learn pins the
 * client to it, and every later connection of that client must reach the same backend whatever
 * its source port. Outputs must be byte-identical with OVS and the learned flows (with their
 * counters) must be the ones OVS shows in {@code dump-flows}.
 *
 * <p>The oracle runs on wall-clock time, so no trace here crosses an idle timeout: expiry in
 * pcap time is tested by {@code LearnTimeoutReplayTest} against OVS's documented semantics.
 */
class LearnOracleTest
{
    static final long SEED = DifferentialOracleTest.parseSeed(System.getProperty("junction.learn.seed", "0x1EA4"));
    static final int CASES = Integer.getInteger("junction.learn.cases", 16);
    private static final Pattern CLOCK = Pattern.compile(" duration=[0-9.]+s,| idle_age=[0-9]+,| hard_age=[0-9]+,");
    static final long BASE_NANOS = 1_700_000_000L * 1_000_000_000L;

    static IntStream cases()
    {
        return IntStream.range(0, CASES);
    }

    @ParameterizedTest(name = "learn case {0}")
    @MethodSource("cases")
    void affinityMatchesOpenVswitch(final int index) throws Exception
    {
        final SplittableRandom r = new SplittableRandom(SEED + index * 0x9E3779B97F4A7C15L);
        final String flows = affinityFlows(r);
        final List<FlowCaseGenerator.Packet> packets = traffic(r);
        final FlowCaseGenerator.FlowCase flowCase = new FlowCaseGenerator.FlowCase("learn-" + index, flows,
            List.of(new FlowCaseGenerator.Input(1, packets)), List.of());
        final OracleRunner oracle = OracleRunner.require();
        OracleCase.run(oracle, "junction-learn-" + index + "-", "learn case " + index, flowCase::writeTo,
            (ovs, junction, expected, actual) ->
            {
                if (!ovs.ok())
                {
                    return "the oracle failed (OVS refused the flows?): " + ovs.stderr();
                }
                if (junction.exitCode() != 0)
                {
                    return "Junction failed: " + junction.output();
                }
                final PcapCompare.Report report = PcapCompare.compare(expected, actual);
                if (!report.identical())
                {
                    return "outputs differ from OVS\n" + report.text();
                }
                if (report.packetsCompared() < packets.size())
                {
                    return "every SYN to the VIP must reach a backend: " + report.packetsCompared() + " < " + packets.size();
                }
                final String theirs = rules(expected.resolve("flow-stats.txt"));
                final String ours = rules(actual.resolve("flow-stats.txt"));
                return theirs.equals(ours) ? null
                    : "learned flows and counters differ from OVS's dump-flows\nOVS:\n" + theirs + "\nJunction:\n" + ours;
            }, String.format("reproduce: mvn -o test -pl control -Dtest=LearnOracleTest -Djunction.learn.seed=0x%x (case %d)",
                SEED, index) + "\nflows:\n" + flows, DifferentialOracleTest.SHARED_STATE_WORKERS);
    }

    /** Rule lines without the header and the wall-clock columns, sorted (OVS orders learned flows by its own hash). */
    static String rules(final Path file) throws Exception
    {
        return Files.readAllLines(file).stream()
            .filter(l -> l.startsWith(" cookie="))
            .map(l -> CLOCK.matcher(l).replaceAll(""))
            .sorted()
            .collect(Collectors.joining("\n"));
    }

    /** The affinity pipeline: table 1 holds learned flows, table 2 picks and learns, table 4 delivers. */
    static String affinityFlows(final SplittableRandom r)
    {
        final int idle = 30 + r.nextInt(300);
        final boolean fromRegister = r.nextBoolean();
        final boolean hard = r.nextBoolean();
        final int priority = r.nextBoolean() ? 32768 : 100 + r.nextInt(1000);
        final boolean cookie = r.nextBoolean();
        final StringBuilder f = new StringBuilder();
        f.append("table=0,priority=100,tcp,nw_dst=10.0.0.50,tp_dst=80,actions=resubmit(,1),resubmit(,2)\n");
        f.append("table=0,priority=0,actions=drop\n");
        f.append("table=2,priority=200,reg10=0x4000/0x4000,actions=resubmit(,4)\n");
        for (int parity = 0; parity < 2; parity++)
        {
            final String backend = parity == 0 ? "0xa000002" : "0xa000003";
            final String load = fromRegister ? "load:NXM_NX_REG4[]->NXM_NX_REG4[]" : "load:" + backend + "->NXM_NX_REG4[]";
            f.append("table=2,priority=100,tcp,tp_src=").append(parity).append("/1,actions=load:").append(backend)
                .append("->NXM_NX_REG4[],learn(table=1,idle_timeout=").append(idle)
                .append(hard ? ",hard_timeout=" + (idle + 100) : "")
                .append(priority != 32768 ? ",priority=" + priority : "")
                .append(",delete_learned").append(cookie ? ",cookie=0x" + Integer.toHexString(0x100 + parity) : "")
                .append(",eth_type=0x800,NXM_OF_IP_SRC[],ip_dst=10.0.0.50,nw_proto=6,tcp_dst=80,")
                .append("load:0x1->NXM_NX_REG10[14],").append(load).append("),resubmit(,4)\n");
        }
        f.append("table=4,priority=100,tcp,reg4=0xa000002,actions=mod_nw_dst:10.0.0.2,output:2\n");
        f.append("table=4,priority=100,tcp,reg4=0xa000003,actions=mod_nw_dst:10.0.0.3,output:3\n");
        return f.toString();
    }

    /** SYNs from several clients to the VIP, interleaved, each client several times with random source ports. */
    static List<FlowCaseGenerator.Packet> traffic(final SplittableRandom r)
    {
        final int clients = 2 + r.nextInt(6);
        final List<FlowCaseGenerator.Packet> out = new ArrayList<>();
        final int n = 10 + r.nextInt(30);
        for (int i = 0; i < n; i++)
        {
            final int c = r.nextInt(clients);
            final int sport = 1024 + r.nextInt(60_000);
            final byte[] tcp = PacketFactory.tcp(sport, 80, r.nextInt() & 0xffffffffL, 0, PacketFactory.TCP_SYN,
                new byte[0], new byte[0]);
            final byte[] ip = new PacketFactory.Ip4().src(0x0a000064 + c).dst(0x0a000032)
                .build(PacketFactory.PROTO_TCP, tcp, PacketFactory.Checksum.CORRECT);
            final byte[] frame = PacketFactory.ethernet(PacketFactory.mac("0a:00:00:00:01:" + String.format("%02x", c + 1)),
                PacketFactory.mac("0a:00:00:00:00:fe"), new int[0], PacketFactory.ETH_IPV4, ip);
            out.add(new FlowCaseGenerator.Packet(BASE_NANOS + i * 1_000_000L, frame,
                "client " + c + " SYN sport " + sport));
        }
        return out;
    }
}
