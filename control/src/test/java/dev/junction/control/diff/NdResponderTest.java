package dev.junction.control.diff;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.Stage;
import dev.junction.control.k8s.Ip;
import dev.junction.control.topology.OvnNames;
import dev.junction.datapath.pcap.PcapWriter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The IPv6 neighbour discovery responder, by real frames: a pod's neighbour solicitation for
 * the gateway or another pod of its switch comes back out of its own port as the advertisement
 * OVN's nd_na_router / nd_na would send, decoded by tshark (checksum verified); solicitations
 * for an address the switch does not have or for the pod's own address get no answer (they are
 * flooded to the switch's other ports), those with a source link-layer option that is not the
 * pod's MAC are dropped. ManifestOracleTest holds the same
 * flows to Open vSwitch, byte for byte, with the traffic generator's solicitations.
 */
class NdResponderTest
{
        @TempDir
    Path dir;

    private DualStackShopBridge bridge;
    private BridgeLayout layout;
    private List<Integer> outPorts;
    private List<byte[]> out;

    @BeforeEach
    void compile() throws Exception
    {
        bridge = new DualStackShopBridge(dir, false);
        layout = bridge.layout;
        outPorts = bridge.outPorts;
        out = bridge.out;
    }

    private BridgeLayout.PodPort pod(final String name)
    {
        return bridge.pod(name);
    }

    /** What {@code from} sends to find {@code target}: to the solicited-node group, source link-layer option {@code sll}. */
    private void solicit(final BridgeLayout.PodPort from, final InetAddress target, final String sll)
    {
        solicit(from, from.ip(true).orElseThrow(), target, sll);
    }

    /** As above from source address {@code source}; no source link-layer option when {@code sll} is null (as DAD sends). */
    private void solicit(final BridgeLayout.PodPort from, final InetAddress source, final InetAddress target, final String sll)
    {
        bridge.send(from, DualStackShopBridge.solicitation(from.mac(), source, target, sll));
    }

