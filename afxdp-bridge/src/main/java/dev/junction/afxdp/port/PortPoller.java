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
 */
public final class PortPoller implements Runnable, RxSink, dev.junction.afxdp.xdp.XdpRxSink
{
    private static final int POLL_MILLIS = 50;

    private final DevicePort[] ports;
    private final Pipeline pipeline;
    private final FdPoller poller;
    private final int[] firstFd;
    private final RxBurst burst = new RxBurst();
    private final byte[][] buffers;
    private final AtomicLong gsoDropped = new AtomicLong();
    private final AtomicLong oversizeDropped = new AtomicLong();
    private volatile boolean running = true;

    public PortPoller(final List<? extends DevicePort> ports, final Pipeline pipeline, final int maxFrame)
    {
        this.ports = ports.toArray(new DevicePort[0]);
        this.pipeline = pipeline;
        // Flattened: port i owns descriptors firstFd[i] to firstFd[i + 1] - 1 (one per queue).
        this.firstFd = new int[this.ports.length + 1];
        int[] fds = new int[0];
        for (int i = 0; i < this.ports.length; i++)
        {
            final int[] own = this.ports[i].fds();
            firstFd[i] = fds.length;
            fds = Arrays.copyOf(fds, fds.length + own.length);
            System.arraycopy(own, 0, fds, firstFd[i], own.length);
        }
        firstFd[this.ports.length] = fds.length;
        this.poller = new FdPoller(fds);
        this.buffers = new byte[RxBurst.MAX_BURST][maxFrame];
    }

    @Override
    public void run()
    {
        boolean busy = false;
        while (running)
        {
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
