package dev.junction.datapath;

import dev.junction.datapath.cache.Megaflow;
import dev.junction.flowtable.ofp.FlowRule;
import dev.junction.flowtable.ofp.FlowTables;
import dev.junction.flowtable.xlate.OdpActions;

/**
 * Changes a revalidator thread found for some of one worker's megaflows, applied by that worker
 * between two packets ({@link Datapath#apply(RevalidationBatch)}). Each entry names the megaflow
 * object itself, so the worker acts on exactly the megaflow that was dumped: one removed since
 * (idle, or an earlier change) is dead, and removing or retargeting it again reaches nothing a
 * packet can find.
 *
 * <p>Built on the revalidator's thread and handed over through the ring, which publishes it.
 */
public final class RevalidationBatch
{
    static final byte RETARGET = 0;
    static final byte REMOVE = 1;
    static final byte EXPIRE = 2;

    final Megaflow[] megaflows;
    final byte[] ops;
    /** New actions, or null when they equal the megaflow's: most changes only move statistics. */
    final OdpActions[] actions;
    final FlowRule[][] rules;
    final long[] normalSources;
    final int[] normalPorts;
    int size;
    /** Set on the last batch of a dump: the worker may dump again, and is revalidated for these. */
    boolean last;
    FlowTables version;
    long macVersion;

    public RevalidationBatch(final int capacity)
    {
        megaflows = new Megaflow[capacity];
        ops = new byte[capacity];
        actions = new OdpActions[capacity];
        rules = new FlowRule[capacity][];
        normalSources = new long[capacity];
        normalPorts = new int[capacity];
    }

    /** Keeps {@code mf} under the new version: its statistics go to the old rules first. */
    public void retarget(final Megaflow mf, final OdpActions newActions, final FlowRule[] newRules,
        final long normalSource, final int normalPort)
    {
        normalSources[size] = normalSource;
        normalPorts[size] = normalPort;
        rules[size] = newRules;
        actions[size] = newActions;
        add(mf, RETARGET);
    }

    /** The new version translates {@code mf} differently (mask, slow path) or not at all. */
    public void remove(final Megaflow mf)
    {
        add(mf, REMOVE);
    }

    /** {@code mf} looked idle in the dump; the worker checks again with its own clock. */
    public void expire(final Megaflow mf)
    {
        add(mf, EXPIRE);
    }

    /** Marks the dump's last batch, revalidated against {@code tables} and MAC version {@code macs}. */
    public void last(final FlowTables tables, final long macs)
    {
        last = true;
        version = tables;
        macVersion = macs;
    }

    public int size()
    {
        return size;
    }

    public boolean isFull()
    {
        return size == megaflows.length;
    }

    private void add(final Megaflow mf, final byte op)
    {
        megaflows[size] = mf;
        ops[size] = op;
        size++;
    }
}
