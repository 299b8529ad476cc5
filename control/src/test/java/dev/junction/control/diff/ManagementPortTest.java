package dev.junction.control.diff;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.LogicalPort;
import dev.junction.control.k8s.Ip;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The management port {@code k8s-<node>} by real frames through the cluster layout's datapath:
 * the host reaches a pod of its own node on the switch and another node's pod through the
 * cluster router; a pod's answer goes out of the management port; ARP for the host's .2 is
 * answered with OVN-K's MAC; and with a default-deny ingress policy the host still reaches the
 * pods of its own node (OVN-K's allow-from-node ACL, what keeps kubelet probes working) but
 * not those of another node. ManifestOracleTest holds the same flows to Open vSwitch with the
 * traffic generator's management-port conversations.
 */
class ManagementPortTest
{
    @TempDir
    Path dir;

    private DualStackShopBridge bridge;
    private BridgeLayout layout;
    private List<Integer> outPorts;
    private List<byte[]> out;
    private int sourcePort = 40000;

    private void compile(final boolean denyAll) throws Exception
    {
        bridge = new DualStackShopBridge(dir, denyAll);
        layout = bridge.layout;
        outPorts = bridge.outPorts;
        out = bridge.out;
    }

    private BridgeLayout.ManagementPort host(final String node)
    {
        return bridge.host(node);
    }

    private BridgeLayout.PodPort pod(final String name)
    {
        return bridge.pod(name);
    }

    private void send(final LogicalPort from, final byte[] frame)
    {
        bridge.send(from, frame);
    }

    /** A TCP segment over IPv4 from {@code from} to {@code to}, addressed as a host stack does: on-link, else to the gateway. */
    private byte[] tcp(final LogicalPort from, final LogicalPort to, final int sport, final int dport, final int flags)
    {
        return tcp(from, from.ip(false).orElseThrow(), to, sport, dport, flags);
    }

    /** As above from source address {@code source}, whether or not it is the sender's. */
    private byte[] tcp(final LogicalPort from, final InetAddress source, final LogicalPort to, final int sport, final int dport,
        final int flags)
    {
        final boolean onLink = from.sw().key() == to.sw().key();
        final byte[] ip = new PacketFactory.Ip4().src(v4(source)).dst(v4(to.ip(false).orElseThrow()))
            .build(PacketFactory.PROTO_TCP, PacketFactory.tcp(sport, dport, 1000, flags == PacketFactory.TCP_SYN ? 0 : 2000, flags,
                new byte[0], new byte[0]), PacketFactory.Checksum.CORRECT);
        return PacketFactory.ethernet(PacketFactory.mac(onLink ? to.mac() : from.sw().gatewayMac()), PacketFactory.mac(from.mac()),
            new int[0], PacketFactory.ETH_IPV4, ip);
    }

    /** Sends a SYN from {@code from} to {@code to}: where it came out, or -1. */
    private int syn(final LogicalPort from, final LogicalPort to)
    {
        send(from, tcp(from, to, ++sourcePort, 8080, PacketFactory.TCP_SYN));
        assertTrue(out.size() <= 1, "at most one copy");
        return out.isEmpty() ? -1 : outPorts.get(0);
    }

    private static int v4(final InetAddress a)
    {
        return ManifestTrafficGenerator.v4(a);
    }

    private static byte[] mac(final byte[] frame, final int offset)
    {
        return Arrays.copyOfRange(frame, offset, offset + 6);
    }

    @Test
    void everyAnnotatedNodeHasItsManagementPortAtPointTwo() throws Exception
    {
        compile(false);
        final BridgeLayout.ManagementPort n1 = host("n1");
        assertEquals(List.of(Ip.parse("10.244.1.2"), Ip.parse("fd00:10:244:1::2")), n1.ips());
        assertEquals("0a:58:0a:f4:01:02", n1.mac(), "OVN-K's MAC of 10.244.1.2");
        assertEquals("k8s-n1", n1.name());
        assertEquals(BridgeLayout.MANAGEMENT_OFPORT + n1.sw().key(), n1.ofport());
        final int[] ports = layout.ofports();
        assertEquals(ports.length, Arrays.stream(ports).distinct().count(), "no port number taken twice");
        for (final BridgeLayout.PodPort p : layout.allPods())
        {
            assertTrue(p.key() != n1.key() && p.key() != host("n2").key(), "no pod has a management port's key");
        }
    }

    @Test
    void podsArpForTheHostAndGetItsMac() throws Exception
    {
        compile(false);
        final BridgeLayout.PodPort web1 = pod("web-1");
        final byte[] mac = PacketFactory.mac(web1.mac());
        send(web1, PacketFactory.ethernet(PacketFactory.BROADCAST, mac, new int[0], PacketFactory.ETH_ARP,
            PacketFactory.arp(1, mac, v4(web1.ip(false).orElseThrow()), new byte[6], v4(Ip.parse("10.244.1.2")))));
        assertEquals(List.of(web1.ofport()), outPorts, "the reply goes back to the asker");
        final byte[] reply = out.get(0);
        assertArrayEquals(PacketFactory.mac("0a:58:0a:f4:01:02"), mac(reply, 6), "from the management port's MAC");
        assertEquals(2, reply[21], "ARP reply");
        assertArrayEquals(PacketFactory.mac("0a:58:0a:f4:01:02"), mac(reply, 22), "sender hardware address");
    }

    @Test
    void hostReachesPodsOfItsNodeOnTheSwitchAndOthersThroughTheRouter() throws Exception
    {
        compile(false);
        final BridgeLayout.ManagementPort n1 = host("n1");
        final BridgeLayout.PodPort web1 = pod("web-1");
        final BridgeLayout.PodPort web2 = pod("web-2");
        assertEquals(web1.ofport(), syn(n1, web1), "same switch: delivered to the pod");
        assertArrayEquals(PacketFactory.mac(n1.mac()), mac(out.get(0), 6), "unrouted: the host's own MAC");
        assertEquals(web2.ofport(), syn(n1, web2), "other node's pod: routed");
        final byte[] routed = out.get(0);
        assertArrayEquals(PacketFactory.mac(web2.sw().gatewayMac()), mac(routed, 6), "from n2's gateway MAC");
        assertArrayEquals(PacketFactory.mac(web2.mac()), mac(routed, 0), "to the pod's MAC");
        assertEquals(63, routed[14 + 8] & 0xff, "TTL decremented by the router");

        // The pod answers the host: out of the management port.
        send(web1, tcp(web1, n1, 8080, sourcePort, PacketFactory.TCP_SYN | PacketFactory.TCP_ACK));
        send(web2, tcp(web2, n1, 8080, sourcePort, PacketFactory.TCP_SYN | PacketFactory.TCP_ACK));
        assertEquals(List.of(n1.ofport()), outPorts, "pod to host: out of k8s-n1");
        assertArrayEquals(PacketFactory.mac(n1.mac()), mac(out.get(0), 0));
    }

    @Test
    void aSpoofedSourceFromTheHostIsDropped() throws Exception
    {
        compile(false);
        final BridgeLayout.ManagementPort n1 = host("n1");
        final BridgeLayout.PodPort web1 = pod("web-1");
        for (final String source : new String[] {"10.244.1.2", "10.244.1.66"})
        {
            send(n1, tcp(n1, Ip.parse(source), web1, ++sourcePort, 8080, PacketFactory.TCP_SYN));
            assertEquals(source.endsWith(".2") ? List.of(web1.ofport()) : List.of(), outPorts,
                "port security: the host sends from its .2 only (" + source + ")");
        }
    }

    @Test
    void defaultDenyLetsTheHostReachItsOwnNodesPodsOnly() throws Exception
    {
        compile(true);
        final BridgeLayout.ManagementPort n1 = host("n1");
        final BridgeLayout.ManagementPort n2 = host("n2");
        final BridgeLayout.PodPort web1 = pod("web-1");
        final BridgeLayout.PodPort web2 = pod("web-2");
        final BridgeLayout.PodPort client = pod("client-1");
        assertEquals(-1, syn(client, web1), "a pod is denied: the policy isolates web-1");
        assertEquals(web1.ofport(), syn(n1, web1), "n1's host reaches n1's pod (allow from node)");
        assertEquals(web2.ofport(), syn(n2, web2), "n2's host reaches n2's pod");
        assertEquals(-1, syn(n1, web2), "n1's host is any peer to n2's pods: denied");
        assertEquals(-1, syn(n2, web1), "and n2's to n1's");

        // The allowed connection's reply comes back to the host (allow-related).
        final int sport = sourcePort;
        send(n1, tcp(n1, web1, sport + 1, 8080, PacketFactory.TCP_SYN));
        send(web1, tcp(web1, n1, 8080, sport + 1, PacketFactory.TCP_SYN | PacketFactory.TCP_ACK));
        assertEquals(List.of(n1.ofport()), outPorts, "the pod's answer reaches the host");
    }
}
