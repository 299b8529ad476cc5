package dev.junction.datapath.cache;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.ofp.FlowRule;
import dev.junction.flowtable.xlate.OdpActions;

/**
 * One datapath flow: a masked key, the actions every packet matching it gets, and statistics.
 * Like OVS's ukey it also keeps the key of the packet that created it, so the revalidator can
 * translate it again against a new table version.
 */
public final class Megaflow
{
    final long[] key;
    final long[] mask;
    final long hash;
    final FlowKey upcallKey;
    final OdpActions actions;
    /** OVS's slow path: every packet is translated again (rewrites the fast path cannot cache). */
    final boolean slow;
    FlowRule[] rules;
    long packets;
    long bytes;
    long usedNanos;
    int tcpFlags;
    long pushedPackets;
    long pushedBytes;
    boolean dead;
    /** This megaflow's entry in its subtable, -1 once removed. */
    int entry = -1;
    /**
     * What NORMAL learned when this megaflow was translated ((vlan << 48) | source MAC, and the
     * input port), or -1: its packets keep that MAC table entry fresh, as OVS's xlate cache does.
     */
    private long normalSource = -1;
    private int normalPort;
    private long refreshedNanos = Long.MIN_VALUE;

    Megaflow(final long[] key, final long[] mask, final long hash, final FlowKey upcallKey,
        final OdpActions actions, final boolean slow, final FlowRule[] rules, final long nowNanos)
    {
        this.key = key;
        this.mask = mask;
        this.hash = hash;
        this.upcallKey = upcallKey;
        this.actions = actions;
        this.slow = slow;
        this.rules = rules;
        this.usedNanos = nowNanos;
    }

    public long[] mask()
    {
        return mask;
    }

    public OdpActions actions()
    {
        return actions;
    }

    /** Removed from its cache (revalidated away, expired, flushed): a stale reference to drop. */
    public boolean isDead()
    {
        return dead;
    }

    public boolean slow()
    {
        return slow;
    }

    public long packets()
    {
        return packets;
    }

    public long bytes()
    {
        return bytes;
    }

    public long usedNanos()
    {
        return usedNanos;
    }

    public int tcpFlags()
    {
        return tcpFlags;
    }

    public void hit(final int packetBytes, final int flags, final long nowNanos)
    {
        packets++;
        bytes += packetBytes;
        tcpFlags |= flags;
        usedNanos = nowNanos;
    }

    /** The key of the packet that created this megaflow: what revalidation translates again. */
    public FlowKey upcallKey()
    {
        return upcallKey;
    }

    /** Keeps the megaflow under a new table version: new actions, statistics now go to new rules. */
    public void retarget(final OdpActions newActions, final FlowRule[] newRules)
    {
        if (!actions.sameAs(newActions))
        {
            actions.copyFrom(newActions);
        }
        rules = newRules;
    }

    public void normalSource(final long vlanAndMac, final int port)
    {
        normalSource = vlanAndMac;
        normalPort = port;
    }

    /**
     * Refreshes the MAC entry NORMAL learned from this megaflow's packets if any arrived since the
     * last refresh (OVS's XC_NORMAL on a statistics push).
     */
    public void refreshMac(final dev.junction.flowtable.xlate.MacLearning macs)
    {
        if (normalSource >= 0 && usedNanos > refreshedNanos)
        {
            refreshedNanos = usedNanos;
            macs.learn((int)(normalSource >>> 48), normalSource & 0xffff_ffff_ffffL, normalPort, usedNanos);
        }
    }

    /** Credits the OpenFlow rules with what this megaflow saw since the last push. */
    public void pushStats()
    {
        final long dp = packets - pushedPackets;
        final long db = bytes - pushedBytes;
        if (dp == 0 || slow)
        {
            // Slow-path packets were counted by their own translations.
            pushedPackets = packets;
            pushedBytes = bytes;
            return;
        }
        for (final FlowRule r : rules)
        {
            r.credit(dp, db);
            r.touch(usedNanos);
        }
        pushedPackets = packets;
        pushedBytes = bytes;
    }
}
