package dev.junction.afxdp.testing;

import dev.junction.afxdp.linux.FdPoller;

/**
 * The namespace tests' stand-in for the datapath: one thread that runs {@link #pass()} (move
 * what each port received to the other) until stopped, sleeping in poll(2) on the ports'
 * descriptors when a pass moved nothing. Subclasses say what a pass is for their port type.
 */
public abstract class ForwarderThread implements Runnable
{
    protected static final int BURST = 64;

    private final Thread thread;
    private final int[] fds;
    private volatile boolean running = true;
    private volatile Throwable failure;

    protected ForwarderThread(final String name, final int... fds)
    {
        this.fds = fds.clone();
        thread = new Thread(this, name);
        thread.setDaemon(true);
    }

    /** Moves one burst each way; returns the frames received. */
    protected abstract int pass();

    @Override
    public final void run()
    {
        try
        {
            final FdPoller poller = new FdPoller(fds);
            while (running)
            {
                if (pass() == 0)
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

    public void begin()
    {
        thread.start();
    }

    public void stop() throws InterruptedException
    {
        running = false;
        thread.join(2_000);
    }

    public boolean alive()
    {
        return thread.isAlive();
    }

    public Throwable failure()
    {
        return failure;
    }

    /** Bytes the forwarding thread has allocated so far (HotSpot's per-thread counter). */
    public long allocatedBytes()
    {
        return ((com.sun.management.ThreadMXBean)java.lang.management.ManagementFactory.getThreadMXBean())
            .getThreadAllocatedBytes(thread.getId());
    }
}
