package dev.junction.control.diff;

import dev.junction.datapath.pcap.PcapReader;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Compares two output directories of {@code replay} port by port: the set of {@code N.pcap}
 * files, then each port's frames in order, bytes only (timestamps are wall clock on the OVS side).
 * A difference is reported for a human: port, packet index, lengths, first differing byte, both
 * frames in hex and, when tshark is installed, both frames decoded.
 */
final class PcapCompare
{
    private static final Pattern PORT_FILE = Pattern.compile("(\\d+)\\.pcap");
    private static final int MAX_DECODE_LINES = 80;
    private static final int MAX_LISTED_DIFFERENCES = 10;

    record Report(boolean identical, String text, int packetsCompared)
    {
    }

    private PcapCompare()
    {
    }

    static Report compare(final Path expectedDir, final Path actualDir) throws IOException
    {
        final Set<Integer> expectedPorts = ports(expectedDir);
        final Set<Integer> actualPorts = ports(actualDir);
        final Set<Integer> all = new TreeSet<>(expectedPorts);
        all.addAll(actualPorts);

        final StringBuilder report = new StringBuilder();
        int compared = 0;
        if (!expectedPorts.equals(actualPorts))
        {
            report.append(String.format("output files differ: expected (OVS) %s, actual (Junction) %s%n",
                names(expectedPorts), names(actualPorts)));
        }
        for (final int port : all)
        {
            final Path expectedFile = expectedDir.resolve(port + ".pcap");
            final Path actualFile = actualDir.resolve(port + ".pcap");
            final List<byte[]> expected = expectedPorts.contains(port) ? readFrames(expectedFile) : List.of();
            final List<byte[]> actual = actualPorts.contains(port) ? readFrames(actualFile) : List.of();
            compared += Math.min(expected.size(), actual.size());
            comparePort(port, expected, actual, expectedFile, actualFile, report);
        }
        return new Report(report.length() == 0, report.toString(), compared);
    }

    private static void comparePort(
        final int port,
        final List<byte[]> expected,
        final List<byte[]> actual,
        final Path expectedFile,
        final Path actualFile,
        final StringBuilder report)
    {
        final List<Integer> differing = new ArrayList<>();
        final int common = Math.min(expected.size(), actual.size());
        for (int i = 0; i < common; i++)
        {
            if (!Arrays.equals(expected.get(i), actual.get(i)))
            {
                differing.add(i);
            }
        }
        if (differing.isEmpty() && expected.size() == actual.size())
        {
            return;
        }

        report.append(String.format("port %d: expected %d packets, actual %d packets", port, expected.size(),
            actual.size()));
        if (!differing.isEmpty())
        {
            report.append(String.format(", %d of the first %d differ %s", differing.size(), common,
                differing.size() > MAX_LISTED_DIFFERENCES ?
                differing.subList(0, MAX_LISTED_DIFFERENCES) + "..." : differing));
        }
        report.append('\n');

        final int index = differing.isEmpty() ? common : differing.get(0);
        final byte[] e = index < expected.size() ? expected.get(index) : null;
        final byte[] a = index < actual.size() ? actual.get(index) : null;
        if (e != null && a != null)
        {
            final int offset = firstDifference(e, a);
            report.append(String.format("  first difference: packet #%d (0-based), lengths %d (expected) vs %d " +
                "(actual), first differing byte at offset %d (0x%x)%s%n", index, e.length, a.length, offset, offset,
                offset < Math.min(e.length, a.length) ?
                String.format(": expected 0x%02x, actual 0x%02x", e[offset] & 0xff, a[offset] & 0xff) : ""));
            report.append("  expected (OVS):\n").append(hexDump(e, offset, "    "));
            report.append("  actual (Junction):\n").append(hexDump(a, offset, "    "));
        }
        else
        {
            final byte[] extra = e != null ? e : a;
            report.append(String.format("  packet #%d (0-based) only in %s, %d bytes:%n", index,
                e != null ? "expected (OVS)" : "actual (Junction)", extra.length));
            report.append(hexDump(extra, -1, "    "));
        }
        if (e != null)
        {
            appendDecode(report, "expected (OVS)", expectedFile, index);
        }
        if (a != null)
        {
            appendDecode(report, "actual (Junction)", actualFile, index);
        }
    }

