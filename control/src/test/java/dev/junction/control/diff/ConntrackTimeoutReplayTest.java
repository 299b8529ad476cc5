package dev.junction.control.diff;

import dev.junction.control.diff.CtFlowSets.Config;
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
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static dev.junction.control.diff.CtTraceFactory.CLIENT1;
import static dev.junction.control.diff.CtTraceFactory.CLIENT_PORT;
import static dev.junction.control.diff.CtTraceFactory.SERVER1;
import static dev.junction.control.diff.CtTraceFactory.SERVER_PORT;
import static dev.junction.control.diff.CtTraceFactory.T0;
import static dev.junction.control.diff.PacketFactory.PROTO_ICMP;
import static dev.junction.control.diff.PacketFactory.PROTO_TCP;
import static dev.junction.control.diff.PacketFactory.PROTO_UDP;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Conntrack idle timeouts in pcap time, through {@code junction replay --ct-timeout}: traces that
 * span more than a timeout show connections expiring exactly when the configured policy says.
 *
 * <p>The OVS oracle cannot judge this: its conntrack runs on wall-clock time and the oracle
 * injects a trace as fast as it can, so a gap in pcap time is no gap to it. The expectations
 * are derived from OVS 3.1's documented userspace semantics instead:
 * <ul>
 * <li>every packet that passes a connection's state machine sets
 *     {@code expiration = now + timeout * 1000} (ms; lib/conntrack-tp.c
 *     {@code conn_update_expiration}), with the timeout chosen by the state after the update:
 *     UDP (conntrack-other.c) {@code udp_first} for a connection that has seen one packet,
 *     {@code udp_single} after more packets one way, {@code udp_multiple} once both directions
 *     were seen; ICMP echo {@code icmp_first} until the reply, then {@code icmp_reply}; TCP
 *     {@code tcp_established} once both peers are ESTABLISHED (after the handshake's ACK);</li>
 * <li>a connection is dead to lookups when {@code now >= expiration} (lib/conntrack.c
 *     {@code conn_expired}): the timer runs from the last packet, a packet 1 ms before the
 *     expiry keeps the connection, a packet at the expiry finds nothing;</li>
 * <li>a packet that finds nothing is {@code +new} when it could open a connection (UDP, a TCP
 *     segment without SYN+ACK), {@code +inv} otherwise (an ICMP echo reply) — lib/conntrack.c
 *     {@code conn_not_found}/{@code valid_new}.</li>
 * </ul>
 * Time is the packet's: a replay's conntrack runs on pcap time, and the datapath sweeps expired
 * connections once a second of it (at the first packet at least 1 s after the previous sweep),
 * which is what the {@code --json} {@code expired} counts; every trace here ends with a packet
 * more than 1 s after the one before, so that last sweep sees everything expired by then.
 *
 * <p>The flows are {@link CtFlowSets}' basic policy in zone 5: new connections from port 1 are
 * committed and forwarded, established ones cross over, everything else is dropped (a
 * server-side {@code +new} or any {@code +inv}). Each packet's expected fate is its
 * {@link Verdict} annotation; each port must send exactly the expected frames, with the input
 * timestamps, in order. {@link #badConntrackOptionsExitTwo} checks the options' refusals.
 */
class ConntrackTimeoutReplayTest
{
    private static final int ZONE = 5;

    /** A trace whose steps get explicit times (ms after {@link CtTraceFactory#T0}). */
    private static final class Script
    {
        final Trace trace = new Trace();
        final List<Long> times = new ArrayList<>();

        /** Runs {@code add}, which appends steps to {@link #trace}; they happen at {@code ms}. */
        Script at(final long ms, final Runnable add)
        {
            add.run();
            while (times.size() < trace.steps.size())
            {
                times.add(T0 + ms * 1_000_000L);
            }
            return this;
        }

        /** The packets sent no later than {@code untilMs}. */
        List<Timed> packets(final long untilMs)
        {
            final List<Timed> p = new ArrayList<>();
            for (int i = 0; i < trace.steps.size(); i++)
            {
                if ((times.get(i) - T0) / 1_000_000L <= untilMs)
                {
                    final Step s = trace.steps.get(i);
                    p.add(new Timed(times.get(i), s.port(), s.frame()));
                }
            }
            return p;
        }

        /** Indices of the steps, in time order (stable: equal times keep the order they were added). */
        List<Integer> order()
        {
            return IntStream.range(0, trace.steps.size()).boxed().sorted(Comparator.comparingLong(times::get)).toList();
        }

        /** What {@code port} must send: steps whose verdict forwards them there, in time order. */
        List<Integer> expectedOut(final int port)
        {
            return order().stream().filter(i -> trace.steps.get(i).expectedOutput() == port).toList();
        }

        String describe()
        {
            final StringBuilder s = new StringBuilder();
            for (final int i : order())
            {
                final Step st = trace.steps.get(i);
                final int out = st.expectedOutput();
                s.append(String.format("  t=%6d ms  in %d  %-4s -> %-5s %s%n", (times.get(i) - T0) / 1_000_000L,
                    st.port(), st.verdict(), out > 0 ? "out " + out : "drop", st.description()));
            }
            return s.toString();
        }
    }

    private static String flows()
    {
        return CtFlowSets.render(Config.basic(ZONE), "# conntrack timeouts in pcap time, zone " + ZONE);
    }

    private static Route udp(final int clientPort)
    {
        return Route.direct(CLIENT1, SERVER1, false, PROTO_UDP, clientPort, 53);
    }

    private static Route tcp(final int clientPort)
    {
        return Route.direct(CLIENT1, SERVER1, false, PROTO_TCP, clientPort, 80);
    }

    private static String udpLine(final int clientPort)
    {
        return "udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=" + clientPort + ",dport=53),reply=(src=10.0.0.2,"
            + "dst=10.0.0.1,sport=53,dport=" + clientPort + "),zone=" + ZONE;
    }

    private static String tcpLine(final int clientPort)
    {
        return "tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=" + clientPort + ",dport=80),reply=(src=10.0.0.2,"
            + "dst=10.0.0.1,sport=80,dport=" + clientPort + "),zone=" + ZONE + ",protoinfo=(state=ESTABLISHED)";
    }

    /**
     * UDP with {@code udp_first=5,udp_single=7,udp_multiple=10}: each attribute at its boundary
     * (a packet 1 ms before the expiry passes, one at the expiry is a server-side {@code +new}
     * and dropped), and a bidirectional flow kept alive well past 10 s by packets less than
     * 10 s apart. conntrack.txt holds all five connections just before 5 s, loses the expired
     * one at 5 s, and at the end keeps only the flow opened late.
     */
    @Test
    void udpTimeoutsExpireInPcapTime() throws Exception
    {
        final Script s = new Script();
        final Udp u1 = new Udp(s.trace, udp(40001));
        final Udp u2 = new Udp(s.trace, udp(40002));
        final Udp u3 = new Udp(s.trace, udp(40003));
        final Udp u4 = new Udp(s.trace, udp(40004));
        final Udp u5 = new Udp(s.trace, udp(40005));
        final Udp u6 = new Udp(s.trace, udp(40006));
        s.at(0, () ->
        {
            u1.request("u1 q", Verdict.NEW);
            u2.request("u2 q", Verdict.NEW);
            u3.request("u3 q", Verdict.NEW);
            u4.request("u4 q", Verdict.NEW);
            u5.request("u5 q", Verdict.NEW);
        });
        // u5 both ways: udp_multiple (10 s) from its reply at 1 s
        s.at(1000, () -> u5.reply("u5 r", Verdict.EST));
        // u3/u4: a second request without a reply: udp_single (7 s) from 4 s; +new still (VALID_NEW)
        s.at(4000, () ->
        {
            u3.request("u3 q2", Verdict.NEW);
            u4.request("u4 q2", Verdict.NEW);
        });
        // udp_first (5 s) from 0: alive at 4.999 s, gone at 5 s
        s.at(4999, () -> u1.reply("u1 r (1 ms before udp_first expiry)", Verdict.EST));
        s.at(5000, () -> u2.reply("u2 r (at udp_first expiry)", Verdict.NEW));
        // udp_single from 4 s: alive at 10.999 s, gone at 11 s
        s.at(10_999, () ->
        {
            u3.reply("u3 r (1 ms before udp_single expiry)", Verdict.EST);
            // u5: udp_multiple from 1 s would expire at 11 s; this refreshes it to 20.999 s
            u5.request("u5 q2 (1 ms before udp_multiple expiry)", Verdict.EST);
        });
        s.at(11_000, () -> u4.reply("u4 r (at udp_single expiry)", Verdict.NEW));
        // u5: alive at 20.998 only because the timer restarted at 10.999 (from 1 s it would be dead)
        s.at(20_998, () -> u5.reply("u5 r2 (refreshed at 10.999 s)", Verdict.EST));
        s.at(25_000, () -> u6.request("u6 q (opened late)", Verdict.NEW));
        s.at(26_000, () -> u6.reply("u6 r", Verdict.EST));
        s.at(30_998, () -> u5.reply("u5 r3 (at udp_multiple expiry, 10 s after 20.998 s)", Verdict.NEW));

        final String[] timeouts = { "--ct-timeout", "udp_first=5,udp_single=7", "--ct-timeout", "udp_multiple=10" };
        final Path dir = CtReplayHarness.tempDir("ct-timeout-udp");
        try
        {
            final Run run = replay(s, dir, "full", Long.MAX_VALUE, timeouts);
            assertOutputs(s, run);
            assertEquals(List.of(udpLine(40006)), run.conntrack(), "conntrack.txt at the end (30.998 s)\n" + s.describe());
            assertEquals(5, run.ct("expired"), "u1..u5 expired and swept by the last packet\n" + run.json());
            assertEquals(1, run.ct("connections"), run.json());
            assertArrayEquals(new long[]{ 1, -1 }, run.zone(ZONE), run.json());
            assertEquals(6, run.ct("commits"), run.json());

            // Just before 5 s all five connections are there; at 5 s u2's is gone (expired at 5 s).
            final Run before = replay(s, dir, "until-4999", 4999, timeouts);
            assertEquals(List.of(udpLine(40001), udpLine(40002), udpLine(40003), udpLine(40004), udpLine(40005)),
                before.conntrack(), "conntrack.txt after the packets up to 4.999 s");
            assertEquals(0, before.ct("expired"), before.json());
            final Run at = replay(s, dir, "until-5000", 5000, timeouts);
            assertEquals(List.of(udpLine(40001), udpLine(40003), udpLine(40004), udpLine(40005)), at.conntrack(),
                "conntrack.txt after the packets up to 5.000 s");
            assertEquals(1, at.ct("expired"), at.json());
        }
        finally
        {
            CtReplayHarness.delete(dir);
        }
    }

    /**
     * TCP with a 10 s {@code tcp_established} for zone 5 only ({@code --ct-timeout
     * zone=5,tcp_established=10}): established connections expire 10 s after their last segment
     * (boundary both sides), after which the server's data is a {@code +new} from the server
     * side and dropped. The same trace with the policy on zone 6 instead leaves zone 5 on OVS's
     * default (24 h): nothing expires, every segment crosses.
     */
    @Test
    void tcpEstablishedTimeoutPerZone() throws Exception
    {
        final Path dir = CtReplayHarness.tempDir("ct-timeout-tcp");
        try
        {
            final Script expiring = tcpScript(true);
            final Run run = replay(expiring, dir, "zone5", Long.MAX_VALUE, "--ct-timeout", "zone=5,tcp_established=10");
            assertOutputs(expiring, run);
            assertEquals(List.of(tcpLine(40014)), run.conntrack(), "conntrack.txt at the end (30 s)\n"
                + expiring.describe());
            assertEquals(3, run.ct("expired"), run.json());

            final Script lasting = tcpScript(false);
            final Run other = replay(lasting, dir, "zone6", Long.MAX_VALUE, "--ct-timeout", "zone=6,tcp_established=10");
            assertOutputs(lasting, other);
            assertEquals(List.of(tcpLine(40011), tcpLine(40012), tcpLine(40013), tcpLine(40014)), other.conntrack(),
                "zone 5 on the default timeouts keeps every connection");
            assertEquals(0, other.ct("expired"), other.json());
        }
        finally
        {
            CtReplayHarness.delete(dir);
        }
    }

    /** The TCP trace; {@code expires}: zone 5 has the 10 s tcp_established (else the default). */
    private static Script tcpScript(final boolean expires)
    {
        final Script s = new Script();
        final SplittableRandom r = new SplittableRandom(0x7c9);
        final Tcp t1 = new Tcp(s.trace, tcp(40011), r);
        final Tcp t2 = new Tcp(s.trace, tcp(40012), r);
        final Tcp t3 = new Tcp(s.trace, tcp(40013), r);
        final Tcp t4 = new Tcp(s.trace, tcp(40014), r);
        final Verdict gone = expires ? Verdict.NEW : Verdict.EST;
        // Handshakes complete at 2 ms: tcp_established runs from there (expiry 10.002 s).
        s.at(0, () -> { t1.syn(Verdict.NEW); t2.syn(Verdict.NEW); t3.syn(Verdict.NEW); });
        s.at(1, () -> { t1.synAck(Verdict.EST); t2.synAck(Verdict.EST); t3.synAck(Verdict.EST); });
        s.at(2, () ->
        {
            t1.ack(Side.CLIENT, Verdict.EST);
            t2.ack(Side.CLIENT, Verdict.EST);
            t3.ack(Side.CLIENT, Verdict.EST);
        });
        s.at(10_001, () ->
        {
            t1.data(Side.CLIENT, 100, Verdict.EST); // refreshes t1 to 20.001 s
            t2.data(Side.SERVER, 100, Verdict.EST); // 1 ms before expiry
        });
        s.at(10_002, () -> t3.data(Side.SERVER, 100, gone)); // at expiry
        s.at(20_000, () -> t1.data(Side.SERVER, 200, Verdict.EST)); // alive thanks to 10.001 s; now to 30 s
        s.at(25_000, () -> t4.syn(Verdict.NEW));
        s.at(25_001, () -> t4.synAck(Verdict.EST));
        s.at(25_002, () -> t4.ack(Side.CLIENT, Verdict.EST));
        s.at(30_000, () -> t1.data(Side.SERVER, 50, gone)); // 10 s after 20 s
        return s;
    }

    /**
     * ICMP echo with {@code icmp_first=2,icmp_reply=3}: a reply 1 ms before {@code icmp_first}
     * runs out is +est, one at the expiry finds nothing and, an echo reply being unable to open
     * a connection, is {@code +inv}; a conversation kept alive by {@code icmp_reply} refreshes,
     * then after 3 s of silence the next request opens a new connection (+new, committed again).
     */
    @Test
    void icmpTimeoutsAndReopenAfterExpiry() throws Exception
    {
        final Script s = new Script();
        final Echo e1 = new Echo(s.trace, Route.direct(CLIENT1, SERVER1, false, PROTO_ICMP, 0x101, 0x101));
        final Echo e2 = new Echo(s.trace, Route.direct(CLIENT1, SERVER1, false, PROTO_ICMP, 0x102, 0x102));
        final Echo e3 = new Echo(s.trace, Route.direct(CLIENT1, SERVER1, false, PROTO_ICMP, 0x103, 0x103));
        s.at(0, () -> { e1.request(Verdict.NEW); e2.request(Verdict.NEW); e3.request(Verdict.NEW); });
        s.at(1000, () -> e3.reply(Verdict.EST)); // icmp_reply: to 4 s
        s.at(1999, () -> e1.reply(Verdict.EST)); // 1 ms before icmp_first expiry
        s.at(2000, () -> e2.reply(Verdict.INV)); // at icmp_first expiry: nothing found, a reply cannot open one
        s.at(3999, () -> e3.request(Verdict.EST)); // to 6.999 s
        s.at(6998, () -> e3.reply(Verdict.EST)); // to 9.998 s
        s.at(9998, () -> e3.request(Verdict.NEW)); // at expiry: a new connection
        s.at(9999, () -> e3.reply(Verdict.EST));

        final Path dir = CtReplayHarness.tempDir("ct-timeout-icmp");
        try
        {
            final Run run = replay(s, dir, "full", Long.MAX_VALUE, "--ct-timeout", "icmp_first=2,icmp_reply=3");
            assertOutputs(s, run);
            assertEquals(List.of("icmp,orig=(src=10.0.0.1,dst=10.0.0.2,id=259,type=8,code=0),reply=(src=10.0.0.2,"
                + "dst=10.0.0.1,id=259,type=0,code=0),zone=" + ZONE), run.conntrack(), s.describe());
            assertEquals(3, run.ct("expired"), run.json());
            assertEquals(4, run.ct("commits"), run.json());
            assertEquals(1, run.ct("invalid"), run.json());
        }
        finally
        {
            CtReplayHarness.delete(dir);
        }
    }

    /** Bad conntrack option values: exit 2 with a message naming the problem, never a stack trace. */
    @Test
    void badConntrackOptionsExitTwo() throws Exception
    {
        final Path dir = CtReplayHarness.tempDir("ct-options");
        try
        {
            final Script s = new Script();
            s.at(0, () -> new Udp(s.trace, udp(40001)).request("q", Verdict.NEW));
            final List<String> args = CtReplayHarness.writeCase(dir, flows(), s.packets(0));
            final String[][] cases = {
                { "--ct-max-conns", "-1", "--ct-max-conns -1: expected 0..2147483647" },
                { "--ct-max-conns", "many", "'many' is not a long" },
                { "--ct-zone-limit", "5", "expected ZONE=LIMIT or default=LIMIT" },
                { "--ct-zone-limit", "zone5=3", "zone 'zone5' is not a number" },
                { "--ct-zone-limit", "65536=3", "zone 65536 out of range 0..65535" },
                { "--ct-zone-limit", "5=4294967296", "limit 4294967296 out of range 0..4294967295" },
                { "--ct-timeout", "udp_frist=5", "unknown timeout 'udp_frist' (known: tcp_syn_sent," },
                { "--ct-timeout", "zone=5", "no timeout attribute given" },
                { "--ct-timeout", "udp_first=-5", "udp_first -5 out of range" },
                { "--ct-timeout", "udp_first", "expected [zone=Z,]ATTR=SECONDS" },
                { "--ct-timeout", "zone=1,zone=2,icmp_first=1", "zone given twice" },
            };
            for (final String[] c : cases)
            {
                final List<String> argv = new ArrayList<>(DifferentialOracleTest.replayArgs(args, dir.resolve("out")));
                argv.add(c[0]);
                argv.add(c[1]);
                final DifferentialOracleTest.JunctionRun run = DifferentialOracleTest.runJunction(argv);
                assertEquals(null, run.thrown(), c[0] + " " + c[1]);
                assertEquals(2, run.exitCode(), c[0] + " " + c[1] + ":\n" + run.output());
                assertTrue(run.output().contains(c[2]), c[0] + " " + c[1] + ": message\n" + run.output());
                assertFalse(run.output().contains("Exception") || run.output().contains("\tat "),
                    c[0] + " " + c[1] + ": stack trace\n" + run.output());
            }
        }
        finally
        {
            CtReplayHarness.delete(dir);
        }
    }

    // ---- Running and judging ----

    private static Run replay(final Script s, final Path dir, final String name, final long untilMs,
                              final String... options) throws Exception
    {
        final Path caseDir = dir.resolve(name);
        final List<String> args = CtReplayHarness.writeCase(caseDir, flows(), s.packets(untilMs));
        return CtReplayHarness.replay(args, caseDir.resolve("out"), options);
    }

    /** Each port sent exactly the frames the verdicts forward there, with their input timestamps. */
    private static void assertOutputs(final Script s, final Run run) throws Exception
    {
        for (final int port : new int[]{ CLIENT_PORT, SERVER_PORT })
        {
            final List<Integer> want = s.expectedOut(port);
            final List<Timed> got = run.sent(port);
            final List<Timed> expected = want.stream()
                .map(i -> new Timed(s.times.get(i), port, s.trace.steps.get(i).frame())).toList();
            if (!expected.equals(got))
            {
                final StringBuilder m = new StringBuilder("port " + port + " sent " + got.size() + " frames, expected "
                    + expected.size() + "\nexpected:\n");
                want.forEach(i -> m.append("  ").append(expected.get(want.indexOf(i))).append("  ")
                    .append(s.trace.steps.get(i).description()).append('\n'));
                m.append("sent:\n");
                got.forEach(t -> m.append("  ").append(t).append('\n'));
                m.append("trace:\n").append(s.describe()).append("summary: ").append(run.json());
                fail(m.toString());
            }
        }
    }
}
