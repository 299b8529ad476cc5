package dev.junction.control.cli;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.ofp.FlowPrinter;
import dev.junction.flowtable.ofp.FlowRule;
import dev.junction.flowtable.xlate.TraceSink;

/** A trace as ofproto/trace prints it: each table met, indented by depth, with its rule and actions, and notes. */
public final class TraceText implements TraceSink
{
    private final StringBuilder text = new StringBuilder();

    public StringBuilder text()
    {
        return text;
    }

    @Override
    public void table(final int depth, final int table, final FlowKey f, final FlowRule rule)
    {
        final String indent = "    ".repeat(depth);
        text.append(indent).append(table).append(". ");
        if (rule == null)
        {
            text.append("No match.\n").append(indent).append("    drop\n");
        }
        else
        {
            final String m = FlowPrinter.match(rule.match, rule.priority, rule.tunMetadata);
            text.append(m.isEmpty() ? "priority " + rule.priority : m).append(", cookie 0x")
                .append(Long.toHexString(rule.cookie)).append(" (line ").append(rule.line).append(")\n")
                .append(indent).append("    ").append(FlowPrinter.actions(rule.actions, rule.tunMetadata)).append('\n');
        }
    }

    @Override
    public void note(final int depth, final String note)
    {
        text.append("    ".repeat(depth)).append("    >> ").append(note).append('\n');
    }
}
