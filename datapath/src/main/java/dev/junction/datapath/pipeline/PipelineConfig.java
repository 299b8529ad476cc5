package dev.junction.datapath.pipeline;

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.WaitStrategy;
import dev.junction.flowtable.Packet;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Settings of a {@link Pipeline}, set fluently before it is built.
 *
 * <p>The default wait strategy is Disruptor's {@link BlockingWaitStrategy}: idle workers sleep on a
 * condition and cost no CPU, and the lock it takes is paid once per RX burst, not per packet. OVS's
 * PMD threads busy-poll instead, which is right with cores set aside for the switch but on a
 * two-core node (and in tests) would leave no core for the RX threads and everything else; choose
 * {@code YieldingWaitStrategy} or {@code BusySpinWaitStrategy} when cores are dedicated.
 */
public final class PipelineConfig
{
    /** RX burst and TX batch size, as OVS's {@code NETDEV_MAX_BURST}. */
    public static final int DEFAULT_BATCH_SIZE = 32;
    public static final int DEFAULT_RING_SIZE = 2048;
    /**
     * Largest frame accepted at RX: a 1500-byte MTU frame with two VLAN tags fits, and with the
     * packet headroom each slot's buffer is 2 KiB.
     */
    public static final int DEFAULT_MAX_FRAME = 2048 - Packet.HEADROOM;
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(1);

    private int workers = Runtime.getRuntime().availableProcessors();
    private int ringSize = DEFAULT_RING_SIZE;
    private int maxFrame = DEFAULT_MAX_FRAME;
    private int batchSize = DEFAULT_BATCH_SIZE;
    private Supplier<WaitStrategy> waitStrategy = BlockingWaitStrategy::new;
    private Duration drainTimeout = DEFAULT_DRAIN_TIMEOUT;
    private boolean revalidator;
    private final List<Integer> portNumbers = new ArrayList<>();
    private final List<TxPort> txPorts = new ArrayList<>();

    /** Number of worker threads; default the available processors. */
    public PipelineConfig workers(final int workers)
    {
        if (workers < 1)
        {
            throw new IllegalArgumentException("workers must be at least 1: " + workers);
        }
        this.workers = workers;
        return this;
    }

    /** Slots in the ring, a power of two; a full ring drops at RX. */
    public PipelineConfig ringSize(final int ringSize)
    {
        if (ringSize < 1 || Integer.bitCount(ringSize) != 1)
        {
            throw new IllegalArgumentException("ring size must be a power of two: " + ringSize);
        }
        this.ringSize = ringSize;
        return this;
    }

    /** Largest frame a slot holds; longer frames are dropped at RX and counted as oversize. */
    public PipelineConfig maxFrame(final int maxFrame)
    {
        if (maxFrame < 14)
        {
            throw new IllegalArgumentException("max frame below an Ethernet header: " + maxFrame);
        }
        this.maxFrame = maxFrame;
        return this;
    }

    /** Most events a worker takes before ending a batch, and most frames a TX batch holds. */
    public PipelineConfig batchSize(final int batchSize)
    {
        if (batchSize < 1)
        {
            throw new IllegalArgumentException("batch size must be at least 1: " + batchSize);
        }
        this.batchSize = batchSize;
        return this;
    }

    /** Supplies the ring's wait strategy (a new one per pipeline: some strategies hold a lock). */
    public PipelineConfig waitStrategy(final Supplier<WaitStrategy> waitStrategy)
    {
        this.waitStrategy = waitStrategy;
        return this;
    }

    /** How long {@link Pipeline#close()} lets workers finish events already in the ring. */
    public PipelineConfig drainTimeout(final Duration drainTimeout)
    {
        this.drainTimeout = drainTimeout;
        return this;
    }

    /**
     * Revalidation and idle expiry on a revalidator thread (OVS's way, for a daemon: workers keep
     * forwarding while their megaflows are translated again) instead of on each worker before its
     * next packet (the default: a replay, where the order of events must not depend on threads).
     */
    public PipelineConfig revalidator(final boolean on)
    {
        this.revalidator = on;
        return this;
    }

    /** Adds a port: it may receive, and sends through {@code tx}. */
    public PipelineConfig port(final int port, final TxPort tx)
    {
        if (portNumbers.contains(port))
        {
            throw new IllegalArgumentException("port " + port + " configured twice");
        }
        portNumbers.add(port);
        txPorts.add(tx);
        return this;
    }

    int workers()
    {
        return workers;
    }

    int ringSize()
    {
        return ringSize;
    }

    int maxFrame()
    {
        return maxFrame;
    }

    int batchSize()
    {
        return batchSize;
    }

    WaitStrategy newWaitStrategy()
    {
        return waitStrategy.get();
    }

    Duration drainTimeout()
    {
        return drainTimeout;
    }

    boolean revalidator()
    {
        return revalidator;
    }

    int[] ports()
    {
        return portNumbers.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The TX ports in {@link #ports()} order. */
    TxPort[] txPorts()
    {
        return txPorts.toArray(new TxPort[0]);
    }
}
