package dev.junction.control.node;

import dev.junction.control.ShopCluster;
import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.k8s.ManifestLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Pods that come and go while the node daemon runs in control mode, as a CNI and ovn-controller
 * would see them: node.yaml declares pods a, b and c on TAP ports, the manifests directory holds
 * a and c only. While a pings c every 10 ms, b's manifest is written: the daemon makes b's TAP
 * and adds its port under the layout's number, and a reaches b; b's manifest deleted, its port
 * leaves {@code ctl stats} and its TAP is removed; written again after a pod without a declared
 * port took its number, b works again on its new number. a's ping to c loses nothing throughout.
 * The same with b on an AF_XDP port bound to a veth the test (as a CNI) made beforehand.
 */
class DaemonPodChurnTest
{
    private static final Duration WITHIN = Duration.ofSeconds(10);
    private static final String CLUSTER = ShopCluster.nodeAndNamespace();

    private Netns net;
    private NodeDaemon daemon;
    private Path dir;
    private Path manifests;
    private final CapturedLog logged = new CapturedLog();

    private static String pod(final String name, final String ip)
    {
        return ShopCluster.pod(name, ip, null);
    }

    @BeforeEach
    void start() throws Exception
    {
        Netns.requireRoot();
        net = new Netns();
        dir = Files.createTempDirectory("junction-pod-churn-");
        manifests = Files.createDirectories(dir.resolve("manifests"));
        Files.writeString(manifests.resolve("cluster.yaml"), CLUSTER);
        Files.writeString(manifests.resolve("a.yaml"), pod("a", "10.244.1.10"));
        Files.writeString(manifests.resolve("c.yaml"), pod("c", "10.244.1.12"));
        for (final String p : List.of("a", "b", "c"))
        {
            final String ns = net.add("jp-" + p);
            net.must("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1");
            net.must("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1");
        }
    }

    /** Starts the daemon with pods a and c on TAPs and b on the port {@code bPort} declares (none when null). */
    private void startDaemon(final String bPort) throws Exception
    {
        Files.writeString(dir.resolve("node.yaml"), ShopCluster.controlNodeYaml(2)
            + "ports:\n  - {pod: shop/a, type: tap, name: " + tap("a") + "}\n" + (bPort == null ? "" : "  - " + bPort + "\n")
            + "  - {pod: shop/c, type: tap, name: " + tap("c") + "}\n");
        daemon = NodeDaemon.start(NodeConfig.load(dir.resolve("node.yaml")), logged.log());
    }

    /** Pod b's side of the switch, as its CNI would plug it: how to see the device made, attach it, see it gone. */
    private interface PodB
    {
        /** The device's name in ctl stats. */
        String name();

        boolean made(int round);

        void attach(int round) throws Exception;

        boolean gone(int round);
    }

    @AfterEach
    void stop()
    {
        if (daemon != null)
        {
            daemon.close();
        }
        if (net != null)
        {
            // A veth still whole in this namespace (the test failed before moving its pod end): deleting one end deletes both.
            net.run("ip", "link", "del", "jps-b-" + net.tag);
            net.close();
        }
    }

    private String tap(final String pod)
    {
        return "jp-" + pod + "-" + net.tag;
    }

    private String ns(final String pod)
    {
        return "jp-" + pod + "-" + net.tag;
    }

    /** What a CNI does with the device the switch made: into the pod's namespace, addressed as the layout says. */
    private void attach(final String pod) throws Exception
    {
        final BridgeLayout.PodPort port = FlowCompiler.node(ManifestLoader.load(manifests).model(), "n1").layout()
            .port("shop/" + pod).orElseThrow();
        net.attachPod(tap(pod), ns(pod), port, "10.244.1.1");
    }

    private boolean pings(final String from, final String to)
    {
        return net.run("ip", "netns", "exec", ns(from), "ping", "-c", "1", "-W", "1", to).exit() == 0;
    }

    /** Whether {@code device} is in the switch's (this process's) namespace, where a pod's TAP is made. */
    private boolean exists(final String device)
    {
        return Files.exists(Path.of("/sys/class/net/" + device));
    }

    private String stats() throws Exception
    {
        final ControlServer.Reply r = ControlServer.request(daemon.stateDir(), "stats");
        assertEquals(0, r.status(), r.text());
        return r.text();
    }

    private static long within(final Duration limit, final BooleanSupplier condition, final String what) throws InterruptedException
    {
        final long start = System.nanoTime();
        while (System.nanoTime() - start < limit.toNanos())
        {
            if (condition.getAsBoolean())
            {
                return (System.nanoTime() - start) / 1_000_000;
            }
            Thread.sleep(20);
        }
        fail(what + " within " + limit);
        return -1;
    }

    private long logLines(final String msg)
    {
        return logged.toString().lines().filter(l -> l.contains("\"msg\":\"" + msg + "\"")).count();
    }

