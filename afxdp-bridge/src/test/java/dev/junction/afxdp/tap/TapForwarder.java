package dev.junction.afxdp.tap;

import dev.junction.afxdp.linux.FdPoller;

/**
 * The test's stand-in for the datapath: what one TAP receives is sent on the other, through
 * {@link TapDevice#receive} / {@link GsoEgress}, on one thread that sleeps in poll(2) when both
 * are empty.
 */
final class TapForwarder implements Runnable
{
    private static final int BURST = 64;

    private final TapDevice a;
    private final TapDevice b;
    private final GsoEgress egress = new GsoEgress();
    private final RxSink aToB;
    private final RxSink bToA;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean forceSegmentation;
    private volatile Throwable failure;
    /** Published copies of the egress counters (it is single-threaded). */
    private volatile long framesSegmented;
    private volatile long segmentsSent;
    private volatile long refused;

    TapForwarder(final TapDevice a, final TapDevice b)
    {
        this.a = a;
        this.b = b;
        aToB = (buffer, offset, length, header) -> egress.send(b, buffer, offset, length, header);
        bToA = (buffer, offset, length, header) -> egress.send(a, buffer, offset, length, header);
        thread = new Thread(this, "tap-forwarder");
        thread.setDaemon(true);
    }

    TapForwarder start()
    {
        thread.start();
        return this;
    }

    void forceSegmentation(final boolean force)
    {
        forceSegmentation = force;
    }

    @Override
    public void run()
    {
        try
        {
            final FdPoller poller = new FdPoller(a.fd(), b.fd());
            while (running)
            {
                egress.forceSegmentation(forceSegmentation);
                final int n = a.receive(aToB, BURST) + b.receive(bToA, BURST);
                framesSegmented = egress.framesSegmented();
                segmentsSent = egress.segmentsSent();
                refused = egress.refused();
                if (n == 0)
                {
                    poller.await(10);
                }
            }
        }
        catch (final Throwable t)
        {
            failure = t;
        }
    }

    void stop() throws InterruptedException
    {
        running = false;
        thread.join(2_000);
    }

    /** Bytes the forwarding thread has allocated so far (HotSpot's per-thread counter). */
    long allocatedBytes()
    {
        return ((com.sun.management.ThreadMXBean)java.lang.management.ManagementFactory.getThreadMXBean())
            .getThreadAllocatedBytes(thread.getId());
    }

    Throwable failure()
    {
        return failure;
    }

    long framesSegmented()
    {
        return framesSegmented;
    }

    long segmentsSent()
    {
        return segmentsSent;
    }

    long refused()
    {
        return refused;
    }
}
