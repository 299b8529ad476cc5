package dev.junction.control.diff;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.LogicalPort;
import dev.junction.control.k8s.Ip;
import dev.junction.control.topology.OvnNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Broadcast and multicast flooding on the node switches, by real frames through the cluster
 * layout's datapath (what {@code junction replay --manifests} runs): what the responder does not
 * answer reaches every other port of the sender's switch, the management port included, unchanged,
 * and never the sender or another switch's ports; the holder of an address hears a solicitation for
 * it (link-local, DAD) and its answer gets back; MLD from {@code ::} passes port security; a
 * destination's default-deny ingress policy lets ARP and ND through (OVN-K's allow ACL) but not
 * other multicast. ManifestOracleTest holds the same flows to Open vSwitch with the traffic
 * generator's multicast and broadcast frames.
 */
class FloodTest
{
    @TempDir
    Path dir;

    private DualStackShopBridge bridge;

    private void compile(final boolean denyAll) throws Exception
    {
        bridge = new DualStackShopBridge(dir, denyAll);
    }

    /** Sends {@code frame} and requires it out, unchanged, of exactly {@code expected}. */
    private void flooded(final LogicalPort from, final byte[] frame, final LogicalPort... expected)
    {
        bridge.send(from, frame);
        final TreeSet<Integer> want = new TreeSet<>();
        for (final LogicalPort p : expected)
        {
            want.add(p.ofport());
        }
        assertEquals(want, new TreeSet<>(bridge.outPorts), "out of the switch's other ports, one copy each");
        assertEquals(expected.length, bridge.out.size(), "one copy per port");
        for (final byte[] f : bridge.out)
        {
            assertArrayEquals(frame, f, "flooded unchanged");
        }
    }

    private static byte[] solicitation(final LogicalPort from, final InetAddress source, final InetAddress target, final boolean sll)
    {
        return DualStackShopBridge.solicitation(from.mac(), source, target, sll ? from.mac() : null);
    }

    /** A neighbour advertisement from {@code from} for {@code target} (its own) to {@code dst} at {@code dstMac}. */
    private static byte[] advertisement(final LogicalPort from, final InetAddress source, final InetAddress target,
        final InetAddress dst, final byte[] dstMac, final boolean solicited)
    {
        final byte[] ip = new PacketFactory.Ip6().src(source.getAddress()).dst(dst.getAddress()).hopLimit(255)
            .build(PacketFactory.PROTO_ICMPV6, PacketFactory.neighborAdvertisement((solicited ? 0x40000000 : 0) | 0x20000000,
                target.getAddress(), PacketFactory.mac(from.mac())), PacketFactory.Checksum.CORRECT);
        return PacketFactory.ethernet(dstMac, PacketFactory.mac(from.mac()), new int[0], PacketFactory.ETH_IPV6, ip);
    }

    private static byte[] arpRequest(final LogicalPort from, final InetAddress sender, final InetAddress target)
    {
        final byte[] mac = PacketFactory.mac(from.mac());
        return PacketFactory.pad(PacketFactory.ethernet(PacketFactory.BROADCAST, mac, new int[0], PacketFactory.ETH_ARP,
            PacketFactory.arp(1, mac, v4(sender), new byte[6], v4(target))), 60);
    }

    private static byte[] mldReport(final LogicalPort from, final InetAddress source)
    {
        final byte[] report = PacketFactory.icmp6(143, 0, 1, PacketFactory.concat(new byte[] {4, 0, 0, 0}, PacketFactory.ip6("ff02::fb")));
        final byte[] ip = new PacketFactory.Ip6().src(source.getAddress()).dst(PacketFactory.ip6("ff02::16")).hopLimit(1)
            .hopByHop(true).build(PacketFactory.PROTO_ICMPV6, report, PacketFactory.Checksum.CORRECT);
        return PacketFactory.ethernet(PacketFactory.mac("33:33:00:00:00:16"), PacketFactory.mac(from.mac()), new int[0],
            PacketFactory.ETH_IPV6, ip);
    }

    private static byte[] mdns(final LogicalPort from)
    {
        final byte[] ip = new PacketFactory.Ip4().src(v4(from.ip(false).orElseThrow())).dst(v4(Ip.parse("224.0.0.251")))
            .build(PacketFactory.PROTO_UDP, PacketFactory.udp(5353, 5353, new byte[24]), PacketFactory.Checksum.CORRECT);
        return PacketFactory.ethernet(PacketFactory.mac("01:00:5e:00:00:fb"), PacketFactory.mac(from.mac()), new int[0],
            PacketFactory.ETH_IPV4, ip);
    }

    private static int v4(final InetAddress a)
    {
        return ManifestTrafficGenerator.v4(a);
    }

