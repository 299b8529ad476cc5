package dev.junction.control.node;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The node daemon with real pods: two network namespaces whose interfaces are ports of a
 * running {@link NodeDaemon} (TAP devices in {@link TapPodsTest}, veth pairs bound by AF_XDP
 * sockets in {@link AfXdpPodsTest}), with flows that forward (A and B talk), rewrite (A reaches B at a
 * virtual address 10.79.0.99: the flows rewrite destination and source both ways) and drop
 * (TCP to port 5202). Ping, TCP and UDP (iperf3) go through Junction with the pods' default
 * checksum offload on; the control socket shows the traffic (dump-flows counters, megaflows,
 * stats) and changes the flows of the running datapath (add-flows, del-flows).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@org.junit.jupiter.api.TestInstance(org.junit.jupiter.api.TestInstance.Lifecycle.PER_CLASS)
abstract class DaemonPodsTest
{
    private static final String A = "10.79.0.1";
    private static final String B = "10.79.0.2";
    private static final String VIP = "10.79.0.99";
    private static final String MAC_A = "02:79:00:00:00:01";
    private static final String MAC_B = "02:79:00:00:00:02";
    protected Netns net;
    protected NodeDaemon daemon;
    protected Path dir;
    protected String nsA;
    protected String nsB;

    /** The ports section of node.yaml for pod ports 1 and 2 (created before the daemon starts, if they must be). */
    protected abstract String portsYaml() throws Exception;

    /** Puts the pods' ends of ports 1 and 2 into the pod namespaces. */
    protected abstract void attachPods() throws Exception;

    /** Pod A's interface, in its namespace. */
    protected abstract String podInterfaceA();

    /** Extra top-level lines for node.yaml (e.g. a metrics endpoint). */
    protected String extraYaml()
    {
        return "";
    }

    @BeforeAll
    void start() throws Exception
    {
        Netns.requireRoot();
        net = new Netns();
        dir = Files.createTempDirectory("junction-node-");
        final String flows = String.join("\n",
            "priority=30,tcp,tp_dst=5202,actions=drop",
            "priority=20,in_port=1,ip,nw_dst=" + VIP + ",actions=set_field:" + B + "->ip_dst,output:2",
            "priority=20,in_port=2,ip,nw_src=" + B + ",nw_dst=" + A + ",icmp,actions=set_field:" + VIP + "->ip_src,output:1",
            "priority=10,in_port=1,actions=output:2",
            "priority=10,in_port=2,actions=output:1", "");
        Files.writeString(dir.resolve("flows.txt"), flows);
        nsA = net.add("jn-a");
        nsB = net.add("jn-b");
        Files.writeString(dir.resolve("node.yaml"), "state_dir: state\nworkers: 2\nflows: flows.txt\n" + extraYaml() + "ports:\n"
            + portsYaml());
        daemon = NodeDaemon.start(NodeConfig.load(dir.resolve("node.yaml")), new JsonLog(System.err));
        attachPods();
        // A reaches the virtual address through B's MAC; the flows do the rest.
        net.must("ip", "-n", nsA, "neigh", "add", VIP, "lladdr", MAC_B, "dev", podInterfaceA());
    }

