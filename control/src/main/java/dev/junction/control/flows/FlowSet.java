package dev.junction.control.flows;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Flows being compiled, each owned by the object it came from ({@code pod:ns/name},
 * {@code acl:ns/name}, {@code service:ns/name}, {@code switch:node}, {@code bridge}), so an
 * incremental update replaces exactly one owner's flows ({@link #removeOwner}, then add
 * again). A flow with the same table, priority and match as another is the same OpenFlow rule
 * (OVS keeps the last); the set keeps one, counts its owners, and refuses a second with other
 * actions, which would be a compiler bug. A cookie is no part of the rule: the first flow's
 * cookie stays.
 */
public final class FlowSet
{
    /** One OpenFlow rule: its line and how many owners want it. */
    private static final class Entry
    {
        final String line;
        final String actions;
        int owners;

        Entry(final String line, final String actions)
        {
            this.line = line;
            this.actions = actions;
        }
    }

    private final Map<String, Entry> byRule = new LinkedHashMap<>();
    private final Map<String, List<String>> byOwner = new LinkedHashMap<>();
    private String owner = "bridge";

    /** Flows added from now on belong to {@code owner}. */
    public FlowSet owner(final String owner)
    {
        this.owner = owner;
        return this;
    }

    /** Adds {@code table=T,priority=P,MATCH actions=ACTIONS}; {@code match} may be empty. */
    public FlowSet add(final Stage stage, final int priority, final String match, final String actions)
    {
        return add(stage, priority, 0, match, actions);
    }

    /** As {@link #add(Stage, int, String, String)}, with {@code cookie=} (0: none) naming where the flow came from. */
    public FlowSet add(final Stage stage, final int priority, final long cookie, final String match, final String actions)
    {
        final String rule = "table=" + stage.table + ",priority=" + priority + (match.isEmpty() ? "" : "," + match);
        final String line = "table=" + stage.table + ",priority=" + priority
            + (cookie == 0 ? "" : ",cookie=0x" + Long.toHexString(cookie)) + (match.isEmpty() ? "" : "," + match)
            + " actions=" + actions;
        final Entry had = byRule.get(rule);
        if (had != null && !had.actions.equals(actions))
        {
            throw new IllegalStateException("two flows for one rule: " + had.line + " / " + line);
        }
        final List<String> mine = byOwner.computeIfAbsent(owner, k -> new ArrayList<>());
        if (had != null && mine.contains(rule))
        {
            return this;
        }
        (had != null ? had : byRule.computeIfAbsent(rule, k -> new Entry(line, actions))).owners++;
        mine.add(rule);
        return this;
    }

    /** Removes what {@code owner} added; a rule another owner also wants stays. */
    public void removeOwner(final String owner)
    {
        final List<String> rules = byOwner.remove(owner);
        if (rules == null)
        {
            return;
        }
        for (final String rule : rules)
        {
            final Entry e = byRule.get(rule);
            if (--e.owners == 0)
            {
                byRule.remove(rule);
            }
        }
    }

    /** The lines {@code owner} added (shared ones included). */
    public List<String> linesOf(final String owner)
    {
        final List<String> out = new ArrayList<>();
        for (final String rule : byOwner.getOrDefault(owner, List.of()))
        {
            out.add(byRule.get(rule).line);
        }
        return out;
    }

    /** Is this exact flow line in the set (under any owner)? */
    public boolean hasLine(final String line)
    {
        final int space = line.indexOf(" actions=");
        final Entry e = space < 0 ? null : byRule.get(line.substring(0, space).replaceFirst(",cookie=0x[0-9a-f]+", ""));
        return e != null && e.line.equals(line);
    }

    public java.util.Set<String> owners()
    {
        return byOwner.keySet();
    }

    public List<String> lines()
    {
        final List<String> out = new ArrayList<>(byRule.size());
        for (final Entry e : byRule.values())
        {
            out.add(e.line);
        }
        return out;
    }

    public int size()
    {
        return byRule.size();
    }
}
