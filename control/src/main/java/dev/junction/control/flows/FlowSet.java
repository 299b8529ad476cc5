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
 * actions, which would be a compiler bug.
 */
public final class FlowSet
{
    /** One OpenFlow rule: its line and how many owners want it. */
    private static final class Entry
    {
        final String line;
        int owners;

        Entry(final String line)
        {
            this.line = line;
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
        final String rule = "table=" + stage.table + ",priority=" + priority + (match.isEmpty() ? "" : "," + match);
        final String line = rule + " actions=" + actions;
        final Entry had = byRule.get(rule);
        if (had != null && !had.line.equals(line))
        {
            throw new IllegalStateException("two flows for one rule: " + had.line + " / " + line);
        }
        final List<String> mine = byOwner.computeIfAbsent(owner, k -> new ArrayList<>());
        if (had != null && mine.contains(rule))
        {
            return this;
        }
        (had != null ? had : byRule.computeIfAbsent(rule, k -> new Entry(line))).owners++;
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
        final Entry e = space < 0 ? null : byRule.get(line.substring(0, space));
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
