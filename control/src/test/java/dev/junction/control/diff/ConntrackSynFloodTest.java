package dev.junction.control.diff;

import dev.junction.control.diff.CtReplayHarness.Run;
import dev.junction.control.diff.CtReplayHarness.Timed;
import dev.junction.control.diff.CtTraceFactory.Echo;
import dev.junction.control.diff.CtTraceFactory.Route;
import dev.junction.control.diff.CtTraceFactory.Side;
import dev.junction.control.diff.CtTraceFactory.Step;
import dev.junction.control.diff.CtTraceFactory.Tcp;
import dev.junction.control.diff.CtTraceFactory.Trace;
import dev.junction.control.diff.CtTraceFactory.Udp;
import dev.junction.control.diff.CtTraceFactory.Verdict;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static dev.junction.control.diff.CtTraceFactory.CLIENT1;
import static dev.junction.control.diff.CtTraceFactory.CLIENT2;
import static dev.junction.control.diff.CtTraceFactory.CLIENT_PORT;
import static dev.junction.control.diff.CtTraceFactory.SERVER1;
import static dev.junction.control.diff.CtTraceFactory.SERVER2;
import static dev.junction.control.diff.CtTraceFactory.SERVER_PORT;
import static dev.junction.control.diff.CtTraceFactory.T0;
import static dev.junction.control.diff.PacketFactory.PROTO_ICMP;
import static dev.junction.control.diff.PacketFactory.PROTO_TCP;
import static dev.junction.control.diff.PacketFactory.PROTO_UDP;
import static dev.junction.control.diff.PacketFactory.TCP_SYN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A SYN flood against a conntrack zone limit, through {@code junction replay --ct-zone-limit}
 * (and the same flood against {@code --ct-max-conns} and a {@code default=} zone limit).
 *
 * <p>The trace: {@value #ESTABLISHED} client connections (TCP handshakes with data, UDP and ICMP
 * echo exchanges) in zone {@value #ZONE}; then {@value #FLOOD} SYNs from as many source
 * address/port pairs, 10 us apart; then one more client SYN to a new service (the "probe") and
 * the server's SYN-ACK; then the established connections carry on (data both ways, FIN and RST
 * closes, UDP and echo). The limit is {@value #LIMIT}.
 *
 * <p>What a refused commit does is reasoned from OVS 3.1's lib/conntrack.c, since the oracle
 * cannot set limits: {@code conn_not_found} marks the packet {@code +new} before looking at the
 * limits and, when the zone's (or the default) limit or {@code n_conn_limit} is reached, returns
 * no connection: the packet carries on as {@code +new} with no entry, and {@code set_mark} is
 * skipped ({@code if (conn && setmark)}), so {@code ct_mark} reads 0. The flows make that
 * visible: the commit sets {@code ct_mark=1} and recirculates; a committed packet leaves on
 * port 2 unchanged, a refused one leaves with VLAN {@value #REFUSED_VLAN} pushed. The probe's
 * SYN-ACK then finds no connection and, SYN+ACK being unable to open one, is {@code +inv} and
 * dropped: a full zone refuses new connections.
 *
 * <p>Asserted: the first {@code LIMIT - ESTABLISHED} flood SYNs are committed and every later
 * one is refused, in order (with nothing expiring in the 4 s trace, the zone's count is the
 * number committed so far, so it never exceeds the limit); the zone holds exactly the limit at
 * the end ({@code conntrack.txt}, {@code --json} zones) and the refusals are counted; the
 * connection table's {@code footprint_bytes} is no larger than a replay that commits exactly
 * that many connections without a flood, while the same flood without a limit holds many times
 * more; and the established connections' packets after the flood are forwarded byte for byte
 * (and timestamp) as in a replay of the trace without the flood. The no-flood trace itself is
 * judged by OVS ({@link #withoutFloodMatchesOpenVswitch}).
 */
class ConntrackSynFloodTest
{
    static final int ZONE = 5;
    static final int LIMIT = 1000;
    static final int FLOOD = 50_000;
    static final int ESTABLISHED = 20;
    static final int REFUSED_VLAN = 99;

    static final String FLOWS = String.join("\n",
        "# SYN flood against a zone limit: committed packets leave untagged, refused commits (+new, no entry, "
            + "ct_mark 0) with VLAN " + REFUSED_VLAN,
        "table=0,priority=100,ip,actions=ct(table=1,zone=" + ZONE + ")",
        "table=0,priority=100,ipv6,actions=ct(table=1,zone=" + ZONE + ")",
        "table=0,priority=0,actions=drop",
        "table=1,priority=200,ct_state=+trk+inv,actions=drop",
        "table=1,priority=100,ct_state=+trk+new-est-inv,in_port=" + CLIENT_PORT + ",ip,actions=ct(commit,zone=" + ZONE
            + ",exec(set_field:0x1->ct_mark),table=2)",
        "table=1,priority=100,ct_state=+trk+est-rpl-inv,in_port=" + CLIENT_PORT + ",actions=output:" + SERVER_PORT,
        "table=1,priority=100,ct_state=+trk+est+rpl-inv,in_port=" + SERVER_PORT + ",actions=output:" + CLIENT_PORT,
        "table=1,priority=0,actions=drop",
        "table=2,priority=100,ct_state=+trk+new,ct_mark=0x1,actions=output:" + SERVER_PORT,
        "table=2,priority=90,ct_state=+trk+new,actions=mod_vlan_vid:" + REFUSED_VLAN + ",output:" + SERVER_PORT,
        "table=2,priority=0,actions=drop") + "\n";

    private static final byte[] FLOOD_MAC = PacketFactory.mac("0a:00:00:00:09:09");
    private static final long FLOOD_START = T0 + 1_000_000_000L;
    private static final long FLOOD_STEP = 10_000L;
    private static final long PROBE_AT = T0 + 2_500_000_000L;
    private static final long PHASE3_AT = T0 + 3_000_000_000L;

    /** The established connections' steps: [0, phase1End) before the flood, the rest after. */
    private static Trace established;
    private static int phase1End;
    private static Trace probe;
    private static List<byte[]> flood;
    private static Path dir;

    @BeforeAll
    static void build() throws IOException
    {
        dir = CtReplayHarness.tempDir("ct-synflood");
        established = new Trace();
        final SplittableRandom r = new SplittableRandom(0x5f100d);
        final List<Tcp> tcps = new ArrayList<>();
        final List<Udp> udps = new ArrayList<>();
        final List<Echo> echos = new ArrayList<>();
        for (int i = 0; i < 16; i++)
        {
            final Route route = Route.direct(i % 2 == 0 ? CLIENT1 : CLIENT2, i % 4 < 2 ? SERVER1 : SERVER2, false,
                PROTO_TCP, 30000 + i, i % 3 == 0 ? 443 : 80);
            tcps.add(new Tcp(established, route, r).handshake().data(Side.CLIENT, 100 + i, Verdict.EST)
                .data(Side.SERVER, 300 + i, Verdict.EST).ack(Side.CLIENT, Verdict.EST));
        }
        for (int i = 0; i < 2; i++)
        {
            udps.add(new Udp(established, Route.direct(CLIENT1, SERVER2, false, PROTO_UDP, 31000 + i, 53))
                .request("query " + i, Verdict.NEW).reply("answer " + i, Verdict.EST));
            echos.add(new Echo(established, Route.direct(CLIENT2, SERVER1, false, PROTO_ICMP, 0x700 + i, 0x700 + i))
                .request(Verdict.NEW).reply(Verdict.EST));
        }
        phase1End = established.steps.size();
        for (int i = 0; i < tcps.size(); i++)
        {
            final Tcp t = tcps.get(i).data(Side.CLIENT, 50, Verdict.EST).data(Side.SERVER, 1000, Verdict.EST)
                .ack(Side.CLIENT, Verdict.EST);
            if (i % 2 == 0)
            {
                t.finClose(i % 4 == 0 ? Side.CLIENT : Side.SERVER);
            }
            else if (i % 4 == 1)
            {
                t.rst(Side.SERVER, Verdict.EST);
            }
        }
        for (int i = 0; i < 2; i++)
        {
            udps.get(i).request("again " + i, Verdict.EST).reply("again " + i, Verdict.EST);
            echos.get(i).request(Verdict.EST).reply(Verdict.EST);
        }
        assertEquals(ESTABLISHED, tcps.size() + udps.size() + echos.size());

        probe = new Trace();
        new Tcp(probe, Route.direct(CLIENT2, SERVER2, false, PROTO_TCP, 45000, 8080), r).syn(Verdict.NEW)
            .synAck(Verdict.INV);

        flood = new ArrayList<>(FLOOD);
        final byte[] mss = { 2, 4, 0x05, (byte)0xb4 };
        for (int j = 0; j < FLOOD; j++)
        {
            final byte[] src = { 10, 1, (byte)(j / 250), (byte)(j % 250 + 1) };
            final byte[] syn = PacketFactory.tcp(1024 + j % 64_000, 80, (j * 2_654_435_761L) & 0xffff_ffffL, 0, TCP_SYN,
                mss, new byte[0]);
            flood.add(CtTraceFactory.ethernetIp(FLOOD_MAC, SERVER1.mac(), src, SERVER1.ip4(), PROTO_TCP, syn, 64));
        }
    }

    @AfterAll
    static void cleanUp() throws IOException
    {
        if (dir != null)
        {
            CtReplayHarness.delete(dir);
        }
    }

    private static long phase1Time(final int i)
    {
        return T0 + i * 1_000_000L;
    }

    private static long phase3Time(final int i)
    {
        return PHASE3_AT + (i - phase1End) * 1_000_000L;
    }

    private static long established(final int i)
    {
        return i < phase1End ? phase1Time(i) : phase3Time(i);
    }

    /** The trace: established connections, then {@code floodSyns} flood SYNs and, if asked, the probe. */
    private static List<Timed> trace(final int floodSyns, final boolean withProbe)
    {
        final List<Timed> p = new ArrayList<>();
        for (int i = 0; i < established.steps.size(); i++)
        {
            final Step s = established.steps.get(i);
            p.add(new Timed(established(i), s.port(), s.frame()));
        }
        for (int j = 0; j < floodSyns; j++)
        {
            p.add(new Timed(FLOOD_START + j * FLOOD_STEP, CLIENT_PORT, flood.get(j)));
        }
        if (withProbe)
        {
            for (int i = 0; i < probe.steps.size(); i++)
            {
                final Step s = probe.steps.get(i);
                p.add(new Timed(PROBE_AT + i * 1_000_000L, s.port(), s.frame()));
            }
        }
        return p;
    }

    /** What the established connections make {@code port} send: their annotated verdicts, in time order. */
    private static List<Timed> establishedOut(final int port)
    {
        final List<Timed> out = new ArrayList<>();
        for (int i = 0; i < established.steps.size(); i++)
        {
            final Step s = established.steps.get(i);
            if (s.expectedOutput() == port)
            {
                out.add(new Timed(established(i), port, s.frame()));
            }
        }
        return out;
    }

    private static Run replay(final String name, final List<Timed> packets, final String... options) throws IOException
    {
        final Path caseDir = dir.resolve(name);
        final List<String> args = CtReplayHarness.writeCase(caseDir, FLOWS, packets);
        final Run run = CtReplayHarness.replay(args, caseDir.resolve("out"), options);
        return run;
    }

    /** The zone limit holds through the flood; refusals counted; memory bounded; established connections unharmed. */
    @Test
    void zoneLimitHoldsThroughSynFlood() throws IOException
    {
        final long started = System.nanoTime();
        final Run baseline = replay("baseline", trace(0, false));
        assertOutput(establishedOut(SERVER_PORT), baseline.sent(SERVER_PORT), "baseline port 2");
        assertOutput(establishedOut(CLIENT_PORT), baseline.sent(CLIENT_PORT), "baseline port 1");
        assertEquals(ESTABLISHED, baseline.conntrack().size(), "baseline conntrack.txt");

        final Run flooded = replay("flood-zone-limit", trace(FLOOD, true), "--ct-zone-limit", ZONE + "=" + LIMIT);
        assertFlooded(flooded, baseline);
        assertArrayEquals(new long[]{ LIMIT, LIMIT }, flooded.zone(ZONE), flooded.json());
        assertEquals(FLOOD - (LIMIT - ESTABLISHED) + 1, flooded.ct("refused_by_zone_limit"), flooded.json());
        assertEquals(0, flooded.ct("refused_by_max_conns"), flooded.json());

        // Memory: no more than a replay that commits the same LIMIT connections without a flood...
        final Run exact = replay("exactly-limit", trace(LIMIT - ESTABLISHED, false));
        assertEquals(LIMIT, exact.ct("connections"), exact.json());
        assertTrue(flooded.ct("footprint_bytes") <= exact.ct("footprint_bytes"), () -> "footprint with the flood "
            + flooded.ct("footprint_bytes") + " B > holding " + LIMIT + " connections " + exact.ct("footprint_bytes")
            + " B");
        // ...while the same flood without a limit holds every SYN.
        final Run unlimited = replay("flood-unlimited", trace(FLOOD, true));
        assertEquals(ESTABLISHED + FLOOD + 1, unlimited.ct("connections"), unlimited.json());
        assertEquals(0, unlimited.ct("refused_commits"), unlimited.json());
        assertTrue(unlimited.ct("footprint_bytes") > 4 * flooded.ct("footprint_bytes"), () -> "unlimited "
            + unlimited.ct("footprint_bytes") + " B vs limited " + flooded.ct("footprint_bytes") + " B");
        System.out.printf("SYN flood: footprint %d B with zone limit %d, %d B for exactly %d connections, %d B "
                + "without a limit; %d ms for the four replays%n", flooded.ct("footprint_bytes"), LIMIT,
            exact.ct("footprint_bytes"), LIMIT, unlimited.ct("footprint_bytes"),
            (System.nanoTime() - started) / 1_000_000);
    }

    /** The same flood against the global limit and the default zone limit: the same packets are refused. */
    @Test
    void maxConnsAndDefaultLimitHoldThroughSynFlood() throws IOException
    {
        final Run baseline = replay("baseline-2", trace(0, false));
        final Run max = replay("flood-max-conns", trace(FLOOD, true), "--ct-max-conns", String.valueOf(LIMIT));
        assertFlooded(max, baseline);
        assertArrayEquals(new long[]{ LIMIT, -1 }, max.zone(ZONE), max.json());
        assertEquals(FLOOD - (LIMIT - ESTABLISHED) + 1, max.ct("refused_by_max_conns"), max.json());
        assertEquals(0, max.ct("refused_by_zone_limit"), max.json());

        final Run byDefault = replay("flood-default-limit", trace(FLOOD, true), "--ct-zone-limit", "default=" + LIMIT,
            "--ct-zone-limit", (ZONE + 1) + "=10");
        assertFlooded(byDefault, baseline);
        assertArrayEquals(new long[]{ LIMIT, LIMIT }, byDefault.zone(ZONE), byDefault.json());
        assertArrayEquals(new long[]{ 0, 10 }, byDefault.zone(ZONE + 1), byDefault.json());
        assertEquals(LIMIT, byDefault.ct("default_limit"), byDefault.json());
        assertEquals(FLOOD - (LIMIT - ESTABLISHED) + 1, byDefault.ct("refused_by_zone_limit"), byDefault.json());
    }

    /** The trace without the flood, judged by OVS: outputs and conntrack.txt identical. */
    @Test
    void withoutFloodMatchesOpenVswitch() throws Exception
    {
        final OracleRunner oracle = OracleRunner.require();
        final Path caseDir = dir.resolve("oracle");
        final List<String> args = CtReplayHarness.writeCase(caseDir, FLOWS, trace(0, false));
        final Path expected = caseDir.resolve("expected");
        final OracleRunner.Result ovs = oracle.start(DifferentialOracleTest.replayArgs(args, expected), caseDir)
            .await(OracleRunner.DEFAULT_TIMEOUT);
        assertTrue(ovs.ok(), () -> "oracle exit " + ovs.exitCode() + ":\n" + ovs.stdout() + ovs.stderr());
        // The oracle must forward what the annotations say, or the comparison proves little
        // (frames only: the oracle stamps what it sends with wall-clock time).
        for (final int port : new int[]{ SERVER_PORT, CLIENT_PORT })
        {
            assertOutput(frames(establishedOut(port)), frames(CtReplayHarness.readPcap(expected.resolve(port + ".pcap"),
                port)), "OVS port " + port);
        }
        final Path actual = caseDir.resolve("actual");
        CtReplayHarness.replay(args, actual);
        final PcapCompare.Report report = PcapCompare.compare(expected, actual);
        assertTrue(report.identical(), report::text);
        assertNull(ConntrackOracleTest.compareConntrack(expected.resolve("conntrack.txt"),
            actual.resolve("conntrack.txt")));
    }

    /** A flooded replay against a limit of {@link #LIMIT} connections, whichever limit it is. */
    private static void assertFlooded(final Run run, final Run baseline) throws IOException
    {
        // Port 2: the established connections' client packets, the flood (committed until the
        // zone is full, then refused: tagged), the probe's SYN refused; nothing else.
        final List<Timed> sent = run.sent(SERVER_PORT);
        final List<Timed> want = new ArrayList<>(establishedOut(SERVER_PORT).subList(0, countBefore(FLOOD_START)));
        final int admitted = LIMIT - ESTABLISHED;
        for (int j = 0; j < FLOOD; j++)
        {
            final byte[] f = flood.get(j);
            want.add(new Timed(FLOOD_START + j * FLOOD_STEP, SERVER_PORT,
                j < admitted ? f : CtReplayHarness.pushVlan(f, REFUSED_VLAN)));
        }
        want.add(new Timed(PROBE_AT, SERVER_PORT, CtReplayHarness.pushVlan(probe.steps.get(0).frame(), REFUSED_VLAN)));
        final List<Timed> est2 = establishedOut(SERVER_PORT);
        want.addAll(est2.subList(countBefore(FLOOD_START), est2.size()));
        assertOutput(want, sent, "port 2 (flood: the first " + admitted + " committed, the rest tagged "
            + REFUSED_VLAN + " as refused)");

        // The established connections are unharmed: without the flood's and the probe's packets,
        // each port sent exactly what the replay without the flood sent (frames and times).
        final List<Timed> withoutFlood = new ArrayList<>(sent);
        withoutFlood.removeIf(t -> t.ts() >= FLOOD_START && t.ts() <= PROBE_AT + 1_000_000L);
        assertOutput(baseline.sent(SERVER_PORT), withoutFlood, "port 2 without the flood and probe vs. no flood");
        // Port 1 gets nothing from the flood, and the probe's SYN-ACK was +inv (dropped).
        assertOutput(baseline.sent(CLIENT_PORT), run.sent(CLIENT_PORT), "port 1 vs. no flood");

        // The zone holds exactly the limit: the established connections and the first flood SYNs.
        final List<String> ct = run.conntrack();
        assertEquals(LIMIT, ct.size(), "conntrack.txt lines");
        assertTrue(ct.stream().allMatch(l -> l.contains(",zone=" + ZONE + ",")), "all in zone " + ZONE);
        assertTrue(ct.containsAll(baseline.conntrack()), "the established connections are all still there");
        final Set<String> floodSources = new HashSet<>();
        for (final String l : ct)
        {
            if (l.contains("src=10.1."))
            {
                floodSources.add(l.substring(l.indexOf("src=") + 4, l.indexOf(',', l.indexOf("src="))));
            }
        }
        final Set<String> firstAdmitted = new HashSet<>();
        for (int j = 0; j < admitted; j++)
        {
            firstAdmitted.add("10.1." + j / 250 + "." + (j % 250 + 1));
        }
        assertEquals(firstAdmitted, floodSources, "the flood's entries are the first " + admitted + " SYNs");
        assertEquals(LIMIT, run.ct("connections"), run.json());
        assertEquals(LIMIT, run.ct("commits"), run.json());
        assertEquals(FLOOD - admitted + 1, run.ct("refused_commits"), run.json());
        assertEquals(0, run.ct("expired"), run.json());
        assertEquals(1, run.ct("invalid"), "the probe's SYN-ACK: " + run.json());
    }

    /** The same packets with their timestamps zeroed. */
    private static List<Timed> frames(final List<Timed> packets)
    {
        return packets.stream().map(t -> new Timed(0, t.port(), t.frame())).toList();
    }

    private static int countBefore(final long ts)
    {
        return (int)establishedOut(SERVER_PORT).stream().filter(t -> t.ts() < ts).count();
    }

    private static void assertOutput(final List<Timed> want, final List<Timed> got, final String what)
    {
        if (want.equals(got))
        {
            return;
        }
        int i = 0;
        while (i < Math.min(want.size(), got.size()) && want.get(i).equals(got.get(i)))
        {
            i++;
        }
        fail(String.format("%s: %d frames sent, %d expected; first difference at #%d: expected %s, sent %s", what,
            got.size(), want.size(), i, i < want.size() ? want.get(i) + " " + java.util.HexFormat.of().formatHex(want.get(i).frame())
                : "nothing", i < got.size() ? got.get(i) + " " + java.util.HexFormat.of().formatHex(got.get(i).frame()) : "nothing"));
    }
}
