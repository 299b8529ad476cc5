package dev.junction.control.node;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link AfXdpPodsTest} (ping, TCP and UDP both ways, flow changes) with each pod on a veth pair
 * of two RX and two TX queues at both ends, and the daemon's AF_XDP ports bound to both queues
 * ({@code queues: 2}, native XDP). Then many flows at once, and every queue of both ports must
 * have received frames.
 *
 * <p>What spreads them: veth hands a frame to the peer's RX queue of the index of the TX queue
 * the sender picked (in native mode, {@code veth_xmit} queues it on {@code rq[queue_mapping]}),
 * and the pod's kernel picks a TX queue per socket from its hash ({@code netdev_pick_tx}: no XPS
 * on a veth), so different connections take different queues. In generic mode they would not:
 * generic XDP reads the same {@code queue_mapping} as "RX queue + 1", so TX queues 0 and 1 both
 * land on RX queue 0 (see docs/daemon.md).
 */
class AfXdpMultiQueuePodsTest extends AfXdpPodsTest
{
    @Override
    protected int queues()
    {
        return 2;
    }

    @Override
    protected String extraYaml()
    {
        return "metrics: 127.0.0.1:0\n";
    }

    @Test
    @Order(6)
    void manyFlowsUseEveryQueue() throws Exception
    {
        net.spawn(List.of("ip", "netns", "exec", nsB, "iperf3", "-s", "-p", "5203"), dir.resolve("iperf3-5203.log"));
        Thread.sleep(500);
        for (final String[] args : new String[][] {{"-P", "4", "-t", "2"}, {"-P", "4", "-t", "2", "-R"},
            {"-u", "-b", "20M", "-P", "4", "-t", "2"}, {"-u", "-b", "20M", "-P", "4", "-t", "2", "-R"}})
        {
            final List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", nsA, "iperf3", "-c", "10.79.0.2", "-p",
                "5203"));
            cmd.addAll(List.of(args));
            final Netns.Result r = net.run(60, cmd.toArray(new String[0]));
            assertEquals(0, r.exit(), String.join(" ", args) + ": " + r.out());
        }
        final String stats = ControlServer.request(daemon.stateDir(), "stats").text();
        System.out.print(getClass().getSimpleName() + " ctl stats:\n" + stats);
        for (final String port : new String[] {"1", "2"})
        {
            final Matcher m = Pattern.compile("port " + port + " \\([^)]*\\): rx (\\d+).*?, tx (\\d+),.*\\n"
                + "  queue 0: rx (\\d+), rx drops \\d+, tx (\\d+), tx drops \\d+\\n"
                + "  queue 1: rx (\\d+), rx drops \\d+, tx (\\d+), tx drops \\d+\\n").matcher(stats);
            assertTrue(m.find(), "port " + port + " with two queues in:\n" + stats);
            final long rx0 = Long.parseLong(m.group(3));
            final long rx1 = Long.parseLong(m.group(5));
            assertTrue(rx0 > 0 && rx1 > 0, "port " + port + ": both RX queues received (" + rx0 + ", " + rx1 + ")");
            final long tx = Long.parseLong(m.group(4)) + Long.parseLong(m.group(6));
            assertTrue(tx > 1000, "port " + port + " sent on its queues: " + tx);
        }
        final String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + daemon.metricsPort() + "/metrics")).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        for (final String port : new String[] {"1", "2"})
        {
            for (final String queue : new String[] {"0", "1"})
            {
                final Matcher m = Pattern.compile("junction_afxdp_queue_rx_packets_total\\{port=\"" + port + "\",queue=\""
                    + queue + "\"} ([0-9.E]+)").matcher(metrics);
                assertTrue(m.find() && Double.parseDouble(m.group(1)) > 0, "port " + port + " queue " + queue + ":\n" + metrics);
            }
        }
    }

    @Test
    @Order(7)
    void moreQueuesThanTheInterfaceHasIsRefused() throws Exception
    {
        final String spare = "jxs-c-" + net.tag;
        net.must("ip", "link", "add", "jx-c-" + net.tag, "netns", nsA, "numtxqueues", "2", "numrxqueues", "2", "type", "veth",
            "peer", "name", spare, "numtxqueues", "2", "numrxqueues", "2");
        for (final String[] c : new String[][] {{"queues: 3", "has 2 RX queues", "queues 0 to 2 asked for"},
            {"queue: 2", "has 2 RX queues", "queue 2 asked for"}})
        {
            Files.writeString(dir.resolve("bad.yaml"), "state_dir: bad-state\nflows: flows.txt\nports:\n"
                + "  - {port: 1, type: afxdp, interface: " + spare + ", " + c[0] + "}\n");
            final NodeConfig config = NodeConfig.load(dir.resolve("bad.yaml"));
            final RuntimeException ex = assertThrows(RuntimeException.class, () -> NodeDaemon.start(config,
                new JsonLog(System.err)).close());
            assertTrue(ex.getMessage().contains(spare + " " + c[1]) && ex.getMessage().contains(c[2]), ex.getMessage());
        }
        assertTrue(!net.must("ip", "link", "show", spare).contains("xdp"), "nothing attached to " + spare);
    }
}