    /** The one advertisement {@code from} got back, decoded by tshark: field name -> value. */
    private String[] advertisement(final BridgeLayout.PodPort from) throws Exception
    {
        assertEquals(1, out.size(), "one frame out");
        assertEquals(from.ofport(), outPorts.get(0), "back out of the soliciting pod's port");
        TunnelTsharkTest.requireTshark();
        final Path pcap = Files.createTempFile("junction-nd-", ".pcap");
        try
        {
            try (PcapWriter w = new PcapWriter(pcap))
            {
                w.write(1_700_000_000_000_000_000L, out.get(0), 0, out.get(0).length);
            }
            final List<String> cmd = new ArrayList<>(List.of("tshark", "-r", pcap.toString(), "-T", "fields", "-E", "separator=|",
                "-E", "occurrence=f"));
            for (final String f : new String[] {"eth.src", "eth.dst", "ipv6.src", "ipv6.dst", "ipv6.hlim", "icmpv6.type",
                "icmpv6.code", "icmpv6.checksum.status", "icmpv6.nd.na.flag.r", "icmpv6.nd.na.flag.s", "icmpv6.nd.na.flag.o",
                "icmpv6.nd.na.target_address", "icmpv6.opt.type", "icmpv6.opt.linkaddr"})
            {
                cmd.add("-e");
                cmd.add(f);
            }
            final Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            final String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "tshark hung");
            assertEquals(0, p.exitValue(), "tshark failed");
            return text.split("\\|", -1);
        }
        finally
        {
            Files.deleteIfExists(pcap);
        }
    }

    private static boolean flag(final String v)
    {
        return v.equals("1") || v.equalsIgnoreCase("true");
    }

    private static void assertAdvertisement(final String[] na, final BridgeLayout.PodPort asker, final InetAddress target,
        final String targetMac, final boolean router)
    {
        assertAdvertisement(na, asker, asker.ip(true).orElseThrow(), target, targetMac, router);
    }

    private static void assertAdvertisement(final String[] na, final BridgeLayout.PodPort asker, final InetAddress askedFrom,
        final InetAddress target, final String targetMac, final boolean router)
    {
        final String line = String.join("|", na);
        assertEquals(targetMac, na[0], "from the target's MAC: " + line);
        assertEquals(asker.mac(), na[1], "to the asker's MAC: " + line);
        assertEquals(target, Ip.parse(na[2]), "from the target address: " + line);
        assertEquals(askedFrom, Ip.parse(na[3]), "to the asker's address: " + line);
        assertEquals("255", na[4], "hop limit 255 (RFC 4861 7.1.2): " + line);
        assertEquals("136", na[5], "neighbour advertisement: " + line);
        assertEquals("0", na[6], line);
        assertEquals("1", na[7], "ICMPv6 checksum verifies: " + line);
        assertEquals(router, flag(na[8]), "router flag: " + line);
        assertTrue(flag(na[9]), "solicited: " + line);
        assertTrue(flag(na[10]), "override: " + line);
        assertEquals(target, Ip.parse(na[11]), "target: " + line);
        assertEquals("2", na[12], "target link-layer address option: " + line);
        assertEquals(targetMac, na[13], line);
    }

    @Test
    void gatewayAnswersAsARouter() throws Exception
    {
        final BridgeLayout.PodPort client = pod("client-1");
        final InetAddress gw = client.sw().gateway(true).orElseThrow();
        solicit(client, gw, client.mac());
        assertAdvertisement(advertisement(client), client, gw, client.sw().gatewayMac(), true);
    }

    @Test
    void podOfTheSwitchAnsweredForWithItsMac() throws Exception
    {
        final BridgeLayout.PodPort client = pod("client-1");
        final BridgeLayout.PodPort web = pod("web-1");
        assertEquals(client.sw().key(), web.sw().key(), "same node switch");
        solicit(client, web.ip(true).orElseThrow(), client.mac());
        assertAdvertisement(advertisement(client), client, web.ip(true).orElseThrow(), web.mac(), false);
    }

    @Test
    void noAnswerForWhatTheSwitchDoesNotHave() throws Exception
    {
        final BridgeLayout.PodPort client = pod("client-1");
        final BridgeLayout.PodPort remote = pod("web-2");
        assertTrue(client.sw().key() != remote.sw().key(), "web-2 is on the other node's switch");
        for (final InetAddress target : new InetAddress[] {remote.ip(true).orElseThrow(), Ip.parse("fd00:10:244:1::99"),
            client.ip(true).orElseThrow()})
        {
            solicit(client, target, client.mac());
            assertUnanswered(client, "for " + Ip.text(target));
        }
        // A source link-layer option naming another MAC fails port security.
        solicit(client, client.sw().gateway(true).orElseThrow(), pod("web-1").mac());
        assertEquals(0, out.size(), "spoofed source link-layer address");
    }

    /**
     * No answer back to {@code asker}: the solicitation is flooded, as sent, to the other ports of
     * its switch (web-1 and the host's management port; FloodTest has the rest of flooding).
     */
    private void assertUnanswered(final BridgeLayout.PodPort asker, final String what)
    {
        final List<Integer> ports = outPorts.stream().sorted().toList();
        final List<Integer> others = new ArrayList<>(List.of(pod("web-1").ofport(),
            layout.managementPort(asker.sw()).orElseThrow().ofport()));
        others.sort(null);
        assertEquals(others, ports, "no answer " + what + ": flooded to the switch's other ports");
        assertEquals(1, out.stream().map(Arrays::toString).distinct().count(), "the same frame to each");
        assertEquals(135, out.get(0)[54] & 0xff, "still the solicitation");
    }

    /** The priorities of the rules of {@code stage} that packets met since the datapath was made. */
    private List<Integer> met(final Stage stage)
    {
        return bridge.rules().stream().filter(r -> r.table == stage.table && r.packets() > 0).map(r -> r.priority).sorted().toList();
    }

    @Test
    void gatewayLinkLocalAnswersAsARouterToALinkLocalAsker() throws Exception
    {
        final BridgeLayout.PodPort client = pod("client-1");
        // Gateway MAC 0a:58:0a:f4:01:01 (OVN-K's of 10.244.1.1): EUI-64 flips 0x02 of the first byte, ff:fe in the middle.
        assertEquals("0a:58:0a:f4:01:01", client.sw().gatewayMac());
        final InetAddress gatewayLinkLocal = Ip.parse("fe80::858:aff:fef4:101");
        final InetAddress clientLinkLocal = OvnNames.linkLocal(client.mac());
        solicit(client, clientLinkLocal, gatewayLinkLocal, client.mac());
        assertAdvertisement(advertisement(client), client, clientLinkLocal, gatewayLinkLocal, client.sw().gatewayMac(), true);
    }

    @Test
    void aPodsLinkLocalSolicitationForAPodIsAnswered() throws Exception
    {
        final BridgeLayout.PodPort client = pod("client-1");
        final BridgeLayout.PodPort web = pod("web-1");
        final InetAddress clientLinkLocal = OvnNames.linkLocal(client.mac());
        solicit(client, clientLinkLocal, web.ip(true).orElseThrow(), client.mac());
        assertAdvertisement(advertisement(client), client, clientLinkLocal, web.ip(true).orElseThrow(), web.mac(), false);
    }

    @Test
    void anotherPortsLinkLocalSourceIsSpoofed() throws Exception
    {
        final BridgeLayout.PodPort client = pod("client-1");
        solicit(client, OvnNames.linkLocal(pod("web-1").mac()), client.sw().gateway(true).orElseThrow(), client.mac());
        assertEquals(0, out.size(), "no answer");
        assertEquals(List.of(50), met(Stage.PORT_SECURITY), "dropped by port security");
    }

    @Test
    void duplicateAddressDetectionPassesPortSecurityAndIsFloodedNeverAnswered() throws Exception
    {
        final BridgeLayout.PodPort client = pod("client-1");
        final InetAddress unspecified = Ip.parse("::");
        for (final InetAddress tentative : new InetAddress[] {Ip.parse("fd00:10:244:1::99"), pod("web-1").ip(true).orElseThrow(),
            client.ip(true).orElseThrow(), client.sw().gateway(true).orElseThrow()})
        {
            solicit(client, unspecified, tentative, null);
            assertUnanswered(client, "to DAD for " + Ip.text(tentative));
        }
        assertEquals(List.of(110), met(Stage.PORT_SECURITY), "admitted by the port's DAD rule, never its drop");
        assertEquals(List.of(100), met(Stage.ND_PORT_SECURITY), "no source link-layer option: admitted");
        assertTrue(met(Stage.ARP_RESPONDER).stream().allMatch(p -> p >= 105), "left by the responder's DAD rules, never answered: "
            + met(Stage.ARP_RESPONDER));
    }

    @Test
    void aDadProbeWithASourceLinkLayerOptionIsDropped() throws Exception
    {
        // RFC 4861 7.1.1: a solicitation from :: must not carry the option; port security only lets through what OVN's would.
        final BridgeLayout.PodPort client = pod("client-1");
        solicit(client, Ip.parse("::"), Ip.parse("fd00:10:244:1::99"), pod("web-1").mac());
        assertEquals(0, out.size());
        assertEquals(List.of(0), met(Stage.ND_PORT_SECURITY), "a MAC not the port's: the ND port security's drop");
    }
}
