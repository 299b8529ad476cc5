package dev.junction.datapath.cache;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.ofp.FlowRule;
import dev.junction.flowtable.xlate.OdpActions;

/** Revalidator-side operations on a megaflow that are not part of its public face. */
public final class MegaflowStats
{
    private MegaflowStats()
    {
    }

    public static void push(final Megaflow mf)
    {
        mf.pushStats();
    }

    public static FlowKey upcallKey(final Megaflow mf)
    {
        return mf.upcallKey;
    }

    /** Keeps the megaflow under a new table version: new actions, statistics now go to new rules. */
    public static void retarget(final Megaflow mf, final OdpActions actions, final FlowRule[] rules)
    {
        if (!mf.actions.sameAs(actions))
        {
            mf.actions.copyFrom(actions);
        }
        mf.rules = rules;
    }
}
