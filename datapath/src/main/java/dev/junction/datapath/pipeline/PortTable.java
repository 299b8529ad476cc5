package dev.junction.datapath.pipeline;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One version of the pipeline's port set: the ports, their {@link TxPort}s and counters, never
 * changed once built. A port added or removed while packets flow makes a new version, published
 * as flow tables are: RX threads and workers take whichever version is current, and a worker
 * switches between two of its packets' outputs (see {@link TxBatcher}). The counters belong to
 * the port, not to the version, so they survive the other ports coming and going.
 */
final class PortTable
{
    /** A port's counters: RX ones written by any RX thread, TX ones by each worker in its own slot. */
    static final class Counters
    {
        final AtomicLong rxPackets = new AtomicLong();
        final AtomicLong rxDrops = new AtomicLong();
        final AtomicLong rxOversize = new AtomicLong();
        final AtomicLongArray txPackets;
        final AtomicLongArray txDrops;

        Counters(final int workers)
        {
            txPackets = new AtomicLongArray(workers);
            txDrops = new AtomicLongArray(workers);
        }

        long sum(final AtomicLongArray perWorker)
        {
            long sum = 0;
            for (int i = 0; i < perWorker.length(); i++)
            {
                sum += perWorker.get(i);
            }
            return sum;
        }
    }

    final PortIndex index;
    /** In {@link #index} order. */
    final TxPort[] tx;
    final Counters[] counters;

    private PortTable(final PortIndex index, final TxPort[] tx, final Counters[] counters)
    {
        this.index = index;
        this.tx = tx;
        this.counters = counters;
    }

    static PortTable of(final int[] ports, final TxPort[] tx, final int workers)
    {
        final PortIndex index = new PortIndex(ports);
        final TxPort[] sorted = new TxPort[index.size()];
        final Counters[] counters = new Counters[index.size()];
        for (int i = 0; i < ports.length; i++)
        {
            sorted[index.indexOf(ports[i])] = tx[i];
            counters[index.indexOf(ports[i])] = new Counters(workers);
        }
        return new PortTable(index, sorted, counters);
    }

    /** The next version with {@code port} added; fresh counters. */
    PortTable with(final int port, final TxPort txPort, final int workers)
    {
        if (index.indexOf(port) >= 0)
        {
            throw new IllegalArgumentException("port " + port + " is already in the pipeline");
        }
        final int[] ports = Arrays.copyOf(portNumbers(), index.size() + 1);
        ports[index.size()] = port;
        return remapped(ports, txPort, workers);
    }

    /** The next version without {@code port}. */
    PortTable without(final int port)
    {
        if (index.indexOf(port) < 0)
        {
            throw new IllegalArgumentException("port " + port + " is not in the pipeline");
        }
        return remapped(Arrays.stream(portNumbers()).filter(p -> p != port).toArray(), null, 0);
    }

    /** {@code ports} indexed anew; the ports of this version keep their TxPort and counters. */
    private PortTable remapped(final int[] ports, final TxPort added, final int workers)
    {
        final PortIndex next = new PortIndex(ports);
        final TxPort[] nextTx = new TxPort[next.size()];
        final Counters[] nextCounters = new Counters[next.size()];
        for (int i = 0; i < next.size(); i++)
        {
            final int old = index.indexOf(next.port(i));
            nextTx[i] = old < 0 ? added : tx[old];
            nextCounters[i] = old < 0 ? new Counters(workers) : counters[old];
        }
        return new PortTable(next, nextTx, nextCounters);
    }

    int[] portNumbers()
    {
        final int[] ports = new int[index.size()];
        for (int i = 0; i < ports.length; i++)
        {
            ports[i] = index.port(i);
        }
        return ports;
    }

    /** The counters of {@code port}, or null when it is not in this version. */
    Counters counters(final int port)
    {
        final int i = index.indexOf(port);
        return i < 0 ? null : counters[i];
    }
}
