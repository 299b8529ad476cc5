package dev.junction.control.diff;

import dev.junction.control.diff.CtCaseGenerator.CtCase;
import dev.junction.control.diff.CtFlowSets.Config;
import dev.junction.control.diff.CtFlowSets.MarkMode;
import dev.junction.control.diff.CtFlowSets.Nat;
import dev.junction.control.diff.CtFlowSets.ZoneMode;
import dev.junction.control.diff.CtTraceFactory.Echo;
import dev.junction.control.diff.CtTraceFactory.Route;
import dev.junction.control.diff.CtTraceFactory.Side;
import dev.junction.control.diff.CtTraceFactory.Step;
import dev.junction.control.diff.CtTraceFactory.Tcp;
import dev.junction.control.diff.CtTraceFactory.Trace;
import dev.junction.control.diff.CtTraceFactory.Udp;
import dev.junction.control.diff.CtTraceFactory.Verdict;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static dev.junction.control.diff.CtTraceFactory.CLIENT1;
import static dev.junction.control.diff.CtTraceFactory.CLIENT2;
import static dev.junction.control.diff.CtTraceFactory.PROTO_GRE;
import static dev.junction.control.diff.CtTraceFactory.ROUTER;
import static dev.junction.control.diff.CtTraceFactory.SERVER1;
import static dev.junction.control.diff.CtTraceFactory.SERVER2;
import static dev.junction.control.diff.PacketFactory.PROTO_ICMP;
import static dev.junction.control.diff.PacketFactory.PROTO_ICMPV6;
import static dev.junction.control.diff.PacketFactory.PROTO_SCTP;
import static dev.junction.control.diff.PacketFactory.PROTO_TCP;
import static dev.junction.control.diff.PacketFactory.PROTO_UDP;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Connection tracking judged by Open vSwitch: TCP sessions (handshake, data both ways, FIN and
 * RST closes, retransmits, out-of-window segments, reuse of a closed tuple), UDP, ICMP echo and
 * errors and other IP protocols, through flow sets with zones, ct_state matches, commit, marks,
 * labels, SNAT and DNAT ({@link CtFlowSets}). For every case the oracle (OVS 3.1's userspace
 * datapath) and {@code junction replay} get the same flows and pcaps; Junction must send
 * byte-identical packets on every port and leave the same connections behind
 * ({@code conntrack.txt}, {@code dpctl/dump-conntrack} sorted). Megaflow counts are reported, not
 * judged.
 *
 * <p>Before Junction is judged, the oracle's output is checked against the trace's own
 * annotations (a self-check of the generator): each port must have received as many packets as
 * the policy forwards there, given how conntrack should classify each packet. A case that fails
 * it tests something other than it claims, so it fails as a generator error.
 *
 * <p>System properties: {@code junction.ct.seed} (default 0xC7; decimal or 0x-hex),
 * {@code junction.ct.cases} (default 60), {@code junction.ct.only} (comma-separated case indices)
 * and {@code junction.ct.named} (comma-separated names of hand-written cases). A failing case keeps
 * its directory (flows, inputs, expected/ = OVS, actual/ = Junction, oracle logs).
 */
class ConntrackOracleTest
{
    static final long SEED = DifferentialOracleTest.parseSeed(System.getProperty("junction.ct.seed", "0xC7"));
    static final int CASES = Integer.getInteger("junction.ct.cases", 60);

    private static final AtomicLong MEGAFLOWS_OVS = new AtomicLong();
    private static final AtomicLong MEGAFLOWS_JUNCTION = new AtomicLong();
    private static final AtomicLong ORACLE_MILLIS = new AtomicLong();
    private static final AtomicLong ORACLE_RUNS = new AtomicLong();

    static IntStream caseIndices()
    {
        final String only = System.getProperty("junction.ct.only", "").trim();
        if (!only.isEmpty())
        {
            return Arrays.stream(only.split(",")).map(String::trim).mapToInt(Integer::parseInt);
        }
        return IntStream.range(0, CASES);
    }

    @ParameterizedTest(name = "ct case {0}")
    @MethodSource("caseIndices")
    void generatedConntrackCaseMatchesOpenVswitch(final int caseIndex) throws Exception
    {
        final CtCase c = new CtCaseGenerator(SEED).generate(caseIndex);
        verify(c, String.format("mvn -o test -pl control -Dtest='ConntrackOracleTest#generated*' " +
            "-Djunction.ct.seed=0x%x -Djunction.ct.only=%d", SEED, caseIndex));
    }

