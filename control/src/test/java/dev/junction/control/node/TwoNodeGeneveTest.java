package dev.junction.control.node;


import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two nodes joined by a Geneve overlay, as OVN-Kubernetes joins them: two Junction daemons (two
 * JVM processes, {@code junction run}), each with a pod on a TAP port and an underlay TAP port;
 * the two underlay ports are joined by a Linux bridge in a "fabric" namespace (the wire between
 * the nodes). The nodes know no neighbours at start: the first encapsulation makes the sending
 * node ARP for the other endpoint (IPv4 underlay) or send a neighbour solicitation (IPv6), the
 * other node answers, and the reply fills the neighbour table. Pod traffic crosses with VNI 5 and OVN's option (class 0x102, type 0x80)
 * carrying the logical ports; the receiving node matches both before delivering. Ping and TCP
 * (iperf3) between the pods must work.
 */
class TwoNodeGeneveTest
{
    private static final String POD1 = "10.80.0.1";
    private static final String POD2 = "10.80.0.2";

    @org.junit.jupiter.params.ParameterizedTest(name = "underlay IPv{0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {4, 6})
    void podsOnTwoNodesTalkOverGeneve(final int family) throws Exception
    {
        Netns.requireRoot();
        try (Netns net = new Netns())
        {
            final Path dir = Files.createTempDirectory("junction-two-nodes-");
            node(net, dir, 1, family);
            node(net, dir, 2, family);
            final String fabric = net.add("jg-fab");
            net.must("ip", "-n", fabric, "link", "add", "wire", "type", "bridge");
            net.must("ip", "-n", fabric, "link", "set", "wire", "up");
            for (int n = 1; n <= 2; n++)
            {
                final String under = "jg-u" + n + "-" + net.tag;
                net.must("ip", "link", "set", under, "netns", fabric);
                net.must("ip", "-n", fabric, "link", "set", under, "master", "wire");
                net.must("ip", "-n", fabric, "link", "set", under, "up");
            }
            final String pod1 = net.add("jg-p1");
            final String pod2 = net.add("jg-p2");
            pod(net, "jg-p1-" + net.tag, pod1, POD1);
            pod(net, "jg-p2-" + net.tag, pod2, POD2);

            // The first packets wait for ARP on the underlay; then everything must go through.
            net.run("ip", "netns", "exec", pod1, "ping", "-c", "3", "-W", "1", POD2);
            final Netns.Result ping = net.run("ip", "netns", "exec", pod1, "ping", "-c", "5", "-W", "2", POD2);
            assertEquals(0, ping.exit(), "ping across the overlay:\n" + ping.out() + logs(dir));
            assertTrue(ping.out().contains(" 0% packet loss"), ping.out());

            net.spawn(List.of("ip", "netns", "exec", pod2, "iperf3", "-s", "-p", "5201"), dir.resolve("iperf3.log"));
            Thread.sleep(500);
            final Netns.Result tcp = net.run(60, "ip", "netns", "exec", pod1, "iperf3", "-c", POD2, "-t", "3", "-J");
            assertEquals(0, tcp.exit(), tcp.out() + logs(dir));
            final Matcher m = Pattern.compile("\"sum_received\":\\s*\\{[^}]*?\"bytes\":\\s*(\\d+)[^}]*?\"bits_per_second\":\\s*([0-9.e+]+)",
                Pattern.DOTALL).matcher(tcp.out());
            assertTrue(m.find(), tcp.out());
            System.out.printf("TWO-NODE GENEVE TCP %.3f Gbit/s (%d bytes)%n", Double.parseDouble(m.group(2)) / 1e9,
                Long.parseLong(m.group(1)));
            assertTrue(Long.parseLong(m.group(1)) > 1_000_000, "TCP across the overlay moved too little");

            // Node 1's megaflows show the tunnel push; node 2's the decapsulated match on VNI and option.
            final String mf1 = ControlServer.request(dir.resolve("node1/state"), "dump-megaflows").text();
            final String mf2 = ControlServer.request(dir.resolve("node2/state"), "dump-megaflows").text();
            assertTrue(mf1.contains("tnl_push(tnl_port(10),header(size=") && mf1.contains("geneve(crit,vni=0x5"), mf1);
            assertTrue(mf2.contains("tunnel(tun_id=0x5") && mf2.contains("tun_metadata0=0x"), mf2);
            // Each node learned the other's endpoint (ARP or ND; no static entries were configured).
            final String neigh1 = ControlServer.request(dir.resolve("node1/state"), "neigh show").text();
            assertTrue(neigh1.contains((family == 4 ? "192.168.77.2" : "fd77::2") + " aa:55:aa:55:00:02"), neigh1);
        }
    }

    /** Node N: pod TAP port 1 (MTU 1400, room for the outer headers), underlay TAP port 9, Geneve port 10. */
    private static Process node(final Netns net, final Path dir, final int n, final int family) throws Exception
    {
        final String local = family == 4 ? "192.168.77." + n + "/24" : "\"fd77::" + n + "/64\"";
        final String remote = family == 4 ? "192.168.77." + (3 - n) : "\"fd77::" + (3 - n) + "\"";
        final Path d = Files.createDirectories(dir.resolve("node" + n));
        final int other = 3 - n;
        Files.writeString(d.resolve("flows.txt"), String.join("\n",
            // Pod traffic leaves with VNI 5 and OVN's option: logical ingress port n, egress port other.
            "in_port=1,actions=set_field:0x5->tun_id,set_field:0x" + Integer.toHexString(n << 16 | other)
                + "->tun_metadata0,output:10",
            "in_port=10,tun_id=0x5,tun_metadata0=0x" + Integer.toHexString(other << 16 | n) + ",actions=output:1", ""));
        Files.writeString(d.resolve("node.yaml"), String.join("\n",
            "state_dir: state", "workers: 1", "flows: flows.txt",
            "ports:",
            "  - {port: 1, type: tap, name: jg-p" + n + "-" + net.tag + ", mtu: 1400}",
            "  - {port: 9, type: tap, name: jg-u" + n + "-" + net.tag + "}",
            "tunnels:",
            "  underlay: {port: 9, mac: \"aa:55:aa:55:00:0" + n + "\", ip: " + local + "}",
            "  tunnels: [{port: 10, type: geneve, remote_ip: " + remote + ", key: flow, csum: true}]",
            "  tlv_map: [\"{class=0x102,type=0x80,len=4}->tun_metadata0\"]", ""));
        return net.daemon(d.resolve("node.yaml"), d.resolve("state"), dir.resolve("node" + n + ".log"));
    }

    private static void pod(final Netns net, final String tap, final String ns, final String addr)
    {
        net.must("ip", "link", "set", tap, "netns", ns);
        net.must("ip", "-n", ns, "addr", "add", addr + "/24", "dev", tap);
        net.must("ip", "-n", ns, "link", "set", tap, "up");
    }

    private static String logs(final Path dir) throws Exception
    {
        final StringBuilder sb = new StringBuilder();
        for (int n = 1; n <= 2; n++)
        {
            sb.append("\nnode").append(n).append(" stats:\n");
            try
            {
                sb.append(ControlServer.request(dir.resolve("node" + n + "/state"), "stats").text());
            }
            catch (final java.io.IOException ex)
            {
                sb.append(ex);
            }
            sb.append("\nnode").append(n).append(" log:\n").append(Files.readString(dir.resolve("node" + n + ".log")));
        }
        return sb.toString();
    }
}
