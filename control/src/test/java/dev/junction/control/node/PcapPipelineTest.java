package dev.junction.control.node;

import dev.junction.control.cli.JunctionCli;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A trace replayed through the daemon's real pipeline (pcap ports: the Disruptor ring, workers,
 * TX batches) gives what {@code junction replay} gives: with one worker the same frames in the
 * same order on every port; with two, the same frames per port (flows are pinned to workers by
 * RSS hash, so only the interleaving of different flows may differ). No root needed.
 */
class PcapPipelineTest
{
    @TempDir
    Path dir;

    @ParameterizedTest(name = "workers={0}")
    @ValueSource(ints = {1, 2})
    void daemonPipelineGivesWhatReplayGives(final int workers) throws Exception
    {
        // The service demo's clients: conntrack, a select group with DNAT, learned affinity, routing.
        final Path example = Path.of("..", "examples", "service").toAbsolutePath().normalize();
        final Path trace = example.resolve("clients.pcap");
        final Path flows = example.resolve("flows.txt");
        final Path groups = example.resolve("groups.txt");
        final Path replayOut = dir.resolve("replay");
        assertEquals(0, JunctionCli.execute("replay", "--flows", flows.toString(), "--groups", groups.toString(), "--in",
            "1=" + trace, "--out", replayOut.toString()));
        final StringBuilder ports = new StringBuilder("  - {port: 1, type: pcap, in: \"" + trace + "\", out: out-1.pcap}\n");
        for (int p = 2; p <= 4; p++)
        {
            ports.append("  - {port: ").append(p).append(", type: pcap, out: out-").append(p).append(".pcap}\n");
        }
        Files.writeString(dir.resolve("node.yaml"), "state_dir: state\nworkers: " + workers + "\nmetrics: 127.0.0.1:0"
            + "\nflows: \"" + flows
            + "\"\ngroups: \"" + groups + "\"\nports:\n" + ports);
        final NodeDaemon daemon = NodeDaemon.start(NodeConfig.load(dir.resolve("node.yaml")), new JsonLog(System.err));
        try
        {
            final long deadline = System.nanoTime() + 30_000_000_000L;
            while (!daemon.inputsDone() && System.nanoTime() < deadline)
            {
                Thread.sleep(20);
            }
            assertTrue(daemon.inputsDone(), "the trace was not read within 30 s");
            assertTrue(daemon.pipeline().awaitIdle(java.time.Duration.ofSeconds(10)));
            scrapeShowsTheTraffic(daemon.metricsPort());
        }
        finally
        {
            daemon.close();
        }
        int compared = 0;
        for (int p = 1; p <= 4; p++)
        {
            final List<String> expected = frames(replayOut.resolve(p + ".pcap"));
            final List<String> actual = frames(dir.resolve("out-" + p + ".pcap"));
            if (workers > 1)
            {
                expected.sort(null);
                actual.sort(null);
            }
            assertEquals(expected, actual, "port " + p + " through the pipeline vs replay");
            compared += expected.size();
        }
        assertTrue(compared > 10, "the example sends frames: " + compared);
    }

    /** The Prometheus endpoint reports what the pipeline did: packets per port and worker, hits, upcalls, conntrack. */
    private static void scrapeShowsTheTraffic(final int port) throws Exception
    {
        final java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        final String m = r.body();
        assertTrue(java.util.regex.Pattern.compile("junction_port_rx_packets_total\\{port=\"1\"\\} 15(\\.0)?\n").matcher(m).find(), m);
        assertTrue(java.util.regex.Pattern.compile("junction_port_tx_packets_total\\{port=\"2\"\\} [1-9]").matcher(m).find(), m);
        assertTrue(java.util.regex.Pattern.compile("junction_upcalls_total\\{worker=\"[0-9]\"\\} [1-9]").matcher(m).find(), m);
        assertTrue(java.util.regex.Pattern.compile("junction_cache_hits_total\\{tier=\"megaflow\",worker=\"[0-9]\"\\} [1-9]")
            .matcher(m).find(), m);
        assertTrue(java.util.regex.Pattern.compile("junction_conntrack_connections\\{zone=\"[0-9]+\"\\} [1-9]").matcher(m).find(), m);
        assertTrue(m.contains("junction_drops_total{reason=\"no_output\"}"), m);
    }

    private static List<String> frames(final Path pcap) throws Exception
    {
        final List<String> out = new ArrayList<>();
        if (!Files.exists(pcap))
        {
            return out;
        }
        try (dev.junction.datapath.pcap.PcapReader r = dev.junction.datapath.pcap.PcapReader.open(pcap))
        {
            while (r.next())
            {
                out.add(HexFormat.of().formatHex(Arrays.copyOf(r.frame(), r.length())));
            }
        }
        return out;
    }
}