    private static void appendDecode(final StringBuilder report, final String label, final Path file, final int index)
    {
        final String decoded = tsharkDecode(file, index);
        if (decoded != null)
        {
            report.append("  tshark, ").append(label).append(":\n");
            decoded.lines().forEach(line -> report.append("    ").append(line).append('\n'));
        }
    }

    static int firstDifference(final byte[] a, final byte[] b)
    {
        final int mismatch = Arrays.mismatch(a, b);
        return mismatch < 0 ? Math.min(a.length, b.length) : mismatch;
    }

    static List<byte[]> readFrames(final Path file) throws IOException
    {
        final List<byte[]> frames = new ArrayList<>();
        try (PcapReader reader = PcapReader.open(file))
        {
            while (reader.next())
            {
                frames.add(Arrays.copyOf(reader.frame(), reader.length()));
            }
        }
        return frames;
    }

    /** Ports that have an {@code N.pcap} in {@code dir}; none when the directory is missing. */
    static Set<Integer> ports(final Path dir) throws IOException
    {
        final Set<Integer> ports = new TreeSet<>();
        if (!Files.isDirectory(dir))
        {
            return ports;
        }
        try (Stream<Path> files = Files.list(dir))
        {
            files.forEach(f ->
            {
                final Matcher m = PORT_FILE.matcher(f.getFileName().toString());
                if (m.matches())
                {
                    ports.add(Integer.parseInt(m.group(1)));
                }
            });
        }
        return ports;
    }

    private static String names(final Set<Integer> ports)
    {
        final List<String> names = new ArrayList<>();
        ports.forEach(p -> names.add(p + ".pcap"));
        return names.isEmpty() ? "(none)" : String.join(" ", names);
    }

    /** 16 bytes a line with offsets; a caret line marks the byte at {@code mark}, if any. */
    static String hexDump(final byte[] b, final int mark, final String indent)
    {
        final StringBuilder s = new StringBuilder();
        for (int row = 0; row < b.length; row += 16)
        {
            s.append(indent).append(String.format("%04x ", row));
            for (int i = row; i < row + 16 && i < b.length; i++)
            {
                s.append(i % 8 == 0 ? "  " : " ").append(String.format("%02x", b[i] & 0xff));
            }
            s.append('\n');
            if (mark >= row && mark < row + 16)
            {
                final int column = mark - row;
                s.append(indent).append(" ".repeat(5 + column * 3 + (column >= 8 ? 2 : 1) + 1)).append("^^\n");
            }
        }
        if (mark >= b.length && mark >= 0)
        {
            s.append(indent).append("(ends before offset ").append(mark).append(")\n");
        }
        return s.toString();
    }

    /**
     * tshark's verbose decode of packet {@code index} (0-based) of {@code file} with checksum
     * validation on, or null when tshark is not installed or fails.
     */
    static String tsharkDecode(final Path file, final int index)
    {
        final Path tshark = OracleRunner.findExecutable("tshark");
        if (tshark == null)
        {
            return null;
        }
        try
        {
            final Path out = Files.createTempFile("tshark-", ".txt");
            try
            {
                final Process p = new ProcessBuilder(tshark.toString(), "-r", file.toString(), "-V",
                    "-Y", "frame.number == " + (index + 1),
                    "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
                    "-o", "udp.check_checksum:TRUE")
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .start();
                if (!p.waitFor(30, TimeUnit.SECONDS))
                {
                    p.destroyForcibly();
                    return null;
                }
                final List<String> lines = new ArrayList<>();
                boolean frameBlock = false;
                for (final String line : Files.readAllLines(out, StandardCharsets.UTF_8))
                {
                    // Skip the body of the "Frame N:" block (arrival times differ and say nothing)
                    // and tshark's complaint about running as root.
                    if (line.startsWith("Running as user"))
                    {
                        continue;
                    }
                    if (!line.startsWith(" "))
                    {
                        frameBlock = line.startsWith("Frame ");
                        lines.add(line);
                    }
                    else if (!frameBlock)
                    {
                        lines.add(line);
                    }
                }
                if (lines.size() > MAX_DECODE_LINES)
                {
                    final int total = lines.size();
                    lines.subList(MAX_DECODE_LINES, total).clear();
                    lines.add("... (" + (total - MAX_DECODE_LINES) + " more lines)");
                }
                return String.join("\n", lines);
            }
            finally
            {
                Files.deleteIfExists(out);
            }
        }
        catch (final IOException ex)
        {
            return null;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
