package dev.junction.control.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code junction ct dump|flush}: the connection table, as {@code ovs-appctl dpctl/dump-conntrack}
 * and {@code dpctl/flush-conntrack}. The table comes from the {@code --out} directory of a replay
 * ({@code conntrack.txt}, which the OVS oracle writes in the same form, so both can be read);
 * a running datapath is the other source once Junction runs as a daemon.
 */
@Command(name = "ct", description = "Dump or flush connection tracking entries (dpctl/dump-conntrack form).",
    subcommands = {CtCommand.Dump.class, CtCommand.Flush.class})
final class CtCommand implements Runnable
{
    @Override
    public void run()
    {
        System.err.println("junction ct: use 'junction ct dump' or 'junction ct flush' (see --help)");
    }

    abstract static class Base implements Callable<Integer>
    {
        @Option(names = "--from", required = true, paramLabel = "DIR",
            description = "The --out directory of a junction replay (or of ovs-oracle).")
        Path dir;

        @Option(names = "--zone", paramLabel = "N", description = "Only connections of this zone.")
        Integer zone;

        @Option(names = "--json", description = "Print JSON instead of dpctl lines.")
        boolean json;

        List<String> read(final String cmd) throws IOException
        {
            final Path file = dir.resolve("conntrack.txt");
            if (!Files.isRegularFile(file))
            {
                throw new IOException(file + " not found: run junction replay --out " + dir + " first");
            }
            final List<String> lines = new ArrayList<>();
            for (final String l : Files.readAllLines(file))
            {
                if (!l.isBlank())
                {
                    lines.add(l.strip());
                }
            }
            return lines;
        }

        boolean inZone(final String line)
        {
            if (zone == null)
            {
                return true;
            }
            final Object z = parse(line).get("zone");
            return z == null ? zone == 0 : z.toString().equals(zone.toString());
        }
    }

    @Command(name = "dump", description = "Print connections, as ovs-appctl dpctl/dump-conntrack [zone=N].")
    static final class Dump extends Base
    {
        @Override
        public Integer call()
        {
            final List<String> lines;
            try
            {
                lines = read("dump");
            }
            catch (final IOException ex)
            {
                System.err.println("junction ct dump: " + ex.getMessage());
                return JunctionCli.EXIT_BAD_INPUT;
            }
            final List<String> shown = new ArrayList<>();
            for (final String l : lines)
            {
                if (inZone(l))
                {
                    shown.add(l);
                }
            }
            if (json)
            {
                final StringBuilder sb = new StringBuilder("{\"connections\": [");
                for (int i = 0; i < shown.size(); i++)
                {
                    sb.append(i == 0 ? "" : ", ");
                    writeJson(sb, parse(shown.get(i)));
                }
                System.out.println(sb.append("], \"count\": ").append(shown.size()).append('}'));
            }
            else
            {
                shown.forEach(System.out::println);
            }
            return 0;
        }
    }

    @Command(name = "flush", description = "Remove connections (all, or those of --zone), as dpctl/flush-conntrack.")
    static final class Flush extends Base
    {
        @Override
        public Integer call()
        {
            try
            {
                final List<String> lines = read("flush");
                final List<String> kept = new ArrayList<>();
                for (final String l : lines)
                {
                    if (!inZone(l))
                    {
                        kept.add(l);
                    }
                }
                Files.writeString(dir.resolve("conntrack.txt"), kept.isEmpty() ? "" : String.join("\n", kept) + "\n");
                final int flushed = lines.size() - kept.size();
                if (json)
                {
                    System.out.println("{\"flushed\": " + flushed + ", \"remaining\": " + kept.size() + "}");
                }
                else
                {
                    System.err.println("junction ct flush: " + flushed + " connection(s) removed, " + kept.size()
                        + " left");
                }
                return 0;
            }
            catch (final IOException ex)
            {
                System.err.println("junction ct flush: " + ex.getMessage());
                return JunctionCli.EXIT_BAD_INPUT;
            }
        }
    }

    /**
     * Parses one dpctl line ({@code tcp,orig=(src=..,...),reply=(...),zone=1,protoinfo=(state=..)})
     * into ordered keys; the leading bare word is the protocol; nested parentheses become maps.
     */
    static Map<String, Object> parse(final String line)
    {
        final int[] pos = {0};
        final Map<String, Object> m = parseItems(line, pos);
        return m;
    }

    private static Map<String, Object> parseItems(final String s, final int[] pos)
    {
        final Map<String, Object> out = new LinkedHashMap<>();
        while (pos[0] < s.length() && s.charAt(pos[0]) != ')')
        {
            final int start = pos[0];
            while (pos[0] < s.length() && "=,()".indexOf(s.charAt(pos[0])) < 0)
            {
                pos[0]++;
            }
            final String key = s.substring(start, pos[0]);
            if (pos[0] < s.length() && s.charAt(pos[0]) == '=')
            {
                pos[0]++;
                if (pos[0] < s.length() && s.charAt(pos[0]) == '(')
                {
                    pos[0]++;
                    out.put(key, parseItems(s, pos));
                    pos[0]++; // ')'
                }
                else
                {
                    final int v = pos[0];
                    while (pos[0] < s.length() && s.charAt(pos[0]) != ',' && s.charAt(pos[0]) != ')')
                    {
                        pos[0]++;
                    }
                    out.put(key, s.substring(v, pos[0]));
                }
            }
            else if (!key.isEmpty())
            {
                out.put(out.isEmpty() ? "proto" : key, out.isEmpty() ? key : Boolean.TRUE);
            }
            if (pos[0] < s.length() && s.charAt(pos[0]) == ',')
            {
                pos[0]++;
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static void writeJson(final StringBuilder sb, final Map<String, Object> m)
    {
        sb.append('{');
        String sep = "";
        for (final Map.Entry<String, Object> e : m.entrySet())
        {
            sb.append(sep).append('"').append(e.getKey()).append("\": ");
            final Object v = e.getValue();
            if (v instanceof Map)
            {
                writeJson(sb, (Map<String, Object>)v);
            }
            else if (v instanceof Boolean || v.toString().matches("\\d{1,18}"))
            {
                sb.append(v);
            }
            else
            {
                sb.append('"').append(v.toString().replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
            }
            sep = ", ";
        }
        sb.append('}');
    }
}
