package dev.junction.control.cli;

import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.flows.Stage;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.ofp.FlowPrinter;
import dev.junction.flowtable.ofp.FlowRule;
import dev.junction.flowtable.xlate.TraceSink;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A trace of compiled manifests: {@link TraceText}'s lines, each table headed by its logical
 * stage ({@link Stage}) and each rule followed by what it stands for: the NetworkPolicy rule or
 * default deny behind an ACL flow (its cookie), the service behind a load-balancer flow, the
 * pod or switch behind the others (the flow's owner). Remembers where the packet was dropped.
 */
final class StageTrace implements TraceSink
{
    private final TraceText text;
    private final FlowCompiler.Compiled compiled;
    private final List<String> lines;
    private final Map<String, String> ownerOfLine = new HashMap<>();
    private String dropStage;
    private String dropWhy;
    private String lastStage;
    private final java.util.LinkedHashSet<String> services = new java.util.LinkedHashSet<>();

    StageTrace(final TraceText text, final FlowCompiler.Compiled compiled)
    {
        this.text = text;
        this.compiled = compiled;
        this.lines = compiled.flows().lines();
        for (final String owner : compiled.flows().owners())
        {
            for (final String l : compiled.flows().linesOf(owner))
            {
                ownerOfLine.putIfAbsent(l, owner);
            }
        }
    }

    @Override
    public void table(final int depth, final int table, final FlowKey f, final FlowRule rule)
    {
        final Stage stage = Stage.ofTable(table);
        final String indent = "    ".repeat(depth);
        final String name = stage == null ? "table " + table : stageName(stage);
        if (stage != null)
        {
            text.text().append(indent).append('[').append(stage.description).append("]\n");
        }
        text.table(depth, table, f, rule);
        final String why = explain(stage, rule);
        if (why != null)
        {
            text.note(depth, why);
        }
        lastStage = name;
        if (rule == null || "drop".equals(FlowPrinter.actions(rule.actions, rule.tunMetadata)))
        {
            dropStage = name;
            dropWhy = why == null ? "priority " + rule.priority + " drop" : why;
        }
    }

    @Override
    public void note(final int depth, final String note)
    {
        text.note(depth, note);
        if (note.contains("no live bucket"))
        {
            dropStage = lastStage;
            dropWhy = note;
        }
    }

    /** Where the last drop happened, {@code stage (why)}, or null if no rule dropped. */
    String drop()
    {
        return dropStage == null ? null : dropStage + " (" + dropWhy + ")";
    }

    String lastStage()
    {
        return lastStage;
    }

    /** The services whose load-balancer flows the packet met, in order. */
    java.util.Set<String> services()
    {
        return services;
    }

    /** The OVN stage name: the description up to its colon. */
    static String stageName(final Stage stage)
    {
        final int colon = stage.description.indexOf(':');
        return colon < 0 ? stage.name() : stage.description.substring(0, colon);
    }

    private String explain(final Stage stage, final FlowRule rule)
    {
        if (rule == null)
        {
            return "no match";
        }
        final String acl = compiled.aclCookies().get(rule.cookie);
        if (acl != null)
        {
            return acl;
        }
        final String owner = rule.line >= 1 && rule.line <= lines.size() ? ownerOfLine.get(lines.get(rule.line - 1)) : null;
        if (stage == Stage.ACL_EGRESS || stage == Stage.ACL_INGRESS)
        {
            if (rule.priority == 0)
            {
                return stage == Stage.ACL_EGRESS ? "no NetworkPolicy isolates the source pod for egress: allowed"
                    : "no NetworkPolicy isolates the destination pod for ingress: allowed";
            }
            return "conntrack: " + (rule.priority == 65535 ? "invalid packet" : "not a new connection, policies already decided");
        }
        if (owner == null || owner.equals("bridge"))
        {
            return null;
        }
        if (owner.startsWith("service:"))
        {
            final String svc = owner.substring("service:".length());
            services.add(svc);
            return "load balancer of service " + svc;
        }
        if (owner.startsWith("pod:"))
        {
            return "port of pod " + owner.substring("pod:".length());
        }
        if (owner.startsWith("flood:"))
        {
            return "flood set of the switch of node " + (owner.length() == "flood:".length() ? "-" : owner.substring("flood:".length()));
        }
        if (owner.startsWith("switch:"))
        {
            return "switch of node " + (owner.length() == "switch:".length() ? "-" : owner.substring("switch:".length()));
        }
        return owner;
    }
}
