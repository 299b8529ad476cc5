package dev.junction.control.diff;

import dev.junction.datapath.pcap.PcapWriter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

import static dev.junction.control.diff.PacketFactory.IPV4;
import static dev.junction.control.diff.PacketFactory.IPV6;
import static dev.junction.control.diff.PacketFactory.L4_PORTS;
import static dev.junction.control.diff.PacketFactory.MACS;
import static dev.junction.control.diff.PacketFactory.TTLS;
import static dev.junction.control.diff.PacketFactory.VLAN_IDS;
import static dev.junction.control.diff.PacketFactory.ip4String;
import static dev.junction.control.diff.PacketFactory.ip6String;
import static dev.junction.control.diff.PacketFactory.macString;

/**
 * Seeded generator of differential cases: an {@code ovs-ofctl add-flows} file (OpenFlow 1.5
 * semantics) plus one to three input pcaps. Every case is a pure function of (seed, case index),
 * so a failure is reproduced by rerunning that one index with the same seed.
 *
 * <p>Rules mostly respect OpenFlow prerequisites and draw match values from the
 * {@link PacketFactory} pools so that they hit; a few cases carry one deliberately refused rule
 * (bad syntax or a missing prerequisite) so the refusal path is judged too, and some carry match
 * fields without their prerequisites, which OVS accepts but silently drops from the match.
 */
final class FlowCaseGenerator
{
    static final int[] SWITCH_PORTS = { 1, 2, 3, 4 };
    static final String PORTS_ARG = "1,2,3,4";
    static final String REFUSAL_NOTE = "deliberately refused: ";

    /** Base timestamp of generated traffic: whole seconds fit the 32-bit pcap field. */
    private static final long BASE_NANOS = 1_700_000_000L * 1_000_000_000L;

    record Packet(long timestampNanos, byte[] frame, String description)
    {
    }

    record Input(int port, List<Packet> packets)
    {
    }

    /**
     * One case. {@code notes} says what is special about it (a deliberately refused rule,
     * normalised matches, a resubmit loop), for the failure report and for statistics.
     */
    record FlowCase(String name, String flows, List<Input> inputs, List<String> notes)
    {
        boolean hasDeliberateRefusal()
        {
            return notes.stream().anyMatch(n -> n.startsWith(REFUSAL_NOTE));
        }

        /** Writes flows.txt and in-N.pcap into {@code dir}; returns the --flows/--in arguments. */
        List<String> writeTo(final Path dir) throws IOException
        {
            Files.createDirectories(dir);
            final Path flowsFile = dir.resolve("flows.txt");
            Files.writeString(flowsFile, flows, StandardCharsets.UTF_8);
            final List<String> args = new ArrayList<>(List.of("--flows", flowsFile.toString()));
            for (final Input input : inputs)
            {
                final Path pcap = dir.resolve("in-" + input.port() + ".pcap");
                try (PcapWriter writer = new PcapWriter(pcap))
                {
                    for (final Packet packet : input.packets())
                    {
                        writer.write(packet.timestampNanos(), packet.frame(), 0, packet.frame().length);
                    }
                }
                args.add("--in");
                args.add(input.port() + "=" + pcap);
            }
            return args;
        }

        /** Human-readable listing of the inputs: what each packet was meant to be. */
        String describeInputs()
        {
            final StringBuilder s = new StringBuilder();
            for (final Input input : inputs)
            {
                s.append("  in port ").append(input.port()).append(": ").append(input.packets().size())
                    .append(" packets\n");
                int i = 0;
                for (final Packet p : input.packets())
                {
                    s.append(String.format("    #%-3d t=%d.%06d len=%-4d %s%n", i++, p.timestampNanos() / 1_000_000_000L,
                        p.timestampNanos() % 1_000_000_000L / 1000, p.frame().length, p.description()));
                }
            }
            return s.toString();
        }
    }

    private final long seed;

    FlowCaseGenerator(final long seed)
    {
        this.seed = seed;
    }

    /** The random stream of one case: independent of every other case index. */
    static SplittableRandom randomFor(final long seed, final int caseIndex)
    {
        return new SplittableRandom(mix64(seed * 0x9E3779B97F4A7C15L + caseIndex));
    }

    FlowCase generate(final int caseIndex)
    {
        final SplittableRandom random = randomFor(seed, caseIndex);
        final List<String> notes = new ArrayList<>();
        final List<Input> inputs = randomInputs(random, notes);
        final int[] inputPorts = inputs.stream().mapToInt(Input::port).toArray();
        final String flows = new RuleWriter(random, notes, inputPorts).write(String.format(
            "# junction differential case: seed=0x%x case=%d", seed, caseIndex));
        return new FlowCase(String.format("seed=0x%x case=%d", seed, caseIndex), flows, replayedTwice(inputs),
            List.copyOf(notes));
    }

