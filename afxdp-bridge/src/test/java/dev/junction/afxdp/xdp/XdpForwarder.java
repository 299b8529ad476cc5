package dev.junction.afxdp.xdp;

import dev.junction.afxdp.linux.FdPoller;

/**
 * The test's stand-in for the datapath: what one AF_XDP port receives is sent on the other,
 * through {@link AfXdpPort#receive} / {@link AfXdpPort#send}, on one thread that flushes both
 * TX rings after each round and sleeps in poll(2) when both RX rings are empty.
 */
final class XdpForwarder implements Runnable
{
    private static final int BURST = 64;

    private final AfXdpPort a;
    private final AfXdpPort b;
    private final XdpRxSink aToB;
    private final XdpRxSink bToA;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable failure;

    XdpForwarder(final AfXdpPort a, final AfXdpPort b)
    {
        this.a = a;
        this.b = b;
        aToB = (buffer, offset, length) -> b.send(buffer, offset, length);
        bToA = (buffer, offset, length) -> a.send(buffer, offset, length);
        thread = new Thread(this, "xdp-forwarder");
        thread.setDaemon(true);
    }

    XdpForwarder start()
    {
        thread.start();
        return this;
    }

    @Override
    public void run()
    {
        try
        {
            final FdPoller poller = new FdPoller(a.fd(), b.fd());
            while (running)
            {
                final int n = a.receive(aToB, BURST) + b.receive(bToA, BURST);
                b.flush();
                a.flush();
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

    boolean alive()
    {
        return thread.isAlive();
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
}
