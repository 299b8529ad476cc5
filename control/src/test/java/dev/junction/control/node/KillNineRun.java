package dev.junction.control.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One restart under load, as an operator's {@code kill -9} and a supervisor's restart make it:
 * the daemon of {@code config} runs, iperf3 streams TCP for 10 s from the client namespace to
 * the server address, the daemon is killed with SIGKILL 3 s in (no shutdown hook, no last
 * checkpoint) and started again at once on the same state directory. What it measured: iperf3's
 * exit and its half-second intervals without data, when the new daemon's control socket
 * answered and when the server's port sent its first packet again, and the new daemon's log.
 *
 * @param iperfExit      iperf3's exit status (-1 when it had to be killed).
 * @param zeroSeconds    the iperf3 intervals without data, added up.
 * @param longestGap     the longest run of them.
 * @param resumed        an interval with data came after one without.
 * @param killToSocketMs from the kill to the new daemon's control socket answering.
 * @param killToForwardMs from the kill to the first packet the server's port sent (an upper bound: polled).
 * @param log            the restarted daemon's log.
 */
record KillNineRun(int iperfExit, boolean iperfFinished, String iperfOut, double zeroSeconds, double longestGap,
    boolean resumed, long killToSocketMs, long killToForwardMs, List<String> log)
{
    private static final Pattern INTERVAL = Pattern.compile(
        "\"sum\":\\s*\\{\\s*\"start\":\\s*([0-9.e+-]+),\\s*\"end\":\\s*([0-9.e+-]+),\\s*\"seconds\":\\s*[0-9.e+-]+,\\s*"
            + "\"bytes\":\\s*(\\d+)");

    /** The restarted daemon's first log line holding {@code text}, or a line saying there is none. */
    String logLine(final String text)
    {
        return log.stream().filter(l -> l.contains(text)).findFirst().orElse("(no \"" + text + "\" logged)");
    }

    /** A number the restarted daemon logged as {@code "key":N} (or {@code "key":"N"}) on its first line holding {@code text}; -1 when none. */
    double logged(final String text, final String key)
    {
        final Matcher m = Pattern.compile("\"" + key + "\":\"?([0-9.]+)").matcher(logLine(text));
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    /**
     * Runs it: the daemon of {@code dir/NAME.yaml} (state in {@code state}) logs to
     * {@code dir/NAME-1.log}, then {@code dir/NAME-2.log}; iperf3 in {@code clientNs} to
     * {@code serverIp} port 5201 (a server must be listening); {@code serverPort} is the OpenFlow
     * port of the server's pod, whose tx counter says forwarding is back.
     */
    static KillNineRun run(final Netns net, final Path dir, final String name, final Path state, final String clientNs,
        final String serverIp, final int serverPort) throws Exception
    {
        return run(net, dir, name, state, clientNs, serverIp, serverPort, () -> { }, () -> { });
    }

    /**
     * As above, with {@code beforeRestart} run between the kill and the new start, and
     * {@code whileRestarted} against the restarted daemon after iperf3 has ended, before it stops.
     */
    static KillNineRun run(final Netns net, final Path dir, final String name, final Path state, final String clientNs,
        final String serverIp, final int serverPort, final Runnable beforeRestart, final Runnable whileRestarted) throws Exception
    {
        final Path config = dir.resolve(name + ".yaml");
        final Process first = net.awaitControlSocket(net.startDaemon(config, dir.resolve(name + "-1.log")), state,
            dir.resolve(name + "-1.log"));
        final Netns.Result ping = net.run("ip", "netns", "exec", clientNs, "ping", "-c", "2", "-W", "2", serverIp);
        assertEquals(0, ping.exit(), "the pods reach each other through the daemon: " + ping.out());

        final Path iperfOut = dir.resolve(name + "-iperf3.json");
        final Process client = new ProcessBuilder("ip", "netns", "exec", clientNs, "iperf3", "-c", serverIp, "-p", "5201",
            "-t", "10", "-i", "0.5", "-J").redirectErrorStream(true).redirectOutput(iperfOut.toFile()).start();
        final Process second;
        final long killed;
        try
        {
            Thread.sleep(3000);
            assertTrue(client.isAlive(), "iperf3 ended before the kill: " + Files.readString(iperfOut));
            first.destroyForcibly(); // SIGKILL: no shutdown hook, no last checkpoint
            first.waitFor(10, TimeUnit.SECONDS);
            killed = System.nanoTime();
            beforeRestart.run();
            second = net.startDaemon(config, dir.resolve(name + "-2.log"));
        }
        catch (final Exception | AssertionError ex)
        {
            client.destroyForcibly();
            throw ex;
        }
        // Until the control socket answers, then until the server's port has sent something.
        final Pattern tx = Pattern.compile("port " + serverPort + " \\([^)]*\\): rx \\d+, rx ring-full drops \\d+, tx (\\d+)");
        long socketMs = -1;
        long forwardMs = -1;
        final long deadline = killed + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && second.isAlive() && forwardMs < 0)
        {
            try
            {
                final ControlServer.Reply r = ControlServer.request(state, "stats");
                final long now = System.nanoTime();
                if (socketMs < 0)
                {
                    socketMs = TimeUnit.NANOSECONDS.toMillis(now - killed);
                }
                final Matcher m = tx.matcher(r.text());
                if (m.find() && Long.parseLong(m.group(1)) > 0)
                {
                    forwardMs = TimeUnit.NANOSECONDS.toMillis(now - killed);
                }
            }
            catch (final IOException notYet)
            {
                // the socket is not there yet
            }
            Thread.sleep(5);
        }
        final boolean finished = client.waitFor(40, TimeUnit.SECONDS);
        if (!finished)
        {
            client.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        final String out = Files.readString(iperfOut);
        final List<double[]> intervals = new ArrayList<>();
        final Matcher m = INTERVAL.matcher(out);
        while (m.find())
        {
            intervals.add(new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2)),
                Double.parseDouble(m.group(3))});
        }
        double zero = 0;
        double gap = 0;
        double run = 0;
        boolean resumed = false;
        for (final double[] i : intervals)
        {
            if (i[2] == 0)
            {
                zero += i[1] - i[0];
                run += i[1] - i[0];
                gap = Math.max(gap, run);
            }
            else
            {
                resumed |= zero > 0;
                run = 0;
            }
        }
        try
        {
            whileRestarted.run();
        }
        finally
        {
            second.destroy(); // SIGTERM: a clean stop
            second.waitFor(15, TimeUnit.SECONDS);
        }
        return new KillNineRun(finished ? client.exitValue() : -1, finished, out, zero, gap, resumed, socketMs, forwardMs,
            Files.readAllLines(dir.resolve(name + "-2.log")));
    }

    static void deleteTree(final Path dir) throws IOException
    {
        try (Stream<Path> files = Files.walk(dir))
        {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
