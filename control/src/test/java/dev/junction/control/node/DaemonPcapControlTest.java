package dev.junction.control.node;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.ManifestLoader;
import dev.junction.control.k8s.Protocol;
import dev.junction.control.probe.Prober;
import dev.junction.datapath.pcap.PcapReader;
import dev.junction.datapath.pcap.PcapWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The node daemon in control mode with a pod's port on a trace (no root needed): the client pod
 * of the pinctrl manifests opens a TCP and a UDP connection to a VIP without endpoints; the
 * daemon's pipeline sends both to pinctrl, which answers on the pod's port (a RST and an ICMP
 * port unreachable, written to the port's output trace). The Prometheus endpoint shows what the
 * control plane's threads did: two rejects, the control version, conntrack checkpoints (on by
 * default) and their age and spacing.
 */
class DaemonPcapControlTest
{
    private static final Path MANIFESTS = Path.of("src/test/resources/manifests/pinctrl").toAbsolutePath();
    private static final InetAddress VIP = Ip.parse("10.96.0.50");

    @TempDir
    Path dir;

    @Test
    void podOnATraceGetsPinctrlAnswersAndTheControlPlaneIsScraped() throws Exception
    {
        final BridgeLayout layout = FlowCompiler.node(ManifestLoader.load(MANIFESTS).model(), "node-a").layout();
        final BridgeLayout.PodPort client = layout.port("clients/client").orElseThrow();
        final String gw = client.sw().gatewayMac();
        final InetAddress src = client.ip(false).orElseThrow();
        try (PcapWriter w = new PcapWriter(dir.resolve("in.pcap")))
        {
            long ts = 1_700_000_000_000_000_000L;
            for (final byte[] f : List.of(Prober.firstPacket(client, gw, src, VIP, Protocol.TCP, 40001, 80),
                Prober.firstPacket(client, gw, src, VIP, Protocol.UDP, 40002, 53)))
            {
                w.write(ts, f, 0, f.length);
                ts += 1_000_000L;
            }
        }
        Files.writeString(dir.resolve("node.yaml"), "state_dir: state\nworkers: 1\nmetrics: 127.0.0.1:0\n"
            + "control: {node: node-a, manifests: \"" + MANIFESTS + "\"}\n"
            + "ports: [{pod: clients/client, type: pcap, in: in.pcap, out: out.pcap}]\n");
        final NodeDaemon daemon = NodeDaemon.start(NodeConfig.load(dir.resolve("node.yaml")), new JsonLog(System.err));
        final String metrics;
        try
        {
            final long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!daemon.inputsDone() && System.nanoTime() < deadline)
            {
                Thread.sleep(20);
            }
            assertTrue(daemon.inputsDone(), "the trace was not read within 30 s");
            assertTrue(daemon.pipeline().awaitIdle(Duration.ofSeconds(10)));
            String m = scrape(daemon.metricsPort());
            while ((value(m, "junction_conntrack_checkpoints_total") < 1 || value(m, "junction_conntrack_checkpoint_bytes") <= 0)
                && System.nanoTime() < deadline)
            {
                Thread.sleep(100); // the first checkpoint comes a second after the start
                m = scrape(daemon.metricsPort());
            }
            metrics = m;
        }
        finally
        {
            daemon.close();
        }
        assertEquals(2, value(metrics, "junction_pinctrl_rejected_total"), metrics);
        assertEquals(0, value(metrics, "junction_pinctrl_unanswered_total"), metrics);
        assertEquals(1, value(metrics, "junction_control_version"), metrics);
        assertEquals(0, value(metrics, "junction_control_failed_snapshots_total"), metrics);
        assertTrue(value(metrics, "junction_conntrack_checkpoints_total") >= 1, metrics);
        assertTrue(value(metrics, "junction_conntrack_checkpoint_bytes") > 0, metrics);
        assertTrue(value(metrics, "junction_conntrack_checkpoint_age_seconds") >= 0, metrics);
        assertEquals(1.0, value(metrics, "junction_conntrack_checkpoint_spacing_seconds"), metrics);

