package dev.junction.control.policy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An expected reachability matrix over the upstream e2e model (namespaces x, y, z; pods a, b, c),
 * written the way the upstream tests write theirs: start from "all allowed" and set cells by
 * pattern, later settings overriding earlier ones. Patterns: {@code x/a}, {@code x/*}, {@code *}.
 */
final class TruthTable
{
    static final List<String> NAMESPACES = List.of("x", "y", "z");
    static final List<String> PODS = List.of("a", "b", "c");

    final Map<String, Map<String, Boolean>> cells = new LinkedHashMap<>();

    private TruthTable()
    {
        for (final String from : keys())
        {
            final Map<String, Boolean> row = new LinkedHashMap<>();
            for (final String to : keys())
            {
                row.put(to, true);
            }
            cells.put(from, row);
        }
    }

    static List<String> keys()
    {
        return NAMESPACES.stream().flatMap(n -> PODS.stream().map(p -> n + "/" + p)).toList();
    }

    static TruthTable allAllowed()
    {
        return new TruthTable();
    }

    TruthTable set(final String from, final String to, final boolean allowed)
    {
        for (final String f : keys())
        {
            for (final String t : keys())
            {
                if (matches(from, f) && matches(to, t))
                {
                    cells.get(f).put(t, allowed);
                }
            }
        }
        return this;
    }

    TruthTable deny(final String from, final String to)
    {
        return set(from, to, false);
    }

    TruthTable allow(final String from, final String to)
    {
        return set(from, to, true);
    }

    /** Upstream's ExpectAllIngress(pod, false). */
    TruthTable denyAllIngress(final String pod)
    {
        return set("*", pod, false);
    }

    /** Upstream's ExpectAllEgress(pod, false). */
    TruthTable denyAllEgress(final String pod)
    {
        return set(pod, "*", false);
    }

    private static boolean matches(final String pattern, final String key)
    {
        if (pattern.equals("*"))
        {
            return true;
        }
        if (pattern.endsWith("/*"))
        {
            return key.startsWith(pattern.substring(0, pattern.length() - 1));
        }
        return pattern.equals(key);
    }
}
