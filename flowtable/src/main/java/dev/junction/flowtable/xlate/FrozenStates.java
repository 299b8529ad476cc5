package dev.junction.flowtable.xlate;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.ofp.Action;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Recirculation ids and the translation state frozen under each, as OVS's {@code ofproto-dpif-rid}:
 * a {@code ct(table=T)} freezes where translation resumes (table T), the pipeline metadata the
 * datapath does not carry (input port, registers, metadata) and whether the packet is tracked;
 * a dp_hash select group freezes the actions still to run (the group action itself first).
 * Equal states share one id, so equal packets keep hitting one megaflow after recirculation.
 *
 * <p>Ids are allocated on upcalls (which may allocate) under a lock; {@link #get(int)} reads a
 * published array and takes no lock. Shared by every worker's translator.
 */
public final class FrozenStates
{
    /**
     * Actions frozen at one level of the translation (the rule that froze, then each rule that
     * resubmitted to it): they run after thawing with {@code table} as the current table and
     * {@code cookie} as the rule's cookie, as OVS's frozen ofpacts with their UNROLL_XLATE markers.
     */
    public record Segment(int table, long cookie, List<Action> actions)
    {
    }

    /**
     * A frozen translation: resume at {@code table} with {@code metadata} (FlowKey words 0-9), or,
     * when {@code actions} is not null, run those frozen actions instead of a table lookup.
     */
    public static final class State
    {
        public final int table;
        public final boolean conntracked;
        /** The frozen actions to resume with, or null to resume with a lookup in {@code table}. */
        public final List<Segment> actions;
        /**
         * A controller action's state (the packet-in's continuation), never a recirculation: OVS
         * freezes it without the input port's identity, so it never equals a recirculation's.
         */
        public final boolean controller;
        /** The controller action's userdata (empty otherwise), handed to the packet-in handler. */
        private final byte[] userdata;
        private final long[] metadata;
        private final int hash;

        State(final int table, final boolean conntracked, final long[] metadata, final List<Segment> actions,
            final boolean controller, final byte[] userdata)
        {
            this.table = table;
            this.conntracked = conntracked;
            this.metadata = metadata;
            this.actions = actions;
            this.controller = controller;
            this.userdata = userdata;
            this.hash = 31 * (31 * (31 * table + (conntracked ? 1 : 0)) + Arrays.hashCode(metadata))
                + (actions == null ? 0 : actions.hashCode()) + (controller ? 7 : 0) + 13 * Arrays.hashCode(userdata);
        }

        /** A copy of the userdata a controller action froze (empty for recirculations). */
        public byte[] userdata()
        {
            return userdata.clone();
        }

        public int inPort()
        {
            return (int)(metadata[FlowKey.W_IN_PORT] >>> 32);
        }

        /** Puts the frozen registers and metadata into {@code flow} (FlowKey words 1-9). */
        public void thawInto(final FlowKey flow)
        {
            System.arraycopy(metadata, FlowKey.W_XREG0, flow.words, FlowKey.W_XREG0, FlowKey.W_METADATA);
        }

        @Override
        public boolean equals(final Object o)
        {
            if (!(o instanceof State))
            {
                return false;
            }
            final State s = (State)o;
            return table == s.table && conntracked == s.conntracked && controller == s.controller
                && Arrays.equals(metadata, s.metadata) && java.util.Objects.equals(actions, s.actions)
                && Arrays.equals(userdata, s.userdata);
        }

        @Override
        public int hashCode()
        {
            return hash;
        }
    }

    /** Default bound on distinct frozen states (OVS's ids are 32-bit but freed; these are not yet). */
    public static final int DEFAULT_LIMIT = 1 << 20;

    private static final byte[] NO_USERDATA = new byte[0];
    private final Map<State, Integer> ids = new HashMap<>();
    private volatile State[] byId = new State[16];
    private int next = 1;
    private final int limit;
    private long refused;

    public FrozenStates()
    {
        this(DEFAULT_LIMIT);
    }

    /** @param limit the most distinct states kept; a new state beyond it gets id 0 (refused, counted) */
    public FrozenStates(final int limit)
    {
        if (limit < 1)
        {
            throw new IllegalArgumentException("frozen state limit must be >= 1: " + limit);
        }
        this.limit = limit;
    }

    /** New states refused because the limit was reached. */
    public synchronized long refused()
    {
        return refused;
    }

    /**
     * The id of the state "resume at {@code table} with the metadata of {@code flow}", allocated on
     * first use; 0 when the limit is reached (the caller must fail the translation).
     */
    public synchronized int idFor(final int table, final boolean conntracked, final FlowKey flow)
    {
        return idFor(table, conntracked, flow, null);
    }

    /** As {@link #idFor(int, boolean, FlowKey)}, resuming with {@code actions} (null: a lookup in {@code table}). */
    public synchronized int idFor(final int table, final boolean conntracked, final FlowKey flow,
        final List<Segment> actions)
    {
        return idFor(table, conntracked, flow, actions, false);
    }

    /**
     * The id a controller action in {@code table} carries, as OVS's xlate_controller_action
     * allocates one from the same pool as recirculations (equal states share it).
     */
    public synchronized int controllerIdFor(final int table, final boolean conntracked, final FlowKey flow)
    {
        return controllerIdFor(table, conntracked, flow, null);
    }

    /** As {@link #controllerIdFor(int, boolean, FlowKey)}, freezing the action's {@code userdata} (null: none). */
    public synchronized int controllerIdFor(final int table, final boolean conntracked, final FlowKey flow,
        final byte[] userdata)
    {
        return idFor(table, conntracked, flow, null, true, userdata);
    }

    private int idFor(final int table, final boolean conntracked, final FlowKey flow, final List<Segment> actions,
        final boolean controller)
    {
        return idFor(table, conntracked, flow, actions, controller, null);
    }

    private int idFor(final int table, final boolean conntracked, final FlowKey flow, final List<Segment> actions,
        final boolean controller, final byte[] userdata)
    {
        final long[] meta = Arrays.copyOf(flow.words, FlowKey.W_METADATA + 1);
        meta[FlowKey.W_IN_PORT] &= 0xffff_ffff_0000_0000L; // the recirc_id is not part of the state
        final State s = new State(table, conntracked, meta, actions == null ? null : List.copyOf(actions), controller,
            userdata == null ? NO_USERDATA : userdata.clone());
        final Integer id = ids.get(s);
        if (id != null)
        {
            return id;
        }
        if (ids.size() >= limit)
        {
            refused++;
            return 0;
        }
        final int fresh = next++;
        State[] arr = byId;
        if (fresh >= arr.length)
        {
            arr = Arrays.copyOf(arr, arr.length * 2);
        }
        arr[fresh] = s;
        byId = arr;
        ids.put(s, fresh);
        return fresh;
    }

    /** The state frozen under {@code id}, or null when there is none. */
    public State get(final int id)
    {
        final State[] arr = byId;
        return id > 0 && id < arr.length ? arr[id] : null;
    }

    public synchronized int size()
    {
        return ids.size();
    }
}