    @Test
    void aTapPodAddedRemovedAndAddedAgainWhileAnotherPodsPingLosesNothing() throws Exception
    {
        startDaemon("{pod: shop/b, type: tap, name: " + tap("b") + "}");
        assertFalse(exists(tap("b")), "no device for a pod not in the manifests");
        churn(new PodB()
        {
            @Override
            public String name()
            {
                return tap("b");
            }

            @Override
            public boolean made(final int round)
            {
                return exists(tap("b"));
            }

            @Override
            public void attach(final int round) throws Exception
            {
                DaemonPodChurnTest.this.attach("b");
            }

            @Override
            public boolean gone(final int round)
            {
                // The TAP we made goes with the port, also from the pod's namespace.
                return net.run("ip", "-n", ns("b"), "link", "show", tap("b")).exit() != 0;
            }
        });
    }

    /**
     * b on a veth whose switch end is an AF_XDP port: the interface is the CNI's and stays; the
     * daemon binds to it when b appears and lets go of it (socket closed, XDP program detached)
     * when b goes.
     */
    @Test
    void anAfXdpPodAddedRemovedAndAddedAgainWhileAnotherPodsPingLosesNothing() throws Exception
    {
        final String podSide = "jpx-b-" + net.tag;
        final String switchSide = bVeth(podSide);
        startDaemon("{pod: shop/b, type: afxdp, interface: " + switchSide + "}");
        churn(new PodB()
        {
            @Override
            public String name()
            {
                return switchSide;
            }

            @Override
            public boolean made(final int round)
            {
                return logLines("port_added") == round && net.must("ip", "link", "show", switchSide).contains("xdp");
            }

            @Override
            public void attach(final int round) throws Exception
            {
                if (round == 1)
                {
                    net.attachPod(podSide, ns("b"), FlowCompiler.node(ManifestLoader.load(manifests).model(), "n1").layout()
                        .port("shop/b").orElseThrow(), "10.244.1.1");
                }
            }

            @Override
            public boolean gone(final int round)
            {
                return logLines("port_removed") == round && !net.must("ip", "link", "show", switchSide).contains("xdp");
            }
        });
    }

    /**
     * b plugged in and out through the control socket, as a CNI does with {@code ovs-vsctl
     * add-port} (node.yaml names a and c only): {@code ctl add-port} opens b's AF_XDP port under
     * the layout's number, the plug outlives a restart of the daemon (state directory), {@code
     * ctl del-port} lets go of the interface; wrong plugs are refused with their reason.
     */
    @Test
    void aPodPluggedAndUnpluggedThroughTheControlSocketAsByACni() throws Exception
    {
        final String podSide = "jpx-b-" + net.tag;
        final String switchSide = bVeth(podSide);
        Files.writeString(manifests.resolve("b.yaml"), pod("b", "10.244.1.11"));
        startDaemon(null);
        attach("a");
        attach("c");
        within(WITHIN, () -> pings("a", "10.244.1.12"), "a reaches c");
        assertFalse(net.must("ip", "link", "show", switchSide).contains("xdp"), "nothing binds b's interface before the plug");

        final String entry = "{pod: shop/b, type: afxdp, interface: " + switchSide + "}";
        final ControlServer.Reply plugged = ControlServer.request(daemon.stateDir(), "add-port " + entry);
        assertEquals(0, plugged.status(), plugged.text());
        final BridgeLayout.PodPort b = FlowCompiler.node(ManifestLoader.load(manifests).model(), "n1").layout()
            .port("shop/b").orElseThrow();
        assertEquals("port " + b.ofport(), plugged.text().trim(), "opened at once under the layout's number");
        net.attachPod(podSide, ns("b"), b, "10.244.1.1");
        within(WITHIN, () -> pings("a", "10.244.1.11") && pings("b", "10.244.1.12"), "b reaches a and c once plugged");

        // Wrong plugs: refused with the reason, nothing changed.
        for (final String[] bad : new String[][] {
            {entry, "pod given two ports"},
            {"{pod: shop/d, type: afxdp, interface: " + switchSide + "}", "used twice"},
            {"{pod: shop/a, type: tap, name: x1}", "pod given two ports"},
            {"{pod: shop/d, type: tap, name: [x]}", "name must be"},
            {"{pod: shop/d, type: pcap, in: x.pcap}", "not a trace"},
            {"{port: 7, type: tap, name: x2}", "expected a pod port"},
            {"{pod: shop/d, type: tap, name: x3", "not YAML"}})
        {
            final ControlServer.Reply r = ControlServer.request(daemon.stateDir(), "add-port " + bad[0]);
            assertEquals(1, r.status(), bad[0] + ": " + r.text());
            assertTrue(r.text().contains(bad[1]), bad[0] + ": " + r.text());
        }
        assertTrue(pings("a", "10.244.1.11"), "b still plugged after the refusals");

        // The plug is the state directory's: a restarted daemon opens b again by itself.
        daemon.close();
        daemon = null;
        startDaemon(null);
        // a's and c's TAPs went with the old daemon (b's veth is the CNI's and stayed in b's namespace).
        attach("a");
        attach("c");
        within(WITHIN, () -> pings("a", "10.244.1.11"), "b reachable after the restart without plugging it again");
        assertTrue(stats().contains("(" + switchSide + ")"), stats());

        final ControlServer.Reply unplugged = ControlServer.request(daemon.stateDir(), "del-port shop/b");
        assertEquals(0, unplugged.status(), unplugged.text());
        within(WITHIN, () -> !net.must("ip", "link", "show", switchSide).contains("xdp"), "b's interface let go of");
        assertFalse(stats().contains(switchSide), stats());
        assertFalse(pings("a", "10.244.1.11"), "b unplugged is unreachable");
        assertTrue(pings("a", "10.244.1.12"), "a still reaches c");
        final ControlServer.Reply again = ControlServer.request(daemon.stateDir(), "del-port shop/b");
        assertEquals(1, again.status(), again.text());
        assertTrue(logged.toString().contains("\"reason\":\"unplugged\""), "the removal says why");
    }

