package dev.junction.datapath.pipeline;

import dev.junction.datapath.Datapath;
import dev.junction.flowtable.Packet;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A worker's transmitter: the datapath's outputs are copied into one {@link TxBatch} per port and
 * handed to the port's {@link TxPort} when the batch is full or the worker ends its batch of ring
 * events, so a port sees bursts rather than single frames (as OVS's per-PMD output batches).
 * Owned by one worker thread; its counters are written by that thread only and read by anyone.
 *
 * <p>The port set may change while packets flow ({@link Pipeline#addPort}): before each output
 * the batcher looks whether a new {@link PortTable} was published and, if so, first hands what it
 * holds to the old version's ports (a removed port's device stays open until every worker has
 * passed the ring cursor of its removal, so this is safe) and then takes the new one.
 */
final class TxBatcher implements Datapath.Transmitter
{
    private final int worker;
    private final AtomicReference<PortTable> published;
    private final int batchSize;
    private final int frameCapacity;
    private PortTable ports;
    private TxBatch[] batches;
    private final AtomicLong unknownPort = new AtomicLong();
    private long sequence;
    private long timestampNanos;

    TxBatcher(final int worker, final AtomicReference<PortTable> published, final int batchSize, final int frameCapacity)
    {
        this.worker = worker;
        this.published = published;
        this.batchSize = batchSize;
        this.frameCapacity = frameCapacity;
        ports = published.get();
        batches = new TxBatch[ports.index.size()];
        for (int i = 0; i < batches.length; i++)
        {
            batches[i] = new TxBatch(ports.index.port(i), batchSize, frameCapacity);
        }
    }

    /** The received packet the next outputs come from (its ring sequence and timestamp). */
    void from(final long sequence, final long timestampNanos)
    {
        this.sequence = sequence;
        this.timestampNanos = timestampNanos;
    }

    @Override
    public void transmit(final int port, final Packet packet)
    {
        final PortTable current = published.get();
        if (current != ports)
        {
            switchTo(current);
        }
        final int index = ports.index.indexOf(port);
        if (index < 0)
        {
            unknownPort.lazySet(unknownPort.get() + 1);
            return;
        }
        final TxBatch batch = batches[index];
        if (!batch.add(packet, sequence, timestampNanos))
        {
            countDrops(index, 1);
            return;
        }
        if (batch.isFull())
        {
            flush(index);
        }
    }

    /** Flushes into the old version's ports, then batches for the new one (a port that stays keeps its batch). */
    private void switchTo(final PortTable next)
    {
        flushAll();
        final TxBatch[] nextBatches = new TxBatch[next.index.size()];
        for (int i = 0; i < nextBatches.length; i++)
        {
            final int old = ports.index.indexOf(next.index.port(i));
            nextBatches[i] = old >= 0 ? batches[old] : new TxBatch(next.index.port(i), batchSize, frameCapacity);
        }
        ports = next;
        batches = nextBatches;
    }

    /** Hands every non-empty batch to its port; called at the end of each batch of ring events. */
    void flushAll()
    {
        for (int i = 0; i < batches.length; i++)
        {
            if (batches[i].size() > 0)
            {
                flush(i);
            }
        }
    }

    private void flush(final int index)
    {
        final TxBatch batch = batches[index];
        final int n = batch.size();
        boolean sent = false;
        try
        {
            ports.tx[index].send(worker, batch);
            sent = true;
        }
        finally
        {
            // A port that throws loses this batch, counted; the next batch starts empty either way.
            if (sent)
            {
                final PortTable.Counters c = ports.counters[index];
                c.txPackets.lazySet(worker, c.txPackets.get(worker) + n);
            }
            else
            {
                countDrops(index, n);
            }
            batch.clear();
        }
    }

    private void countDrops(final int index, final int n)
    {
        final PortTable.Counters c = ports.counters[index];
        c.txDrops.lazySet(worker, c.txDrops.get(worker) + n);
    }

    long unknownPort()
    {
        return unknownPort.get();
    }
}
