package dev.junction.control.flows;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Cookies of ACL flows and what each stands for ("policy ns/name ingress rule 2", "default deny
 * egress: isolated by ..."). One registry lives as long as its compiler, so a policy rule keeps
 * its cookie across incremental versions; entries are never reused for something else.
 */
final class AclCookies
{
    private final Map<String, Long> cookieOf = new LinkedHashMap<>();
    private final Map<Long, String> meaning = new LinkedHashMap<>();

    long of(final long base, final String what)
    {
        return cookieOf.computeIfAbsent(what, k ->
        {
            final long c = base + cookieOf.size() + 1;
            meaning.put(c, k);
            return c;
        });
    }

    Map<Long, String> meanings()
    {
        return Map.copyOf(meaning);
    }
}