    /**
     * Every input twice, the second copy after the first: packets of the second round find the
     * megaflows (and some the exact-match entries) the first round installed, so the caches'
     * answers are judged too, including OVS's history effects (a megaflow whose mask lacks nw_proto
     * decides for a later IPv4 packet whose nw_proto reads 0).
     */
    private static List<Input> replayedTwice(final List<Input> inputs)
    {
        long last = 0;
        for (final Input in : inputs)
        {
            for (final Packet p : in.packets())
            {
                last = Math.max(last, p.timestampNanos());
            }
        }
        final long shift = last + 1_000_000L;
        final List<Input> out = new ArrayList<>();
        for (final Input in : inputs)
        {
            final List<Packet> packets = new ArrayList<>(in.packets());
            for (final Packet p : in.packets())
            {
                packets.add(new Packet(p.timestampNanos() + shift, p.frame(), p.description() + " (again)"));
            }
            out.add(new Input(in.port(), packets));
        }
        return out;
    }

    private static List<Input> randomInputs(final SplittableRandom random, final List<String> notes)
    {
        final int pick = random.nextInt(100);
        final int count = pick < 50 ? 1 : pick < 85 ? 2 : 3;
        final int[] ports = SWITCH_PORTS.clone();
        shuffle(ports, random);

        // Tie mode: coarse shared clock, so packets of different inputs often share a timestamp
        // and the --in order has to break the tie.
        final boolean ties = count > 1 && random.nextInt(100) < 25;
        if (ties)
        {
            notes.add("equal timestamps across inputs");
        }
        final PacketFactory factory = new PacketFactory(random);
        final List<Input> inputs = new ArrayList<>();
        for (int i = 0; i < count; i++)
        {
            final int n = 5 + random.nextInt(26);
            final List<Packet> packets = new ArrayList<>(n);
            long t = BASE_NANOS + (ties ? 0 : random.nextInt(1000) * 1000L);
            for (int k = 0; k < n; k++)
            {
                final byte[] frame = factory.randomFrame();
                packets.add(new Packet(t, frame, factory.lastDescription()));
                if (ties)
                {
                    t += random.nextInt(3) * 1_000_000L;
                }
                else
                {
                    // Whole microseconds: what classic pcap keeps. Rarely 0: ties within a file.
                    t += random.nextInt(100) < 4 ? 0 : (1 + random.nextInt(2000)) * 1000L;
                }
            }
            inputs.add(new Input(ports[i], packets));
        }
        return inputs;
    }

