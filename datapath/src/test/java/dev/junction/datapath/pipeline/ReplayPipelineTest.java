package dev.junction.datapath.pipeline;

import dev.junction.datapath.Replay;
import dev.junction.datapath.pcap.PcapInput;
import dev.junction.datapath.pcap.PcapWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code replay --workers N}: 2,000 flows from two ports, outputs to three ports that mix the
 * flows of every worker (a rule per address class, a flood-like double output, a table swap in
 * the middle); through the pipeline with 1, 2 and 3 workers every output file equals the
 * single-thread replay's byte for byte, timestamps included.
 */
class ReplayPipelineTest
{
    private static final int FLOWS = 2_000;
    private static final int PACKETS = 20_000;

    @Test
    void pipelineOutputsEqualTheSingleThreadReplay(@TempDir final Path dir) throws Exception
    {
        final SplittableRandom random = new SplittableRandom(42);
        final Path in1 = dir.resolve("in1.pcap");
        final Path in3 = dir.resolve("in3.pcap");
        try (PcapWriter a = new PcapWriter(in1); PcapWriter b = new PcapWriter(in3))
        {
            final int[] seq = new int[FLOWS];
            for (int i = 0; i < PACKETS; i++)
            {
                final int flow = random.nextInt(FLOWS);
                final byte[] frame = TestFrames.frame(flow, seq[flow]++);
                // Equal timestamps on both inputs sometimes: ties go by --in order.
                final long ts = 1_000_000_000L + (i / 2) * 1_000L;
                (flow % 2 == 0 ? a : b).write(ts, frame, 0, frame.length);
            }
        }
        final List<PcapInput> inputs = List.of(new PcapInput(1, in1), new PcapInput(3, in3));
        final Path reference = run(inputs, dir.resolve("single"), 0);
        for (final int workers : new int[] {1, 2, 3})
        {
            final Path out = run(inputs, dir.resolve("workers-" + workers), workers);
            final List<String> names;
            try (var files = Files.list(reference))
            {
                names = files.map(p -> p.getFileName().toString()).filter(n -> !n.equals("megaflows.txt")).sorted().toList();
            }
            assertTrue(names.containsAll(List.of("2.pcap", "3.pcap", "4.pcap", "flow-stats.txt")), names.toString());
            for (final String name : names)
            {
                assertEquals(-1L, Files.mismatch(reference.resolve(name), out.resolve(name)),
                    name + " with " + workers + " workers");
            }
        }
    }

    private static Path run(final List<PcapInput> inputs, final Path out, final int workers) throws Exception
    {
        new Replay(TestFrames.tables("priority=10,udp actions=output:2,output:4", "priority=10,tcp actions=output:4",
            "priority=5,ipv6 actions=output:2", "priority=1 actions=drop"), inputs, new int[] {1, 2, 3, 4}, out)
            .swapAt(PACKETS / 2, TestFrames.tables("priority=10,udp actions=output:3", "priority=10,tcp actions=output:4,output:2",
                "priority=5,ipv6 actions=output:3"))
            .workers(workers).run(null);
        return out;
    }
}
