package dev.junction.datapath.pipeline;

import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.ExceptionHandler;
import dev.junction.datapath.Datapath;
import dev.junction.datapath.cache.MegaflowCache;
import dev.junction.flowtable.Packet;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One worker of the pipeline, run by its own {@code BatchEventProcessor}. Every worker sees every
 * event of the ring (Disruptor 4 has no work pool) and processes only those whose RSS hash maps to
 * it, so a flow always lands on the same worker and keeps its order. Each packet runs to completion
 * on this thread; outputs wait in per-port TX batches that are flushed at the end of each batch of
 * events (at most {@code batchSize} events, see {@code BatchEventProcessorBuilder.setMaxBatchSize}),
 * so a port is never left holding frames while the worker waits for more input. A datapath given
 * a {@link dev.junction.datapath.PacketInHandler} calls it on this thread, mid-packet; its
 * packet-outs join this worker's TX batches after the packet's own outputs.
 */
final class Worker implements EventHandler<PacketEvent>, ExceptionHandler<PacketEvent>
{
    private final int index;
    private final int workers;
    private final Datapath datapath;
    private final TxBatcher tx;
    private final AtomicLong processed = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    /** Time spent in batches: two clock reads per batch (up to 32 events), for ns per packet. */
    private final AtomicLong busyNanos = new AtomicLong();
    private long batchStart;

    Worker(final int index, final int workers, final Datapath datapath, final TxBatcher tx)
    {
        this.index = index;
        this.workers = workers;
        this.datapath = datapath;
        this.tx = tx;
    }

    static int workerFor(final int rssHash, final int workers)
    {
        return Integer.remainderUnsigned(rssHash, workers);
    }

    @Override
    public void onBatchStart(final long batchSize, final long queueDepth)
    {
        batchStart = System.nanoTime();
    }

    /**
     * This worker's packets of the current batch, kept until its end (or until a control request
     * or {@link MegaflowCache#MAX_BATCH} packets) and then looked up together
     * ({@link Datapath#prepare}) before each runs to completion in ring order. Holding the events
     * is safe: the processor releases the slots only after the batch's last {@code onEvent}.
     */
    private final Packet[] pending = new Packet[MegaflowCache.MAX_BATCH];
    private final long[] pendingSequences = new long[MegaflowCache.MAX_BATCH];
    private final long[] pendingTimestamps = new long[MegaflowCache.MAX_BATCH];
    private int pendingCount;

    @Override
    public void onEvent(final PacketEvent event, final long sequence, final boolean endOfBatch)
    {
        if (event.control != null)
        {
            if (event.controlWorker == index)
            {
                // Packets before the request are processed before it, as they were received.
                processPending();
                event.control.accept(datapath);
            }
        }
        else if (workerFor(event.rssHash, workers) == index)
        {
            pending[pendingCount] = event.packet;
            pendingSequences[pendingCount] = sequence;
            pendingTimestamps[pendingCount] = event.timestampNanos;
            if (++pendingCount == pending.length)
            {
                processPending();
            }
        }
        if (endOfBatch)
        {
            processPending();
            tx.flushAll();
            busyNanos.lazySet(busyNanos.get() + System.nanoTime() - batchStart);
        }
    }

    private void processPending()
    {
        final int n = pendingCount;
        if (n == 0)
        {
            return;
        }
        pendingCount = 0;
        datapath.prepare(pending, n);
        for (int i = 0; i < n; i++)
        {
            tx.from(pendingSequences[i], pendingTimestamps[i]);
            try
            {
                datapath.receivePrepared(pending[i], i);
            }
            catch (final RuntimeException | Error ex)
            {
                // One packet's failure must not lose the rest of the burst.
                errors.lazySet(errors.get() + 1);
            }
            pending[i] = null;
            processed.lazySet(processed.get() + 1);
        }
    }

    long busyNanos()
    {
        return busyNanos.get();
    }

    @Override
    public void onShutdown()
    {
        processPending();
        tx.flushAll();
    }

    /**
     * A packet that throws is counted and skipped; the processor goes on with the next event. The
     * batch it was in has lost its end, so pending outputs are flushed here instead.
     */
    @Override
    public void handleEventException(final Throwable ex, final long sequence, final PacketEvent event)
    {
        errors.lazySet(errors.get() + 1);
        try
        {
            tx.flushAll();
        }
        catch (final Throwable again)
        {
            errors.lazySet(errors.get() + 1);
        }
    }

    @Override
    public void handleOnStartException(final Throwable ex)
    {
        errors.lazySet(errors.get() + 1);
    }

    @Override
    public void handleOnShutdownException(final Throwable ex)
    {
        errors.lazySet(errors.get() + 1);
    }

    Datapath datapath()
    {
        return datapath;
    }

    TxBatcher tx()
    {
        return tx;
    }

    long processed()
    {
        return processed.get();
    }

    long errors()
    {
        return errors.get();
    }
}