    /** Addresses pod interface {@code dev} (already in namespace {@code ns}) and brings it up. */
    protected void address(final String dev, final String ns, final boolean a)
    {
        net.must("ip", "-n", ns, "link", "set", dev, "address", a ? MAC_A : MAC_B);
        net.must("ip", "-n", ns, "addr", "add", (a ? A : B) + "/24", "dev", dev);
        net.must("ip", "-n", ns, "link", "set", dev, "up");
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

    private String ctl(final String request) throws Exception
    {
        final ControlServer.Reply r = ControlServer.request(daemon.stateDir(), request);
        assertEquals(0, r.status(), () -> request + ": " + r.text());
        return r.text();
    }

    @Test
    @Order(1)
    void pingForwardedAndRewritten()
    {
        final Netns.Result direct = net.run("ip", "netns", "exec", nsA, "ping", "-c", "3", "-W", "2", B);
        assertEquals(0, direct.exit(), direct.out());
        final Netns.Result virtual = net.run("ip", "netns", "exec", nsA, "ping", "-c", "3", "-W", "2", VIP);
        assertEquals(0, virtual.exit(), "replies must come back from " + VIP + " (rewritten both ways): " + virtual.out());
        assertTrue(virtual.out().contains("from " + VIP), virtual.out());
    }

    @Test
    @Order(2)
    void tcpAndUdpWithOffloadsOn() throws Exception
    {
        assertTrue(net.must("ip", "netns", "exec", nsA, "ethtool", "-k", podInterfaceA()).contains("tx-checksumming: on"),
            "the pod keeps TX checksum offload on");
        final Process server = net.spawn(List.of("ip", "netns", "exec", nsB, "iperf3", "-s", "-p", "5201"),
            dir.resolve("iperf3-server.log"));
        Thread.sleep(500);
        final double tcp = iperf("-t", "3");
        final double tcpReverse = iperf("-t", "2", "-R");
        final double udp = iperf("-u", "-b", "50M", "-t", "2");
        final double udpReverse = iperf("-u", "-b", "50M", "-t", "2", "-R");
        System.out.printf(getClass().getSimpleName() + " TCP A->B %.3f Gbit/s, B->A %.3f Gbit/s, UDP A->B %.3f Gbit/s, B->A %.3f"
            + " Gbit/s%n", tcp / 1e9, tcpReverse / 1e9, udp / 1e9, udpReverse / 1e9);
        assertTrue(tcp > 10e6 && tcpReverse > 10e6, "TCP through the daemon too slow: " + tcp + " / " + tcpReverse);
        assertTrue(udp > 10e6 && udpReverse > 10e6, "UDP through the daemon: " + udp + " / " + udpReverse);
        server.destroy();
    }

    private double iperf(final String... args)
    {
        final List<String> cmd = new java.util.ArrayList<>(List.of("ip", "netns", "exec", nsA, "iperf3", "-c", B, "-p",
            "5201", "-J"));
        cmd.addAll(List.of(args));
        final Netns.Result r = net.run(60, cmd.toArray(new String[0]));
        assertEquals(0, r.exit(), r.out());
        final Matcher m = Pattern.compile("\"sum_received\":\\s*\\{[^}]*?\"bits_per_second\":\\s*([0-9.e+]+)", Pattern.DOTALL)
            .matcher(r.out());
        if (!m.find())
        {
            final Matcher u = Pattern.compile("\"sum\":\\s*\\{[^}]*?\"bits_per_second\":\\s*([0-9.e+]+)", Pattern.DOTALL)
                .matcher(r.out());
            assertTrue(u.find(), r.out());
            return Double.parseDouble(u.group(1));
        }
        return Double.parseDouble(m.group(1));
    }

    @Test
    @Order(3)
    void droppedTcpPortIsDropped() throws Exception
    {
        net.spawn(List.of("ip", "netns", "exec", nsB, "iperf3", "-s", "-p", "5202"), dir.resolve("iperf3-5202.log"));
        Thread.sleep(500);
        final Netns.Result r = net.run(30, "ip", "netns", "exec", nsA, "iperf3", "-c", B, "-p", "5202", "-t", "1",
            "--connect-timeout", "2000");
        assertNotEquals(0, r.exit(), "TCP to 5202 must be dropped by the flows: " + r.out());
    }

    @Test
    @Order(4)
    void controlSocketShowsTheTraffic() throws Exception
    {
        final String flows = ctl("dump-flows");
        final Matcher m = Pattern.compile("n_packets=(\\d+).*priority=30,tcp,tp_dst=5202").matcher(flows);
        assertTrue(m.find(), flows);
        assertTrue(Long.parseLong(m.group(1)) > 0, "the drop rule counted the refused SYNs: " + flows);
        final Matcher fwd = Pattern.compile("n_packets=(\\d+).*priority=10,in_port=1 ").matcher(flows);
        assertTrue(fwd.find() && Long.parseLong(fwd.group(1)) > 1000, flows);
        final String megaflows = ctl("dump-megaflows");
        assertTrue(megaflows.contains("in_port(1)") && megaflows.contains("actions:2"), megaflows);
        final String stats = ctl("stats");
        final Matcher emc = Pattern.compile("emc hits: (\\d+)").matcher(stats);
        assertTrue(emc.find() && Long.parseLong(emc.group(1)) > 0, stats);
        final String trace = ctl("trace 1 tcp,nw_src=" + A + ",nw_dst=" + VIP + ",tp_dst=80");
        assertTrue(trace.contains("set_field:" + B + "->ip_dst") && trace.contains("Datapath actions: set(ipv4(dst=" + B
            + ")),2"), trace);
        assertTrue(trace.contains("Megaflow: recirc_id(0),in_port(1)"), trace);
        assertEquals(0, dev.junction.control.cli.JunctionCli.execute("ctl", "--state-dir",
            daemon.stateDir().toString(), "stats"), "junction ctl stats");
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
            Files.getPosixFilePermissions(daemon.stateDir().resolve(ControlServer.SOCKET))));
    }

    @Test
    @Order(5)
    void flowChangesApplyWhileRunning() throws Exception
    {
        final Path drop = dir.resolve("drop-icmp.txt");
        Files.writeString(drop, "priority=40,icmp,actions=drop\n");
        ctl("add-flows " + drop);
        final Netns.Result blocked = net.run("ip", "netns", "exec", nsA, "ping", "-c", "2", "-W", "1", B);
        assertNotEquals(0, blocked.exit(), "the added drop flow applies at once: " + blocked.out());
        ctl("del-flows");
        final Netns.Result none = net.run("ip", "netns", "exec", nsA, "ping", "-c", "1", "-W", "1", B);
        assertNotEquals(0, none.exit(), "no flows, no forwarding");
        final Path back = dir.resolve("forward.txt");
        Files.writeString(back, "in_port=1,actions=output:2\nin_port=2,actions=output:1\n");
        ctl("add-flows " + back);
        final Netns.Result again = net.run("ip", "netns", "exec", nsA, "ping", "-c", "2", "-W", "2", B);
        assertEquals(0, again.exit(), again.out());
        assertFalse(ctl("dump-flows").contains("icmp"), "del-flows removed the drop rule");
    }
}
