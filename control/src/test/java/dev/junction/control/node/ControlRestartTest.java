package dev.junction.control.node;

import dev.junction.control.ShopCluster;
import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.k8s.ManifestLoader;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Restart without loss in control mode, with node.yaml's defaults: the node daemon derives its
 * flows from a manifests directory (two pods on AF_XDP veth ports, NetworkPolicies), iperf3
 * streams TCP from pod a to pod b, the daemon is killed with SIGKILL and started again at once,
 * with its source gone: the manifests directory is moved away before the restart, as an API
 * server can be down when a node restarts. The flows and the pods' port numbers come back from
 * the flow journal (the version the killed daemon last published), the connections from the
 * conntrack journal (checkpoints are on by default), iperf3 ends with exit 0, and the policies the
 * journal holds are enforced by the restarted daemon while the source is away: pod b may not open
 * connections to pod a, whose ingress is isolated, while a's to b pass. When the directory comes
 * back the source connects, and the version stays (nothing changed).
 */
class ControlRestartTest
{
    /** Pods a (client) and b (server); b lets only a in, a lets nothing in. */
    private static final String CLUSTER = String.join(ShopCluster.NEXT, ShopCluster.nodeAndNamespace(),
        ShopCluster.pod("a", "10.244.1.10", "client"), ShopCluster.pod("b", "10.244.1.11", "server"),
        ShopCluster.ingressPolicy("server-from-client", "server", "{from: [{podSelector: {matchLabels: {app: client}}}]}"),
        ShopCluster.ingressPolicy("client-isolated", "client", null));
    private static final Pattern COMPILED = Pattern.compile("\"msg\":\"flows compiled\".*?\"version\":(\\d+)");

