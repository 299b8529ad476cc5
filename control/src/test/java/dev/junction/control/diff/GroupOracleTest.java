package dev.junction.control.diff;

import dev.junction.flowtable.ofp.FlowParseException;
import dev.junction.flowtable.ofp.Group;
import dev.junction.flowtable.ofp.GroupParser;
import dev.junction.flowtable.ofp.GroupPrinter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Group tables judged by Open vSwitch 3.1.
 *
 * <p>Text: each group line must be accepted or refused as {@code ovs-ofctl -O OpenFlow15
 * parse-group} (which also runs the switch's own group-mod checks while decoding) accepts or
 * refuses it, and printed as it prints it (bucket ids as its encoder numbers them).
 *
 * <p>Traffic: seeded generated cases (select groups with the default selection, with
 * {@code selection_method=hash} over field sets, with {@code selection_method=dp_hash} and both
 * hash algorithms, weights including zero and ones too uneven for 256 hash values; all, indirect
 * and fast-failover groups with live and dead watch ports; group chains, buckets that resubmit,
 * rewrite, push VLANs or write several outputs of which the action set keeps one), used from
 * flows that also resubmit into groups and act after them. Many 5-tuples go through each group,
 * every packet twice, so several buckets are chosen and cache hits must choose as upcalls did.
 * Every port's output must be byte-identical with the oracle's, in order (bucket choice included:
 * the hashes are OVS's, bit for bit), and so must the per-rule counters and the {@code group:N}
 * action text of {@code flow-stats.txt}.
 *
 * <p>System properties: {@code junction.groups.seed}, {@code junction.groups.cases} (default 40),
 * {@code junction.groups.only} (comma-separated case indices). A failing case keeps its directory.
 */
class GroupOracleTest
{
    private static final String ADD = " ADD ";
    private static final Pattern CLOCK = Pattern.compile(" duration=[0-9.]+s,| idle_age=[0-9]+,");
    static final long SEED = DifferentialOracleTest.parseSeed(System.getProperty("junction.groups.seed", "0x6209"));
    static final int CASES = Integer.getInteger("junction.groups.cases", 40);

    // ---- Group text ----

    @ParameterizedTest
    @ValueSource(strings = {
        "group_id=1,type=select,bucket=actions=set_field:10.0.0.2->ip_dst,output:2",
        "group_id=1,type=select,bucket=mod_nw_src:1.2.3.4,output:2,bucket=weight:5,actions=dec_ttl,output:3",
        "group_id=1,type=all,bucket=output:2,output:3",
        "group_id=1,type=select,selection_method=hash,fields(ip_src,tcp_dst),bucket=output:2",
        "group_id=1,type=select,selection_method=hash,fields=ip_src,bucket=output:2",
        "group_id=1,type=select,selection_method=hash,fields(tcp_dst,ip_src=255.255.0.0,eth_src),selection_method_param=7,bucket=output:2",
        "group_id=1,type=select,selection_method=hash,fields(nw_proto,udp_src,ipv6_dst),bucket=output:2",
        "group_id=1,type=select,selection_method=hash,fields(reg0,in_port,metadata,ip_dst),bucket=output:2",
        "group_id=1,type=select,selection_method=hash,fields(eth_dst=ff:ff:ff:00:00:00,tcp_src=0xff00),bucket=output:2",
        "group_id=1,type=select,selection_method=hash,fields(ipv6_src=ffff:ffff::),bucket=output:2",
        "group_id=1,type=select,selection_method=hash,bucket=output:2",
        "group_id=1,type=select,selection_method=dp_hash,bucket=bucket_id=5,output:2,bucket=output:3",
        "group_id=1,type=select,selection_method=dp_hash,selection_method_param=0x100000000,bucket=output:2",
        "group_id=1,type=select,selection_method=dp_hash,selection_method_param=4294967303,bucket=output:2",
        "group_id=1,type=ff,bucket=watch_port:2,output:2,bucket=watch_port=3,actions=output:3",
        "group_id=1,type=select,bucket=watch_port:3,watch_group:7,actions=output:3",
        "group_id=1,type=ff,bucket=watch_group:2,actions=output:3",
        "group_id=1,type=all,bucket=drop",
        "group_id=1,type=all",
        "group_id=1,type=select",
        "group_id=1,type=all,bucket=actions=mod_vlan_vid:5,output:2",
        "group_id=1,type=all,bucket=actions=push_vlan:0x8100,set_field:4101->vlan_vid,output:2",
        "group_id=1,type=all,bucket=actions=pop_vlan,output:2",
        "group_id=1,type=select,bucket=output:2,bucket=bucket_id:0,output:4",
        "group_id=1,type=select,bucket=output:2,bucket=bucket_id:1,output:4,bucket=output:3",
        "group_id=1,type=all,bucket=group:2",
        "group_id=1,type=select,bucket=weight:0,output:2",
        "group_id=4294967040,type=all,bucket=output:2",
        "group_id=1, type=all, bucket=output:2",
        "group_id=1,type=all,bucket=actions=resubmit(,3)",
        "group_id=1,type=indirect,bucket=actions=output:2",
        "group_id=1,type=fast_failover,bucket=watch_port:2,actions=output:2",
        "group_id=1,type=select,bucket=mod_nw_tos:4,mod_dl_src:00:00:00:00:00:01,load:1->NXM_NX_REG0[],move:NXM_OF_IP_SRC[]->NXM_OF_IP_DST[],output:2",
        "group_id=1,type=all,bucket=load:0x3->NXM_NX_REG1[0..3],output:2",
        "group_id=1,type=select,bucket=weight:65535,output:2,bucket=weight:1,output:3",
        "group_id=7,type=select,bucket=bucket_id:4294967040,output:2",
        "group_id=1,type=all,bucket=ct(commit,zone=5),output:2",
        "group_id=1,type=all,bucket=output:IN_PORT",
        // Refused by OVS (while parsing, or by the switch's checks): Junction must refuse too.
        "group_id=1,type=indirect,bucket=output:2,bucket=output:3",
        "group_id=1,type=ff,bucket=output:2",
        "group_id=1,type=all,bucket=weight:2,output:2",
        "group_id=1,type=all,bucket=controller,note:01,output:2,goto_table:3",
        "add,group_id=1,type=all,bucket=output:2",
        "group_id=1,type=all,selection_method=hash,bucket=output:2",
        "group_id=1,type=select,selection_method=foo,bucket=output:2",
        "group_id=1,type=select,bucket=bucket_id:0,output:2,bucket=output:3,bucket=bucket_id:1,output:4",
        "group_id=1,type=select,bucket=bucket_id:0,output:2,bucket=bucket_id:0,output:4",
        "group_id=1,type=select,selection_method=dp_hash,fields=ip_src,bucket=output:2",
        "group_id=1,type=select,selection_method_param=5,bucket=output:2",
        "group_id=1,type=all,bucket=actions=output:2,bucket=watch_port:3,actions=output:3",
        "group_id=1,type=select,selection_method=hash,fields(ip_src=0.0.0.0),bucket=output:2",
        "group_id=1,type=select,selection_method=hash,fields(nw_proto=0xf0),bucket=output:2",
        "group_id=1,type=select,selection_method=hash,fields(ip_src,ip_src),bucket=output:2",
        "group_id=1,type=select,selection_method=hash,fields(bogus),bucket=output:2",
        "group_id=4294967041,type=all,bucket=output:2",
        "group_id=1,type=bogus,bucket=output:2",
        "type=all,bucket=output:2",
        "group_id=1,bucket=output:2",
        "group_id=1,type=all,bucket=",
        "group_id=1,type=all,bucket=weight:1",
        "group_id=1,type=select,bucket=watch_port:65280,output:2",
        "group_id=1,type=all,bucket=output:2,frobnicate:3",
        "group_id=1,type=all,color=red,bucket=output:2",
    })
    void groupTextAsOvsOfctl(final String group) throws Exception
    {
        OracleRunner.require();
        final Process p = new ProcessBuilder("ovs-ofctl", "-O", "OpenFlow15", "parse-group", group)
            .redirectErrorStream(true).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "ovs-ofctl hung");
        final String last = out.strip().lines().reduce((a, b) -> b).orElse("").strip();
        final boolean ovsAccepts = p.exitValue() == 0 && last.startsWith(ADD.strip() + " ")
            && !out.contains("decode error");
        if (!ovsAccepts)
        {
            assertThrows(FlowParseException.class, () -> new GroupParser("test").parseLine(group, 1),
                "OVS refuses this group (" + last + ") but Junction accepted it");
            return;
        }
        final Group g = new GroupParser("test").parseLine(group, 1);
        assertEquals(last.substring("ADD ".length()), GroupPrinter.format(g));
    }

    // ---- Traffic through generated groups ----

    static IntStream caseIndices()
    {
        final String only = System.getProperty("junction.groups.only", "").trim();
        if (!only.isEmpty())
        {
            return Arrays.stream(only.split(",")).map(String::trim).mapToInt(Integer::parseInt);
        }
        return IntStream.range(0, CASES);
    }

    @ParameterizedTest(name = "case {0}")
    @MethodSource("caseIndices")
    void replayThroughGroupsMatchesOpenVswitch(final int caseIndex) throws Exception
    {
        final OracleRunner oracle = OracleRunner.require();
        final GroupCase c = GroupCase.generate(SEED, caseIndex);
        OracleCase.run(oracle, "junction-groups-" + caseIndex + "-", "group case " + caseIndex, dir ->
        {
            final List<String> inputArgs = c.flowCase.writeTo(dir);
            final Path groupsFile = dir.resolve("groups.txt");
            Files.writeString(groupsFile, c.groups, StandardCharsets.UTF_8);
            inputArgs.add("--groups");
            inputArgs.add(groupsFile.toString());
            return inputArgs;
        }, GroupOracleTest::judge, "reproduce: mvn -pl control test -Dtest=GroupOracleTest -Djunction.groups.only="
            + caseIndex + "\n\ngroups.txt:\n" + c.groups + "\nflows.txt:\n" + c.flowCase.flows());
    }

    private static String judge(final OracleRunner.Result ovs, final DifferentialOracleTest.JunctionRun junction,
        final Path expected, final Path actual) throws Exception
    {
        if (ovs.timedOut() || (!ovs.ok() && !ovs.refused()))
        {
            return "the oracle failed (exit " + ovs.exitCode() + ")";
        }
        if (junction.thrown() != null)
        {
            return "Junction threw " + junction.thrown();
        }
        if (ovs.refused())
        {
            REFUSED.incrementAndGet();
            return junction.exitCode() != 0 ? null : "OVS refused the groups or flows but Junction accepted them";
        }
        if (junction.exitCode() != 0)
        {
            return "OVS accepted the groups and flows but Junction exited " + junction.exitCode();
        }
        final PcapCompare.Report report = PcapCompare.compare(expected, actual);
        if (!report.identical())
        {
            return "outputs differ\n" + report.text();
        }
        COMPARED.incrementAndGet();
        PACKETS.addAndGet(report.packetsCompared());
        final String ours = rules(actual.resolve("flow-stats.txt"));
        final String theirs = rules(expected.resolve("flow-stats.txt"));
        if (!ours.equals(theirs))
        {
            return "flow-stats.txt differs\nOVS:\n" + theirs + "\nJunction:\n" + ours;
        }
        return null;
    }

    private static final java.util.concurrent.atomic.AtomicInteger COMPARED = new java.util.concurrent.atomic.AtomicInteger();
    private static final java.util.concurrent.atomic.AtomicInteger REFUSED = new java.util.concurrent.atomic.AtomicInteger();
    private static final java.util.concurrent.atomic.AtomicLong PACKETS = new java.util.concurrent.atomic.AtomicLong();

    /** The generator must mostly make cases OVS accepts, or the suite would prove little. */
    @org.junit.jupiter.api.AfterAll
    static void mostCasesCompared()
    {
        System.out.printf("group cases: %d compared (%d output packets), %d refused by OVS and Junction%n",
            COMPARED.get(), PACKETS.get(), REFUSED.get());
        if (COMPARED.get() + REFUSED.get() > 4)
        {
            assertTrue(COMPARED.get() * 2 > COMPARED.get() + REFUSED.get(), "most generated cases must be accepted");
        }
    }

    private static String rules(final Path file) throws Exception
    {
        return Files.readAllLines(file).stream()
            .filter(l -> l.startsWith(" cookie="))
            .map(l -> CLOCK.matcher(l).replaceAll(""))
            .collect(Collectors.joining("\n"));
    }

    /** One generated case: groups, flows naming them, and traffic with many 5-tuples. */
    static final class GroupCase
    {
        private static final long BASE_NANOS = 1_700_000_000L * 1_000_000_000L;
        private static final int[] OUT_PORTS = {2, 3, 4};
        private static final String[] HASH_FIELDS = {
            "ip_src", "ip_dst", "tcp_src", "tcp_dst", "udp_src", "udp_dst", "nw_proto", "eth_src", "eth_dst",
            "ipv6_src", "ipv6_dst", "in_port", "ip_src=255.255.255.0", "tcp_src=0xff00", "eth_type", "icmp_type",
            "reg0", "metadata"};
        private static final int[] WEIGHTS = {1, 1, 1, 2, 3, 5, 10, 0, 100, 300};

        final String groups;
        final FlowCaseGenerator.FlowCase flowCase;

        private GroupCase(final String groups, final FlowCaseGenerator.FlowCase flowCase)
        {
            this.groups = groups;
            this.flowCase = flowCase;
        }

        static GroupCase generate(final long seed, final int index)
        {
            final SplittableRandom r = FlowCaseGenerator.randomFor(seed, index);
            final int n = 2 + r.nextInt(4);
            final long[] ids = new long[n];
            for (int i = 0; i < n; i++)
            {
                ids[i] = r.nextInt(4) == 0 ? 100 + 7L * i : i + 1;
            }
            final StringBuilder g = new StringBuilder();
            for (int i = 0; i < n; i++)
            {
                g.append(group(r, ids, i)).append('\n');
            }
            final StringBuilder f = new StringBuilder();
            final String[] classes = {"tcp", "udp", "icmp", "tcp6", "udp6", "arp"};
            for (final String cls : classes)
            {
                final long gid = ids[r.nextInt(n)];
                final String after = switch (r.nextInt(5))
                {
                    case 0 -> ",output:4";
                    case 1 -> ",mod_dl_dst:02:00:00:00:00:0b,output:3";
                    default -> "";
                };
                if (r.nextInt(4) == 0 && !cls.equals("arp"))
                {
                    // Into the group through a resubmit, with actions left at both levels.
                    f.append("table=0,priority=20,in_port=1,").append(cls).append(",actions=resubmit(,3)")
                        .append(r.nextBoolean() ? ",output:2" : "").append('\n');
                    f.append("table=3,priority=20,").append(cls).append(",actions=set_field:0x7->reg1,group:")
                        .append(gid).append(after).append('\n');
                }
                else
                {
                    f.append("table=0,priority=20,in_port=1,").append(cls).append(",actions=group:").append(gid)
                        .append(after).append('\n');
                }
            }
            f.append("table=0,priority=10,in_port=2,actions=group:").append(ids[r.nextInt(n)]).append('\n');
            f.append("table=1,priority=10,ip,nw_dst=10.0.0.99,actions=output:3\n");
            f.append("table=1,priority=0,actions=output:4\n");
            f.append("table=2,priority=10,reg0=0x5,actions=output:2\n");
            f.append("table=2,priority=0,actions=output:3\n");
            final List<FlowCaseGenerator.Input> inputs = new ArrayList<>();
            inputs.add(new FlowCaseGenerator.Input(1, traffic(r, 0, 48)));
            inputs.add(new FlowCaseGenerator.Input(2, traffic(r, 500_000, 6)));
            return new GroupCase(g.toString(), new FlowCaseGenerator.FlowCase("groups-" + index, f.toString(),
                inputs, List.of()));
        }

        private static String group(final SplittableRandom r, final long[] ids, final int i)
        {
            final StringBuilder s = new StringBuilder("group_id=").append(ids[i]);
            final int kind = r.nextInt(20);
            final String type;
            if (kind < 6)
            {
                type = "select";
            }
            else if (kind < 9)
            {
                type = "select";
                s.append(",type=select,selection_method=hash");
                final List<String> fields = new ArrayList<>();
                final int k = 1 + r.nextInt(3);
                while (fields.size() < k)
                {
                    final String h = HASH_FIELDS[r.nextInt(HASH_FIELDS.length)];
                    final String name = h.contains("=") ? h.substring(0, h.indexOf('=')) : h;
                    if (fields.stream().noneMatch(x -> x.startsWith(name)))
                    {
                        fields.add(h);
                    }
                }
                s.append(",fields(").append(String.join(",", fields)).append(')');
                if (r.nextBoolean())
                {
                    s.append(",selection_method_param=").append(r.nextInt(1000));
                }
            }
            else if (kind < 13)
            {
                type = "select";
                s.append(",type=select,selection_method=dp_hash");
                final long alg = r.nextInt(3) == 0 ? 1 : 0;
                final long basis = r.nextBoolean() ? 0 : r.nextInt(100000);
                if ((alg << 32 | basis) != 0)
                {
                    s.append(",selection_method_param=").append(alg << 32 | basis);
                }
            }
            else if (kind < 16)
            {
                type = "all";
            }
            else if (kind < 17)
            {
                type = "indirect";
            }
            else
            {
                type = "ff";
            }
            if (!s.toString().contains(",type="))
            {
                s.append(",type=").append(type);
            }
            final int buckets = type.equals("indirect") ? 1 : 1 + r.nextInt(4);
            final boolean explicitIds = r.nextInt(4) == 0;
            for (int b = 0; b < buckets; b++)
            {
                s.append(",bucket=");
                if (explicitIds)
                {
                    s.append("bucket_id:").append(10 + 3 * b).append(',');
                }
                if (type.equals("select") && r.nextInt(3) > 0)
                {
                    s.append("weight:").append(WEIGHTS[r.nextInt(WEIGHTS.length)]).append(',');
                }
                if (type.equals("ff") || (type.equals("select") && r.nextInt(6) == 0))
                {
                    s.append("watch_port:").append(r.nextInt(4) == 0 ? 7 : OUT_PORTS[r.nextInt(3)]).append(',');
                }
                s.append("actions=").append(bucketActions(r, ids, i));
            }
            return s.toString();
        }

        private static String bucketActions(final SplittableRandom r, final long[] ids, final int i)
        {
            final int port = OUT_PORTS[r.nextInt(OUT_PORTS.length)];
            switch (r.nextInt(10))
            {
                case 0:
                    return "set_field:10.0.0.99->ip_dst,output:" + port;
                case 1:
                    return "mod_dl_src:02:00:00:00:00:0a,output:" + port;
                case 2:
                    return "resubmit(,1)";
                case 3:
                    return i + 1 < ids.length ? "group:" + ids[i + 1 + r.nextInt(ids.length - i - 1)] : "output:" + port;
                case 4:
                    return "dec_ttl,output:" + port;
                case 5:
                    return "output:" + port + ",output:" + OUT_PORTS[r.nextInt(OUT_PORTS.length)];
                case 6:
                    return "push_vlan:0x8100,set_field:4196->vlan_vid,output:" + port;
                case 7:
                    return "load:0x5->NXM_NX_REG0[],resubmit(,2)";
                default:
                    return "output:" + port;
            }
        }

        private static List<FlowCaseGenerator.Packet> traffic(final SplittableRandom r, final long offset, final int n)
        {
            final List<FlowCaseGenerator.Packet> once = new ArrayList<>();
            final byte[] macA = PacketFactory.mac("02:00:00:00:00:01");
            final byte[] macB = PacketFactory.mac("02:00:00:00:00:02");
            for (int i = 0; i < n; i++)
            {
                final int kind = r.nextInt(12);
                final int src = 0x0a000001 + r.nextInt(24);
                final int dst = 0x0a000101 + r.nextInt(4);
                final int sport = 1024 + r.nextInt(60000);
                final int dport = PacketFactory.L4_PORTS[r.nextInt(PacketFactory.L4_PORTS.length)];
                final byte[] frame;
                final String what;
                if (kind < 4)
                {
                    frame = PacketFactory.ethernet(macB, macA, new int[0], PacketFactory.ETH_IPV4,
                        new PacketFactory.Ip4().src(src).dst(dst).build(PacketFactory.PROTO_TCP,
                            PacketFactory.tcp(sport, dport, 1, 0, PacketFactory.TCP_SYN, new byte[0], new byte[6]),
                            PacketFactory.Checksum.CORRECT));
                    what = "tcp " + sport + "->" + dport;
                }
                else if (kind < 7)
                {
                    frame = PacketFactory.ethernet(macB, macA, new int[0], PacketFactory.ETH_IPV4,
                        new PacketFactory.Ip4().src(src).dst(dst).build(PacketFactory.PROTO_UDP,
                            PacketFactory.udp(sport, dport, new byte[10]), PacketFactory.Checksum.CORRECT));
                    what = "udp " + sport + "->" + dport;
                }
                else if (kind < 8)
                {
                    frame = PacketFactory.ethernet(macB, macA, new int[0], PacketFactory.ETH_IPV4,
                        new PacketFactory.Ip4().src(src).dst(dst).ttl(r.nextInt(5) == 0 ? 1 : 64)
                            .build(PacketFactory.PROTO_ICMP, PacketFactory.icmp(8, 0, r.nextInt(), new byte[8]),
                                PacketFactory.Checksum.CORRECT));
                    what = "icmp";
                }
                else if (kind < 11)
                {
                    final byte[] s6 = PacketFactory.IPV6_SEGMENTS[r.nextInt(3)].clone();
                    s6[15] = (byte)r.nextInt(256);
                    final boolean tcp = r.nextBoolean();
                    frame = PacketFactory.ethernet(macB, macA, new int[0], PacketFactory.ETH_IPV6,
                        new PacketFactory.Ip6().src(s6).dst(PacketFactory.IPV6[1]).build(
                            tcp ? PacketFactory.PROTO_TCP : PacketFactory.PROTO_UDP,
                            tcp ? PacketFactory.tcp(sport, dport, 1, 0, PacketFactory.TCP_SYN, new byte[0], new byte[0])
                                : PacketFactory.udp(sport, dport, new byte[4]), PacketFactory.Checksum.CORRECT));
                    what = (tcp ? "tcp6 " : "udp6 ") + sport + "->" + dport;
                }
                else
                {
                    frame = PacketFactory.ethernet(PacketFactory.BROADCAST, macA, new int[0], PacketFactory.ETH_ARP,
                        PacketFactory.arp(1, macA, src, new byte[6], dst));
                    what = "arp";
                }
                once.add(new FlowCaseGenerator.Packet(0, frame, what));
            }
            // Every packet twice: the second time through the caches must choose the same buckets.
            final List<FlowCaseGenerator.Packet> out = new ArrayList<>();
            for (int pass = 0; pass < 2; pass++)
            {
                for (int i = 0; i < once.size(); i++)
                {
                    final FlowCaseGenerator.Packet p = once.get(i);
                    out.add(new FlowCaseGenerator.Packet(BASE_NANOS + offset + (pass * n + i) * 1_000_000L,
                        p.frame(), p.description()));
                }
            }
            return out;
        }
    }
}