    @Test
    void aSolicitationForAnotherPodsLinkLocalAddressReachesItAndItsAnswerGetsBack() throws Exception
    {
        compile(false);
        final BridgeLayout.PodPort client = bridge.pod("client-1");
        final BridgeLayout.PodPort web = bridge.pod("web-1");
        final InetAddress clientLinkLocal = OvnNames.linkLocal(client.mac());
        final InetAddress webLinkLocal = OvnNames.linkLocal(web.mac());
        // The responder knows no pod's link-local address: flooded to web-1 and the host, not back, not to n2's switch.
        flooded(client, solicitation(client, clientLinkLocal, webLinkLocal, true), web, bridge.host("n1"));
        // web-1's solicited advertisement, unicast to the asker, reaches it alone.
        final byte[] answer = advertisement(web, webLinkLocal, webLinkLocal, clientLinkLocal, PacketFactory.mac(client.mac()), true);
        flooded(web, answer, client);
    }

    @Test
    void duplicateAddressDetectionForAHeldAddressReachesTheHolderWhoDefendsIt() throws Exception
    {
        compile(false);
        final BridgeLayout.PodPort client = bridge.pod("client-1");
        final BridgeLayout.PodPort web = bridge.pod("web-1");
        final InetAddress held = web.ip(true).orElseThrow();
        flooded(client, solicitation(client, Ip.parse("::"), held, false), web, bridge.host("n1"));
        // The holder defends to all-nodes (RFC 4861 7.2.4): every other port of its switch hears it.
        flooded(web, advertisement(web, held, held, Ip.parse("ff02::1"), PacketFactory.mac("33:33:00:00:00:01"), false),
            client, bridge.host("n1"));
        // On n2's switch the same probe from web-2 reaches only n2's host: web-1's address is not held there.
        flooded(bridge.pod("web-2"), solicitation(bridge.pod("web-2"), Ip.parse("::"), held, false), bridge.host("n2"));
    }

    @Test
    void mldReportsFromTheUnspecifiedAddressPassPortSecurity() throws Exception
    {
        compile(false);
        final BridgeLayout.PodPort client = bridge.pod("client-1");
        flooded(client, mldReport(client, Ip.parse("::")), bridge.pod("web-1"), bridge.host("n1"));
        flooded(client, mldReport(client, OvnNames.linkLocal(client.mac())), bridge.pod("web-1"), bridge.host("n1"));
        // From another port's MAC it is spoofed.
        final byte[] spoofed = mldReport(bridge.pod("web-1"), Ip.parse("::"));
        bridge.send(client, spoofed);
        assertEquals(List.of(), bridge.outPorts, "another port's MAC: dropped");
    }

    @Test
    void broadcastArpForAnAddressNobodyAnswersIsFlooded() throws Exception
    {
        compile(false);
        final BridgeLayout.PodPort client = bridge.pod("client-1");
        final InetAddress own = client.ip(false).orElseThrow();
        flooded(client, arpRequest(client, own, Ip.parse("10.244.1.99")), bridge.pod("web-1"), bridge.host("n1"));
        // A gratuitous ARP (its own address) too, so the others update their caches.
        flooded(client, arpRequest(client, own, own), bridge.pod("web-1"), bridge.host("n1"));
        // The host's ARP for an unknown neighbour reaches the node's pods.
        final BridgeLayout.ManagementPort n1 = bridge.host("n1");
        flooded(n1, arpRequest(n1, n1.ip(false).orElseThrow(), Ip.parse("10.244.1.98")), client, bridge.pod("web-1"));
        // What the responder knows is still answered, not flooded.
        bridge.send(client, arpRequest(client, own, bridge.pod("web-1").ip(false).orElseThrow()));
        assertEquals(List.of(client.ofport()), bridge.outPorts, "answered back to the asker");
    }

    @Test
    void aNodeBridgeFloodsItsOwnPortsNeverTheTunnel() throws Exception
    {
        bridge = new DualStackShopBridge(dir, false, "n1");
        final BridgeLayout.PodPort client = bridge.pod("client-1");
        assertEquals(BridgeLayout.MANAGEMENT_OFPORT, bridge.host("n1").ofport());
        flooded(client, arpRequest(client, client.ip(false).orElseThrow(), Ip.parse("10.244.1.99")), bridge.pod("web-1"),
            bridge.host("n1"));
        flooded(client, solicitation(client, Ip.parse("::"), Ip.parse("fd00:10:244:2::20"), false), bridge.pod("web-1"),
            bridge.host("n1"));
    }

    @Test
    void ipMulticastIsFloodedToTheSwitchsPorts() throws Exception
    {
        compile(false);
        final BridgeLayout.PodPort client = bridge.pod("client-1");
        flooded(client, mdns(client), bridge.pod("web-1"), bridge.host("n1"));
    }

    @Test
    void defaultDenyIngressLetsArpAndNdThroughButNotOtherMulticast() throws Exception
    {
        compile(true);
        final BridgeLayout.PodPort client = bridge.pod("client-1");
        final BridgeLayout.PodPort web = bridge.pod("web-1");
        flooded(client, arpRequest(client, client.ip(false).orElseThrow(), Ip.parse("10.244.1.99")), web, bridge.host("n1"));
        flooded(client, solicitation(client, Ip.parse("::"), web.ip(true).orElseThrow(), false), web, bridge.host("n1"));
        // mDNS and MLD are no ARP or ND: web-1 is isolated, the host's port has no policy.
        flooded(client, mdns(client), bridge.host("n1"));
        flooded(client, mldReport(client, Ip.parse("::")), bridge.host("n1"));
    }
}
