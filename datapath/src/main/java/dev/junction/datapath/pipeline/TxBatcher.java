package dev.junction.datapath.pipeline;

import dev.junction.datapath.Datapath;
import dev.junction.flowtable.Packet;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A worker's transmitter: the datapath's outputs are copied into one {@link TxBatch} per port and
 * handed to the port's {@link TxPort} when the batch is full or the worker ends its batch of ring
 * events, so a port sees bursts rather than single frames (as OVS's per-PMD output batches).
 * Owned by one worker thread; its counters are written by that thread only and read by anyone.
 */
final class TxBatcher implements Datapath.Transmitter
{
    private final int worker;
    private final PortIndex ports;
    private final TxPort[] txPorts;
    private final TxBatch[] batches;
    private final AtomicLongArray txPackets;
    private final AtomicLongArray txDrops;
    private final AtomicLong unknownPort = new AtomicLong();
    private long sequence;
    private long timestampNanos;

    TxBatcher(
        final int worker, final PortIndex ports, final TxPort[] txPorts, final int batchSize, final int frameCapacity)
    {
        this.worker = worker;
        this.ports = ports;
        this.txPorts = txPorts;
        batches = new TxBatch[ports.size()];
        for (int i = 0; i < batches.length; i++)
        {
            batches[i] = new TxBatch(ports.port(i), batchSize, frameCapacity);
        }
        txPackets = new AtomicLongArray(ports.size());
        txDrops = new AtomicLongArray(ports.size());
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
        final int index = ports.indexOf(port);
        if (index < 0)
        {
            unknownPort.lazySet(unknownPort.get() + 1);
            return;
        }
        final TxBatch batch = batches[index];
        if (!batch.add(packet, sequence, timestampNanos))
        {
            txDrops.lazySet(index, txDrops.get(index) + 1);
            return;
        }
        if (batch.isFull())
        {
            flush(index);
        }
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
            txPorts[index].send(worker, batch);
            sent = true;
        }
        finally
        {
            // A port that throws loses this batch, counted; the next batch starts empty either way.
            if (sent)
            {
                txPackets.lazySet(index, txPackets.get(index) + n);
            }
            else
            {
                txDrops.lazySet(index, txDrops.get(index) + n);
            }
            batch.clear();
        }
    }

    long txPackets(final int index)
    {
        return txPackets.get(index);
    }

    long txDrops(final int index)
    {
        return txDrops.get(index);
    }

    long unknownPort()
    {
        return unknownPort.get();
    }
}
