package dev.junction.control.node;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Restart without loss: {@code kill -9} of the node daemon (its own JVM) under an iperf3 TCP
 * stream between two pod namespaces, started again at once; with conntrack checkpoints the
 * stream goes on and iperf3 ends with exit 0, without them the same run loses the connection.
 *
 * <p>The flows make a lost connection really break, as a NetworkPolicy's flows do: IP goes
 * through ct, +inv is dropped, +new is committed only for a SYN from pod A (and ICMP), any
 * other +new is dropped; established traffic is forwarded both ways. A restarted daemon that
 * forgot the connection sees the stream's next segment as +new without SYN and drops it, and
 * the kernel never sends another SYN on that connection: the loss is deterministic.
 *
 * <p>The ports are AF_XDP sockets on veth pairs: the pods' veths live on when the daemon dies
 * (the redirect program goes with its BPF link, and the next start attaches a new one), so
 * the pods keep their interfaces, addresses and neighbours, as they would with a real CNI.
 * Persistent TAPs would do too, but the TAP port here creates and owns its device.
 */
class ConntrackRestartTest
{
    private static final String A = "10.80.0.1";
    private static final String B = "10.80.0.2";
    private static final String MAC_A = "02:80:00:00:00:01";
    private static final String MAC_B = "02:80:00:00:00:02";
    @Test
    void tcpStreamSurvivesKillNineWithCheckpointsAndIsLostWithout() throws Exception
    {
        Netns.requireRoot();
        try (Netns net = new Netns())
        {
            final Path dir = Files.createTempDirectory("junction-ct-restart-");
            try
            {
                final String nsA = net.add("jr-a");
                final String nsB = net.add("jr-b");
                final String peerA = "jrs-a-" + net.tag;
                final String peerB = "jrs-b-" + net.tag;
                pod(net, nsA, "jr-a-" + net.tag, peerA, A, MAC_A, B, MAC_B);
                pod(net, nsB, "jr-b-" + net.tag, peerB, B, MAC_B, A, MAC_A);
                Files.writeString(dir.resolve("flows.txt"), String.join("\n",
                    "table=0,priority=10,arp,in_port=1,actions=output:2",
                    "table=0,priority=10,arp,in_port=2,actions=output:1",
                    "table=0,priority=10,ip,actions=ct(table=1)",
                    "table=1,priority=30,ct_state=+trk+inv,actions=drop",
                    "table=1,priority=20,ct_state=+trk+new,tcp,tcp_flags=+syn-ack,in_port=1,actions=ct(commit),output:2",
                    "table=1,priority=20,ct_state=+trk+new,icmp,in_port=1,actions=ct(commit),output:2",
                    "table=1,priority=15,ct_state=+trk+new,actions=drop",
                    "table=1,priority=10,ct_state=+trk+est,in_port=1,actions=output:2",
                    "table=1,priority=10,ct_state=+trk+est,in_port=2,actions=output:1", ""));
                final String ports = "ports:\n  - {port: 1, type: afxdp, interface: " + peerA + "}\n"
                    + "  - {port: 2, type: afxdp, interface: " + peerB + "}\n";
                Files.writeString(dir.resolve("with.yaml"),
                    "state_dir: state-with\nworkers: 1\nflows: flows.txt\nconntrack_checkpoint_ms: 200\n" + ports);
                Files.writeString(dir.resolve("without.yaml"),
                    "state_dir: state-without\nworkers: 1\nflows: flows.txt\nconntrack_checkpoint_ms: 0\n" + ports);
                net.spawn(List.of("ip", "netns", "exec", nsB, "iperf3", "-s", "-p", "5201"), dir.resolve("iperf3-server.log"));

                final KillNineRun with = KillNineRun.run(net, dir, "with", dir.resolve("state-with"), nsA, B, 2);
                System.out.printf("ConntrackRestart with checkpoints: iperf3 exit %d, intervals without data %.1f s"
                        + " (longest gap %.1f s), kill -9 to control socket %d ms, kill -9 to first forwarded packet <= %d ms,"
                        + " %s%n", with.iperfExit(), with.zeroSeconds(), with.longestGap(), with.killToSocketMs(),
                    with.killToForwardMs(), with.logLine("conntrack restored"));
                assertEquals(0, with.iperfExit(), "iperf3 must finish through the restart:\n" + with.iperfOut());
                assertTrue(with.logged("conntrack restored", "connections") >= 2,
                    "the control and data connections are restored: " + with.logLine("conntrack restored"));
                assertTrue(with.resumed(), "data flowed again after the gap: " + with.iperfOut());

                final KillNineRun without = KillNineRun.run(net, dir, "without", dir.resolve("state-without"), nsA, B, 2);
                System.out.printf("ConntrackRestart without checkpoints: iperf3 exit %d, finished %b, intervals without"
                        + " data %.1f s, kill -9 to control socket %d ms%n", without.iperfExit(), without.iperfFinished(),
                    without.zeroSeconds(), without.killToSocketMs());
                assertNotEquals(0, without.iperfExit(), "without checkpoints the restarted daemon drops the stream (+new, no"
                    + " SYN):\n" + without.iperfOut());
            }
            finally
            {
                KillNineRun.deleteTree(dir);
            }
        }
    }

    /** A pod: namespace {@code ns} holds {@code dev} (addressed, with a permanent neighbour for the other pod), its peer stays here. */
    private static void pod(final Netns net, final String ns, final String dev, final String peer, final String ip,
        final String mac, final String otherIp, final String otherMac)
    {
        net.must("ip", "link", "add", dev, "netns", ns, "type", "veth", "peer", "name", peer);
        net.must("ip", "link", "set", peer, "up");
        net.must("ip", "-n", ns, "link", "set", dev, "address", mac);
        net.must("ip", "-n", ns, "addr", "add", ip + "/24", "dev", dev);
        net.must("ip", "-n", ns, "link", "set", dev, "up");
        // ARP would wait for the daemon too; the pods' neighbours are not what this test is about.
        net.must("ip", "-n", ns, "neigh", "replace", otherIp, "lladdr", otherMac, "dev", dev, "nud", "permanent");
    }
}
