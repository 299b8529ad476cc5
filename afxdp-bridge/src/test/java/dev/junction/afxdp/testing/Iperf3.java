package dev.junction.afxdp.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One iperf3 run between two namespaces (server in one, client in the other), with the receiver's
 * totals read from the client's JSON, and the bytes a forwarding thread allocated from one second
 * into the run to its end (the steady state, which must allocate nothing).
 */
public final class Iperf3
{
    private static final Duration CMD = Duration.ofSeconds(15);

    /** The receiver's totals of one run. */
    public record Run(long bytes, double bitsPerSecond, long retransmits, long packets, double lostPercent,
        long forwarderAllocated, String json)
    {
    }

    private Iperf3()
    {
    }

    /**
     * Runs {@code iperf3 -c server -p port -J clientArgs} in {@code clientNs} against a one-shot
     * server in {@code serverNs}; both processes are added to {@code processes} for cleanup.
     */
    public static Run run(final String serverNs, final String clientNs, final String server, final int port,
        final LongSupplier allocatedBytes, final List<Process> processes, final String... clientArgs)
    {
        final Process listener = Host.start("ip", "netns", "exec", serverNs, "iperf3", "-s", "-1", "-p", Integer.toString(port));
        synchronized (processes)
        {
            processes.add(listener);
        }
        awaitListening(listener, serverNs, port);
        final List<String> command = new ArrayList<>(List.of(
            "ip", "netns", "exec", clientNs, "iperf3", "-c", server, "-p", Integer.toString(port), "-J"));
        command.addAll(List.of(clientArgs));
        final Process client = Host.start(command.toArray(String[]::new));
        synchronized (processes)
        {
            processes.add(client);
        }
        final long allocatedFrom;
        final long allocatedTo;
        try
        {
            client.waitFor(1, TimeUnit.SECONDS);
            allocatedFrom = allocatedBytes.getAsLong();
            if (!client.waitFor(30, TimeUnit.SECONDS))
            {
                fail("iperf3 client still running after 30 s");
            }
            allocatedTo = allocatedBytes.getAsLong();
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        final Host.Result r = new Host.Result(client.exitValue(), Host.read(client, true), Host.read(client, false));
        assertTrue(r.ok(), "iperf3 client: " + r);
        final String json = r.out();
        final boolean udp = command.contains("-u");
        final String sum = section(json, udp ? "\"sum\"" : "\"sum_received\"");
        final String sent = udp ? sum : section(json, "\"sum_sent\"");
        return new Run(
            (long)number(sum, "bytes"), number(sum, "bits_per_second"),
            udp ? 0 : (long)number(sent, "retransmits"),
            udp ? (long)number(sum, "packets") - (long)number(sum, "lost_packets") : 0,
            udp ? number(sum, "lost_percent") : 0, allocatedTo - allocatedFrom, json);
    }

    /** Waits until the iperf3 server in {@code ns} listens on {@code port}; fails if it exits or takes 10 s. */
    public static void awaitListening(final Process server, final String ns, final int port)
    {
        final long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline)
        {
            if (!server.isAlive())
            {
                fail("iperf3 server exited: " + Host.read(server, true) + Host.read(server, false));
            }
            final Host.Result r = Host.run(CMD, "ip", "netns", "exec", ns, "ss", "-Hltn", "sport = :" + port);
            if (r.ok() && r.out().contains(":" + port))
            {
                return;
            }
            try
            {
                Thread.sleep(50);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
        }
        fail("iperf3 server not listening after 10 s");
    }

    /** The first {...} object after the key's last occurrence (the "end" summary comes last). */
    private static String section(final String json, final String key)
    {
        final int at = json.lastIndexOf(key);
        assertTrue(at >= 0, key + " not in iperf3 output: " + json);
        final int open = json.indexOf('{', at);
        final int close = json.indexOf('}', open);
        return json.substring(open, close + 1);
    }

    private static double number(final String object, final String field)
    {
        final Matcher m = Pattern.compile("\"" + field + "\"\\s*:\\s*(-?[0-9.eE+]+)").matcher(object);
        assertTrue(m.find(), field + " not in " + object);
        return Double.parseDouble(m.group(1));
    }
}
