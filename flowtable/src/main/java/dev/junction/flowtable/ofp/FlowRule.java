package dev.junction.flowtable.ofp;

import dev.junction.flowtable.Match;
import dev.junction.flowtable.TunMetadataSlots;

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
    /** Which tun_metadata field each key slot the match and actions use stands for (for printing). */
    public final TunMetadataSlots tunMetadata;
    /**
     * Counters are added to atomically: every worker's upcalls and megaflow pushes credit the same
     * rules. Neither happens per fast-path packet, so the atomic add costs nothing that matters.
     */
    private volatile long packets;
    private volatile long bytes;
    /**
     * When a packet last met this rule and when it was added or last refreshed by a learn, in the
     * datapath's time (packet time in a replay); idle and hard timeouts run from them.
     * Long.MIN_VALUE until first set.
     */
    private volatile long usedNanos = Long.MIN_VALUE;
    private volatile long modifiedNanos = Long.MIN_VALUE;

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
        this(table, priority, cookie, idleTimeout, hardTimeout, match, actions, line, TunMetadataSlots.identity());
    }

    public FlowRule(final int table, final int priority, final long cookie, final int idleTimeout,
        final int hardTimeout, final Match match, final List<Action> actions, final int line,
        final TunMetadataSlots tunMetadata)
    {
        this.tunMetadata = tunMetadata;
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

    /** A packet met this rule at {@code nanos} (monotonic: an older time never moves it back). */
    public void touch(final long nanos)
    {
        if (nanos > usedNanos)
        {
            usedNanos = nanos;
        }
    }

    /** The rule was added or refreshed (by a learn) at {@code nanos}: its timeouts start again. */
    public void modified(final long nanos)
    {
        modifiedNanos = nanos;
        touch(nanos);
    }

    public long usedNanos()
    {
        return usedNanos;
    }

    public boolean hasTimeouts()
    {
        return idleTimeout != 0 || hardTimeout != 0;
    }

    /** Has an idle or hard timeout run out at {@code nowNanos}? (OVS's rule expiry: idle from last use, hard from the last add or modify.) */
    public boolean expired(final long nowNanos)
    {
        if (modifiedNanos == Long.MIN_VALUE)
        {
            modifiedNanos = nowNanos; // first seen by expiry: count from now
            touch(nowNanos);
        }
        return (hardTimeout != 0 && nowNanos - modifiedNanos >= hardTimeout * 1_000_000_000L)
            || (idleTimeout != 0 && nowNanos - usedNanos >= idleTimeout * 1_000_000_000L);
    }

    /** Carries counters and times over to the rule that replaces this one (a learn that changed actions). */
    public void carryTo(final FlowRule next)
    {
        next.credit(packets, bytes);
        next.usedNanos = usedNanos;
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
