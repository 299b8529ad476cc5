package dev.junction.control.node;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon under flow churn: while UDP flows between two pods, 10,000 flow changes arrive
 * through the control socket (rules added and replaced in other tables, each a new table version
 * the workers revalidate against); not one packet of the unchanged flow may be lost. Then SIGTERM:
 * the daemon exits 0 and its TAP devices, socket and pid file are gone.
 */
class DaemonFlowChurnTest
{
    private static final int CHANGES = Integer.getInteger("junction.churn.changes", 10_000);

    @Test
    void tenThousandFlowChangesUnderTrafficLoseNothing() throws Exception
    {
        Netns.requireRoot();
        try (Netns net = new Netns())
        {
            final Path dir = Files.createTempDirectory("junction-churn-");
            Files.writeString(dir.resolve("flows.txt"), "in_port=1,actions=output:2\nin_port=2,actions=output:1\n");
            final String tapA = "jc-a-" + net.tag;
            final String tapB = "jc-b-" + net.tag;
            Files.writeString(dir.resolve("node.yaml"), String.join("\n", "state_dir: state", "workers: 2",
                "flows: flows.txt", "ports:", "  - {port: 1, type: tap, name: " + tapA + "}",
                "  - {port: 2, type: tap, name: " + tapB + "}", ""));
            final Path state = dir.resolve("state");
            final Process daemon = net.daemon(dir.resolve("node.yaml"), state, dir.resolve("daemon.log"));
            final String nsA = net.add("jc-a");
            final String nsB = net.add("jc-b");
            for (final String[] pod : new String[][] {{tapA, nsA, "10.81.0.1"}, {tapB, nsB, "10.81.0.2"}})
            {
                net.must("ip", "link", "set", pod[0], "netns", pod[1]);
                net.must("ip", "-n", pod[1], "addr", "add", pod[2] + "/24", "dev", pod[0]);
                net.must("ip", "-n", pod[1], "link", "set", pod[0], "up");
            }
            net.must("ip", "netns", "exec", nsA, "ping", "-c", "2", "-W", "2", "10.81.0.2");
            // Baselines after setup: frames A sent before B's link was up (IPv6 router solicitations)
            // had nowhere to go; from here on every frame A sends must reach B.
            Thread.sleep(500);
            final long sentBefore = counter(net, nsA, tapA, "tx_packets");
            final long receivedBefore = counter(net, nsB, tapB, "rx_packets");
            net.spawn(List.of("ip", "netns", "exec", nsB, "iperf3", "-s", "-1", "-p", "5201"), dir.resolve("iperf3.log"));
            Thread.sleep(500);
            // A steady UDP stream for the duration of the churn.
            final Process client = new ProcessBuilder("ip", "netns", "exec", nsA, "iperf3", "-c", "10.81.0.2", "-u", "-b",
                "8M", "-l", "1000", "-t", "600").redirectErrorStream(true).redirectOutput(dir.resolve("client.log").toFile())
                .start();
            Thread.sleep(1000);
            final Path rules = dir.resolve("rules.txt");
            final long start = System.nanoTime();
            for (int i = 0; i < CHANGES; i++)
            {
                // Rules in other tables come and go (replaced at the same priority and match).
                Files.writeString(rules, "table=" + (1 + i % 5) + ",priority=" + (i % 7) + ",udp,tp_dst=" + (1000 + i % 100)
                    + ",actions=set_field:" + (i % 64) + "->ip_dscp,output:2\n");
                final ControlServer.Reply r = ControlServer.request(state, "add-flows " + rules);
                assertEquals(0, r.status(), r.text());
            }
            final double seconds = (System.nanoTime() - start) / 1e9;
            Thread.sleep(1000);
            client.destroyForcibly();
            assertTrue(client.waitFor(30, TimeUnit.SECONDS), "iperf3 client did not stop");
            Thread.sleep(1000);
            // Every frame pod A sent reached pod B (the kernel's own counters at both ends), and
            // nothing went to B that A did not send: A's TX equals B's RX.
            final long sentByA = counter(net, nsA, tapA, "tx_packets") - sentBefore;
            final long receivedByB = counter(net, nsB, tapB, "rx_packets") - receivedBefore;
            System.out.printf("DAEMON-CHURN %d flow changes in %.1f s (%.0f/s) under UDP: A sent %d frames, B received %d%n",
                CHANGES, seconds, CHANGES / seconds, sentByA, receivedByB);
            assertTrue(sentByA > 5_000, "the UDP stream ran during the churn: " + sentByA);
            assertEquals(sentByA, receivedByB, () -> "frames of the unchanged flow were lost during the churn:\n"
                + stats(state));
            final String flows = ControlServer.request(state, "dump-flows").text();
            assertTrue(flows.lines().count() >= 3, flows);

            daemon.destroy(); // SIGTERM
            assertTrue(daemon.waitFor(30, TimeUnit.SECONDS), "daemon did not exit on SIGTERM");
            assertEquals(0, daemon.exitValue(), Files.readString(dir.resolve("daemon.log")));
            assertFalse(Files.exists(state.resolve(ControlServer.SOCKET)), "socket removed");
            assertFalse(Files.exists(state.resolve("junction.pid")), "pid file removed");
            for (final String ns : new String[] {nsA, nsB})
            {
                assertFalse(net.run("ip", "-n", ns, "link").out().contains("jc-"), "TAP devices removed with the daemon");
            }
            assertTrue(Files.readString(dir.resolve("daemon.log")).contains("\"msg\":\"stopped\""));
        }
    }

    private static String stats(final Path state)
    {
        try
        {
            return ControlServer.request(state, "stats").text();
        }
        catch (final java.io.IOException ex)
        {
            return String.valueOf(ex);
        }
    }

    private static long counter(final Netns net, final String ns, final String dev, final String name)
    {
        return Long.parseLong(net.must("ip", "netns", "exec", ns, "cat", "/sys/class/net/" + dev + "/statistics/" + name).strip());
    }
}
