package dev.junction.datapath.pipeline;

import com.lmax.disruptor.BatchEventProcessor;
import com.lmax.disruptor.BatchEventProcessorBuilder;
import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.SequenceBarrier;
import dev.junction.datapath.Datapath;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.ofp.FlowTables;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The packet pipeline: ports publish RX bursts into a Disruptor ring of preallocated
 * {@link PacketEvent}s, and N {@link Worker}s, each on its own thread with its own {@link Datapath},
 * take the packets whose RSS hash maps to them and run each to completion, sending outputs to the
 * ports in batches.
 *
 * <p>RX never blocks: a burst claims as many slots as are free ({@code tryNext(n)}) and the rest of
 * it is dropped and counted per port, as a NIC drops when its RX ring is full. The ring is the only
 * queue, so memory is bounded by its size.
 *
 * <p>With {@link PipelineConfig#revalidator(boolean)}, a {@link Revalidator} thread translates the
 * workers' megaflows again after a table change and expires idle ones, sending its changes to each
 * worker through the ring as control events; without it each worker does that itself before its
 * next packet, which a replay needs for a deterministic order of events.
 *
 * <p>{@link #receive} may be called from several port threads at once (multi-producer ring);
 * everything else is for a control thread. Counters may be read from any thread at any time.
 */
public final class Pipeline implements AutoCloseable
{
    public static final String THREAD_NAME_PREFIX = "junction-worker-";

    private final RingBuffer<PacketEvent> ring;
    /** The current port set, replaced whole when a port comes or goes (RX threads and workers read it). */
    private final java.util.concurrent.atomic.AtomicReference<PortTable> ports;
    private final int maxFrame;
    private final Worker[] workers;
    private final BatchEventProcessor<?>[] processors;
    private final Sequence[] sequences;
    private final Thread[] threads;
    private final Duration drainTimeout;
    /** Null when workers revalidate themselves. */
    private final Revalidator revalidator;
    private final dev.junction.datapath.RevalidatorLink[] links;
    private org.agrona.concurrent.AgentRunner revalidatorRunner;
    private final AtomicLong revalidatorErrors = new AtomicLong();
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean accepting = true;

    public Pipeline(final PipelineConfig config, final DatapathFactory factory)
    {
        final int n = config.workers();
        ports = new java.util.concurrent.atomic.AtomicReference<>(PortTable.of(config.ports(), config.txPorts(), n));
        maxFrame = config.maxFrame();
        drainTimeout = config.drainTimeout();
        final int frameCapacity = maxFrame;
        ring = RingBuffer.createMultiProducer(
            () -> new PacketEvent(frameCapacity), config.ringSize(), config.newWaitStrategy());

        final BatchEventProcessorBuilder builder = new BatchEventProcessorBuilder().setMaxBatchSize(config.batchSize());
        workers = new Worker[n];
        processors = new BatchEventProcessor<?>[n];
        sequences = new Sequence[n];
        threads = new Thread[n];
        for (int i = 0; i < n; i++)
        {
            // Outputs may grow by pushed headers, up to the packet's headroom.
            final TxBatcher tx = new TxBatcher(i, ports, config.batchSize(), maxFrame + Packet.HEADROOM);
            final Datapath datapath = factory.create(i, tx);
            workers[i] = new Worker(i, n, datapath, tx);
            // Each worker waits on the RX cursor only: workers are peers, none waits for another.
            final SequenceBarrier barrier = ring.newBarrier();
            final BatchEventProcessor<PacketEvent> processor = builder.build(ring, barrier, workers[i]);
            processor.setExceptionHandler(workers[i]);
            processors[i] = processor;
            sequences[i] = processor.getSequence();
            threads[i] = new Thread(processor, THREAD_NAME_PREFIX + i);
            // Daemon: a pipeline someone forgot to close must not keep the JVM alive.
            threads[i].setDaemon(true);
        }
        // A slot is free again only when every worker has passed it.
        ring.addGatingSequences(sequences);
        if (config.revalidator())
        {
            links = new dev.junction.datapath.RevalidatorLink[n];
            for (int i = 0; i < n; i++)
            {
                links[i] = workers[i].datapath().offloadRevalidation();
            }
            revalidator = new Revalidator(this, links, System::nanoTime);
        }
        else
        {
            links = null;
            revalidator = null;
        }
    }

    /** Starts the worker threads; packets received before this wait in the ring. */
    public void start()
    {
        if (closed.get())
        {
            throw new IllegalStateException("pipeline closed");
        }
        if (!started.compareAndSet(false, true))
        {
            throw new IllegalStateException("pipeline already started");
        }
        for (final Thread t : threads)
        {
            t.start();
        }
        if (revalidator != null)
        {
            // Sleeps 1 ms when idle: a dump waits at most that long, and an idle node pays nothing.
            revalidatorRunner = new org.agrona.concurrent.AgentRunner(new org.agrona.concurrent.SleepingMillisIdleStrategy(1),
                ex -> revalidatorErrors.incrementAndGet(), null, revalidator);
            org.agrona.concurrent.AgentRunner.startOnThread(revalidatorRunner, r ->
            {
                final Thread t = new Thread(r);
                t.setDaemon(true); // as the workers: a pipeline left open must not keep the JVM alive
                return t;
            });
        }
    }

    /**
     * Publishes a burst received on {@code port}: frames are copied into ring slots in order until
     * the ring is full; the rest are dropped and counted in {@link #rxDrops(int)}. Never blocks.
     *
     * @return the number of frames accepted.
     */
    public int receive(final int port, final RxBurst burst)
    {
        final PortTable.Counters counters = counters(port);
        final int n = burst.size();
        int fits = 0;
        for (int i = 0; i < n; i++)
        {
            if (burst.length(i) <= maxFrame)
            {
                fits++;
            }
        }
        if (fits < n)
        {
            counters.rxOversize.getAndAdd(n - fits);
        }
        if (fits == 0)
        {
            return 0;
        }
        final int claimed = freeSlots(fits);
        long hi = -1;
        if (claimed > 0)
        {
            try
            {
                hi = ring.tryNext(claimed);
            }
            catch (final InsufficientCapacityException ex)
            {
                // Another port took the free slots first: this burst is dropped whole.
            }
        }
        if (hi < 0)
        {
            counters.rxDrops.getAndAdd(fits);
            return 0;
        }
        final long lo = hi - claimed + 1;
        try
        {
            long seq = lo;
            for (int i = 0; i < n && seq <= hi; i++)
            {
                if (burst.length(i) <= maxFrame)
                {
                    ring.get(seq++).fill(port, burst.frame(i), burst.offset(i), burst.length(i), burst.timestampNanos(i));
                }
            }
        }
        finally
        {
            // Claimed slots must be published whatever happens, or every worker stalls on them.
            ring.publish(lo, hi);
        }
        counters.rxPackets.getAndAdd(claimed);
        if (claimed < fits)
        {
            counters.rxDrops.getAndAdd(fits - claimed);
        }
        return claimed;
    }

    /** Publishes a single frame; false when it was dropped (ring full, oversize or closed). */
    public boolean receive(
        final int port, final byte[] frame, final int offset, final int length, final long timestampNanos)
    {
        final PortTable.Counters counters = counters(port);
        if (length > maxFrame)
        {
            counters.rxOversize.getAndIncrement();
            return false;
        }
        final long seq;
        try
        {
            seq = accepting ? ring.tryNext() : -1;
        }
        catch (final InsufficientCapacityException ex)
        {
            counters.rxDrops.getAndIncrement();
            return false;
        }
        if (seq < 0)
        {
            counters.rxDrops.getAndIncrement();
            return false;
        }
        fillAndPublish(seq, counters, port, frame, offset, length, timestampNanos);
        return true;
    }

    /**
     * Publishes one frame, waiting for a free slot: for sources that can wait (a pcap file read
     * into the pipeline), never for a device, whose RX must not block. False when oversize or
     * when the pipeline is closing.
     */
    public boolean receiveWaiting(
        final int port, final byte[] frame, final int offset, final int length, final long timestampNanos)
    {
        final PortTable.Counters counters = counters(port);
        if (length > maxFrame)
        {
            counters.rxOversize.getAndIncrement();
            return false;
        }
        if (!accepting)
        {
            counters.rxDrops.getAndIncrement();
            return false;
        }
        final long seq = ring.next();
        fillAndPublish(seq, counters, port, frame, offset, length, timestampNanos);
        return true;
    }

    /** Fills the claimed slot and publishes it (also if the copy throws: a claimed slot must never stay unpublished). */
    private void fillAndPublish(final long seq, final PortTable.Counters counters, final int port, final byte[] frame, final int offset,
        final int length, final long timestampNanos)
    {
        try
        {
            ring.get(seq).fill(port, frame, offset, length, timestampNanos);
        }
        finally
        {
            ring.publish(seq);
        }
        counters.rxPackets.getAndIncrement();
    }

    /** How many of {@code wanted} slots to try to claim: all that look free, none once closing. */
    private int freeSlots(final int wanted)
    {
        return accepting ? (int)Math.min(wanted, ring.remainingCapacity()) : 0;
    }

    /**
     * Publishes a new flow-table version to every worker. Packets received after this returns are
     * translated with it; packets already in the ring may be too (as in OVS, a packet takes the
     * version current when it is translated). Each worker switches once and never goes back.
     */
    public void publish(final FlowTables tables)
    {
        for (final Worker w : workers)
        {
            w.datapath().publish(tables);
        }
    }

    /**
     * Runs {@code request} on worker {@code worker}'s thread, between two of its packets, with its
     * datapath (for reading its caches or counters consistently, as ovs-appctl's dpif-netdev
     * commands do through the PMD threads). Publishes a control event into the ring, waiting for
     * a free slot; the future completes when the worker has run it.
     */
    public <T> java.util.concurrent.CompletableFuture<T> control(final int worker,
        final java.util.function.Function<Datapath, T> request)
    {
        final java.util.concurrent.CompletableFuture<T> done = new java.util.concurrent.CompletableFuture<>();
        if (worker < 0 || worker >= workers.length)
        {
            done.completeExceptionally(new IllegalArgumentException("no worker " + worker));
            return done;
        }
        final long seq = ring.next();
        final PacketEvent e = ring.get(seq);
        e.controlWorker = worker;
        e.control = dp ->
        {
            try
            {
                done.complete(request.apply(dp));
            }
            catch (final RuntimeException ex)
            {
                done.completeExceptionally(ex);
            }
        };
        ring.publish(seq);
        return done;
    }

    /**
     * The ring sequence every worker has passed: the events up to it are processed and their
     * outputs handed to the ports (a worker flushes its TX batches before it moves its sequence).
     */
    public long processedThrough()
    {
        long min = Long.MAX_VALUE;
        for (final Sequence s : sequences)
        {
            min = Math.min(min, s.get());
        }
        return min;
    }

    /** Waits until every worker has processed every event published so far; false on timeout. */
    public boolean awaitIdle(final Duration timeout)
    {
        final long deadline = System.nanoTime() + timeout.toNanos();
        final long cursor = ring.getCursor();
        while (true)
        {
            boolean idle = true;
            for (final Sequence s : sequences)
            {
                if (s.get() < cursor)
                {
                    idle = false;
                    break;
                }
            }
            if (idle)
            {
                return true;
            }
            if (System.nanoTime() - deadline >= 0)
            {
                return false;
            }
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(100));
        }
    }

    /**
     * Stops taking packets, lets the workers finish what the ring holds (up to the drain timeout),
     * then halts them and joins their threads; a worker still busy one drain timeout after the
     * halt (stuck in a port) is interrupted, and joined all the same. Idempotent. Frames received while closing are
     * counted as RX drops.
     */
    @Override
    public void close()
    {
        if (!closed.compareAndSet(false, true))
        {
            return;
        }
        accepting = false;
        if (!started.get())
        {
            return;
        }
        if (revalidatorRunner != null)
        {
            // First, while workers still run: its sends into the ring must find them draining it.
            revalidatorRunner.close();
        }
        awaitIdle(drainTimeout);
        for (final BatchEventProcessor<?> p : processors)
        {
            p.halt();
        }
        boolean interrupted = false;
        for (final Thread t : threads)
        {
            boolean nudged = false;
            while (t.isAlive())
            {
                try
                {
                    t.join(nudged ? 0 : drainTimeout.toMillis() + 1);
                    if (t.isAlive() && !nudged)
                    {
                        // Still inside a TxPort or datapath call after the drain time: wake it.
                        t.interrupt();
                        nudged = true;
                    }
                }
                catch (final InterruptedException ex)
                {
                    // Joining matters more: the caller relies on no worker running after close.
                    interrupted = true;
                }
            }
        }
        if (interrupted)
        {
            Thread.currentThread().interrupt();
        }
    }

    public int workers()
    {
        return workers.length;
    }

    /**
     * Worker {@code worker}'s datapath, for its own counters (drops by reason, per-rule stats). It
     * is not thread-safe: read it once the pipeline is idle or closed.
     */
    public Datapath datapath(final int worker)
    {
        return workers[worker].datapath();
    }

    /** Megaflow dumps of worker {@code worker} a revalidator thread has completed (0 without one). */
    public long revalidations(final int worker)
    {
        return links == null ? 0 : links[worker].completed();
    }

    /** Megaflows the revalidator thread translated again, over all workers (0 without one). */
    public long revalidatorTranslations()
    {
        return revalidator == null ? 0 : revalidator.translated();
    }

    /** Errors the revalidator thread's duty cycle threw. */
    public long revalidatorErrors()
    {
        return revalidatorErrors.get();
    }

    /** Frames accepted into the ring from {@code port}. */
    public long rxPackets(final int port)
    {
        return counters(port).rxPackets.get();
    }

    /** Frames from {@code port} dropped because the ring was full (or the pipeline closing). */
    public long rxDrops(final int port)
    {
        return counters(port).rxDrops.get();
    }

    /** Frames from {@code port} dropped because they exceed the max frame size. */
    public long rxOversize(final int port)
    {
        return counters(port).rxOversize.get();
    }

    /** Whether {@link #close()} has begun: RX is refused from then on. */
    public boolean isClosing()
    {
        return !accepting;
    }

    /** Time worker {@code worker} spent processing batches (its busy time, for ns per packet). */
    public long busyNanos(final int worker)
    {
        return workers[worker].busyNanos();
    }

    /** Packets worker {@code worker} has run through its datapath. */
    public long processed(final int worker)
    {
        return workers[worker].processed();
    }

    /** Packets of worker {@code worker} that threw; each is skipped and the worker goes on. */
    public long errors(final int worker)
    {
        return workers[worker].errors();
    }

    /** Frames handed to {@code port}'s {@link TxPort}, over all workers. */
    public long txPackets(final int port)
    {
        final PortTable.Counters c = counters(port);
        return c.sum(c.txPackets);
    }

    /** Output frames for {@code port} lost: too long for a TX buffer, or its TxPort threw. */
    public long txDrops(final int port)
    {
        final PortTable.Counters c = counters(port);
        return c.sum(c.txDrops);
    }

    /** Outputs to ports the pipeline was not configured with, over all workers. */
    public long txUnknownPort()
    {
        long sum = 0;
        for (final Worker w : workers)
        {
            sum += w.tx().unknownPort();
        }
        return sum;
    }

    private PortTable.Counters counters(final int port)
    {
        final PortTable.Counters c = ports.get().counters(port);
        if (c == null)
        {
            throw new IllegalArgumentException("port " + port + " is not configured");
        }
        return c;
    }

    /** Whether {@code port} is in the current port set. */
    public boolean hasPort(final int port)
    {
        return ports.get().counters(port) != null;
    }

    /** The current port numbers, ascending. */
    public int[] ports()
    {
        return ports.get().portNumbers();
    }

    /**
     * Adds a port while packets flow (a pod's device plugged in, as a CNI's {@code add-port}):
     * workers send to it from their next output on, and it may receive once this returns. For a
     * control thread; the port's counters start at zero.
     */
    public synchronized void addPort(final int port, final TxPort tx)
    {
        ports.set(ports.get().with(port, tx, workers.length));
    }

    /**
     * Removes a port while packets flow, and returns once no worker can call its {@link TxPort}
     * any more, so the caller may close the device behind it. Stop the port's RX first: frames it
     * publishes after this are refused with an exception. Frames already in the ring from it are
     * still processed; outputs to it are counted as to an unknown port. Other ports lose nothing.
     *
     * @return false when a worker did not pass the removal within {@code timeout} (the device must
     *         then stay open)
     */
    public synchronized boolean removePort(final int port, final Duration timeout)
    {
        ports.set(ports.get().without(port));
        // A worker reads the port set before each output and flushes what it held for the old set
        // first; every batch begun before the swap ends at or before the cursor read now, and a
        // worker moves its sequence only after flushing its batch. So once every worker is past
        // this cursor, none holds the old set's TxPort.
        return !started.get() || closed.get() || awaitIdle(timeout);
    }
}
