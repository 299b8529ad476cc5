package dev.junction.control.diff;

import dev.junction.control.cli.JunctionCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's demo (examples/two-pods) against Open vSwitch: identical output pcaps, and the
 * per-rule counters and normalized flow text of {@code flow-stats.txt} equal to what
 * {@code ovs-ofctl dump-flows} printed, less the wall-clock columns.
 */
class ExampleOracleTest
{
    private static final Pattern CLOCK = Pattern.compile(" duration=[0-9.]+s,| idle_age=[0-9]+,");

    @TempDir
    Path tmp;

    @Test
    void twoPodsDemoMatchesOpenVswitch() throws Exception
    {
        final Path example = exampleDir("two-pods");
        final PcapCompare.Report report = replayBoth("two-pods", List.of("--flows", example.resolve("flows.txt").toString(),
            "--in", "1=" + example.resolve("pod-a.pcap"), "--in", "2=" + example.resolve("pod-b.pcap")));
        assertTrue(report.packetsCompared() >= 5, "the demo must forward packets: " + report.packetsCompared());
    }

    /**
     * The service demo (examples/service: conntrack, a select group, DNAT, learned ClientIP
     * affinity) against Open vSwitch: every packet of every conversation delivered, outputs,
     * rule counters (learned flows included) and the conntrack table as OVS's.
     */
    @Test
    void serviceDemoMatchesOpenVswitch() throws Exception
    {
        final Path example = exampleDir("service");
        final PcapCompare.Report report = replayBoth("service", List.of("--flows", example.resolve("flows.txt").toString(),
            "--groups", example.resolve("groups.txt").toString(),
            "--in", "1=" + example.resolve("clients.pcap"), "--in", "2=" + example.resolve("pod-b.pcap"),
            "--in", "3=" + example.resolve("pod-d.pcap")));
        assertEquals(24, report.packetsCompared(), "every packet of the three conversations is delivered");
        final String table = Files.readString(tmp.resolve("service-expected/conntrack.txt"));
        assertEquals(3, table.lines().filter(l -> l.contains("state=TIME_WAIT")).count(), table);
        assertEquals(table, Files.readString(tmp.resolve("service-actual/conntrack.txt")));
    }

    /**
     * Replays {@code args} through the oracle and through {@code junction replay --expect} into
     * {@code tmp/NAME-expected} and {@code tmp/NAME-actual}; asserts identical outputs and rule
     * counters and returns the comparison.
     */
    private PcapCompare.Report replayBoth(final String name, final List<String> args) throws Exception
    {
        final OracleRunner oracle = OracleRunner.require();
        final Path expected = tmp.resolve(name + "-expected");
        final Path actual = tmp.resolve(name + "-actual");
        final List<String> oracleArgs = new java.util.ArrayList<>(args);
        oracleArgs.addAll(List.of("--out", expected.toString()));
        final OracleRunner.Result r = oracle.run(oracleArgs, tmp, OracleRunner.DEFAULT_TIMEOUT);
        assertTrue(r.ok(), "oracle failed: " + r.stderr());
        final List<String> replayArgs = new java.util.ArrayList<>(List.of("replay"));
        replayArgs.addAll(args);
        replayArgs.addAll(List.of("--out", actual.toString(), "--expect", expected.toString()));
        assertEquals(0, JunctionCli.execute(replayArgs.toArray(new String[0])));
        final PcapCompare.Report report = PcapCompare.compare(expected, actual);
        assertTrue(report.identical(), report.text());
        assertEquals(rules(expected.resolve("flow-stats.txt")), rules(actual.resolve("flow-stats.txt")));
        // The same judge for the replay through the pipeline (conntrack and learned affinity: one worker).
        for (final int workers : DifferentialOracleTest.SHARED_STATE_WORKERS)
        {
            final Path piped = tmp.resolve(name + "-actual-workers-" + workers);
            final List<String> pipedArgs = new java.util.ArrayList<>(List.of("replay", "--workers", Integer.toString(workers)));
            pipedArgs.addAll(args);
            pipedArgs.addAll(List.of("--out", piped.toString(), "--expect", expected.toString()));
            assertEquals(0, JunctionCli.execute(pipedArgs.toArray(new String[0])), "through the pipeline, " + workers + " worker(s)");
            assertTrue(PcapCompare.compare(expected, piped).identical(), "through the pipeline, " + workers + " worker(s)");
            assertEquals(rules(expected.resolve("flow-stats.txt")), rules(piped.resolve("flow-stats.txt")));
        }
        return report;
    }

    /** Rule lines without the header and the wall-clock columns, sorted (OVS lists learned flows in hash order). */
    private static String rules(final Path file) throws Exception
    {
        return Files.readAllLines(file).stream()
            .filter(l -> l.startsWith(" cookie="))
            .map(l -> CLOCK.matcher(l).replaceAll(""))
            .sorted()
            .collect(Collectors.joining("\n"));
    }

    private static Path exampleDir(final String name)
    {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent())
        {
            final Path candidate = dir.resolve("examples/" + name);
            if (Files.isDirectory(candidate))
            {
                return candidate;
            }
        }
        throw new IllegalStateException("examples/" + name + " not found above " + Path.of("").toAbsolutePath());
    }
}
