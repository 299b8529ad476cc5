package dev.junction.control.node;

import dev.junction.control.ShopCluster;
import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.k8s.ManifestLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The node daemon run by the control module: {@code control: {node, manifests}} in node.yaml,
 * two pods of the manifests on TAP ports numbered by the compiled layout, in network namespaces
 * addressed as the manifests say. Pods ping each other through the derived flows (ARP responder,
 * port security, conntrack, ACLs); a NetworkPolicy written into the watched directory stops it
 * while the daemon runs, removing the file lets it through again; the daemon restarted on the
 * same state directory restores the journal's last version before the directory is read. The
 * node's management port is a TAP too, its host side in a namespace configured as OVN-K configures
 * ovn-k8s-mp0: the host reaches the pods, and an ingress policy does not keep it out.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DaemonControlTest
{
    private static final Duration CHANGE_WITHIN = Duration.ofSeconds(15);
    private static final String CLUSTER = String.join(ShopCluster.NEXT, ShopCluster.NODE,
        ShopCluster.namespace("k8s.ovn.org/acl-logging: '{\"deny\":\"alert\",\"allow\":\"notice\"}'"),
        """
        apiVersion: v1
        kind: Service
        metadata: {name: nobody-home, namespace: shop}
        spec: {clusterIP: 10.96.0.50, selector: {app: none}, ports: [{port: 80, protocol: TCP}]}
        """,
        ShopCluster.pod("a", "10.244.1.10", "client"), ShopCluster.pod("b", "10.244.1.11", "server"));
    private static final String DENY_TO_SERVER = ShopCluster.ingressPolicy("deny-server", "server", null);

    private Netns net;
    private NodeDaemon daemon;
    private Path dir;
    private Path manifests;
    private String nsA;
    private String nsB;
    private String tapA;
    private String tapB;
    /** The host's side of the management port (OVN-K's ovn-k8s-mp0), in a namespace standing for the host. */
    private String nsHost;
    private String tapHost;
    /** What the daemon logged, as well as on stderr. */
    private final CapturedLog logged = new CapturedLog();

    @BeforeAll
    void start() throws Exception
    {
        Netns.requireRoot();
        net = new Netns();
        dir = Files.createTempDirectory("junction-control-node-");
        manifests = Files.createDirectories(dir.resolve("manifests"));
        Files.writeString(manifests.resolve("cluster.yaml"), CLUSTER);
        tapA = "jc-a-" + net.tag;
        tapB = "jc-b-" + net.tag;
        tapHost = "jc-mp-" + net.tag;
        Files.writeString(dir.resolve("node.yaml"), ShopCluster.controlNodeYaml(1)
            + "ports:\n  - {pod: shop/a, type: tap, name: " + tapA + "}\n  - {pod: shop/b, type: tap, name: " + tapB + "}\n"
            + "  - {management: true, type: tap, name: " + tapHost + "}\n");
        nsA = net.add("jc-a");
        nsB = net.add("jc-b");
        nsHost = net.add("jc-h");
        for (final String ns : new String[] {nsA, nsB, nsHost})
        {
            // IPv4 only: no link-local IPv6 chatter in the receive counters the port security test reads.
            net.must("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1");
            net.must("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1");
        }
        startDaemon();
    }

    private void startDaemon() throws Exception
    {
        daemon = NodeDaemon.start(NodeConfig.load(dir.resolve("node.yaml")), logged.log());
        // The pods' interfaces as the compiled layout has them: MAC, address, the gateway as next hop.
        final BridgeLayout layout = FlowCompiler.node(ManifestLoader.load(manifests).model(), "n1").layout();
        net.attachPod(tapA, nsA, layout.port("shop/a").orElseThrow(), "10.244.1.1");
        net.attachPod(tapB, nsB, layout.port("shop/b").orElseThrow(), "10.244.1.1");
        // The host's side as OVN-K configures ovn-k8s-mp0: the MAC and .2 address the daemon logs.
        final BridgeLayout.ManagementPort mp = layout.localSwitch().flatMap(layout::managementPort).orElseThrow();
        assertTrue(logged.toString().lines().anyMatch(l -> l.contains("management port") && l.contains(mp.mac())),
            "the daemon logs the management port's MAC for the host: " + mp.mac());
        net.must("ip", "link", "set", tapHost, "netns", nsHost);
        net.must("ip", "-n", nsHost, "link", "set", tapHost, "address", mp.mac());
        net.must("ip", "-n", nsHost, "addr", "add", mp.ips().get(0).getHostAddress() + "/24", "dev", tapHost);
        net.must("ip", "-n", nsHost, "link", "set", tapHost, "up");
    }

    @AfterAll
    void stop()
    {
        if (daemon != null)
        {
            daemon.close();
        }
        if (net != null)
        {
            net.close();
        }
    }

    private boolean pings()
    {
        return pings(nsA, "10.244.1.11");
    }

    private boolean pings(final String ns, final String to)
    {
        return net.run("ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "1", to).exit() == 0;
    }

    private static void within(final Duration limit, final BooleanSupplier condition, final String what) throws InterruptedException
    {
        final long end = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < end)
        {
            if (condition.getAsBoolean())
            {
                return;
            }
            Thread.sleep(200);
        }
        fail(what + " within " + limit);
    }

    private String stats() throws Exception
    {
        final ControlServer.Reply r = ControlServer.request(daemon.stateDir(), "stats");
        assertEquals(0, r.status(), r.text());
        return r.text();
    }

    @Test
    @Order(1)
    void podsOnLayoutNumberedPortsPingThroughDerivedFlows() throws Exception
    {
        within(CHANGE_WITHIN, this::pings, "pod a reaches pod b through the derived flows");
        within(CHANGE_WITHIN, () -> pings(nsHost, "10.244.1.10"), "the host reaches pod a through the management port");
        assertTrue(stats().contains("control (node n1): version 1, failed snapshots 0"), stats());
        final ControlServer.Reply flows = ControlServer.request(daemon.stateDir(), "dump-flows");
        assertTrue(flows.text().contains("table=41"), "the derived ACL stage is installed: " + flows.text());
    }

    @Test
    @Order(2)
    void policyWrittenIntoTheDirectoryAppliesWhileRunning() throws Exception
    {
        Files.writeString(manifests.resolve("deny.yaml"), DENY_TO_SERVER);
        within(CHANGE_WITHIN, () -> !pings(), "the deny policy stops the ping");
        assertTrue(stats().contains("version 2,"), stats());
        // OVN-K's allow-from-node ACL: the host (kubelet's probes) still reaches the isolated pod
        // through the management port, while pod a does not.
        within(CHANGE_WITHIN, () -> pings(nsHost, "10.244.1.11"), "the host reaches pod b through the management port despite the policy");
        assertFalse(pings(), "pod a is still denied");
        // The namespace asks for ACL logs: the denied pings are logged, with their addresses.
        within(CHANGE_WITHIN, () -> logged.toString().lines().anyMatch(l -> l.contains("acl_log") && l.contains("verdict=drop")
            && l.contains("nw_src=10.244.1.10") && l.contains("nw_dst=10.244.1.11")), "a log line for a denied ping");
        Files.delete(manifests.resolve("deny.yaml"));
        within(CHANGE_WITHIN, this::pings, "removing the policy lets the ping through again");
        assertTrue(stats().contains("version 3,"), stats());
    }

    /** A service without endpoints answers a connection with a RST from the VIP (pinctrl), not silence. */
    @Test
    @Order(3)
    void aServiceWithoutEndpointsRefusesTheConnection() throws Exception
    {
        final long start = System.nanoTime();
        final Netns.Result r = net.run("ip", "netns", "exec", nsA, "timeout", "5", "bash", "-c", "echo > /dev/tcp/10.96.0.50/80");
        final long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(1, r.exit(), "refused (1), not timed out (124): " + r.out());
        assertTrue(r.out().contains("Connection refused"), r.out());
        assertTrue(millis < 4_000, "answered at once, not after retries: " + millis + " ms");
        assertTrue(stats().contains("pinctrl: ") && !stats().contains("pinctrl: 0 rejected"), stats());
    }

    @Test
    @Order(4)
    void badManifestKeepsTheLastGoodFlows() throws Exception
    {
        Files.writeString(manifests.resolve("broken.yaml"), "kind: Pod\nmetadata: {name: [not a name]}\n  : :\n");
        Thread.sleep(3 * 1000);
        assertTrue(pings(), "a broken file is skipped: the pods still talk");
        Files.delete(manifests.resolve("broken.yaml"));
    }

    /**
     * Port security with packets the pod's own kernel crafts: a source address that is not the
     * pod's, then a source MAC that is not the pod's. Pod b's receive counter shows that none of
     * them crossed the switch (a failed ping alone would prove nothing: b could not answer a
     * foreign address or MAC anyway); the pod's real address and MAC pass again right after.
     */
    @Test
    @Order(5)
    void spoofedSourceAddressAndMacAreDroppedAtThePort() throws Exception
    {
        long before = rxPacketsOfB();
        assertTrue(pings());
        assertTrue(rxPacketsOfB() > before, "the counter sees the pod's own ping");

        net.must("ip", "-n", nsA, "addr", "add", "10.244.1.99/24", "dev", tapA);
        try
        {
            before = rxPacketsOfB();
            net.run("ip", "netns", "exec", nsA, "ping", "-c", "3", "-i", "0.2", "-W", "1", "-I", "10.244.1.99", "10.244.1.11");
            assertEquals(before, rxPacketsOfB(), "packets from an address that is not the pod's never reach b");
        }
        finally
        {
            net.must("ip", "-n", nsA, "addr", "del", "10.244.1.99/24", "dev", tapA);
        }
        assertTrue(pings(), "the pod's own address still passes");

        final String mac = net.must("ip", "-n", nsA, "-br", "link", "show", tapA).trim().split("\\s+")[2];
        net.must("ip", "-n", nsA, "link", "set", tapA, "address", "0a:58:0a:f4:01:63");
        try
        {
            before = rxPacketsOfB();
            net.run("ip", "netns", "exec", nsA, "ping", "-c", "3", "-i", "0.2", "-W", "1", "10.244.1.11");
            assertEquals(before, rxPacketsOfB(), "frames from a MAC that is not the pod's never reach b");
        }
        finally
        {
            net.must("ip", "-n", nsA, "link", "set", tapA, "address", mac);
        }
        within(CHANGE_WITHIN, this::pings, "the pod's own MAC passes again");
    }

    private long rxPacketsOfB()
    {
        final String stats = net.must("ip", "-n", nsB, "-s", "-j", "link", "show", tapB);
        final java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"rx\":\\{\"bytes\":\\d+,\"packets\":(\\d+)")
            .matcher(stats);
        assertTrue(m.find(), stats);
        return Long.parseLong(m.group(1));
    }

    @Test
    @Order(6)
    void restartRestoresTheJournaledVersion() throws Exception
    {
        final String before = stats();
        daemon.close();
        daemon = null;
        assertNotEquals(0, net.run("ip", "netns", "exec", nsA, "ip", "link", "show", tapA).exit(),
            "the TAP went away with the daemon");
        startDaemon();
        final String after = stats();
        final String version = before.replaceAll("(?s).*control \\(node n1\\): (version \\d+).*", "$1");
        assertTrue(after.contains(version + ","), "restored " + version + ", and the unchanged directory adds none: " + after);
        within(CHANGE_WITHIN, this::pings, "pods talk again after the restart");
    }
}
