package dev.junction.flowtable.xlate;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.ofp.FlowRule;

/** Receives what translation met, for {@code junction trace}; null in the datapath. */
public interface TraceSink
{
    void table(int depth, int table, FlowKey flow, FlowRule ruleOrNull);

    void note(int depth, String text);
}
