package dev.junction.flowtable.ofp;

import dev.junction.flowtable.Match;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;

/** One OpenFlow rule: where it sits (table, priority), what it matches, what it does, and its counters. */
public final class FlowRule
{
    public static final int DEFAULT_PRIORITY = 32768;

    public final int table;
    public final int priority;
    public final long cookie;
    public final int idleTimeout;
    public final int hardTimeout;
    public final Match match;
    public final List<Action> actions;
    /** Source line in the flows file, for error messages and traces. */
    public final int line;
    /**
     * Counters are added to atomically: every worker's upcalls and megaflow pushes credit the same
     * rules. Neither happens per fast-path packet, so the atomic add costs nothing that matters.
     */
    private volatile long packets;
    private volatile long bytes;

    private static final VarHandle PACKETS;
    private static final VarHandle BYTES;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            PACKETS = lookup.findVarHandle(FlowRule.class, "packets", long.class);
            BYTES = lookup.findVarHandle(FlowRule.class, "bytes", long.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    public FlowRule(final int table, final int priority, final long cookie, final int idleTimeout,
        final int hardTimeout, final Match match, final List<Action> actions, final int line)
    {
        this.table = table;
        this.priority = priority;
        this.cookie = cookie;
        this.idleTimeout = idleTimeout;
        this.hardTimeout = hardTimeout;
        this.match = match;
        this.actions = List.copyOf(actions);
        this.line = line;
    }

    public void count(final int packetBytes)
    {
        credit(1, packetBytes);
    }

    /** Adds statistics a megaflow gathered for packets that did not come through translation. */
    public void credit(final long nPackets, final long nBytes)
    {
        PACKETS.getAndAdd(this, nPackets);
        BYTES.getAndAdd(this, nBytes);
    }

    public long packets()
    {
        return packets;
    }

    public long bytes()
    {
        return bytes;
    }
}
