package dev.junction.control.diff;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.PacketParser;
import dev.junction.flowtable.ofp.FlowParseException;
import dev.junction.flowtable.ofp.FlowParser;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A flow-table change mid-trace, judged by OVS. Junction replays a trace whose first round runs
 * under flows A and whose second round (the same packets again) under flows B, swapped with
 * {@code --flows-at}, so the second round meets megaflows of the first that revalidation must
 * keep, update or remove. The expected output is OVS's: A on the first round, then B on the
 * second, each port's output concatenated. IPv4 packets whose nw_proto reads 0 are left out:
 * their fate depends on which packet installed a megaflow (OVS history), which a fresh OVS run
 * per round cannot reproduce.
 */
class FlowSwapOracleTest
{
    static final long SEED = Long.decode(System.getProperty("junction.swap.seed", "0x5A4B"));

    /** Case indices whose two flow sets both load (refusals are judged by the plain differential test). */
    static IntStream cases()
    {
        final FlowCaseGenerator generator = new FlowCaseGenerator(SEED);
        return IntStream.iterate(0, i -> i + 1)
            .filter(i -> parses(generator.generate(i).flows()) && parses(generator.generate(i + 100_000).flows()))
            .limit(Integer.getInteger("junction.swap.cases", 60));
    }

    @ParameterizedTest(name = "swap case {0}")
    @MethodSource("cases")
    void tableSwapMidTraceMatchesOpenVswitch(final int caseIndex) throws Exception
    {
        final OracleRunner oracle = OracleRunner.require();
        final FlowCaseGenerator generator = new FlowCaseGenerator(SEED);
        final FlowCaseGenerator.FlowCase a = generator.generate(caseIndex);
        final String flowsB = generator.generate(caseIndex + 100_000).flows();
        final List<FlowCaseGenerator.Input> round1 = new ArrayList<>();
        final List<FlowCaseGenerator.Input> round2 = new ArrayList<>();
        long firstRoundPackets = 0;
        for (final FlowCaseGenerator.Input in : a.inputs())
        {
            final List<FlowCaseGenerator.Packet> kept = in.packets().stream()
                .filter(p -> !ipv4ProtoReadsZero(p.frame())).toList();
            // The generator appends the second round after the first: split each port in halves.
            final List<FlowCaseGenerator.Packet> all = in.packets();
            final List<FlowCaseGenerator.Packet> first = all.subList(0, all.size() / 2).stream()
                .filter(kept::contains).toList();
            final List<FlowCaseGenerator.Packet> second = all.subList(all.size() / 2, all.size()).stream()
                .filter(kept::contains).toList();
            round1.add(new FlowCaseGenerator.Input(in.port(), first));
            round2.add(new FlowCaseGenerator.Input(in.port(), second));
            firstRoundPackets += first.size();
        }
        final List<FlowCaseGenerator.Input> both = new ArrayList<>();
        for (int i = 0; i < round1.size(); i++)
        {
            final List<FlowCaseGenerator.Packet> packets = new ArrayList<>(round1.get(i).packets());
            packets.addAll(round2.get(i).packets());
            both.add(new FlowCaseGenerator.Input(round1.get(i).port(), packets));
        }

        final Path dir = Files.createTempDirectory("junction-swap-" + caseIndex + "-");
        boolean passed = false;
        try
        {
            final List<String> args1 = new FlowCaseGenerator.FlowCase("a", a.flows(), round1, List.of())
                .writeTo(dir.resolve("round1"));
            final List<String> args2 = new FlowCaseGenerator.FlowCase("b", flowsB, round2, List.of())
                .writeTo(dir.resolve("round2"));
            final List<String> argsJ = new FlowCaseGenerator.FlowCase("ab", a.flows(), both, List.of())
                .writeTo(dir.resolve("junction"));
            final OracleRunner.Result ovs1 = oracle.start(
                DifferentialOracleTest.replayArgs(args1, dir.resolve("round1/expected")), dir.resolve("round1"))
                .await(OracleRunner.DEFAULT_TIMEOUT);
            final OracleRunner.Result ovs2 = oracle.start(
                DifferentialOracleTest.replayArgs(args2, dir.resolve("round2/expected")), dir.resolve("round2"))
                .await(OracleRunner.DEFAULT_TIMEOUT);
            assertTrue(ovs1.ok() && ovs2.ok(), "the oracle failed: " + ovs1.stderr() + ovs2.stderr());

            final List<String> junctionArgs = new ArrayList<>(
                DifferentialOracleTest.replayArgs(argsJ, dir.resolve("actual")));
            junctionArgs.add("--flows-at");
            junctionArgs.add(firstRoundPackets + "=" + dir.resolve("round2/flows.txt"));
            final DifferentialOracleTest.JunctionRun junction = DifferentialOracleTest.runJunction(junctionArgs);
            assertEquals(0, junction.exitCode(), "junction replay failed: " + junction.output());

            final Path expected = dir.resolve("expected");
            concatenate(dir.resolve("round1/expected"), dir.resolve("round2/expected"), expected);
            final PcapCompare.Report report = PcapCompare.compare(expected, dir.resolve("actual"));
            if (!report.identical())
            {
                fail("Junction disagrees with OVS across a table swap (seed " + SEED + ", case " + caseIndex
                    + ", swap before packet " + firstRoundPackets + "); kept in " + dir + "\n" + report.text());
            }
            passed = true;
        }
        finally
        {
            if (passed)
            {
                DifferentialOracleTest.deleteRecursively(dir);
            }
        }
    }

    private static boolean parses(final String flows)
    {
        try
        {
            new FlowParser("flows").parseAll(Arrays.asList(flows.split("\n")));
            return true;
        }
        catch (final FlowParseException ex)
        {
            return false;
        }
    }

    private static boolean ipv4ProtoReadsZero(final byte[] frame)
    {
        final Packet p = new Packet(2048);
        p.wrap(frame, 0, frame.length);
        final FlowKey k = new FlowKey();
        new PacketParser(1).parse(p, k);
        return k.isIpv4() && k.nwProto() == 0;
    }

    /** Each port's capture of round 1 followed by its records of round 2 (classic pcap: skip the second header). */
    private static void concatenate(final Path first, final Path second, final Path out) throws IOException
    {
        Files.createDirectories(out);
        final List<String> names = new ArrayList<>();
        for (final Path d : List.of(first, second))
        {
            try (var files = Files.list(d))
            {
                files.map(f -> f.getFileName().toString()).filter(n -> n.matches("\\d+\\.pcap"))
                    .filter(n -> !names.contains(n)).forEach(names::add);
            }
        }
        for (final String name : names)
        {
            final Path a = first.resolve(name);
            final Path b = second.resolve(name);
            final Path o = out.resolve(name);
            if (Files.exists(a))
            {
                Files.copy(a, o);
                if (Files.exists(b))
                {
                    final byte[] rest = Files.readAllBytes(b);
                    Files.write(o, Arrays.copyOfRange(rest, 24, rest.length), StandardOpenOption.APPEND);
                }
            }
            else
            {
                Files.copy(b, o);
            }
        }
    }
}