    static Stream<Arguments> namedCases()
    {
        final String only = System.getProperty("junction.ct.named", "").trim();
        final Set<String> wanted = only.isEmpty() ? null : new LinkedHashSet<>(Arrays.asList(only.split(",")));
        return Stream.of(
            tcpHandshakeDataFin(),
            tcpRstClose(),
            retransmitsAndInvalidSegments(),
            outOfWindowInvalid(),
            synAfterFinReopens(),
            serverInitiatedDropped(),
            udpRequestReply(),
            icmpEcho(),
            icmpErrorRelated(),
            otherProtocols(),
            marksAndLabels(),
            twoZonesWithCtClear(),
            ovnStyleRegisterZone(),
            ctTupleMatches(),
            snat(),
            snatPortCollision(),
            natReopenTakesNextPort(),
            forceCommitOnNatedRetransmit(),
            dnatService(),
            ipv6Tcp(),
            ipv6Nat()
        ).filter(c -> wanted == null || wanted.contains(c.name())).map(c -> Arguments.of(c.name(), c));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("namedCases")
    void namedConntrackCaseMatchesOpenVswitch(final String name, final CtCase c) throws Exception
    {
        verify(c, "mvn -o test -pl control -Dtest='ConntrackOracleTest#named*' -Djunction.ct.named=" + name);
    }

    /** Over the suite Junction must not install more megaflows than OVS (issue 3's rule, with recirculation). */
    @AfterAll
    static void summary()
    {
        if (ORACLE_RUNS.get() > 0)
        {
            System.out.printf("conntrack differential: %d oracle runs, %d ms each on average; megaflows OVS %d, " +
                "Junction %d%n", ORACLE_RUNS.get(), ORACLE_MILLIS.get() / ORACLE_RUNS.get(),
                MEGAFLOWS_OVS.get(), MEGAFLOWS_JUNCTION.get());
            org.junit.jupiter.api.Assertions.assertTrue(MEGAFLOWS_JUNCTION.get() <= MEGAFLOWS_OVS.get(),
                "Junction installed more megaflows than OVS over the conntrack suite: " + MEGAFLOWS_JUNCTION + " > "
                    + MEGAFLOWS_OVS);
        }
    }

    // ---- Judging ----

    static void verify(final CtCase c, final String reproduce) throws Exception
    {
        final OracleRunner oracle = OracleRunner.require();
        final Path dir = Files.createTempDirectory("junction-ct-" + c.name().replaceAll("[^A-Za-z0-9]+", "-") + "-");
        boolean passed = false;
        try
        {
            final FlowCaseGenerator.FlowCase flowCase = c.toFlowCase();
            final List<String> inputArgs = flowCase.writeTo(dir);
            Files.writeString(dir.resolve("trace.txt"), describe(c), StandardCharsets.UTF_8);
            final Path expected = dir.resolve("expected");
            final Path actual = dir.resolve("actual");

            final OracleRunner.Running running = oracle.start(DifferentialOracleTest.replayArgs(inputArgs, expected),
                dir);
            final DifferentialOracleTest.JunctionRun junction =
                DifferentialOracleTest.runJunction(DifferentialOracleTest.replayArgs(inputArgs, actual),
                    DifferentialOracleTest.SHARED_STATE_WORKERS);
            final OracleRunner.Result ovs = running.await(OracleRunner.DEFAULT_TIMEOUT);
            ORACLE_MILLIS.addAndGet(ovs.millis());
            ORACLE_RUNS.incrementAndGet();

            final String failure = judge(c, ovs, junction, expected, actual);
            if (failure != null)
            {
                fail(report(c, reproduce, dir, failure, ovs, junction));
            }
            passed = !Boolean.getBoolean("junction.ct.keep");
        }
        finally
        {
            if (passed)
            {
                DifferentialOracleTest.deleteRecursively(dir);
            }
        }
    }

    private static String judge(final CtCase c, final OracleRunner.Result ovs,
                                final DifferentialOracleTest.JunctionRun junction, final Path expected,
                                final Path actual) throws IOException
    {
        if (ovs.timedOut())
        {
            return "the oracle timed out after " + ovs.millis() + " ms";
        }
        if (ovs.refused())
        {
            return "GENERATOR ERROR: OVS refused the flows (oracle exit 3); every conntrack case must load";
        }
        if (!ovs.ok())
        {
            return "the oracle itself failed (exit " + ovs.exitCode() + "), so nothing can be judged";
        }
        final String selfCheck = selfCheck(c.trace(), expected);
        if (selfCheck != null)
        {
            return "GENERATOR ERROR: OVS did not forward what the trace's annotations predict, so this case " +
                "would not test what it claims (Junction not judged)\n" + selfCheck;
        }
        final long ovsMegaflows = megaflows(expected.resolve("megaflows.txt"));
        final long junctionMegaflows = megaflows(actual.resolve("megaflows.txt"));
        System.out.printf("%s: oracle %d ms; megaflows OVS %d, Junction %s%n", c.name(),
            ovs.millis(), ovsMegaflows, junctionMegaflows < 0 ? "-" : junctionMegaflows);
        MEGAFLOWS_OVS.addAndGet(ovsMegaflows);
        MEGAFLOWS_JUNCTION.addAndGet(Math.max(0, junctionMegaflows));
        if (junction.thrown() != null)
        {
            return "Junction threw instead of replaying";
        }
        if (junction.exitCode() != 0)
        {
            return "OVS accepted the flows but Junction exited " + junction.exitCode();
        }
        final StringBuilder problems = new StringBuilder();
        final PcapCompare.Report report = PcapCompare.compare(expected, actual);
        if (!report.identical())
        {
            problems.append("outputs differ\n").append(report.text());
        }
        final String conntrack = compareConntrack(expected.resolve("conntrack.txt"), actual.resolve("conntrack.txt"));
        if (conntrack != null)
        {
            problems.append(conntrack);
        }
        return problems.length() == 0 ? null : problems.toString();
    }

    /** Per output port, the packet count the trace's annotations predict, against what OVS sent. */
    static String selfCheck(final Trace trace, final Path expected) throws IOException
    {
        final Map<Integer, int[]> want = trace.expectedOutputCounts();
        final Map<Integer, Integer> got = new TreeMap<>();
        for (final int port : PcapCompare.ports(expected))
        {
            got.put(port, PcapCompare.readFrames(expected.resolve(port + ".pcap")).size());
        }
        final Set<Integer> ports = new LinkedHashSet<>(want.keySet());
        ports.addAll(got.keySet());
        final StringBuilder s = new StringBuilder();
        for (final int port : ports)
        {
            final int[] range = want.getOrDefault(port, new int[2]);
            final int n = got.getOrDefault(port, 0);
            if (n < range[0] || n > range[1])
            {
                s.append(String.format("  port %d: OVS sent %d packets, the trace predicts %s%n", port, n,
                    range[0] == range[1] ? String.valueOf(range[0]) : range[0] + ".." + range[1]));
            }
        }
        return s.length() == 0 ? null : s.toString();
    }

    /** Null when both dumps are the same text, else the lines only one side has. */
    static String compareConntrack(final Path expected, final Path actual) throws IOException
    {
        if (!Files.exists(actual))
        {
            return "conntrack.txt missing from Junction's output (replay must write the conntrack table, as " +
                "dpctl/dump-conntrack, lines sorted)\n" + quote("OVS conntrack.txt", read(expected));
        }
        final String e = read(expected);
        final String a = read(actual);
        if (e.equals(a))
        {
            return null;
        }
        final List<String> el = e.lines().toList();
        final List<String> al = a.lines().toList();
        final StringBuilder s = new StringBuilder("conntrack.txt differs\n");
        el.stream().filter(l -> !al.contains(l)).forEach(l -> s.append("  only in OVS:      ").append(l).append('\n'));
        al.stream().filter(l -> !el.contains(l)).forEach(l -> s.append("  only in Junction: ").append(l).append('\n'));
        if (el.size() == al.size() && new LinkedHashSet<>(el).equals(new LinkedHashSet<>(al)))
        {
            s.append("  (same lines, different order or line endings)\n");
        }
        return s.toString();
    }

    /** Datapath flows in megaflows.txt (lines not starting with "flow-dump"); -1 when the file is missing. */
    static long megaflows(final Path file) throws IOException
    {
        if (!Files.exists(file))
        {
            return -1;
        }
        try (Stream<String> lines = Files.lines(file))
        {
            return lines.filter(l -> !l.isBlank() && !l.startsWith("flow-dump")).count();
        }
    }

    private static String read(final Path file) throws IOException
    {
        return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    }

    private static String describe(final CtCase c)
    {
        final StringBuilder s = new StringBuilder();
        c.notes().forEach(n -> s.append("# ").append(n).append('\n'));
        final List<Step> steps = c.trace().steps;
        for (int i = 0; i < steps.size(); i++)
        {
            final Step st = steps.get(i);
            final int out = st.expectedOutput();
            s.append(String.format("%3d  in %d  %-7s -> %-5s %s%n", i, st.port(), st.verdict(),
                out > 0 ? "out " + out : out == 0 ? "drop" : "?", st.description()));
        }
        return s.toString();
    }

    private static String report(final CtCase c, final String reproduce, final Path dir, final String failure,
                                 final OracleRunner.Result ovs, final DifferentialOracleTest.JunctionRun junction)
        throws IOException
    {
        final StringBuilder s = new StringBuilder();
        s.append("Junction's conntrack disagrees with Open vSwitch: ").append(failure.strip()).append("\n\n");
        s.append("case:      ").append(c.name()).append('\n');
        s.append("kept in:   ").append(dir).append("  (flows.txt, in-N.pcap, trace.txt, expected/ = OVS, " +
            "actual/ = Junction)\n");
        s.append("reproduce: ").append(reproduce).append('\n');
        s.append("oracle:    exit ").append(ovs.exitCode()).append(", ").append(ovs.millis()).append(" ms\n");
        s.append("junction:  exit ").append(junction.exitCode()).append('\n');
        s.append("megaflows: OVS ").append(megaflows(dir.resolve("expected/megaflows.txt"))).append(", Junction ")
            .append(megaflows(dir.resolve("actual/megaflows.txt"))).append(" (-1: none written)\n");
        s.append("\nflows.txt:\n");
        final String[] lines = c.flows().split("\n");
        for (int i = 0; i < lines.length; i++)
        {
            s.append(String.format("  %3d  %s%n", i + 1, lines[i]));
        }
        s.append("\ntrace (verdict = how conntrack should classify the packet):\n");
        describe(c).lines().forEach(l -> s.append("  ").append(l).append('\n'));
        s.append(quote("OVS conntrack.txt", read(dir.resolve("expected/conntrack.txt"))));
        s.append(quote("oracle stdout", ovs.stdout()));
        s.append(quote("oracle stderr", ovs.stderr()));
        s.append(quote("junction output", junction.output()));
        if (junction.thrown() != null)
        {
            final StringWriter trace = new StringWriter();
            junction.thrown().printStackTrace(new PrintWriter(trace));
            s.append(quote("junction threw", trace.toString()));
        }
        return s.toString();
    }

    private static String quote(final String title, final String text)
    {
        if (text == null || text.isBlank())
        {
            return "";
        }
        final StringBuilder s = new StringBuilder("\n").append(title).append(":\n");
        text.strip().lines().limit(80).forEach(line -> s.append("  ").append(line).append('\n'));
        return s.toString();
    }

    // ---- Hand-written cases ----

    private static CtCase named(final String name, final Config config, final Consumer<Trace> conversations)
    {
        final Trace trace = new Trace();
        conversations.accept(trace);
        final List<String> notes = new ArrayList<>(config.describe());
        return new CtCase(name, CtFlowSets.render(config, "# junction conntrack case: " + name), trace, notes);
    }

    private static SplittableRandom random(final String name)
    {
        return new SplittableRandom(name.hashCode());
    }

    private static Route tcpPath(final boolean v6, final int cPort, final int sPort)
    {
        return Route.direct(CLIENT1, SERVER1, v6, PROTO_TCP, cPort, sPort);
    }

    static CtCase tcpHandshakeDataFin()
    {
        final SplittableRandom r = random("tcp");
        return named("tcpHandshakeDataFin", Config.basic(5), t -> new Tcp(t, tcpPath(false, 40000, 80), r)
            .handshake()
            .data(Side.CLIENT, 100, Verdict.EST).ack(Side.SERVER, Verdict.EST)
            .data(Side.SERVER, 300, Verdict.EST).data(Side.SERVER, 200, Verdict.EST).ack(Side.CLIENT, Verdict.EST)
            .finClose(Side.CLIENT));
    }

    static CtCase tcpRstClose()
    {
        final SplittableRandom r = random("rst");
        return named("tcpRstClose", Config.basic(7), t ->
        {
            // Client resets; the server's late data and the client's new SYN on the same tuple follow.
            new Tcp(t, tcpPath(false, 40001, 80), r).handshake()
                .data(Side.CLIENT, 50, Verdict.EST).data(Side.SERVER, 60, Verdict.EST)
                .rst(Side.CLIENT, Verdict.EST)
                .data(Side.SERVER, 30, Verdict.EST)
                .newIncarnation().handshake().data(Side.CLIENT, 10, Verdict.EST).rst(Side.SERVER, Verdict.EST);
            // Connection refused: RST|ACK to the SYN.
            new Tcp(t, tcpPath(false, 40002, 81), r).syn(Verdict.NEW).refuse(Verdict.EST);
        });
    }

    static CtCase retransmitsAndInvalidSegments()
    {
        final SplittableRandom r = random("retransmit");
        return named("retransmitsAndInvalidSegments", Config.basic(9), t -> new Tcp(t, tcpPath(false, 40003, 443), r)
            .syn(Verdict.NEW).synRetransmit(Verdict.NEW).synAck(Verdict.EST).ack(Side.CLIENT, Verdict.EST)
            .data(Side.CLIENT, 120, Verdict.EST).retransmitLast(Verdict.EST).ack(Side.SERVER, Verdict.EST)
            .data(Side.SERVER, 80, Verdict.EST).retransmitLast(Verdict.EST).ack(Side.CLIENT, Verdict.EST)
            .ackFarAhead(Side.CLIENT)
            .rstWrongSeq(Side.SERVER)
            .data(Side.CLIENT, 10, Verdict.EST)
            .finClose(Side.SERVER));
    }

    static CtCase outOfWindowInvalid()
    {
        final SplittableRandom r = random("window");
        return named("outOfWindowInvalid", Config.basic(11), t -> new Tcp(t, tcpPath(false, 40004, 80), r)
            .handshake()
            .data(Side.CLIENT, 20, Verdict.EST).ack(Side.SERVER, Verdict.EST)
            .outOfWindowData(Side.CLIENT)
            .outOfWindowData(Side.SERVER)
            .data(Side.SERVER, 20, Verdict.EST).ack(Side.CLIENT, Verdict.EST)
            .finClose(Side.CLIENT));
    }

    static CtCase synAfterFinReopens()
    {
        final SplittableRandom r = random("reopen");
        return named("synAfterFinReopens", Config.basic(12), t -> new Tcp(t, tcpPath(true, 40005, 22), r)
            .handshake().data(Side.CLIENT, 40, Verdict.EST).data(Side.SERVER, 40, Verdict.EST)
            .finClose(Side.SERVER)
            .newIncarnation().handshake().data(Side.CLIENT, 40, Verdict.EST).finClose(Side.CLIENT));
    }

    static CtCase serverInitiatedDropped()
    {
        final SplittableRandom r = random("server");
        return named("serverInitiatedDropped", Config.basic(13), t ->
        {
            new Tcp(t, Route.direct(SERVER2, CLIENT2, false, PROTO_TCP, 50000, 22), r).syn(Verdict.NEW)
                .synRetransmit(Verdict.NEW);
            new Udp(t, Route.direct(SERVER1, CLIENT1, true, PROTO_UDP, 50001, 514)).request("log", Verdict.NEW);
            // The client side may open the same pair of ports the other way round.
            new Tcp(t, Route.direct(CLIENT2, SERVER2, false, PROTO_TCP, 22, 50000), r).handshake()
                .data(Side.CLIENT, 5, Verdict.EST).rst(Side.CLIENT, Verdict.EST);
        });
    }

    static CtCase udpRequestReply()
    {
        return named("udpRequestReply", Config.basic(14), t ->
        {
            final Udp a = new Udp(t, Route.direct(CLIENT1, SERVER1, false, PROTO_UDP, 40010, 53));
            a.request("q1", Verdict.NEW).reply("r1", Verdict.EST).request("q2", Verdict.EST).reply("r2", Verdict.EST)
                .reply("r2 again", Verdict.EST);
            final Udp b = new Udp(t, Route.direct(CLIENT2, SERVER2, true, PROTO_UDP, 40011, 123));
            b.request("only requests", Verdict.NEW).request("still no reply", Verdict.NEW);
            b.reply("late reply", Verdict.EST).request("now established", Verdict.EST);
        });
    }

    static CtCase icmpEcho()
    {
        return named("icmpEcho", Config.basic(15), t ->
        {
            new Echo(t, Route.direct(CLIENT1, SERVER1, false, PROTO_ICMP, 0x1234, 0x1234)).request(Verdict.NEW)
                .reply(Verdict.EST).request(Verdict.EST).reply(Verdict.EST);
            new Echo(t, Route.direct(CLIENT2, SERVER2, true, PROTO_ICMPV6, 0x77, 0x77)).request(Verdict.NEW)
                .reply(Verdict.EST);
            // Replies nobody asked for.
            new Echo(t, Route.direct(CLIENT1, SERVER2, false, PROTO_ICMP, 0x99, 0x99)).reply(Verdict.INV);
            new Echo(t, Route.direct(CLIENT1, SERVER2, true, PROTO_ICMPV6, 0x98, 0x98)).reply(Verdict.INV);
        });
    }

    static CtCase icmpErrorRelated()
    {
        final SplittableRandom r = random("icmp-error");
        return named("icmpErrorRelated", Config.basic(16), t ->
        {
            for (final boolean v6 : new boolean[]{ false, true })
            {
                final Route up = Route.direct(CLIENT1, SERVER1, v6, PROTO_UDP, v6 ? 40020 : 40021, 9999);
                final Udp udp = new Udp(t, up).request("anyone?", Verdict.NEW);
                CtTraceFactory.icmpError(t, up, SERVER1, udp.lastRequest(), "the request", Verdict.REL);

                final Tcp tcp = new Tcp(t, Route.direct(CLIENT2, SERVER2, v6, PROTO_TCP, v6 ? 40022 : 40023, 80), r)
                    .syn(Verdict.NEW);
                CtTraceFactory.icmpError(t, tcp.path(), ROUTER, tcp.lastFrame(), "the SYN", Verdict.REL);

                // An established connection: the error quotes a data segment.
                final Tcp est = new Tcp(t, Route.direct(CLIENT1, SERVER2, v6, PROTO_TCP, v6 ? 40024 : 40025, 443), r)
                    .handshake().data(Side.CLIENT, 64, Verdict.EST);
                CtTraceFactory.icmpError(t, est.path(), ROUTER, est.lastFrame(), "a data segment", Verdict.REL);

                // Quoting a packet conntrack never saw.
                final Route unknown = Route.direct(CLIENT2, SERVER1, v6, PROTO_UDP, v6 ? 40026 : 40027, 53);
                final Udp ghost = new Udp(new Trace(), unknown).request("ghost", Verdict.UNKNOWN);
                CtTraceFactory.icmpError(t, unknown, SERVER1, ghost.lastRequest(), "an unseen request", Verdict.INV);
            }
        });
    }

    static CtCase otherProtocols()
    {
        return named("otherProtocols", Config.basic(17), t ->
        {
            for (final boolean v6 : new boolean[]{ false, true })
            {
                for (final int proto : new int[]{ PROTO_GRE, PROTO_SCTP })
                {
                    final Route p = Route.direct(CLIENT1, SERVER1, v6, proto, 0, 0);
                    CtTraceFactory.other(t, p, Side.CLIENT, "hello", Verdict.NEW);
                    CtTraceFactory.other(t, p, Side.SERVER, "hi", Verdict.EST);
                    CtTraceFactory.other(t, p, Side.CLIENT, "bye", Verdict.EST);
                }
                // Opened from the server side: dropped.
                CtTraceFactory.other(t, Route.direct(SERVER2, CLIENT2, v6, PROTO_GRE, 0, 0), Side.CLIENT, "nope",
                    Verdict.NEW);
            }
        });
    }

    static CtCase marksAndLabels()
    {
        final SplittableRandom r = random("marks");
        final Config config = Config.basic(21).withMarks(MarkMode.SET_FIELD, 0x1, 0x2, 0x3)
            .withLabel("0x10000000000000000000000000000abc", "0xf0000000000000000000000000000fff");
        return named("marksAndLabels", config, t ->
        {
            new Tcp(t, tcpPath(false, 40030, 80), r).handshake().data(Side.CLIENT, 10, Verdict.EST)
                .data(Side.SERVER, 10, Verdict.EST).finClose(Side.CLIENT);
            new Udp(t, Route.direct(CLIENT2, SERVER2, true, PROTO_UDP, 40031, 53)).request("q", Verdict.NEW)
                .reply("r", Verdict.EST);
            new Echo(t, Route.direct(CLIENT1, SERVER2, false, PROTO_ICMP, 0x31, 0x31)).request(Verdict.NEW)
                .reply(Verdict.EST);
        });
    }

    static CtCase twoZonesWithCtClear()
    {
        final SplittableRandom r = random("zones");
        final Config config = Config.basic(30).withZoneB(31, true).withMarks(MarkMode.LOAD, 0xa0, 0xb0, 0xf0);
        return named("twoZonesWithCtClear", config, t ->
        {
            new Tcp(t, tcpPath(false, 40040, 80), r).handshake().data(Side.CLIENT, 10, Verdict.EST)
                .data(Side.SERVER, 10, Verdict.EST).outOfWindowData(Side.SERVER).finClose(Side.CLIENT);
            final Udp udp = new Udp(t, Route.direct(CLIENT2, SERVER1, true, PROTO_UDP, 40041, 53))
                .request("q", Verdict.NEW).reply("r", Verdict.EST).request("q2", Verdict.EST);
            CtTraceFactory.icmpError(t, Route.direct(CLIENT2, SERVER1, true, PROTO_UDP, 40041, 53), SERVER1,
                udp.lastRequest(), "q2", Verdict.REL);
            new Tcp(t, Route.direct(SERVER2, CLIENT1, false, PROTO_TCP, 50002, 22), r).syn(Verdict.NEW);
        });
    }

    static CtCase ovnStyleRegisterZone()
    {
        final SplittableRandom r = random("ovn");
        final Config config = Config.basic(0x1234).withMisc(ZoneMode.REG_LOAD, 0, true, 6, 0xdeadbeefL, true, true);
        return named("ovnStyleRegisterZone", config, t ->
        {
            new Tcp(t, tcpPath(true, 40050, 80), r).handshake().data(Side.CLIENT, 10, Verdict.EST)
                .data(Side.SERVER, 10, Verdict.EST).rst(Side.SERVER, Verdict.EST);
            new Echo(t, Route.direct(CLIENT2, SERVER2, false, PROTO_ICMP, 0x51, 0x51)).request(Verdict.NEW)
                .reply(Verdict.EST);
            new Udp(t, Route.direct(SERVER1, CLIENT1, false, PROTO_UDP, 50003, 53)).request("in", Verdict.NEW);
        });
    }

    static CtCase ctTupleMatches()
    {
        final SplittableRandom r = random("tuple");
        final List<String> rules = List.of(
            "table=1,priority=150,ct_state=+trk+est-rpl-inv,in_port=1,ip,ct_nw_proto=6,ct_nw_src=10.0.0.1,"
                + "ct_nw_dst=10.0.0.2,ct_tp_src=40060,ct_tp_dst=80,actions=mod_vlan_vid:101,output:2",
            "table=1,priority=150,ct_state=+trk+est+rpl-inv,in_port=2,ip,ct_nw_proto=6,ct_nw_src=10.0.0.0/24,"
                + "ct_tp_dst=80,actions=mod_vlan_vid:102,output:1",
            "table=1,priority=150,ct_state=+trk+est+rpl-inv,in_port=2,ipv6,ct_nw_proto=17,ct_ipv6_src=fd00::3,"
                + "ct_ipv6_dst=fd00::4,ct_tp_dst=53,actions=mod_vlan_vid:103,output:1",
            "table=1,priority=150,ct_state=+trk+est-rpl-inv,in_port=1,ip,ct_nw_proto=1,ct_nw_dst=10.0.0.4,"
                + "actions=mod_vlan_vid:104,output:2");
        return named("ctTupleMatches", Config.basic(40).withTupleRules(rules), t ->
        {
            new Tcp(t, tcpPath(false, 40060, 80), r).handshake().data(Side.CLIENT, 10, Verdict.EST)
                .data(Side.SERVER, 10, Verdict.EST).finClose(Side.CLIENT);
            new Tcp(t, Route.direct(CLIENT2, SERVER1, false, PROTO_TCP, 40061, 80), r).handshake()
                .data(Side.SERVER, 10, Verdict.EST);
            new Udp(t, Route.direct(CLIENT2, SERVER2, true, PROTO_UDP, 40062, 53)).request("q", Verdict.NEW)
                .reply("r", Verdict.EST).request("q2", Verdict.EST);
            new Echo(t, Route.direct(CLIENT1, SERVER2, false, PROTO_ICMP, 0x61, 0x61)).request(Verdict.NEW)
                .reply(Verdict.EST).request(Verdict.EST);
        });
    }

    static CtCase snat()
    {
        final SplittableRandom r = random("snat");
        final Config config = Config.basic(50).withNat(Nat.SNAT, 0, 0, 0, 0, true);
        return named("snat", config, t ->
        {
            final Route tcp = tcpPath(false, 40070, 80).withSnat(CtTraceFactory.SNAT4, 40070);
            new Tcp(t, tcp, r).handshake().data(Side.CLIENT, 10, Verdict.EST).data(Side.SERVER, 10, Verdict.EST)
                .finClose(Side.CLIENT);
            final Route udp = Route.direct(CLIENT2, SERVER2, false, PROTO_UDP, 40071, 53)
                .withSnat(CtTraceFactory.SNAT4, 40071);
            final Udp u = new Udp(t, udp).request("q", Verdict.NEW).reply("r", Verdict.EST).request("q2", Verdict.EST);
            CtTraceFactory.icmpError(t, udp, SERVER2, u.lastRequest(), "q2", Verdict.REL);
            new Echo(t, Route.direct(CLIENT1, SERVER2, false, PROTO_ICMP, 0x71, 0x71)
                .withSnat(CtTraceFactory.SNAT4, 0x71)).request(Verdict.NEW).reply(Verdict.EST);
            final Route gre = Route.direct(CLIENT2, SERVER1, false, PROTO_GRE, 0, 0).withSnat(CtTraceFactory.SNAT4, 0);
            CtTraceFactory.other(t, gre, Side.CLIENT, "gre", Verdict.NEW);
            CtTraceFactory.other(t, gre, Side.SERVER, "gre back", Verdict.EST);
        });
    }

    /** Two clients with the same source port to the same server: OVS gives the second the next port. */
    static CtCase snatPortCollision()
    {
        final SplittableRandom r = random("collision");
        final Config config = Config.basic(51).withNat(Nat.SNAT, 0, 0, 0, 0, false);
        return named("snatPortCollision", config, t ->
        {
            new Tcp(t, tcpPath(false, 40080, 80).withSnat(CtTraceFactory.SNAT4, 40080), r).handshake()
                .data(Side.CLIENT, 10, Verdict.EST).data(Side.SERVER, 10, Verdict.EST);
            new Tcp(t, Route.direct(CLIENT2, SERVER1, false, PROTO_TCP, 40080, 80)
                .withSnat(CtTraceFactory.SNAT4, 40081), r).handshake().data(Side.CLIENT, 10, Verdict.EST)
                .data(Side.SERVER, 10, Verdict.EST);
            new Udp(t, Route.direct(CLIENT1, SERVER1, true, PROTO_UDP, 40082, 53).withSnat(CtTraceFactory.SNAT6, 40082))
                .request("q", Verdict.NEW).reply("r", Verdict.EST);
            new Udp(t, Route.direct(CLIENT2, SERVER1, true, PROTO_UDP, 40082, 53).withSnat(CtTraceFactory.SNAT6, 40083))
                .request("q", Verdict.NEW).reply("r", Verdict.EST);
        });
    }

    /**
     * Closed and reopened on the same tuple through SNAT and DNAT: OVS gives the new connection
     * the next source port, the old connection's un-NAT entry not being swept yet.
     */
    static CtCase natReopenTakesNextPort()
    {
        final SplittableRandom r = random("reopen-nat");
        final Config config = Config.basic(52).withNat(Nat.SNAT, 0, 0, 0, 0, false);
        return named("natReopenTakesNextPort", config, t ->
        {
            new Tcp(t, tcpPath(false, 40084, 80).withSnat(CtTraceFactory.SNAT4, 40084), r).handshake()
                .data(Side.CLIENT, 10, Verdict.EST).finClose(Side.CLIENT)
                .newIncarnation().handshake().data(Side.SERVER, 10, Verdict.EST).rst(Side.CLIENT, Verdict.EST)
                .newIncarnation().handshake().data(Side.CLIENT, 10, Verdict.EST);
            new Tcp(t, Route.direct(CLIENT2, SERVER1, true, PROTO_TCP, 40090, 80)
                .withSnat(CtTraceFactory.SNAT6, 40090), r).syn(Verdict.NEW).refuse(Verdict.EST)
                .newIncarnation().syn(Verdict.NEW).refuse(Verdict.EST);
        });
    }

    /**
     * ct(commit,force) on a retransmitted SYN that table 0's ct(nat) has already DNATed: it misses
     * the VIP rule and is force-committed by the plain rule. OVS 3.1.0 takes it for a reply there
     * (its lookup lands on the connection's un-NAT entry), ends nothing, and runs the client's SYN
     * through the server's half of the TCP state: both halves SYN_SENT, the server's with no
     * sequence numbers, so for these ISNs every later packet of the connection is invalid and the
     * connection stays in SYN_SENT. Without NAT the same retransmit is plain +new.
     */
    static CtCase forceCommitOnNatedRetransmit()
    {
        final SplittableRandom r = random("force-nat");
        final Config config = Config.basic(53).withNat(Nat.DNAT, 80, 8080, 53, 5353, true)
            .withMisc(ZoneMode.IMMEDIATE, 1, false, 0, 0, true, false);
        return named("forceCommitOnNatedRetransmit", config, t ->
        {
            final Verdict inv = Verdict.INV;
            new Tcp(t, tcpPath(false, 40120, 8080).withDnat(CtTraceFactory.VIP4, 80), r).syn(Verdict.NEW)
                .synRetransmit(Verdict.NEW).synAck(inv).ack(Side.CLIENT, inv).data(Side.CLIENT, 10, inv)
                .data(Side.SERVER, 20, inv).ack(Side.CLIENT, inv).rst(Side.SERVER, inv);
            new Tcp(t, Route.direct(CLIENT2, SERVER1, true, PROTO_TCP, 40121, 22), r).syn(Verdict.NEW)
                .synRetransmit(Verdict.NEW).synAck(Verdict.EST).ack(Side.CLIENT, Verdict.EST)
                .data(Side.CLIENT, 10, Verdict.EST);
        });
    }

    /** A Kubernetes-style service: VIP:80 -> backend:8080, VIP:53 -> backend:5353, other traffic to the VIP by address. */
    static CtCase dnatService()
    {
        final SplittableRandom r = random("dnat");
        final Config config = Config.basic(60).withNat(Nat.DNAT, 80, 8080, 53, 5353, false)
            .withMarks(MarkMode.SET_FIELD, 0x10, 0x20, 0xff);
        return named("dnatService", config, t ->
        {
            final Route web = tcpPath(false, 40090, 8080).withDnat(CtTraceFactory.VIP4, 80);
            new Tcp(t, web, r).handshake().data(Side.CLIENT, 100, Verdict.EST).data(Side.SERVER, 200, Verdict.EST)
                .finClose(Side.SERVER);
            // Another port of the VIP: the address is translated, the port kept.
            final Route other = Route.direct(CLIENT2, SERVER1, false, PROTO_TCP, 40091, 443)
                .withDnat(CtTraceFactory.VIP4, 443);
            new Tcp(t, other, r).handshake().data(Side.CLIENT, 10, Verdict.EST).rst(Side.SERVER, Verdict.EST);
            final Route dns = Route.direct(CLIENT1, SERVER1, false, PROTO_UDP, 40092, 5353)
                .withDnat(CtTraceFactory.VIP4, 53);
            final Udp u = new Udp(t, dns).request("q", Verdict.NEW).reply("r", Verdict.EST).request("q2", Verdict.EST);
            // The backend's port unreachable: OVS rewrites the outer source and the quoted packet.
            CtTraceFactory.icmpError(t, dns, SERVER1, u.lastRequest(), "q2", Verdict.REL);
            new Echo(t, Route.direct(CLIENT2, SERVER1, false, PROTO_ICMP, 0x91, 0x91)
                .withDnat(CtTraceFactory.VIP4, 0x91)).request(Verdict.NEW).reply(Verdict.EST);
            // Direct to another server: no NAT.
            new Tcp(t, Route.direct(CLIENT1, SERVER2, false, PROTO_TCP, 40093, 80), r).handshake()
                .data(Side.SERVER, 10, Verdict.EST);
        });
    }

    static CtCase ipv6Tcp()
    {
        final SplittableRandom r = random("ipv6");
        final Config config = Config.basic(70).withMisc(ZoneMode.REG_SET_FIELD, 1, true, 0, 0, false, false);
        return named("ipv6Tcp", config, t ->
        {
            new Tcp(t, tcpPath(true, 40100, 443), r).handshake()
                .data(Side.CLIENT, 200, Verdict.EST).data(Side.CLIENT, 100, Verdict.EST).ack(Side.SERVER, Verdict.EST)
                .data(Side.SERVER, 300, Verdict.EST).retransmitLast(Verdict.EST).ack(Side.CLIENT, Verdict.EST)
                .outOfWindowData(Side.CLIENT).finClose(Side.CLIENT);
            new Tcp(t, Route.direct(CLIENT2, SERVER2, true, PROTO_TCP, 40101, 80), r).syn(Verdict.NEW)
                .refuse(Verdict.EST);
        });
    }

    static CtCase ipv6Nat()
    {
        final SplittableRandom r = random("ipv6nat");
        final Config config = Config.basic(80).withNat(Nat.DNAT, 80, 8080, 53, 0, true);
        return named("ipv6Nat", config, t ->
        {
            final Route web = Route.direct(CLIENT1, SERVER1, true, PROTO_TCP, 40110, 8080)
                .withDnat(CtTraceFactory.VIP6, 80);
            new Tcp(t, web, r).handshake().data(Side.CLIENT, 30, Verdict.EST).data(Side.SERVER, 40, Verdict.EST)
                .finClose(Side.CLIENT);
            final Route dns = Route.direct(CLIENT2, SERVER1, true, PROTO_UDP, 40111, 53)
                .withDnat(CtTraceFactory.VIP6, 53);
            final Udp u = new Udp(t, dns).request("q", Verdict.NEW).reply("r", Verdict.EST).request("q2", Verdict.EST);
            CtTraceFactory.icmpError(t, dns, ROUTER, u.lastRequest(), "q2", Verdict.REL);
            new Echo(t, Route.direct(CLIENT1, SERVER1, true, PROTO_ICMPV6, 0xa1, 0xa1)
                .withDnat(CtTraceFactory.VIP6, 0xa1)).request(Verdict.NEW).reply(Verdict.EST);
        });
    }
}
