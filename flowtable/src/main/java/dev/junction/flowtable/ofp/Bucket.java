package dev.junction.flowtable.ofp;

import java.util.ArrayList;
import java.util.List;

/**
 * One bucket of a group: its id, weight and liveness watches, the actions as written (what
 * {@code dump-groups} prints) and the actions translation runs. A bucket's actions are an
 * OpenFlow action <em>set</em>, so OVS (ofpacts_execute_action_set) runs them reordered: the
 * last pop_vlan, push_vlan and dec_ttl in that order, then every set_field/move in order, then
 * one final action (the last group, else output, else resubmit, else ct_clear, else ct); with no
 * final action nothing runs, and any other action (controller, note, ...) is ignored.
 */
public final class Bucket
{
    /** OFPP_ANY: no port is watched. */
    public static final int WATCH_PORT_NONE = 0xffff;
    /** OFPG_ANY: no group is watched. */
    public static final long WATCH_GROUP_NONE = 0xffff_ffffL;

    public final long bucketId;
    public final int weight;
    public final int watchPort;
    public final long watchGroup;
    /** As written (OpenFlow 1.5 encoding): what dump-groups prints. */
    public final List<Action> actions;
    /** The action set as the list translation runs. */
    public final List<Action> executed;

    public Bucket(final long bucketId, final int weight, final int watchPort, final long watchGroup,
        final List<Action> actions)
    {
        this.bucketId = bucketId;
        this.weight = weight;
        this.watchPort = watchPort;
        this.watchGroup = watchGroup;
        this.actions = List.copyOf(actions);
        this.executed = List.copyOf(actionSetOrder(actions));
    }

    /** OVS's ofputil_bucket_has_liveness. */
    public boolean hasLiveness()
    {
        return watchPort != WATCH_PORT_NONE || watchGroup != WATCH_GROUP_NONE;
    }

    private static List<Action> actionSetOrder(final List<Action> set)
    {
        Action popVlan = null;
        Action pushVlan = null;
        Action decTtl = null;
        Action last = null;
        int lastClass = -1;
        final List<Action> setOrMove = new ArrayList<>();
        for (final Action a : set)
        {
            final int finalClass = finalClass(a);
            if (a instanceof Action.PopVlan)
            {
                popVlan = a;
            }
            else if (a instanceof Action.PushVlan)
            {
                pushVlan = a;
            }
            else if (a instanceof Action.DecTtl)
            {
                decTtl = a;
            }
            else if (finalClass >= 0)
            {
                if (finalClass >= lastClass)
                {
                    last = a;
                    lastClass = finalClass;
                }
            }
            else if (a instanceof Action.SetField || a instanceof Action.Move)
            {
                setOrMove.add(a);
            }
        }
        final List<Action> out = new ArrayList<>();
        if (last == null)
        {
            return out;
        }
        if (popVlan != null)
        {
            out.add(popVlan);
        }
        if (pushVlan != null)
        {
            out.add(pushVlan);
        }
        if (decTtl != null)
        {
            out.add(decTtl);
        }
        out.addAll(setOrMove);
        out.add(last);
        return out;
    }

    /** The priority of an action set's final actions (OVS's ACTION_SET_FINAL_PRIORITY), -1 for others. */
    private static int finalClass(final Action a)
    {
        if (a instanceof Action.Ct)
        {
            return 0;
        }
        if (a instanceof Action.CtClear)
        {
            return 1;
        }
        if (a instanceof Action.Resubmit)
        {
            return 2;
        }
        if (a instanceof Action.Output)
        {
            return 3;
        }
        if (a instanceof Action.Group)
        {
            return 4;
        }
        return -1;
    }
}
