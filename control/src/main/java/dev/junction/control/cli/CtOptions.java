package dev.junction.control.cli;

import dev.junction.conntrack.Conntrack;
import dev.junction.conntrack.TimeoutPolicy;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The conntrack options of {@code junction replay}, parsed and applied to a {@link Conntrack}
 * before the first packet, as an operator would configure OVS before traffic:
 * <ul>
 * <li>{@code --ct-max-conns N}: {@code ovs-appctl dpctl/ct-set-maxconns N};</li>
 * <li>{@code --ct-zone-limit Z=N} / {@code default=N}: {@code dpctl/ct-set-limits zone=Z,limit=N}
 *     / {@code default=N};</li>
 * <li>{@code --ct-timeout [zone=Z,]ATTR=SECONDS[,ATTR=SECONDS...]}: a timeout policy, with the
 *     attribute names of {@code ovs-vsctl add-zone-tp} ({@link TimeoutPolicy#NAMES}). Without
 *     {@code zone=} the attributes apply to every zone; a zone's own attributes apply on top.</li>
 * </ul>
 * Bad values throw {@link IllegalArgumentException} with a message for the user.
 */
final class CtOptions
{
    private static final long MAX_U32 = 0xffff_ffffL;

    private final Integer maxConns;
    /** Zone (-1: the default limit) to limit, in the order given (a later one replaces). */
    private final Map<Integer, Long> zoneLimits = new LinkedHashMap<>();
    /** Attributes for every zone: attribute index to seconds. */
    private final Map<Integer, Integer> globalTimeouts = new TreeMap<>();
    /** Per zone: attribute index to seconds. */
    private final Map<Integer, Map<Integer, Integer>> zoneTimeouts = new TreeMap<>();

    private CtOptions(final Integer maxConns)
    {
        this.maxConns = maxConns;
    }

    /** Parses the three options (each may be null or empty: nothing configured). */
    static CtOptions parse(final Long maxConns, final List<String> zoneLimits, final List<String> timeouts)
    {
        if (maxConns != null && (maxConns < 0 || maxConns > Integer.MAX_VALUE))
        {
            throw new IllegalArgumentException("--ct-max-conns " + maxConns + ": expected 0.." + Integer.MAX_VALUE);
        }
        final CtOptions o = new CtOptions(maxConns == null ? null : maxConns.intValue());
        if (zoneLimits != null)
        {
            for (final String s : zoneLimits)
            {
                o.parseZoneLimit(s);
            }
        }
        if (timeouts != null)
        {
            for (final String s : timeouts)
            {
                o.parseTimeout(s);
            }
        }
        return o;
    }

    private void parseZoneLimit(final String s)
    {
        final String what = "--ct-zone-limit " + s;
        final int eq = s.indexOf('=');
        if (eq <= 0 || eq == s.length() - 1)
        {
            throw new IllegalArgumentException(what + ": expected ZONE=LIMIT or default=LIMIT (e.g. 5=1000)");
        }
        final String z = s.substring(0, eq).strip();
        final int zone = "default".equals(z) ? -1 : (int)number(what, "zone", z, 0xffff);
        zoneLimits.put(zone, number(what, "limit", s.substring(eq + 1).strip(), MAX_U32));
    }

    private void parseTimeout(final String s)
    {
        final String what = "--ct-timeout " + s;
        Integer zone = null;
        final Map<Integer, Integer> attrs = new TreeMap<>();
        for (final String item : s.split(",", -1))
        {
            final int eq = item.indexOf('=');
            if (eq <= 0 || eq == item.length() - 1)
            {
                throw new IllegalArgumentException(what + ": expected [zone=Z,]ATTR=SECONDS, got '" + item + "'");
            }
            final String key = item.substring(0, eq).strip();
            final String value = item.substring(eq + 1).strip();
            if ("zone".equals(key))
            {
                if (zone != null)
                {
                    throw new IllegalArgumentException(what + ": zone given twice");
                }
                zone = (int)number(what, "zone", value, 0xffff);
                continue;
            }
            final int attr = Arrays.asList(TimeoutPolicy.NAMES).indexOf(key);
            if (attr < 0)
            {
                throw new IllegalArgumentException(what + ": unknown timeout '" + key + "' (known: "
                    + String.join(", ", TimeoutPolicy.NAMES) + ")");
            }
            attrs.put(attr, (int)number(what, key, value, Integer.MAX_VALUE));
        }
        if (attrs.isEmpty())
        {
            throw new IllegalArgumentException(what + ": no timeout attribute given (e.g. udp_first=5)");
        }
        if (zone == null)
        {
            globalTimeouts.putAll(attrs);
        }
        else
        {
            zoneTimeouts.computeIfAbsent(zone, z -> new TreeMap<>()).putAll(attrs);
        }
    }

    private static long number(final String what, final String name, final String text, final long max)
    {
        final long v;
        try
        {
            v = Long.parseLong(text);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(what + ": " + name + " '" + text + "' is not a number");
        }
        if (v < 0 || v > max)
        {
            throw new IllegalArgumentException(what + ": " + name + " " + v + " out of range 0.." + max);
        }
        return v;
    }

    /** Configures {@code ct}: max connections, zone limits, then timeout policies. */
    void apply(final Conntrack ct)
    {
        if (maxConns != null)
        {
            ct.setMaxConnections(maxConns);
        }
        zoneLimits.forEach(ct::setZoneLimit);
        if (globalTimeouts.isEmpty() && zoneTimeouts.isEmpty())
        {
            return;
        }
        TimeoutPolicy global = TimeoutPolicy.DEFAULT;
        for (final Map.Entry<Integer, Integer> e : globalTimeouts.entrySet())
        {
            global = global.with(e.getKey(), e.getValue());
        }
        // Conntrack has policies per zone only: the zone-less attributes go into every zone.
        for (int zone = 0; zone <= 0xffff; zone++)
        {
            TimeoutPolicy p = global;
            final Map<Integer, Integer> own = zoneTimeouts.get(zone);
            if (own != null)
            {
                for (final Map.Entry<Integer, Integer> e : own.entrySet())
                {
                    p = p.with(e.getKey(), e.getValue());
                }
            }
            if (!p.equals(TimeoutPolicy.DEFAULT))
            {
                ct.setTimeoutPolicy(zone, p);
            }
        }
    }

    /**
     * The conntrack object of {@code replay --json}: counters, limits and, per zone that holds
     * connections or has its own limit, {@code {"connections": n, "limit": m}} (limit: the zone's
     * own, else the default limit, else null). Connections include expired ones not yet swept,
     * as OVS's {@code n_conn}.
     */
    static String json(final Conntrack ct)
    {
        final long defaultLimit = ct.zoneLimit(-1);
        final StringBuilder sb = new StringBuilder("{\"connections\": ").append(ct.connections())
            .append(", \"commits\": ").append(ct.commits())
            .append(", \"refused_commits\": ").append(ct.refusedCommits())
            .append(", \"refused_by_zone_limit\": ").append(ct.refusedByZoneLimit())
            .append(", \"refused_by_max_conns\": ").append(ct.refusedByMaxConnections())
            .append(", \"invalid\": ").append(ct.invalid())
            .append(", \"fragments_dropped\": ").append(ct.fragmentsDropped())
            .append(", \"expired\": ").append(ct.expired())
            .append(", \"footprint_bytes\": ").append(ct.footprintBytes())
            .append(", \"max_conns\": ").append(ct.maxConnections())
            .append(", \"default_limit\": ").append(defaultLimit < 0 ? "null" : String.valueOf(defaultLimit))
            .append(", \"zones\": {");
        String sep = "";
        for (int zone = 0; zone <= 0xffff; zone++)
        {
            final int n = ct.connections(zone);
            final long own = ct.zoneLimit(zone);
            if (n == 0 && own < 0)
            {
                continue;
            }
            final long limit = own >= 0 ? own : defaultLimit;
            sb.append(sep).append('"').append(zone).append("\": {\"connections\": ").append(n)
                .append(", \"limit\": ").append(limit < 0 ? "null" : String.valueOf(limit)).append('}');
            sep = ", ";
        }
        return sb.append("}}").toString();
    }
}
