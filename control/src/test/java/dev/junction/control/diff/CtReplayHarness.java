package dev.junction.control.diff;

import dev.junction.datapath.pcap.PcapWriter;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Helpers for the conntrack limit and timeout tests: traces with explicit pcap timestamps,
 * {@code junction replay} run in-process with {@code --json}, and readers for what it wrote
 * (per-port pcaps with timestamps, {@code conntrack.txt}, the JSON summary's conntrack object).
 */
final class CtReplayHarness
{
    /** A packet at an explicit pcap time, received on {@code port}. */
    record Timed(long ts, int port, byte[] frame)
    {
        @Override
        public boolean equals(final Object o)
        {
            return o instanceof Timed t && t.ts == ts && t.port == port && Arrays.equals(t.frame, frame);
        }

        @Override
        public int hashCode()
        {
            return Long.hashCode(ts) * 31 + Arrays.hashCode(frame);
        }

        @Override
        public String toString()
        {
            return String.format("t=%d.%06d port %d %d B", ts / 1_000_000_000L, ts % 1_000_000_000L / 1000, port,
                frame.length);
        }
    }

    /** One replay's results. */
    record Run(Path out, String json)
    {
        /** A number of the JSON summary's conntrack object ({@code "connections"}: the global count). */
        long ct(final String key)
        {
            final String obj = json.substring(json.indexOf("\"conntrack\": {"));
            final Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\": (-?\\d+|null)").matcher(obj);
            assertTrue(m.find(), "no \"" + key + "\" in the conntrack object of " + json);
            return "null".equals(m.group(1)) ? -1 : Long.parseLong(m.group(1));
        }

        /** {@code {connections, limit}} of zone {@code zone} in the summary (limit -1: null), or null if absent. */
        long[] zone(final int zone)
        {
            final Matcher m = Pattern.compile("\"" + zone + "\": \\{\"connections\": (\\d+), \"limit\": (\\d+|null)\\}")
                .matcher(json.substring(json.indexOf("\"zones\": {")));
            if (!m.find())
            {
                return null;
            }
            return new long[]{ Long.parseLong(m.group(1)), "null".equals(m.group(2)) ? -1 : Long.parseLong(m.group(2)) };
        }

        /** What port {@code port} sent, in order, with timestamps (empty when it sent nothing). */
        List<Timed> sent(final int port) throws IOException
        {
            return readPcap(out.resolve(port + ".pcap"), port);
        }

        /** {@code conntrack.txt} lines. */
        List<String> conntrack() throws IOException
        {
            return Files.readString(out.resolve("conntrack.txt"), StandardCharsets.UTF_8).lines()
                .filter(l -> !l.isBlank()).toList();
        }
    }

    private CtReplayHarness()
    {
    }

    /**
     * Writes {@code flows.txt} and one {@code in-N.pcap} per receiving port into {@code dir}
     * (packets in time order; equal times keep list order); returns the --flows/--in arguments.
     */
    static List<String> writeCase(final Path dir, final String flows, final List<Timed> packets) throws IOException
    {
        Files.createDirectories(dir);
        final Path flowsFile = dir.resolve("flows.txt");
        Files.writeString(flowsFile, flows, StandardCharsets.UTF_8);
        final List<String> args = new ArrayList<>(List.of("--flows", flowsFile.toString()));
        final Map<Integer, List<Timed>> perPort = new TreeMap<>();
        packets.stream().sorted(Comparator.comparingLong(Timed::ts))
            .forEach(p -> perPort.computeIfAbsent(p.port(), k -> new ArrayList<>()).add(p));
        for (final Map.Entry<Integer, List<Timed>> e : perPort.entrySet())
        {
            final Path pcap = dir.resolve("in-" + e.getKey() + ".pcap");
            try (PcapWriter w = new PcapWriter(pcap))
            {
                for (final Timed p : e.getValue())
                {
                    w.write(p.ts(), p.frame(), 0, p.frame().length);
                }
            }
            args.add("--in");
            args.add(e.getKey() + "=" + pcap);
        }
        return args;
    }

    /** Runs {@code junction replay ARGS --out OUT --ports 1,2,3,4 --json EXTRA...} in-process; it must exit 0. */
    static Run replay(final List<String> caseArgs, final Path out, final String... extra)
    {
        final List<String> args = new ArrayList<>(DifferentialOracleTest.replayArgs(caseArgs, out));
        args.add("--json");
        args.addAll(List.of(extra));
        final DifferentialOracleTest.JunctionRun run = DifferentialOracleTest.runJunction(args,
            DifferentialOracleTest.SHARED_STATE_WORKERS);
        assertNull(run.thrown(), () -> "junction replay threw: " + run.thrown());
        assertEquals(0, run.exitCode(), () -> "junction replay " + args + " exited " + run.exitCode() + ":\n"
            + run.output());
        final String json = run.output().lines().filter(l -> l.startsWith("{\"packets_in\"")).findFirst()
            .orElseThrow(() -> new AssertionError("no JSON summary in:\n" + run.output()));
        return new Run(out, json);
    }

    /** A classic pcap's records as (timestamp, frame); empty when the file does not exist. */
    static List<Timed> readPcap(final Path file, final int port) throws IOException
    {
        final List<Timed> out = new ArrayList<>();
        if (!Files.exists(file))
        {
            return out;
        }
        final ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        final int magic = b.getInt(0);
        if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d)
        {
            b.order(ByteOrder.BIG_ENDIAN);
        }
        final long scale = b.getInt(0) == 0xa1b23c4d ? 1 : 1000;
        int off = 24;
        while (off + 16 <= b.limit())
        {
            final long sec = b.getInt(off) & 0xffffffffL;
            final long sub = b.getInt(off + 4) & 0xffffffffL;
            final int len = b.getInt(off + 8);
            final byte[] frame = Arrays.copyOfRange(b.array(), off + 16, off + 16 + len);
            out.add(new Timed(sec * 1_000_000_000L + sub * scale, port, frame));
            off += 16 + len;
        }
        return out;
    }

    /** {@code frame} with an 802.1Q tag (TPID 0x8100, PCP 0, VID {@code vid}) pushed after the MACs. */
    static byte[] pushVlan(final byte[] frame, final int vid)
    {
        final byte[] f = new byte[frame.length + 4];
        System.arraycopy(frame, 0, f, 0, 12);
        f[12] = (byte)0x81;
        f[13] = 0x00;
        f[14] = (byte)(vid >>> 8 & 0x0f);
        f[15] = (byte)vid;
        System.arraycopy(frame, 12, f, 16, frame.length - 12);
        return f;
    }

    /** A fresh directory under the system temp dir (/tmp). */
    static Path tempDir(final String name) throws IOException
    {
        return Files.createTempDirectory("junction-" + name + "-");
    }

    static void delete(final Path dir) throws IOException
    {
        DifferentialOracleTest.deleteRecursively(dir);
    }
}