    private static void shuffle(final int[] a, final SplittableRandom random)
    {
        for (int i = a.length - 1; i > 0; i--)
        {
            final int j = random.nextInt(i + 1);
            final int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    private static long mix64(final long z0)
    {
        long z = (z0 ^ (z0 >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }

    /** Protocol class of a rule's match: decides which fields and actions are legal. */
    private enum Proto
    {
        ANY(null, 0, -1),
        ARP("arp", 0x0806, -1),
        IP("ip", 0x0800, -1),
        TCP("tcp", 0x0800, 6),
        UDP("udp", 0x0800, 17),
        ICMP("icmp", 0x0800, 1),
        SCTP("sctp", 0x0800, 132),
        IPV6("ipv6", 0x86dd, -1),
        TCP6("tcp6", 0x86dd, 6),
        UDP6("udp6", 0x86dd, 17),
        ICMP6("icmp6", 0x86dd, 58),
        SCTP6("sctp6", 0x86dd, 132);

        private static final int[] WEIGHTS = { 20, 8, 12, 14, 12, 6, 3, 8, 6, 5, 6, 2 };

        final String shorthand;
        final int dlType;
        final int nwProto;

        Proto(final String shorthand, final int dlType, final int nwProto)
        {
            this.shorthand = shorthand;
            this.dlType = dlType;
            this.nwProto = nwProto;
        }

        boolean ip4()
        {
            return dlType == 0x0800;
        }

        boolean ip6()
        {
            return dlType == 0x86dd;
        }

        boolean ip()
        {
            return ip4() || ip6();
        }

        boolean ports()
        {
            return nwProto == 6 || nwProto == 17 || nwProto == 132;
        }

        /** The field prefix ovs-ofctl uses for this class's L4 ports in set_field. */
        String portField()
        {
            return nwProto == 6 ? "tcp" : nwProto == 17 ? "udp" : "sctp";
        }

        static Proto pick(final SplittableRandom random)
        {
            int r = random.nextInt(Arrays.stream(WEIGHTS).sum());
            for (int i = 0; i < WEIGHTS.length; i++)
            {
                r -= WEIGHTS[i];
                if (r < 0)
                {
                    return values()[i];
                }
            }
            return ANY;
        }
    }

    /** Writes the rules of one case; state is per case, so it is a short-lived object. */
    private static final class RuleWriter
    {
        private static final String[] TCP_FLAGS =
        {
            "+syn", "+syn-ack", "+syn+ack", "-syn+ack", "+fin", "+rst", "+ack-psh", "+psh+ack", "0x012/0x0ff",
            "0x002/0x012", "0x010", "-syn-fin-rst",
        };
        private static final String[] IP_FRAG = { "no", "yes", "first", "later", "not_later" };
        private static final int[] PRIORITIES = { 0, 1, 10, 100, 200, 500, 1000, 32768, 40000, 65535 };
        private static final int[] REG_VALUES = { 0, 1, 5, 0xff };
        private static final byte[] EXTRA_MAC = PacketFactory.mac("02:00:00:00:00:09");

        private final SplittableRandom random;
        private final List<String> notes;
        private final List<String> rules = new ArrayList<>();
        private final int[] inputPorts;
        private int maxTable;

        // Per-rule state: what the match guarantees, which decides which actions are legal.
        private int table;
        private Proto proto;
        private int vlanDepth;              // VLAN headers OVS knows are there: 0..2
        private boolean laterFragment;      // ip_frag=later: no L4 header to match or modify
        private int inPort;
        private int icmpType = -1;
        private int budget;
        // Overlapping rules of equal priority in one table have no defined winner in OVS (its
        // classifier's subtable order decides), so each generated rule gets a priority of its own;
        // 0 (catch-alls), 1 and 65000 (resubmit loops) and 7 (deliberately bad rules) are reserved.
        private final java.util.Set<Integer> usedPriorities = new java.util.HashSet<>();

        RuleWriter(final SplittableRandom random, final List<String> notes, final int[] inputPorts)
        {
            this.random = random;
            this.notes = notes;
            this.inputPorts = inputPorts;
        }

        String write(final String header)
        {
            final int pick = random.nextInt(100);
            maxTable = pick < 30 ? 0 : pick < 60 ? 1 : pick < 80 ? 2 : 2 + random.nextInt(4);
            for (int t = 0; t <= maxTable; t++)
            {
                final int n = t == 0 ? 2 + random.nextInt(7) : 1 + random.nextInt(5);
                for (int i = 0; i < n; i++)
                {
                    rules.add(rule(t));
                }
                if (random.nextInt(100) < (t == 0 ? 60 : 30))
                {
                    rules.add(catchAll(t));
                }
            }
            if (random.nextInt(100) < 4)
            {
                addResubmitLoop();
            }
            if (random.nextInt(100) < 7)
            {
                final String bad = deliberatelyBadRule();
                rules.add(random.nextInt(rules.size() + 1), bad);
            }

            final StringBuilder s = new StringBuilder(header).append('\n');
            for (final String rule : rules)
            {
                s.append(rule).append('\n');
            }
            return s.toString();
        }

        private String catchAll(final int t)
        {
            final String prefix = (t == 0 && random.nextBoolean() ? "" : "table=" + t + ",") + "priority=0,";
            final int pick = random.nextInt(100);
            if (pick < 10)
            {
                return prefix + "actions=drop";
            }
            if (pick < 30 && t < maxTable)
            {
                return prefix + "actions=goto_table:" + (t + 1);
            }
            return prefix + "actions=output:" + port();
        }

        private void addResubmitLoop()
        {
            // Packets of one port loop in a table until OVS's depth limit gives up on them: only
            // resubmits to the same or a lower table count, and the 65th drops the whole packet.
            final int port = inputPort();
            final int loopTable = 10 + random.nextInt(5);
            rules.add(String.format("table=0,priority=65000,in_port=%d,actions=output:%d,resubmit(,%d)", port, port(),
                loopTable));
            rules.add(String.format("table=%d,priority=1,actions=output:%d,resubmit(,%d)", loopTable, port(), loopTable));
            notes.add("resubmit loop for in_port=" + port);
        }

        private String deliberatelyBadRule()
        {
            final String[] bad =
            {
                "priority=7,actions=mod_nw_dst:10.0.0.9,output:2",                 // prerequisite: ip
                "priority=7,ip,actions=mod_tp_dst:99,output:2",                    // prerequisite: tcp/udp/sctp
                "priority=7,actions=strip_vlan,output:2",                          // prerequisite: a VLAN match
                "priority=7,actions=dec_ttl,output:2",                             // prerequisite: ip or ipv6
                "priority=7,actions=set_field:4101->vlan_vid,output:2",            // prerequisite: a VLAN match
                "priority=7,tcp,actions=set_field:99->udp_dst,output:2",           // wrong L4 protocol
                "priority=7,actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG1[],output:2", // move source prerequisite
                "priority=7,ip,actions=mod_nw_tos:5,output:2",                     // TOS must be a multiple of 4
                "priority=7,ip,actions=load:0x3f->NXM_OF_IP_TOS[],output:2",       // ECN bits in nw_tos
                "priority=7,dl_vlan=5,actions=set_field:7->vlan_vid,output:2",     // OFPVID_PRESENT missing
                "priority=7,actions=note:hello",                                   // note wants hex
                "priority=70000,actions=output:2",                                 // priority out of range
                "table=3,priority=7,actions=goto_table:1",                         // goto_table backwards
                "priority=7,actions=goto_table:2,output:1",                        // goto_table not last
                "priority=7,actions=output:1,drop",                                // drop with other actions
                "priority=7,ip,nw_src=10.0.0.1/33,actions=output:2",               // prefix too long
                "priority=7,actions=load:0x1ff->NXM_NX_REG1[0..7]",                // value wider than field
                "priority=7,actions=load:5->NXM_NX_REG1[30..33]",                  // bits beyond the field
                "priority=7,actions=frobnicate:3",                                 // unknown action
                "priority=7,bogus_field=1,actions=output:2",                       // unknown field
                "priority=7,ip",                                                   // no actions
                "priority=7,ipv6,ipv6_label=0x123456,actions=output:2",            // label wider than 20 bits
                "priority=7,actions=output:65535",                                 // port ANY
                "priority=7,udp,ip_frag=later,tp_dst=53,actions=output:2",         // no L4 in later fragments
                "priority=7,tcp,ip_frag=later,actions=mod_tp_dst:80,output:2",     // no L4 in later fragments
                "priority=7,dl_vlan=5,actions=push_vlan:0x8100,push_vlan:0x8100,output:2", // third VLAN header
                "priority=7,icmp6,icmp_type=136,actions=set_field:02:00:00:00:00:09->nd_sll,output:1",
            };
            final String rule = bad[random.nextInt(bad.length)];
            notes.add(REFUSAL_NOTE + rule);
            return rule;
        }

        private int port()
        {
            return SWITCH_PORTS[random.nextInt(SWITCH_PORTS.length)];
        }

        private boolean chance(final int percent)
        {
            return random.nextInt(100) < percent;
        }

        private <T> T pick(final T[] values)
        {
            return values[random.nextInt(values.length)];
        }

        private int pick(final int[] values)
        {
            return values[random.nextInt(values.length)];
        }

        private String rule(final int t)
        {
            table = t;
            proto = Proto.pick(random);
            vlanDepth = 0;
            laterFragment = false;
            inPort = 0;
            icmpType = -1;
            final List<String> parts = new ArrayList<>();
            if (t > 0 || chance(50))
            {
                parts.add("table=" + t);
            }
            final boolean explicit = chance(90);
            int priority = explicit ? (chance(60) ? pick(PRIORITIES) : random.nextInt(65536)) : 32768;
            while (priority == 0 || priority == 1 || priority == 7 || priority == 65000
                || !usedPriorities.add(t * 65536 + priority))
            {
                priority = 2 + random.nextInt(65534);
            }
            if (explicit || priority != 32768)
            {
                parts.add("priority=" + priority);
            }
            if (chance(20))
            {
                parts.add("cookie=0x" + Integer.toHexString(1 + random.nextInt(0xffff)));
            }
            match(parts);
            parts.add("actions=" + actions());
            return String.join(",", parts);
        }

        // ---- Matches ----

        private void match(final List<String> parts)
        {
            // How many optional fields this rule may have: every extra field halves its hit rate.
            final int pick = random.nextInt(100);
            budget = pick < 15 ? 0 : pick < 50 ? 1 : pick < 80 ? 2 : pick < 95 ? 3 : 5;
            if (proto.shorthand != null)
            {
                if (chance(20))
                {
                    parts.add(String.format("dl_type=0x%04x", proto.dlType));
                    if (proto.nwProto >= 0)
                    {
                        parts.add("nw_proto=" + proto.nwProto);
                    }
                }
                else
                {
                    parts.add(proto.shorthand);
                }
            }
            else if (chance(4))
            {
                parts.add(String.format("dl_type=0x%04x", pick(new int[]{ 0x05ff, 0x88cc, 0x88b5 })));
            }

            switch (proto)
            {
                case ARP:
                    arpMatch(parts);
                    break;
                case ANY:
                    break;
                default:
                    ipMatch(parts);
                    break;
            }

            if (want(table == 0 ? 40 : 15))
            {
                inPort = inputPort();
                parts.add("in_port=" + inPort);
            }
            if (want(10))
            {
                parts.add("dl_src=" + macMaybeMasked());
            }
            if (want(12))
            {
                parts.add("dl_dst=" + (chance(20) ? "ff:ff:ff:ff:ff:ff" :
                    chance(15) ? "01:00:00:00:00:00/01:00:00:00:00:00" : macMaybeMasked()));
            }
            if (want(15))
            {
                parts.add(vlanMatch());
            }
            if (want(table == 0 ? 4 : 15))
            {
                parts.add(registerMatch());
            }
            if (proto == Proto.ANY && table == 0 && parts.stream().noneMatch(p -> p.contains("=")) && chance(80))
            {
                // A bare rule in table 0 takes every packet: keep those for the explicit catch-alls.
                inPort = inputPort();
                parts.add("in_port=" + inPort);
            }

            if (chance(3))
            {
                missingPrerequisiteMatch(parts);
            }
        }

        /** An optional match field, if the rule's budget allows one and the dice agree. */
        private boolean want(final int percent)
        {
            if (budget > 0 && chance(percent))
            {
                budget--;
                return true;
            }
            return false;
        }

        /** Mostly a port that really has input, so in_port matches hit. */
        private int inputPort()
        {
            return chance(85) ? inputPorts[random.nextInt(inputPorts.length)] : port();
        }

        private String macMaybeMasked()
        {
            final String mac = macString(pick(MACS));
            return chance(20) ? mac + (chance(50) ? "/ff:ff:ff:ff:ff:fe" : "/ff:ff:ff:00:00:00") : mac;
        }

        private String vlanMatch()
        {
            final int vid = pick(VLAN_IDS);
            switch (random.nextInt(7))
            {
                case 0:
                case 1:
                    vlanDepth = 1;
                    return "dl_vlan=" + vid;
                case 2:
                    vlanDepth = 1;
                    return "dl_vlan_pcp=" + random.nextInt(8);
                case 3:
                    vlanDepth = 1;
                    return "vlan_tci=0x1000/0x1000";
                case 4:
                    vlanDepth = 1;
                    return String.format("vlan_tci=0x%04x/0x1fff", 0x1000 | vid);
                case 5:
                    return "vlan_tci=0x0000/0x1000";
                default:
                    return "dl_vlan=0xffff";
            }
        }

        private String registerMatch()
        {
            final int value = pick(REG_VALUES);
            switch (random.nextInt(5))
            {
                case 0:
                    return "metadata=0x" + Integer.toHexString(value);
                case 1:
                    return "xreg" + random.nextInt(8) + "=0x" + Integer.toHexString(value);
                case 2:
                    return "reg" + random.nextInt(16) + "=0x" + Integer.toHexString(value) + "/0xff";
                default:
                    return "reg" + pick(new int[]{ 0, 1, 3, 15 }) + "=" + value;
            }
        }

        private void arpMatch(final List<String> parts)
        {
            if (want(30))
            {
                parts.add("arp_op=" + (chance(90) ? 1 + random.nextInt(2) : 3));
            }
            if (want(30))
            {
                parts.add("arp_spa=" + ip4MaybeMasked());
            }
            if (want(30))
            {
                parts.add("arp_tpa=" + ip4MaybeMasked());
            }
            if (want(15))
            {
                parts.add("arp_sha=" + macString(pick(MACS)));
            }
            if (want(10))
            {
                parts.add("arp_tha=" + (chance(30) ? "00:00:00:00:00:00" : macString(pick(MACS))));
            }
        }

        private String ip4MaybeMasked()
        {
            final int ip = pick(IPV4);
            final int pick = random.nextInt(100);
            if (pick < 70)
            {
                return ip4String(ip);
            }
            if (pick < 90)
            {
                return ip4String(ip) + "/" + (24 + random.nextInt(8));
            }
            return ip4String(ip) + "/" + (chance(50) ? "255.255.255.252" : "0.0.0.255");
        }

        private String ip6MaybeMasked()
        {
            final byte[] ip = pick(IPV6);
            final int pick = random.nextInt(100);
            if (pick < 70)
            {
                return ip6String(ip);
            }
            return ip6String(ip) + "/" + pick(new int[]{ 10, 64, 126, 127 });
        }

        private void ipMatch(final List<String> parts)
        {
            final String src = proto.ip4() ? "nw_src" : "ipv6_src";
            final String dst = proto.ip4() ? "nw_dst" : "ipv6_dst";
            if (want(30))
            {
                parts.add(src + "=" + (proto.ip4() ? ip4MaybeMasked() : ip6MaybeMasked()));
            }
            if (want(35))
            {
                parts.add(dst + "=" + (proto.ip4() ? ip4MaybeMasked() : ip6MaybeMasked()));
            }
            if (proto.ip6() && want(8))
            {
                final int label = pick(PacketFactory.FLOW_LABELS);
                parts.add(chance(70) ? String.format("ipv6_label=0x%05x", label) :
                    String.format("ipv6_label=0x%05x/0x000ff", label & 0xff));
            }
            if (proto.nwProto < 0 && want(15))
            {
                parts.add("nw_proto=" + (proto.ip4() ? pick(new int[]{ 0, 1, 6, 17, 132, 99, 253 }) :
                    pick(new int[]{ 6, 17, 58, 132, 59, 253 })));
            }
            if (want(6))
            {
                parts.add("nw_tos=" + (chance(60) ? 0 : 4 * random.nextInt(64)));
            }
            if (want(6))
            {
                parts.add("nw_ecn=" + random.nextInt(4));
            }
            if (want(8))
            {
                parts.add("nw_ttl=" + pick(TTLS));
            }
            if (want(10))
            {
                final String frag = pick(IP_FRAG);
                laterFragment = "later".equals(frag);
                parts.add("ip_frag=" + frag);
            }
            if (proto.ports() && !laterFragment)
            {
                if (want(25))
                {
                    parts.add("tp_src=" + portMaybeMasked());
                }
                if (want(35))
                {
                    parts.add("tp_dst=" + portMaybeMasked());
                }
                if (proto.nwProto == 6 && want(20))
                {
                    parts.add("tcp_flags=" + pick(TCP_FLAGS));
                }
            }
            else if (proto == Proto.ICMP)
            {
                if (want(40))
                {
                    icmpType = pick(new int[]{ 0, 8, 3, 11 });
                    parts.add("icmp_type=" + icmpType);
                }
                if (want(15))
                {
                    parts.add("icmp_code=" + pick(new int[]{ 0, 1, 3 }));
                }
            }
            else if (proto == Proto.ICMP6)
            {
                if (want(50))
                {
                    icmpType = pick(new int[]{ 128, 129, 135, 136, 135, 136, 1 });
                    parts.add((chance(50) ? "icmp_type=" : "icmpv6_type=") + icmpType);
                }
                if (want(10))
                {
                    parts.add((chance(50) ? "icmp_code=" : "icmpv6_code=") + pick(new int[]{ 0, 1 }));
                }
                if ((icmpType == 135 || icmpType == 136) && want(50))
                {
                    parts.add("nd_target=" + ip6String(pick(IPV6)));
                }
                if (icmpType == 135 && want(25))
                {
                    parts.add("nd_sll=" + macString(pick(MACS)));
                }
                if (icmpType == 136 && want(25))
                {
                    parts.add("nd_tll=" + macString(pick(MACS)));
                }
            }
        }

        private String portMaybeMasked()
        {
            final int port = pick(L4_PORTS);
            if (chance(80))
            {
                return Integer.toString(port);
            }
            final int mask = chance(50) ? 0xfff0 : 0xff00;
            return String.format("0x%x/0x%x", port & mask, mask);
        }

        private void missingPrerequisiteMatch(final List<String> parts)
        {
            // Accepted by OVS, which drops the field from the match ("normalization changed
            // ofp_match"): the rule then matches more than it says.
            final String field;
            if (proto == Proto.ANY)
            {
                field = pick(new String[]{ "nw_src=10.0.0.1", "tp_dst=80", "ipv6_dst=fe80::2", "nw_ttl=64" });
            }
            else if (proto == Proto.ARP)
            {
                field = pick(new String[]{ "tp_dst=80", "nw_ttl=64" });
            }
            else if (!proto.ports() || laterFragment)
            {
                field = pick(new String[]{ "tp_dst=80", "tcp_flags=+syn", "tp_src=53" });
            }
            else if (proto.nwProto != 6)
            {
                field = "tcp_flags=+syn";
            }
            else
            {
                field = "nd_target=fe80::1";
            }
            parts.add(field);
            notes.add("normalised match (prerequisite missing): " + field + " with " + proto);
        }

        // ---- Actions ----

        private String actions()
        {
            if (chance(5))
            {
                return "drop";
            }
            final List<String> actions = new ArrayList<>();
            final int n = 1 + random.nextInt(chance(30) ? 7 : 4);
            for (int i = 0; i < n; i++)
            {
                final int pick = random.nextInt(100);
                final String action;
                if (pick < 32)
                {
                    action = output();
                }
                else if (pick < 62)
                {
                    action = modification();
                }
                else if (pick < 70)
                {
                    action = vlanAction();
                }
                else if (pick < 80)
                {
                    action = registerAction();
                }
                else if (pick < 89)
                {
                    action = resubmit();
                }
                else if (pick < 94 && proto.ip())
                {
                    action = "dec_ttl";
                }
                else if (pick < 97)
                {
                    action = chance(50) ? "note:" + noteBytes() : "controller";
                }
                else
                {
                    action = output();
                }
                actions.add(action);
            }
            final boolean goes = actions.stream().anyMatch(a -> a.startsWith("output") || a.startsWith("resubmit") ||
                a.equals("in_port") || a.equals("controller"));
            if (table < maxTable && chance(goes ? 15 : 40))
            {
                actions.add("goto_table:" + (table + 1 + random.nextInt(maxTable - table)));
            }
            else if (!goes && chance(85))
            {
                actions.add(output());
            }
            return String.join(",", actions);
        }

        private String output()
        {
            final int pick = random.nextInt(100);
            if (pick < 5)
            {
                return chance(50) ? "in_port" : "output:in_port";
            }
            if (pick < 7)
            {
                return "output:5";                      // no such port: silently nothing
            }
            return "output:" + port();
        }

        private String noteBytes()
        {
            final byte[] b = new byte[1 + random.nextInt(6)];
            random.nextBytes(b);
            return HexFormat.ofDelimiter(".").formatHex(b);
        }

        private String resubmit()
        {
            final int pick = random.nextInt(100);
            if (pick < 6 && inPort != 0)
            {
                // Same table as another port: this rule (in_port=X) cannot match it again.
                final int other = SWITCH_PORTS[(inPort + random.nextInt(3)) % SWITCH_PORTS.length];
                return "resubmit:" + other;
            }
            if (table == maxTable || pick < 9)
            {
                // Backwards: may loop, and a loop is dropped whole once OVS hits its depth limit
                // (64 same-or-lower-table resubmits), so keep these rare or little would be sent.
                return table > 0 && chance(30) ? "resubmit(," + random.nextInt(table) + ")" : output();
            }
            final int target = table + 1 + random.nextInt(maxTable - table);
            return pick < 25 ? "resubmit(" + port() + "," + target + ")" : "resubmit(," + target + ")";
        }

        private String vlanAction()
        {
            final int pick = random.nextInt(100);
            if (pick < 25 && vlanDepth < 2)
            {
                // OVS tracks at most two VLAN headers: a third known push is refused (OFPBAC_BAD_TAG).
                vlanDepth++;
                final String push = "push_vlan:" + (chance(60) ? "0x8100" : "0x88a8");
                return chance(60) ? push + ",set_field:" + (0x1000 | pick(VLAN_IDS)) + "->vlan_vid" : push;
            }
            if (pick < 50)
            {
                // Without a VLAN in the match OVS turns this into push_vlan + set_field.
                vlanDepth = Math.max(vlanDepth, 1);
                return "mod_vlan_vid:" + pick(VLAN_IDS);
            }
            if (pick < 62)
            {
                vlanDepth = Math.max(vlanDepth, 1);
                return "mod_vlan_pcp:" + random.nextInt(8);
            }
            if (vlanDepth > 0)
            {
                if (chance(50))
                {
                    vlanDepth--;
                    return chance(50) ? "strip_vlan" : "pop_vlan";
                }
                return chance(50) ? "set_field:" + (0x1000 | pick(VLAN_IDS)) + "->vlan_vid" :
                    "set_field:" + random.nextInt(8) + "->vlan_pcp";
            }
            vlanDepth = 1;
            return "mod_vlan_vid:" + pick(VLAN_IDS);
        }

        private String registerAction()
        {
            final int reg = chance(60) ? pick(new int[]{ 0, 1, 3 }) : random.nextInt(16);
            final int value = pick(REG_VALUES);
            switch (random.nextInt(8))
            {
                case 0:
                    return "load:" + value + "->NXM_NX_REG" + reg + "[]";
                case 1:
                {
                    final int low = random.nextInt(24);
                    return "load:0x" + Integer.toHexString(value) + "->NXM_NX_REG" + reg + "[" + low + ".." + (low + 7) + "]";
                }
                case 2:
                    return "set_field:0x" + Integer.toHexString(value) + "->reg" + reg;
                case 3:
                    return "set_field:0x" + Integer.toHexString(value) + (chance(50) ? "" : "/0xff") + "->metadata";
                case 4:
                    return "set_field:0x" + Integer.toHexString(value) + "->xreg" + random.nextInt(8);
                case 5:
                    return "move:NXM_OF_IN_PORT[]->NXM_NX_REG" + reg + "[0..15]";
                case 6:
                    if (proto.ip4())
                    {
                        return chance(50) ? "move:NXM_OF_IP_SRC[]->NXM_NX_REG" + reg + "[]" :
                            "move:NXM_NX_REG" + reg + "[]->NXM_OF_IP_DST[]";
                    }
                    return "move:NXM_OF_ETH_SRC[0..31]->NXM_NX_REG" + reg + "[]";
                default:
                    if (proto.ports() && proto.nwProto != 132 && !laterFragment)
                    {
                        final String l4 = proto.nwProto == 6 ? "TCP" : "UDP";
                        return "move:NXM_NX_REG" + reg + "[0..15]->NXM_OF_" + l4 + "_DST[]";
                    }
                    return "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]";
            }
        }

        private String modification()
        {
            final List<String> options = new ArrayList<>();
            final String mac = macString(chance(70) ? pick(MACS) : EXTRA_MAC);
            options.add("mod_dl_src:" + mac);
            options.add("mod_dl_dst:" + mac);
            options.add("set_field:" + mac + "->" + (chance(50) ? "eth_src" : "eth_dst"));
            options.add("load:0x" + HexFormat.of().formatHex(PacketFactory.mac(mac)) + "->NXM_OF_ETH_DST[]");
            if (vlanDepth > 0)
            {
                options.add("set_field:" + (0x1000 | pick(VLAN_IDS)) + "->vlan_vid");
                options.add("set_field:" + random.nextInt(8) + "->vlan_pcp");
            }
            if (proto.ip())
            {
                options.add("mod_nw_tos:" + 4 * random.nextInt(64));
                options.add("mod_nw_ecn:" + random.nextInt(4));
                options.add("set_field:" + pick(TTLS) + "->nw_ttl");
                options.add("mod_nw_ttl:" + pick(TTLS));
                options.add("set_field:" + random.nextInt(64) + "->ip_dscp");
                options.add("load:" + pick(TTLS) + "->NXM_NX_IP_TTL[]");
            }
            if (proto.ip4())
            {
                final String ip = ip4String(chance(80) ? pick(IPV4) : 0x0a000009);
                options.add("mod_nw_src:" + ip);
                options.add("mod_nw_dst:" + ip);
                options.add("set_field:" + ip + "->" + (chance(50) ? "ip_src" : "ip_dst"));
                options.add("load:0x" + Integer.toHexString(pick(IPV4)) + "->NXM_OF_IP_DST[]");
                options.add("move:NXM_OF_IP_SRC[]->NXM_OF_IP_DST[]");
            }
            if (proto.ip6())
            {
                final String ip = ip6String(chance(80) ? pick(IPV6) : PacketFactory.ip6("fe80::9"));
                options.add("set_field:" + ip + "->ipv6_src");
                options.add("set_field:" + ip + "->ipv6_dst");
                options.add(String.format("set_field:0x%05x->ipv6_label", random.nextInt(1 << 20)));
            }
            if (proto.ports() && !laterFragment)
            {
                final int port = chance(70) ? pick(L4_PORTS) : 1 + random.nextInt(65535);
                options.add("mod_tp_src:" + port);
                options.add("mod_tp_dst:" + port);
                options.add("set_field:" + port + "->" + proto.portField() + (chance(50) ? "_src" : "_dst"));
                if (proto.nwProto != 132)
                {
                    options.add("load:" + port + "->NXM_OF_" + proto.portField().toUpperCase() + "_SRC[]");
                }
                if (proto.nwProto == 6)
                {
                    options.add("move:NXM_OF_TCP_SRC[]->NXM_OF_TCP_DST[]");
                }
            }
            if (proto == Proto.ICMP)
            {
                options.add("set_field:" + pick(new int[]{ 0, 8, 3 }) + "->icmp_type");
                options.add("set_field:" + random.nextInt(4) + "->icmp_code");
            }
            if (proto == Proto.ICMP6)
            {
                options.add("set_field:" + pick(new int[]{ 128, 129, 1 }) + "->icmpv6_type");
                options.add("set_field:" + random.nextInt(4) + "->icmpv6_code");
                if (icmpType == 135 || icmpType == 136)
                {
                    options.add("set_field:" + ip6String(pick(IPV6)) + "->nd_target");
                    options.add("set_field:" + macString(pick(MACS)) + "->" + (icmpType == 135 ? "nd_sll" : "nd_tll"));
                }
            }
            if (proto == Proto.ARP)
            {
                options.add("set_field:" + (1 + random.nextInt(2)) + "->arp_op");
                options.add("set_field:" + ip4String(pick(IPV4)) + "->" + (chance(50) ? "arp_spa" : "arp_tpa"));
                options.add("set_field:" + macString(pick(MACS)) + "->" + (chance(50) ? "arp_sha" : "arp_tha"));
                options.add("load:0x" + Integer.toHexString(pick(IPV4)) + "->NXM_OF_ARP_TPA[]");
            }
            // Favour the protocol-specific ones: the Ethernet ones are always on offer.
            final int generic = 4;
            if (options.size() > generic && chance(75))
            {
                return options.get(generic + random.nextInt(options.size() - generic));
            }
            return options.get(random.nextInt(options.size()));
        }
    }
}
