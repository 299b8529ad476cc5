package dev.junction.afxdp.xdp;

import dev.junction.afxdp.linux.EthtoolChannels;
import dev.junction.afxdp.linux.LibC;
import dev.junction.afxdp.linux.NativeException;
import org.agrona.DirectBuffer;

/**
 * An AF_XDP port: one {@link XskRedirectProgram} on an interface and one {@link XdpQueue} per
 * bound queue (OVS's {@code options:n_rxq}), each an AF_XDP socket with its own UMEM, all in the
 * program's XSKMAP under their queue index, so every frame goes to the socket of the queue it
 * arrived on.
 *
 * <p>Why a UMEM per queue rather than one shared with {@code XDP_SHARED_UMEM}: sharing one
 * across queues still needs a fill and a completion ring per socket, and a frame allocator that
 * the RX thread and every TX worker would have to share; separate UMEMs keep each queue's frames
 * its own, with no coordination at all, for 8 MiB (by default) per queue.
 *
 * <p>RX: {@link #receive} drains the queues in turn from a starting queue that moves on by one
 * each call, so a busy queue cannot keep the others waiting for more than one call; no native
 * call per packet. TX is per queue ({@link #queue(int)}): each {@link XdpQueue}'s TX ring has a
 * single producer, so the caller decides which thread sends on which queue (see
 * {@code dev.junction.afxdp.port.XdpPort}). {@link #send}/{@link #flush()} are the first queue's.
 *
 * <p>Threading: one thread calls {@link #receive}; each queue's TX has one sending thread at a
 * time. {@link #close()} only after they have stopped: it unmaps memory they read.
 */
public final class AfXdpPort implements AutoCloseable
{
    private final XdpConfig config;
    private final XskRedirectProgram program;
    private final XdpQueue[] queues;
    /** The queue {@link #receive} starts with next time (RX thread only). */
    private int nextQueue;
    private volatile boolean closed;

    private AfXdpPort(final XdpConfig config, final XskRedirectProgram program, final XdpQueue[] queues)
    {
        this.config = config;
        this.program = program;
        this.queues = queues;
    }

    /**
     * Checks that the interface has the configured queues, loads the redirect program, creates
     * and binds a socket per queue, puts each in the program's map and attaches the program
     * (removing a stale one of ours first). Needs root. On failure nothing is left open or attached.
     *
     * @throws IllegalArgumentException when the interface has fewer RX queues than configured
     * @throws NativeException naming the failed step (if_nametoindex, socket, XDP_UMEM_REG,
     *                         mmap, bind, BPF_PROG_LOAD, BPF_LINK_CREATE...) with errno's text
     */
    public static AfXdpPort open(final XdpConfig config)
    {
        config.validate();
        final String name = config.interfaceName();
        final int ifindex = LibC.if_nametoindex(name);
        if (ifindex == 0)
        {
            throw new NativeException("if_nametoindex " + name, LibC.errno(), "no such interface in this network namespace");
        }
        final int first = config.queueId();
        final int count = config.queueCount();
        final int available = EthtoolChannels.rxQueues(name);
        if (available > 0 && first + count > available)
        {
            throw new IllegalArgumentException("interface " + name + " has " + available + " RX queue"
                + (available == 1 ? "" : "s") + " (ethtool -l " + name + "), " + (count == 1 ? "queue " + first
                : "queues " + first + " to " + (first + count - 1)) + " asked for");
        }
        final XskRedirectProgram program = XskRedirectProgram.load(ifindex, first + count);
        final XdpQueue[] queues = new XdpQueue[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                final XdpSocket socket = XdpSocket.open(config, ifindex, first + i);
                try
                {
                    queues[i] = new XdpQueue(config, socket); // fill ring primed before bind
                }
                catch (final RuntimeException e)
                {
                    socket.close();
                    throw e;
                }
                socket.bind();
                program.putSocket(first + i, socket.fd());
            }
            program.attach(config.mode().flags);
            DetachOnExit.register(program);
            return new AfXdpPort(config, program, queues);
        }
        catch (final RuntimeException e)
        {
            program.close();
            for (final XdpQueue q : queues)
            {
                if (q != null)
                {
                    q.close();
                }
            }
            throw e;
        }
    }

    /**
     * Takes up to {@code maxBurst} frames from the queues' RX rings, starting with the queue
     * after the one this call started with last time, and hands each to the sink where it lies
     * in its queue's UMEM.
     *
     * @return frames delivered
     */
    public int receive(final XdpRxSink sink, final int maxBurst)
    {
        final XdpQueue[] queues = this.queues;
        final int n = queues.length;
        if (n == 1)
        {
            return queues[0].receive(sink, maxBurst);
        }
        int q = nextQueue;
        nextQueue = q + 1 == n ? 0 : q + 1;
        int delivered = 0;
        for (int i = 0; i < n && delivered < maxBurst; i++)
        {
            delivered += queues[q].receive(sink, maxBurst - delivered);
            q = q + 1 == n ? 0 : q + 1;
        }
        return delivered;
    }

    /** {@link XdpQueue#send} on the first queue. */
    public boolean send(final DirectBuffer buffer, final int offset, final int length)
    {
        return queues[0].send(buffer, offset, length);
    }

    /** {@link XdpQueue#flush()} on the first queue. */
    public void flush()
    {
        queues[0].flush();
    }

    /** How many queues the port binds. */
    public int queueCount()
    {
        return queues.length;
    }

    /** The port's {@code i}-th queue (interface queue {@code config().queueId() + i}). */
    public XdpQueue queue(final int i)
    {
        return queues[i];
    }

    /** Copies each socket's {@code XDP_STATISTICS} (fill-ring starvation, RX ring full, ...) into its counters. */
    public void refreshKernelStatistics()
    {
        for (final XdpQueue q : queues)
        {
            q.refreshKernelStatistics();
        }
    }

    /** The first queue's socket fd, for poll(2): readable when its RX ring has frames. */
    public int fd()
    {
        return queues[0].fd();
    }

    /** Every queue's socket fd, in queue order. */
    public int[] fds()
    {
        final int[] fds = new int[queues.length];
        for (int i = 0; i < fds.length; i++)
        {
            fds[i] = queues[i].fd();
        }
        return fds;
    }

    public XdpConfig config()
    {
        return config;
    }

    /** The sum of the queues' counters, as of now (a new snapshot per call: not for the packet path). */
    public XdpCounters counters()
    {
        if (queues.length == 1)
        {
            return queues[0].counters();
        }
        final XdpCounters sum = new XdpCounters();
        for (final XdpQueue q : queues)
        {
            sum.addAll(q.counters());
        }
        return sum;
    }

    public String interfaceName()
    {
        return config.interfaceName();
    }

    /** The kernel's id of the attached program (as {@code ip link} prints it). */
    public int programId()
    {
        return program.id();
    }

    /** TX frames of the first queue not in flight (for tests). */
    int freeTxFrames()
    {
        return queues[0].freeTxFrames();
    }

    /**
     * Detaches the program (the interface's frames go back to the kernel stack), then closes the
     * sockets and frees their UMEMs, the program and the map. Idempotent; only after the port's
     * threads have stopped.
     */
    @Override
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        DetachOnExit.unregister(program);
        program.close();
        for (final XdpQueue q : queues)
        {
            q.close();
        }
    }

    @Override
    public String toString()
    {
        final StringBuilder sb = new StringBuilder("AfXdpPort{").append(config.interfaceName());
        for (final XdpQueue q : queues)
        {
            sb.append(", ").append(q);
        }
        return sb.append('}').toString();
    }
}
