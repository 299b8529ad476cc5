package dev.junction.conntrack;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.ct.CtAction;

/**
 * Connection tracking with the semantics of OVS's userspace conntrack (lib/conntrack.c): the
 * datapath {@code ct} action looks the packet's connection up in its zone, runs the protocol
 * state machine, commits, applies NAT, and leaves the result in the packet's metadata (the
 * conntrack words of its {@link FlowKey}), from where a recirculation matches on it.
 */
public final class Conntrack
{
    private final ConntrackConfig config;

    public Conntrack(final ConntrackConfig config)
    {
        this.config = config;
    }

    /**
     * Executes one datapath ct action.
     *
     * @param p   the packet, parsed ({@code l3}/{@code l4} offsets valid); NAT rewrites it in place
     *            with checksums fixed
     * @param key the packet's flow key; its conntrack words (ct_state, ct_zone, ct_mark, ct_label,
     *            original-direction tuple) are set as OVS sets the packet metadata; its header
     *            words are left as they are (the datapath parses again on recirculation)
     * @param ct  the action
     * @param nowNanos the time (the packet's timestamp in a replay)
     * @return false when the packet must be dropped (counted here), true otherwise
     */
    public boolean execute(final Packet p, final FlowKey key, final CtAction ct, final long nowNanos)
    {
        throw new UnsupportedOperationException("conntrack not implemented yet");
    }

    /** Connections as {@code ovs-appctl dpctl/dump-conntrack} prints them, one per line, in zone {@code zone} or all when -1. */
    public java.util.List<String> dump(final int zone)
    {
        return java.util.List.of();
    }

    /** Removes all connections of {@code zone}, or all when -1. */
    public void flush(final int zone)
    {
    }

    public ConntrackConfig config()
    {
        return config;
    }
}
