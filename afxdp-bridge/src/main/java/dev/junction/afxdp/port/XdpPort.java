package dev.junction.afxdp.port;

import dev.junction.afxdp.xdp.AfXdpPort;
import dev.junction.afxdp.xdp.XdpConfig;
import dev.junction.afxdp.xdp.XdpQueue;
import dev.junction.datapath.pipeline.TxBatch;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * An AF_XDP port on one or more queues of an interface as a datapath port: its RX rings are
 * read by a {@link PortPoller}; the workers' TX batches are copied into the UMEM TX frames of
 * one queue, then one flush (and a kernel kick only if it asks for one) per batch. Partial
 * checksums of veth frames are completed at RX.
 *
 * <p>Which queue a worker sends on is fixed: worker {@code w} uses queue {@code w % queues}. The
 * pipeline pins every flow to one worker (by its RSS hash), so a flow's frames always take one
 * TX ring, in the order the worker sent them. As OVS gives each PMD thread its own txq when
 * there are enough (and falls back to shared, locked txqs otherwise): with at least as many
 * queues as workers each queue has one sender and no lock; a queue shared by several workers
 * is locked around each batch, since a TX ring has a single producer.
 */
public final class XdpPort implements DevicePort
{
    private final int port;
    private final AfXdpPort xdp;
    private final int workers;
    private final Lane[] lanes;

    /** One queue's TX side: whoever sends on it next uses its view. */
    private static final class Lane
    {
        final XdpQueue queue;
        final boolean shared;
        final UnsafeBuffer view = new UnsafeBuffer(new byte[0]);

        Lane(final XdpQueue queue, final boolean shared)
        {
            this.queue = queue;
            this.shared = shared;
        }

        void send(final TxBatch batch)
        {
            for (int i = 0; i < batch.size(); i++)
            {
                view.wrap(batch.frame(i), 0, batch.length(i));
                queue.send(view, 0, batch.length(i));
            }
            queue.flush();
        }
    }

    XdpPort(final int port, final AfXdpPort xdp, final int workers)
    {
        if (workers < 1)
        {
            throw new IllegalArgumentException("workers " + workers);
        }
        this.port = port;
        this.xdp = xdp;
        this.workers = workers;
        final int n = xdp.queueCount();
        lanes = new Lane[n];
        for (int q = 0; q < n; q++)
        {
            lanes[q] = new Lane(xdp.queue(q), sendersOf(q, n, workers) > 1);
        }
    }

    /** How many of {@code workers} workers send on queue {@code queue} of {@code queues}. */
    static int sendersOf(final int queue, final int queues, final int workers)
    {
        return workers / queues + (queue < workers % queues ? 1 : 0);
    }

    /**
     * Opens queues {@code firstQueue} to {@code firstQueue + queues - 1} of the interface for a
     * pipeline of {@code workers} workers (which decides whether TX queues are shared).
     */
    public static XdpPort open(final int port, final String ifname, final XdpConfig.Mode mode, final int firstQueue,
        final int queues, final int workers)
    {
        return new XdpPort(port, AfXdpPort.open(new XdpConfig(ifname).mode(mode).queueId(firstQueue).queueCount(queues)),
            workers);
    }

    @Override
    public int port()
    {
        return port;
    }

    @Override
    public String name()
    {
        return xdp.interfaceName();
    }

    @Override
    public int fd()
    {
        return xdp.fd();
    }

    @Override
    public int[] fds()
    {
        return xdp.fds();
    }

    public AfXdpPort xdp()
    {
        return xdp;
    }

    /** The port's queue index (0-based within the port) worker {@code worker} sends on. */
    public int txQueueOf(final int worker)
    {
        return worker % lanes.length;
    }

    @Override
    public int receive(final PortPoller poller, final int maxBurst)
    {
        return xdp.receive(poller, maxBurst);
    }

    @Override
    public void send(final int worker, final TxBatch batch)
    {
        if (worker < 0 || worker >= workers)
        {
            // Its queue's owner may be sending without a lock: sending here could corrupt the ring.
            throw new IllegalArgumentException("worker " + worker + " of " + workers);
        }
        final Lane lane = lanes[worker % lanes.length];
        if (lane.shared)
        {
            synchronized (lane)
            {
                lane.send(batch);
            }
        }
        else
        {
            lane.send(batch);
        }
    }

    @Override
    public void close()
    {
        xdp.close();
    }
}
