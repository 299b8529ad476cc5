package dev.junction.afxdp.port;

import dev.junction.afxdp.linux.FdPoller;
import dev.junction.afxdp.tap.RxSink;
import dev.junction.afxdp.tap.VirtioNetHeader;
import dev.junction.datapath.pipeline.Pipeline;
import dev.junction.datapath.pipeline.RxBurst;
import org.agrona.MutableDirectBuffer;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The RX duty cycle of a set of device ports (TAP, AF_XDP), on one thread: poll(2) until a device (any queue of it) is readable,
 * read a burst of up to 32 frames from each ready device into this poller's own buffers, and
 * publish each burst into the pipeline (which copies the frames into ring slots, so the buffers
 * are reused at once); while bursts keep coming, read again without polling. Sleeps in poll when
 * every port is idle instead of spinning, which on a
 * two-core node would starve the workers. Allocation-free in the steady state.
 *
 * <p>Devices may be added and removed while it runs ({@link #add}, {@link #remove}): the set is
 * published whole and the RX thread takes it up between two passes, so a removed device is never
 * read again once {@code remove} has returned.
 */
public final class PortPoller implements Runnable, RxSink, dev.junction.afxdp.xdp.XdpRxSink
{
    private static final int POLL_MILLIS = 50;

    private final Pipeline pipeline;
    /** The set asked for by the control thread; the RX thread takes it up at its next pass. */
    private volatile DevicePort[] wanted;
    /** The set the RX thread reads now: written by it only, volatile for {@link #remove} to wait on. */
    private volatile DevicePort[] ports;
    private FdPoller poller;
    private int[] firstFd;
    private final RxBurst burst = new RxBurst();
    private final byte[][] buffers;
    private final AtomicLong gsoDropped = new AtomicLong();
    private final AtomicLong oversizeDropped = new AtomicLong();
    private volatile boolean running = true;
    /** Set by the RX thread when it leaves {@link #run}: a device it read may be closed. */
    private volatile boolean stopped;

    public PortPoller(final List<? extends DevicePort> ports, final Pipeline pipeline, final int maxFrame)
    {
        this.pipeline = pipeline;
        this.buffers = new byte[RxBurst.MAX_BURST][maxFrame];
        wanted = ports.toArray(new DevicePort[0]);
        take(wanted);
    }

    /** Makes {@code next} the set read from now on, with its poll(2) descriptors. */
    private void take(final DevicePort[] next)
    {
        // Flattened: port i owns descriptors firstFd[i] to firstFd[i + 1] - 1 (one per queue).
        final int[] first = new int[next.length + 1];
        int[] fds = new int[0];
        for (int i = 0; i < next.length; i++)
        {
            final int[] own = next[i].fds();
            first[i] = fds.length;
            fds = Arrays.copyOf(fds, fds.length + own.length);
            System.arraycopy(own, 0, fds, first[i], own.length);
        }
        first[next.length] = fds.length;
        firstFd = first;
        poller = new FdPoller(fds);
        ports = next;
    }

    /** Reads {@code port} too from the next pass on (a pod's device plugged in while running). */
    public synchronized void add(final DevicePort port)
    {
        final DevicePort[] current = wanted;
        final DevicePort[] next = Arrays.copyOf(current, current.length + 1);
        next[current.length] = port;
        wanted = next;
    }

    /**
     * Stops reading {@code port}: returns once the RX thread has taken up a set without it (at
     * most one poll timeout, {@value #POLL_MILLIS} ms, plus a pass), or has stopped, so the caller
     * may close the device. False when the thread did not within {@code timeoutMillis}.
     */
    public synchronized boolean remove(final DevicePort port, final long timeoutMillis) throws InterruptedException
    {
        final DevicePort[] next = Arrays.stream(wanted).filter(p -> p != port).toArray(DevicePort[]::new);
        wanted = next;
        final long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (ports != next && running && !stopped)
        {
            if (System.nanoTime() - deadline >= 0)
            {
                return false;
            }
            Thread.sleep(1);
        }
        return true;
    }

    @Override
    public void run()
    {
        try
        {
            poll();
        }
        finally
        {
            stopped = true;
        }
    }

    private void poll()
    {
        boolean busy = false;
        while (running)
        {
            final DevicePort[] next = wanted;
            if (next != ports)
            {
                take(next);
                busy = false;
            }
            final DevicePort[] ports = this.ports;
            // poll(2) only when the last pass found nothing: under load the ports are read back
            // to back (an AF_XDP RX ring needs no system call at all), idle they sleep in poll.
            final boolean polled = !busy;
            if (polled && poller.await(POLL_MILLIS) <= 0)
            {
                continue;
            }
            busy = false;
            for (int i = 0; i < ports.length; i++)
            {
                if (!polled || ready(i))
                {
                    burst.clear();
                    ports[i].receive(this, RxBurst.MAX_BURST);
                    if (burst.size() > 0)
                    {
                        pipeline.receive(ports[i].port(), burst);
                        busy = true;
                    }
                }
            }
        }
    }

    /** Whether any descriptor of port {@code i} reported input in the last poll. */
    private boolean ready(final int i)
    {
        for (int f = firstFd[i]; f < firstFd[i + 1]; f++)
        {
            if (poller.ready(f))
            {
                return true;
            }
        }
        return false;
    }

    @Override
    public void onFrame(final MutableDirectBuffer buffer, final int offset, final int length, final VirtioNetHeader header)
    {
        if (header.isGso())
        {
            gsoDropped.lazySet(gsoDropped.get() + 1); // TSO is not negotiated: should not happen
            return;
        }
        onFrame(buffer, offset, length);
    }

    /** An AF_XDP frame (lent from the UMEM; copied here). */
    @Override
    public void onFrame(final MutableDirectBuffer buffer, final int offset, final int length)
    {
        final byte[] b = buffers[burst.size()];
        if (length > b.length)
        {
            oversizeDropped.lazySet(oversizeDropped.get() + 1);
            return;
        }
        buffer.getBytes(offset, b, 0, length);
        burst.add(b, 0, length, System.nanoTime());
    }

    /** Super-frames a device handed over although TSO was not negotiated: dropped and counted. */
    public long gsoDropped()
    {
        return gsoDropped.get();
    }

    public long oversizeDropped()
    {
        return oversizeDropped.get();
    }

    public void stop()
    {
        running = false;
    }
}
