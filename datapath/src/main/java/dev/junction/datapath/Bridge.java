package dev.junction.datapath;

import dev.junction.conntrack.Conntrack;
import dev.junction.conntrack.ConntrackConfig;
import dev.junction.flowtable.ofp.FlowTables;
import dev.junction.flowtable.xlate.FrozenStates;
import dev.junction.flowtable.xlate.MacLearning;

import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

/**
 * What every worker of one switch shares, as OVS's ofproto and dp_netdev are shared by its PMD
 * threads: the current flow-table version (readers take it without a lock; writers — a
 * controller publishing, a learn, a rule expiring — swap in a new version), the connection
 * tracker and the recirculation states. Each worker's {@link Datapath} keeps its own caches.
 */
public final class Bridge
{
    private final AtomicReference<FlowTables> tables;
    private final Conntrack conntrack;
    private final FrozenStates frozen;
    private final MacLearning macs = new MacLearning();
    private volatile dev.junction.geneve.Tunnels tunnels;

    public Bridge(final FlowTables tables)
    {
        this(tables, new Conntrack(ConntrackConfig.defaults()));
    }

    public Bridge(final FlowTables tables, final Conntrack conntrack)
    {
        this(tables, conntrack, new FrozenStates());
    }

    /** @param frozen the recirculation states, with their limit */
    public Bridge(final FlowTables tables, final Conntrack conntrack, final FrozenStates frozen)
    {
        this.tables = new AtomicReference<>(tables);
        this.conntrack = conntrack;
        this.frozen = frozen;
    }

    public FlowTables tables()
    {
        return tables.get();
    }

    /** Replaces the flow tables (a controller's new version); workers revalidate before their next packet. */
    public void publish(final FlowTables next)
    {
        tables.set(next);
    }

    /**
     * Derives the next version from the current one, retrying if another worker swapped in a
     * version meanwhile, so concurrent learns and expiries are never lost. {@code change} may run
     * more than once and must return its argument itself when it changes nothing.
     */
    public FlowTables update(final UnaryOperator<FlowTables> change)
    {
        while (true)
        {
            final FlowTables current = tables.get();
            final FlowTables next = change.apply(current);
            if (next == current || tables.compareAndSet(current, next))
            {
                return next;
            }
        }
    }

    /** Configures the tunnel ports and their underlay; set before workers are created. */
    public Bridge tunnels(final dev.junction.geneve.Tunnels t)
    {
        this.tunnels = t;
        return this;
    }

    /** The tunnel ports and underlay, or null when the bridge has none. */
    public dev.junction.geneve.Tunnels tunnels()
    {
        return tunnels;
    }

    public Conntrack conntrack()
    {
        return conntrack;
    }

    public FrozenStates frozenStates()
    {
        return frozen;
    }

    /** The MAC learning table of the NORMAL action. */
    public MacLearning macLearning()
    {
        return macs;
    }
}
