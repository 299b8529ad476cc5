package dev.junction.control.diff;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Compares the datapath actions of Junction's {@code megaflows.txt} with OVS's, megaflow by
 * megaflow, for the action kinds whose text Junction reproduces: the header sets
 * ({@code set(eth|ipv4|ipv6|tcp|udp|sctp(...))}, one per header and commit, masked where OVS
 * masks), {@code userspace(pid=0,controller(...))} and {@code push_vlan(...)}. A megaflow is
 * paired by its match text (the part before the statistics); an OVS megaflow whose match Junction
 * did not print the same way is counted as unpaired, not judged. Outputs, pop_vlan, ct, recirc
 * and hash are left out here (the outputs are judged byte for byte elsewhere).
 */
final class MegaflowActionsText
{
    static final String[] KINDS = {
        "set(eth(", "userspace(", "push_vlan(", "set(ipv4(", "set(ipv6(", "set(tcp(", "set(udp(", "set(sctp(" };

    /** Per kind: megaflows whose actions of that kind were compared and found equal. */
    static final AtomicLong[] COMPARED = new AtomicLong[KINDS.length];

    static
    {
        for (int k = 0; k < KINDS.length; k++)
        {
            COMPARED[k] = new AtomicLong();
        }
    }
    static final AtomicLong UNPAIRED = new AtomicLong();
    /** OVS megaflows seen, and those Junction printed with the same match text. */
    static final AtomicLong OVS_MEGAFLOWS = new AtomicLong();
    static final AtomicLong SAME_MATCH = new AtomicLong();

    private MegaflowActionsText()
    {
    }

    /** Per kind, how many megaflows were compared, for the suite's summary line. */
    static String summary()
    {
        final StringBuilder s = new StringBuilder();
        for (int k = 0; k < KINDS.length; k++)
        {
            s.append(k == 0 ? "" : ", ").append(KINDS[k]).append(' ').append(COMPARED[k].get());
        }
        return s.append("; OVS megaflows with such actions whose match Junction printed otherwise: ")
            .append(UNPAIRED.get()).append("; OVS megaflows whose match Junction printed the same: ")
            .append(SAME_MATCH.get()).append(" of ").append(OVS_MEGAFLOWS.get()).toString();
    }

    /** Null when every paired megaflow's actions of the compared kinds are the same, else the differences. */
    static String compare(final Path ovsFile, final Path junctionFile) throws IOException
    {
        final Map<String, String> ours = new HashMap<>();
        for (final String line : lines(junctionFile))
        {
            ours.put(match(line), actions(line));
        }
        final StringBuilder diff = new StringBuilder();
        for (final String line : lines(ovsFile))
        {
            OVS_MEGAFLOWS.incrementAndGet();
            if (ours.containsKey(match(line)))
            {
                SAME_MATCH.incrementAndGet();
            }
            final String theirs = actions(line);
            final boolean[] kinds = kindsIn(theirs);
            if (!any(kinds))
            {
                continue;
            }
            final String mine = ours.get(match(line));
            if (mine == null)
            {
                UNPAIRED.incrementAndGet();
                continue;
            }
            final List<String> want = compared(theirs);
            final List<String> got = compared(mine);
            if (!want.equals(got))
            {
                diff.append("  megaflow ").append(match(line)).append("\n    OVS:      ").append(String.join(",", want))
                    .append("\n    Junction: ").append(String.join(",", got)).append('\n');
                continue;
            }
            for (int k = 0; k < KINDS.length; k++)
            {
                if (kinds[k])
                {
                    COMPARED[k].incrementAndGet();
                }
            }
        }
        return diff.length() == 0 ? null : "megaflow actions differ from OVS's dpctl/dump-flows text\n" + diff;
    }

    private static boolean any(final boolean[] kinds)
    {
        for (final boolean k : kinds)
        {
            if (k)
            {
                return true;
            }
        }
        return false;
    }

    private static List<String> lines(final Path file) throws IOException
    {
        final List<String> out = new ArrayList<>();
        for (final String l : Files.readAllLines(file))
        {
            if (l.startsWith("recirc_id(") || l.startsWith("tunnel("))
            {
                out.add(l);
            }
        }
        return out;
    }

    private static String match(final String line)
    {
        final int end = line.indexOf(", packets:");
        return end < 0 ? line : line.substring(0, end);
    }

    private static String actions(final String line)
    {
        final int at = line.indexOf(", actions:");
        return at < 0 ? "" : line.substring(at + ", actions:".length());
    }

    private static boolean[] kindsIn(final String actions)
    {
        final boolean[] kinds = new boolean[KINDS.length];
        for (final String a : split(actions))
        {
            for (int k = 0; k < KINDS.length; k++)
            {
                kinds[k] |= a.startsWith(KINDS[k]);
            }
        }
        return kinds;
    }

    /** The actions of the compared kinds, in order. */
    private static List<String> compared(final String actions)
    {
        final List<String> out = new ArrayList<>();
        for (final String a : split(actions))
        {
            for (final String kind : KINDS)
            {
                if (a.startsWith(kind))
                {
                    out.add(a);
                }
            }
        }
        return out;
    }

    /** Splits at the commas between top-level actions (not those inside parentheses). */
    static List<String> split(final String actions)
    {
        final List<String> out = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < actions.length(); i++)
        {
            final char c = actions.charAt(i);
            if (c == '(')
            {
                depth++;
            }
            else if (c == ')')
            {
                depth--;
            }
            else if (c == ',' && depth == 0)
            {
                out.add(actions.substring(start, i));
                start = i + 1;
            }
        }
        if (start < actions.length())
        {
            out.add(actions.substring(start));
        }
        return out;
    }
}