    /** b's veth as its CNI makes it: the pod end {@code podSide}, the switch end (returned) up in this namespace. */
    private String bVeth(final String podSide)
    {
        final String switchSide = "jps-b-" + net.tag;
        net.must("ip", "link", "add", podSide, "type", "veth", "peer", "name", switchSide);
        net.must("ip", "link", "set", switchSide, "up");
        return switchSide;
    }

    private void churn(final PodB b) throws Exception
    {
        attach("a");
        attach("c");
        within(WITHIN, () -> pings("a", "10.244.1.12"), "a reaches c");
        final Path pingLog = dir.resolve("ping-a-c.log");
        final Process ping = net.spawn(List.of("ip", "netns", "exec", ns("a"), "ping", "-i", "0.01", "-W", "1",
            "10.244.1.12"), pingLog);

        final int[] numbers = new int[3];
        for (int round = 1; round <= 2; round++)
        {
            if (round == 2)
            {
                // A pod no port is declared for takes b's old number: b comes back on another one.
                Files.writeString(manifests.resolve("d.yaml"), pod("d", "10.244.1.13"));
                within(WITHIN, () -> logged.toString().contains("\"version\":4,"), "d's version is compiled");
            }
            Files.writeString(manifests.resolve("b.yaml"), pod("b", "10.244.1.11"));
            final int r = round;
            final long deviceMs = within(WITHIN, () -> b.made(r), "round " + round + ": b's device is made");
            b.attach(round);
            // The running layout's number (incremental: a fresh compile of the directory may number differently).
            final Matcher added = Pattern.compile("\"msg\":\"port_added\",\"pod\":\"shop/b\",\"port\":(\\d+)")
                .matcher(logged.toString());
            while (added.find())
            {
                numbers[round] = Integer.parseInt(added.group(1));
            }
            assertTrue(stats().contains("port " + numbers[round] + " (" + b.name() + ")"), stats());
            final long reachMs = within(WITHIN, () -> pings("a", "10.244.1.11") && pings("b", "10.244.1.10"),
                "round " + round + ": a and b reach each other");
            System.out.printf("round %d: b's %s %d ms after its manifest, a<->b ping %d ms after attaching it%n", round,
                b.name(), deviceMs, reachMs);

            Files.delete(manifests.resolve("b.yaml"));
            final long goneMs = within(WITHIN, () -> b.gone(r), "round " + round + ": b's device is let go of");
            System.out.printf("round %d: b's %s let go of %d ms after its manifest was deleted%n", round, b.name(), goneMs);
            final String after = stats();
            assertFalse(after.contains(b.name()), "b's port left ctl stats: " + after);
            final String flows = ControlServer.request(daemon.stateDir(), "dump-flows").text();
            assertFalse(flows.contains("10.244.1.11"), "b's flows are gone: " + flows);
            assertTrue(pings("a", "10.244.1.12"), "a still reaches c");
        }
        assertTrue(numbers[1] != numbers[2], "b came back on another port number: " + numbers[1] + ", " + numbers[2]);
        assertEquals(2, logLines("port_added"), logged.toString());
        assertEquals(2, logLines("port_removed"), logged.toString());

        Thread.sleep(500);
        net.must("kill", "-INT", String.valueOf(ping.pid()));
        assertTrue(ping.waitFor(10, java.util.concurrent.TimeUnit.SECONDS));
        final String out = Files.readString(pingLog);
        final Matcher m = Pattern.compile("(\\d+) packets transmitted, (\\d+) received").matcher(out);
        assertTrue(m.find(), out);
        final int sent = Integer.parseInt(m.group(1));
        final int received = Integer.parseInt(m.group(2));
        System.out.printf("a -> c during the churn: %d sent, %d received%n", sent, received);
        assertTrue(sent > 100, out);
        // The interrupt may catch the last echo in flight; every other one came back.
        assertTrue(received >= sent - 1, "a's ping to c lost packets while b came and went: " + out);
    }
}
