package dev.junction.control.flows;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Flows being compiled, each owned by the object it came from ({@code pod:ns/name},
 * {@code service:ns/name}, {@code policy:ns/name}, {@code switch:node}, {@code bridge}), so an
 * incremental update can replace exactly one owner's flows. A flow with the same table,
 * priority and match as an earlier one is the same OpenFlow rule (OVS keeps the last); the set
 * keeps one and refuses a second with other actions, which would be a compiler bug. A cookie is
 * no part of the rule: the first flow's cookie stays.
 */
public final class FlowSet
{
    private final Map<String, String> byRule = new LinkedHashMap<>();
    private final Map<String, String> actionsByRule = new LinkedHashMap<>();
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
        final String hadActions = actionsByRule.putIfAbsent(rule, actions);
        if (hadActions != null)
        {
            if (!hadActions.equals(actions))
            {
                throw new IllegalStateException("two flows for one rule: " + byRule.get(rule) + " / " + line);
            }
            return this;
        }
        byRule.put(rule, line);
        byOwner.computeIfAbsent(owner, k -> new ArrayList<>()).add(line);
        return this;
    }

    public Map<String, List<String>> byOwner()
    {
        return byOwner;
    }

    public List<String> lines()
    {
        return new ArrayList<>(byRule.values());
    }

    public int size()
    {
        return byRule.size();
    }
}