    @Test
    void flowsAndConnectionsComeBackFromTheJournalsAfterKillNine() throws Exception
    {
        Netns.requireRoot();
        try (Netns net = new Netns())
        {
            final Path dir = Files.createTempDirectory("junction-control-restart-");
            try
            {
                final Path manifests = Files.createDirectories(dir.resolve("manifests"));
                Files.writeString(manifests.resolve("cluster.yaml"), CLUSTER);
                final BridgeLayout layout = FlowCompiler.node(ManifestLoader.load(manifests).model(), "n1").layout();
                final BridgeLayout.PodPort a = layout.port("shop/a").orElseThrow();
                final BridgeLayout.PodPort b = layout.port("shop/b").orElseThrow();
                final String nsA = net.add("jcr-a");
                final String nsB = net.add("jcr-b");
                final String peerA = "jcrs-a-" + net.tag;
                final String peerB = "jcrs-b-" + net.tag;
                pod(net, nsA, "jcr-a-" + net.tag, peerA, a);
                pod(net, nsB, "jcr-b-" + net.tag, peerB, b);
                // node.yaml's defaults otherwise: conntrack checkpoints every second.
                Files.writeString(dir.resolve("node.yaml"), ShopCluster.controlNodeYaml(1)
                    + "ports:\n  - {pod: shop/a, type: afxdp, interface: " + peerA + "}\n"
                    + "  - {pod: shop/b, type: afxdp, interface: " + peerB + "}\n");
                net.spawn(List.of("ip", "netns", "exec", nsB, "iperf3", "-s", "-p", "5201"), dir.resolve("iperf3-server.log"));
                final String aIp = a.ips().get(0).getHostAddress();
                final String bIp = b.ips().get(0).getHostAddress();
                final int[] pings = new int[2];
                final Path away = dir.resolve("manifests.away");
                final String[] afterSourceBack = new String[1];

                final KillNineRun run = KillNineRun.run(net, dir, "node", dir.resolve("state"), nsA, bIp, b.ofport(),
                    () -> move(manifests, away),
                    () ->
                    {
                        pings[0] = net.run("ip", "netns", "exec", nsA, "ping", "-c", "2", "-W", "1", bIp).exit();
                        pings[1] = net.run("ip", "netns", "exec", nsB, "ping", "-c", "2", "-W", "1", aIp).exit();
                        move(away, manifests);
                        afterSourceBack[0] = awaitLog(dir.resolve("node-2.log"), "control source connected");
                    });

                long killedVersion = -1;
                for (final String line : Files.readAllLines(dir.resolve("node-1.log")))
                {
                    final Matcher m = COMPILED.matcher(line);
                    if (m.find())
                    {
                        killedVersion = Long.parseLong(m.group(1));
                    }
                }
                System.out.printf("ControlRestart: iperf3 exit %d, intervals without data %.1f s (longest gap %.1f s),"
                        + " kill -9 to control socket %d ms, kill -9 to first forwarded packet <= %d ms;%n  %s%n  %s%n  %s%n",
                    run.iperfExit(), run.zeroSeconds(), run.longestGap(), run.killToSocketMs(), run.killToForwardMs(),
                    run.logLine("flows restored"), run.logLine("conntrack restored"), run.logLine("\"msg\":\"started\""));
                assertTrue(killedVersion >= 1, "the killed daemon compiled a version");
                assertEquals(killedVersion, (long)run.logged("flows restored", "version"),
                    "the journal gives back the version the killed daemon published: " + run.logLine("flows restored"));
                assertTrue(run.logged("flows restored", "rules") > 0, run.logLine("flows restored"));
                assertTrue(run.logged("flows restored", "restore_ms") >= 0
                    && run.logged("flows restored", "restore_ms") < 1000, "the journal is read and published in under a second: "
                    + run.logLine("flows restored"));
                assertTrue(run.logged("conntrack restored", "connections") >= 2,
                    "iperf3's control and data connections are restored: " + run.logLine("conntrack restored"));
                assertEquals(0, run.iperfExit(), "iperf3 finishes through the restart:\n" + run.iperfOut());
                assertTrue(run.logLine("control source unavailable").contains("is not a directory"),
                    "the restarted daemon ran without its source: " + run.logLine("control source unavailable"));
                assertTrue(run.logged("flows restored", "pods") == 2, "both pods' ports from the journal: "
                    + run.logLine("flows restored"));
                assertEquals(0, pings[0], "after the restart a may still open connections to b");
                assertNotEquals(0, pings[1], "after the restart b still may not open connections to a (client-isolated)");
                assertTrue(afterSourceBack[0] != null, "the source connects once the directory is back");
                final String same = "\"version\":" + killedVersion + ",";
                assertTrue(run.log().stream().noneMatch(l -> l.contains("\"msg\":\"flows compiled\"") && !l.contains(same)),
                    "the source's snapshot changes nothing: the journal's version stays");
            }
            finally
            {
                KillNineRun.deleteTree(dir);
            }
        }
    }

    private static void move(final Path from, final Path to)
    {
        try
        {
            Files.move(from, to);
        }
        catch (final java.io.IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
    }

    /** The first line of {@code log} holding {@code text}, waited for up to 20 s; null when it never came. */
    private static String awaitLog(final Path log, final String text)
    {
        final long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
        try
        {
            while (System.nanoTime() < deadline)
            {
                for (final String line : Files.readAllLines(log))
                {
                    if (line.contains(text))
                    {
                        return line;
                    }
                }
                Thread.sleep(100);
            }
        }
        catch (final java.io.IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        return null;
    }

    /** A pod: namespace {@code ns} holds {@code dev} with the layout's MAC and address; its veth peer stays here for the daemon. */
    private static void pod(final Netns net, final String ns, final String dev, final String peer, final BridgeLayout.PodPort port)
    {
        net.must("ip", "link", "add", dev, "netns", ns, "type", "veth", "peer", "name", peer);
        net.must("ip", "link", "set", peer, "up");
        net.must("ip", "-n", ns, "link", "set", dev, "address", port.mac());
        net.must("ip", "-n", ns, "addr", "add", port.ips().get(0).getHostAddress() + "/24", "dev", dev);
        net.must("ip", "-n", ns, "link", "set", dev, "up");
        net.must("ip", "-n", ns, "route", "add", "default", "via", "10.244.1.1");
        // IPv4 only: the test is about one TCP stream, not IPv6 router solicitations.
        net.must("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1");
    }
}
