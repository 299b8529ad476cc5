package dev.junction.control.diff;

import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.flows.GatewayPort;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.ManifestLoader;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Wireshark's dissectors judge what the gateway routers send (manifests/egress through
 * {@code junction replay --manifests}, the oracle set's seeded traffic): every frame out of an
 * external port decodes as IPv4 with a correct header checksum and TCP/UDP checksum after SNAT,
 * from that router's node address or the EgressIP's address, with the router's MAC.
 */
class EgressTsharkTest
{
    @Test
    void tsharkDecodesWhatLeavesTheCluster() throws Exception
    {
        TunnelTsharkTest.requireTshark();
        final Path manifests = Path.of("src/test/resources/manifests/egress");
        final ManifestLoader.Result loaded = ManifestLoader.load(manifests);
        final FlowCompiler.Compiled compiled = FlowCompiler.cluster(loaded.model());
        final ManifestTrafficGenerator.Traffic traffic = new ManifestTrafficGenerator(compiled, loaded.model(), 0xE6, false)
            .generate(200);
        final Path dir = Files.createTempDirectory("junction-egress-tshark-");
        final List<String> written = new FlowCaseGenerator.FlowCase("egress", compiled.flowsText(), traffic.inputs(), List.of())
            .writeTo(dir);
        final List<String> args = new ArrayList<>(List.of("--manifests", manifests.toString()));
        for (int i = 0; i < written.size(); i++)
        {
            if (written.get(i).equals("--in"))
            {
                args.addAll(written.subList(i, i + 2));
            }
        }
        args.addAll(List.of("--out", dir.resolve("out").toString(), "--ports",
            Arrays.stream(compiled.layout().ofports()).mapToObj(Integer::toString).collect(Collectors.joining(","))));
        final DifferentialOracleTest.JunctionRun run = DifferentialOracleTest.runJunction(args,
            DifferentialOracleTest.SHARED_STATE_WORKERS);
        assertEquals(0, run.exitCode(), run.output());
        int frames = 0;
        int transport = 0;
        for (final GatewayPort g : compiled.layout().gateways())
        {
            final Path pcap = dir.resolve("out/" + g.ofport() + ".pcap");
            assertTrue(Files.exists(pcap), g.router() + " sent something");
            final Set<String> sources = Set.of(Ip.text(g.ip()), "172.18.0.100");
            for (final String line : TunnelTsharkTest.tshark(pcap, "eth.src", "ip.src", "ip.checksum.status", "ip.proto",
                "tcp.checksum.status", "udp.checksum.status"))
            {
                final String[] f = line.split("\\|", -1);
                assertEquals(g.mac(), f[0], line);
                assertTrue(sources.contains(f[1]), "SNATed source: " + line);
                assertEquals("1", f[2], "IPv4 header checksum: " + line);
                if (f[3].equals("6") || f[3].equals("17"))
                {
                    assertEquals("1", f[3].equals("6") ? f[4] : f[5], "transport checksum: " + line);
                    transport++;
                }
                frames++;
            }
        }
        assertTrue(frames > 50 && transport > 50, "enough left the cluster to judge: " + frames + " frames, " + transport + " TCP/UDP");
        DifferentialOracleTest.deleteRecursively(dir);
    }
}