        final List<byte[]> answers = new ArrayList<>();
        try (PcapReader r = PcapReader.open(dir.resolve("out.pcap")))
        {
            while (r.next())
            {
                answers.add(java.util.Arrays.copyOf(r.frame(), r.length()));
            }
        }
        assertEquals(2, answers.size(), "a RST and an ICMP port unreachable back to the client");
        final byte[] rst = answers.get(0);
        assertEquals(6, rst[14 + 9], "the first answer is TCP");
        assertEquals(0x04, rst[14 + 20 + 13] & 0x04, "with RST set");
        final byte[] icmp = answers.get(1);
        assertEquals(1, icmp[14 + 9], "the second is ICMP");
        assertEquals(3, icmp[14 + 20], "destination unreachable");
        assertEquals(3, icmp[14 + 20 + 1], "port unreachable");
    }

    /**
     * Pods on traces follow no churn: a trace is read once from the start. A declared pod that
     * appears later gets no port (logged once, not retried as a device every version); a pod on a
     * trace that is deleted keeps its port, and following the pods never fails on it.
     */
    @Test
    void podsOnTracesStayPutWhilePodsComeAndGo() throws Exception
    {
        final Path manifests = Files.createDirectories(dir.resolve("manifests"));
        final String cluster = Files.readString(MANIFESTS.resolve("cluster.yaml"));
        Files.writeString(manifests.resolve("cluster.yaml"), cluster);
        Files.writeString(dir.resolve("node.yaml"), "state_dir: state\nworkers: 1\n"
            + "control: {node: node-a, manifests: manifests}\n"
            + "ports: [{pod: clients/client, type: pcap, out: client.pcap}, {pod: clients/later, type: pcap, out: later.pcap}]\n");
        final CapturedLog logged = new CapturedLog();
        final NodeDaemon daemon = NodeDaemon.start(NodeConfig.load(dir.resolve("node.yaml")), logged.log());
        try
        {
            Files.writeString(manifests.resolve("later.yaml"), "apiVersion: v1\nkind: Pod\n"
                + "metadata: {name: later, namespace: clients}\nspec: {nodeName: node-a, containers: [{name: main}]}\n"
                + "status: {phase: Running, podIPs: [{ip: 10.244.1.77}]}\n");
            awaitLog(logged, "\"version\":2,");
            final String client = cluster.substring(cluster.indexOf("apiVersion: v1\nkind: Pod\nmetadata: {name: client,"));
            Files.writeString(manifests.resolve("cluster.yaml"), cluster.replace(client.substring(0, client.indexOf("---\n") + 4), ""));
            awaitLog(logged, "\"version\":3,");
            final String stats = ControlServer.request(daemon.stateDir(), "stats").text();
            assertTrue(stats.contains("(pcap)"), "the deleted pod's trace port is still there: " + stats);
        }
        finally
        {
            daemon.close();
        }
        final String log = logged.toString();
        assertEquals(1, log.lines().filter(l -> l.contains("pcap port not opened") && l.contains("clients/later")).count(), log);
        assertTrue(!log.contains("not followed") && !log.contains("port_add_failed") && !log.contains("port_removed"), log);
    }

    /**
     * An EgressFirewall dnsName rule in the daemon: the node's own resolver (here /etc/hosts's
     * localhost, no network) is asked off the compile path and the rule's addresses reach the
     * flow table as a new version within a second or two.
     */
    @Test
    void dnsNameRulesAreResolvedByTheNodesResolver() throws Exception
    {
        final Path manifests = Files.createDirectories(dir.resolve("manifests"));
        Files.writeString(manifests.resolve("cluster.yaml"), String.join(dev.junction.control.ShopCluster.NEXT,
            dev.junction.control.ShopCluster.nodeAndNamespace(), dev.junction.control.ShopCluster.pod("a", "10.244.1.10", "web"), """
            apiVersion: k8s.ovn.org/v1
            kind: EgressFirewall
            metadata: {name: default, namespace: shop}
            spec:
              egress:
              - {type: Deny, to: {dnsName: localhost}}
            """));
        Files.writeString(dir.resolve("node.yaml"), "state_dir: state\nworkers: 1\ncontrol: {node: n1, manifests: manifests}\n"
            + "ports: [{pod: shop/a, type: pcap, out: a.pcap}]\n");
        final CapturedLog logged = new CapturedLog();
        final NodeDaemon daemon = NodeDaemon.start(NodeConfig.load(dir.resolve("node.yaml")), logged.log());
        try
        {
            awaitLog(logged, "dns names resolved");
            // The log line comes as the new version is compiled: the flows follow within moments.
            final long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            String flows = "";
            while (System.nanoTime() < deadline && !denies(flows = ControlServer.request(daemon.stateDir(), "dump-flows").text()))
            {
                Thread.sleep(50);
            }
            assertTrue(denies(flows), flows);
            assertTrue(ControlServer.request(daemon.stateDir(), "stats").text().contains("version 2,"), "one version for the name");
        }
        finally
        {
            daemon.close();
        }
    }

    /** The EgressFirewall stage drops what goes to localhost's address. */
    private static boolean denies(final String flows)
    {
        return flows.lines().anyMatch(l -> l.contains("table=32") && l.contains("nw_dst=127.0.0.1") && l.contains("drop"));
    }

    private static void awaitLog(final CapturedLog logged, final String text) throws InterruptedException
    {
        final long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!logged.toString().contains(text))
        {
            assertTrue(System.nanoTime() < deadline, "no " + text + " in the log within 20 s: " + logged);
            Thread.sleep(50);
        }
    }

    private static String scrape(final int port) throws Exception
    {
        final HttpResponse<String> r = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body();
    }

    /** A metric without labels; -1 when absent. */
    private static double value(final String metrics, final String name)
    {
        final Matcher m = Pattern.compile("(?m)^" + name + " ([-0-9.E]+)$").matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }
}
