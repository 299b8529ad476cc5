package dev.junction.control.diff;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.ManifestLoader;
import dev.junction.datapath.Bridge;
import dev.junction.datapath.Datapath;
import dev.junction.datapath.cache.CacheConfig;
import dev.junction.datapath.pcap.PcapWriter;
import dev.junction.flowtable.Packet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

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
 * for an address the switch does not have, for the pod's own address, or with a source
 * link-layer option that is not the pod's MAC get no answer. ManifestOracleTest holds the same
 * flows to Open vSwitch, byte for byte, with the traffic generator's solicitations.
 */
class NdResponderTest
{
    private static final Path MANIFESTS = Path.of("src/test/resources/manifests/services-v6");

    private BridgeLayout layout;
    private Datapath datapath;
    private final List<int[]> outPorts = new ArrayList<>();
    private final List<byte[]> out = new ArrayList<>();

    @BeforeEach
    void compile() throws Exception
    {
        final ManifestLoader.Result r = ManifestLoader.load(MANIFESTS);
        final FlowCompiler.Compiled compiled = FlowCompiler.cluster(r.model());
        layout = compiled.layout();
        datapath = new Datapath(new Bridge(compiled.tables()), layout.ofports(), (port, p) ->
        {
            outPorts.add(new int[] {port});
            out.add(Arrays.copyOfRange(p.buf, p.start, p.end()));
        }, Datapath.DEFAULT_MTU, 1, CacheConfig.DEFAULTS, System::nanoTime);
    }

    private BridgeLayout.PodPort pod(final String name)
    {
        return layout.port("shop/" + name).orElseThrow();
    }

    /** What {@code from} sends to find {@code target}: to the solicited-node group, source link-layer option {@code sll}. */
    private void solicit(final BridgeLayout.PodPort from, final InetAddress target, final String sll)
    {
        final byte[] t = target.getAddress();
        final byte[] group = PacketFactory.ip6("ff02::1:ff00:0");
        System.arraycopy(t, 13, group, 13, 3);
        final byte[] ip = new PacketFactory.Ip6().src(from.ip(true).orElseThrow().getAddress()).dst(group).hopLimit(255)
            .build(PacketFactory.PROTO_ICMPV6, PacketFactory.neighborSolicitation(t, PacketFactory.mac(sll)),
                PacketFactory.Checksum.CORRECT);
        final byte[] frame = PacketFactory.ethernet(new byte[] {0x33, 0x33, (byte)0xff, t[13], t[14], t[15]},
            PacketFactory.mac(from.mac()), new int[0], PacketFactory.ETH_IPV6, ip);
        out.clear();
        outPorts.clear();
        final Packet p = new Packet(frame.length + Packet.HEADROOM);
        p.wrap(frame, 0, frame.length);
        p.inPort = from.ofport();
        datapath.receive(p, null);
    }

    /** The one advertisement {@code from} got back, decoded by tshark: field name -> value. */
    private String[] advertisement(final BridgeLayout.PodPort from) throws Exception
    {
        assertEquals(1, out.size(), "one frame out");
        assertEquals(from.ofport(), outPorts.get(0)[0], "back out of the soliciting pod's port");
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
        final String line = String.join("|", na);
        assertEquals(targetMac, na[0], "from the target's MAC: " + line);
        assertEquals(asker.mac(), na[1], "to the asker's MAC: " + line);
        assertEquals(target, Ip.parse(na[2]), "from the target address: " + line);
        assertEquals(asker.ip(true).orElseThrow(), Ip.parse(na[3]), "to the asker's address: " + line);
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
            assertEquals(List.of(), out.stream().map(Arrays::toString).toList(), "no answer for " + Ip.text(target));
        }
        // A source link-layer option naming another MAC fails port security.
        solicit(client, client.sw().gateway(true).orElseThrow(), pod("web-1").mac());
        assertEquals(0, out.size(), "spoofed source link-layer address");
    }
}
