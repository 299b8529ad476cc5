package dev.junction.control.probe;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.DnsResolver;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.ManifestLoader;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two nodes, each running only its own bridge's flows ({@link FlowCompiler#node}), joined by a
 * Geneve underlay: what one node's tunnel port sends (encapsulated by the datapath, VNI and
 * OVN's option set by the flows) is received on the other node's underlay port. Pod to pod
 * across nodes, replies back, a service whose backend is on the other node (un-DNAT on the
 * client's node), and a NetworkPolicy enforced at the destination's node.
 */
class TwoNodeOverlayTest
{
    private static final Path MANIFESTS = Path.of("src/test/resources/manifests/services");

    private TwoNodeWire wire;
    private TwoNodeWire.Node n1;
    private TwoNodeWire.Node n2;

    @BeforeEach
    void nodes() throws Exception
    {
        final ManifestLoader.Result r = ManifestLoader.load(MANIFESTS);
        assertEquals(List.of(), r.report().problems());
        wire = new TwoNodeWire(r.model(), DnsResolver.NONE);
        n1 = wire.n1;
        n2 = wire.n2;
    }

    /** Injects a frame on a pod port of {@code node}, carries underlay frames across until quiet. */
    private void send(final TwoNodeWire.Node node, final BridgeLayout.PodPort from, final byte[] frame)
    {
        wire.send(node, from.ofport(), frame);
    }

    /** The frame {@code node}'s pod port sent with these addresses and ports, or null. */
    private static byte[] got(final TwoNodeWire.Node node, final BridgeLayout.PodPort port, final InetAddress src,
        final InetAddress dst, final int sport, final int dport)
    {
        for (int i = 0; i < node.sent.size(); i++)
        {
            final byte[] f = node.sent.get(i);
            if (node.sentPorts.get(i)[0] == port.ofport() && Arrays.equals(f, 26, 30, src.getAddress(), 0, 4)
                && Arrays.equals(f, 30, 34, dst.getAddress(), 0, 4)
                && ((f[34] & 0xff) << 8 | (f[35] & 0xff)) == sport && ((f[36] & 0xff) << 8 | (f[37] & 0xff)) == dport)
            {
                return f;
            }
        }
        return null;
    }

    private static byte[] tcp(final BridgeLayout.PodPort from, final String dstMac, final InetAddress src, final InetAddress dst,
        final int sport, final int dport, final int flags, final long seq, final long ack)
    {
        return ProbeFrames.frame(from.mac(), dstMac, src, dst, ProbeFrames.PROTO_TCP, sport, dport, flags, seq, ack);
    }

    /** A TCP handshake from {@code client} on n1 to {@code server} on n2 (pod addresses); true when all three arrive. */
    private boolean handshake(final TwoNodeWire.Node cn, final String client, final TwoNodeWire.Node sn, final String server,
        final int port, final int sport)
    {
        final BridgeLayout.PodPort c = cn.pod("shop/" + client);
        final BridgeLayout.PodPort s = sn.pod("shop/" + server);
        final InetAddress ci = c.ips().get(0);
        final InetAddress si = s.ips().get(0);
        send(cn, c, tcp(c, c.sw().gatewayMac(), ci, si, sport, port, ProbeFrames.TCP_SYN, 1, 0));
        if (got(sn, s, ci, si, sport, port) == null)
        {
            return false;
        }
        send(sn, s, tcp(s, s.sw().gatewayMac(), si, ci, port, sport, ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK, 9, 2));
        if (got(cn, c, si, ci, port, sport) == null)
        {
            return false;
        }
        send(cn, c, tcp(c, c.sw().gatewayMac(), ci, si, sport, port, ProbeFrames.TCP_ACK, 2, 10));
        return got(sn, s, ci, si, sport, port) != null;
    }

    @Test
    void podToPodAcrossNodesAndBack()
    {
        // client-1 (n1) may reach web pods; web-2 is on n2.
        assertTrue(handshake(n1, "client-1", n2, "web-2", 8080, 41000), "client-1 -> web-2 over Geneve");
        final BridgeLayout.PodPort web2 = n2.pod("shop/web-2");
        final byte[] delivered = got(n2, web2, n1.pod("shop/client-1").ips().get(0), web2.ips().get(0), 41000, 8080);
        assertEquals(n2.pod("shop/web-2").sw().gatewayMac().replace(":", ""),
            java.util.HexFormat.of().formatHex(delivered, 6, 12), "routed: the source MAC is n2's router port");
        assertEquals(63, delivered[22] & 0xff, "one router hop: TTL 64 -> 63");
    }

    @Test
    void policyEnforcedAtTheDestinationNode()
    {
        // client-2 (n2) is not allowed into web pods: web-1 on n1 drops it at its ingress ACL.
        assertTrue(!handshake(n2, "client-2", n1, "web-1", 8080, 41001), "client-2 -> web-1 denied");
        assertTrue(handshake(n1, "web-1", n2, "client-2", 8080, 41002), "client-2 isolates nothing: web-1 -> client-2 allowed");
    }

    @Test
    void serviceBackendOnTheOtherNode()
    {
        // internalTrafficPolicy Local is not it; "web" balances over web-1 (n1) and web-2 (n2).
        final BridgeLayout.PodPort c = n1.pod("shop/client-1");
        final InetAddress ci = c.ips().get(0);
        final InetAddress vip = Ip.parse("10.96.0.10");
        boolean remote = false;
        for (int sport = 42000; sport < 42040 && !remote; sport++)
        {
            send(n1, c, tcp(c, c.sw().gatewayMac(), ci, vip, sport, 80, ProbeFrames.TCP_SYN, 1, 0));
            final BridgeLayout.PodPort w2 = n2.pod("shop/web-2");
            final InetAddress wi = w2.ips().get(0);
            if (got(n2, w2, ci, wi, sport, 8080) == null)
            {
                continue;
            }
            remote = true;
            send(n2, w2, tcp(w2, w2.sw().gatewayMac(), wi, ci, 8080, sport, ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK, 9, 2));
            assertTrue(got(n1, c, vip, ci, 80, sport) != null, "the reply came back from the VIP (un-DNAT on n1)");
        }
        assertTrue(remote, "some connection went to web-2 on n2");
    }
}
