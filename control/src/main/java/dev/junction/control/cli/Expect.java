package dev.junction.control.cli;

import dev.junction.datapath.pcap.PcapReader;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** {@code replay --expect DIR}: compares per-port outputs packet by packet (bytes, not timestamps). */
final class Expect
{
    private static final Pattern PORT_PCAP = Pattern.compile("\\d+\\.pcap");

    private Expect()
    {
    }

    static boolean compare(final Path actualDir, final Path expectedDir, final PrintStream out) throws IOException
    {
        final TreeSet<String> names = new TreeSet<>();
        names.addAll(pcaps(actualDir));
        names.addAll(pcaps(expectedDir));
        boolean same = true;
        for (final String name : names)
        {
            final List<byte[]> a = read(actualDir.resolve(name));
            final List<byte[]> e = read(expectedDir.resolve(name));
            final String port = name.substring(0, name.length() - 5);
            for (int i = 0; i < Math.max(a.size(), e.size()); i++)
            {
                final byte[] x = i < a.size() ? a.get(i) : null;
                final byte[] y = i < e.size() ? e.get(i) : null;
                if (x == null || y == null || !Arrays.equals(x, y))
                {
                    same = false;
                    out.println("port " + port + ": packet " + (i + 1) + " differs (junction " + a.size()
                        + " packets, expected " + e.size() + ")");
                    out.println("  junction: " + describe(x));
                    out.println("  expected: " + describe(y));
                    if (x != null && y != null)
                    {
                        out.println("  first difference at byte " + Arrays.mismatch(x, y));
                    }
                    break;
                }
            }
        }
        if (same)
        {
            out.println("replay matches " + expectedDir + " (" + names.size() + " ports)");
        }
        return same;
    }

    private static String describe(final byte[] b)
    {
        if (b == null)
        {
            return "(none)";
        }
        final StringBuilder sb = new StringBuilder(b.length + " bytes ");
        for (final byte x : b)
        {
            sb.append(String.format("%02x", x));
        }
        return sb.toString();
    }

    private static List<String> pcaps(final Path dir) throws IOException
    {
        if (!Files.isDirectory(dir))
        {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir))
        {
            return s.map(p -> p.getFileName().toString()).filter(n -> PORT_PCAP.matcher(n).matches()).toList();
        }
    }

    private static List<byte[]> read(final Path file) throws IOException
    {
        final List<byte[]> frames = new ArrayList<>();
        if (!Files.exists(file))
        {
            return frames;
        }
        try (PcapReader r = PcapReader.open(file))
        {
            while (r.next())
            {
                frames.add(Arrays.copyOf(r.frame(), r.length()));
            }
        }
        return frames;
    }
}
