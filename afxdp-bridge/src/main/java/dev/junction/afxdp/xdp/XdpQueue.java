package dev.junction.afxdp.xdp;

import dev.junction.afxdp.linux.Errno;
import dev.junction.afxdp.linux.IfXdp;
import dev.junction.afxdp.linux.LibC;
import dev.junction.afxdp.linux.NativeException;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One queue of an {@link AfXdpPort}: an {@link XdpSocket} bound to one RX/TX queue of the
 * interface, with its own UMEM, its rings driven from Java.
 *
 * <p>UMEM frames are split once: {@link XdpConfig#ringSize()} RX frames circulate between the
 * fill ring, the kernel, the RX ring and the {@link XdpRxSink} (and straight back to the fill
 * ring); the other frames are TX frames, on a free stack here until {@link #send} copies a
 * frame into one and puts it on the TX ring, back on the stack when the completion ring returns
 * it. The two sets never mix, so neither side can starve the other.
 *
 * <p>No native call per packet: RX and fill are plain memory; TX needs a {@code sendto} kick
 * only when the kernel sets {@code XDP_RING_NEED_WAKEUP} on the TX ring (in copy mode it always
 * does, and each kick sends up to 32 frames), done in {@link #flush()} once per burst; an idle
 * caller sleeps in {@code poll(2)} on {@link #fd()}. Nothing here allocates, blocks or throws on
 * the packet path: a full TX ring or no free TX frame is a counted drop.
 *
 * <p>Threading: one thread calls {@link #receive}, one thread calls {@link #send}/{@link #flush}
 * (may be the same). {@link #close()} only after they have stopped: it unmaps memory they read.
 */
public final class XdpQueue implements AutoCloseable
{
    private final XdpSocket socket;
    private final XdpCounters counters = new XdpCounters();
    private final UnsafeBuffer umem;
    private final XdpRing rx;
    private final XdpRing fill;
    private final XdpRing tx;
    private final XdpRing completion;
    private final int fd;
    private final int frameSize;
    private final long frameMask;
    private final int maxKicks;
    private final boolean completeChecksums;

    /** TX frames not in flight: UMEM offsets, a stack. */
    private final long[] freeFrames;
    private int freeCount;
    /** RX frames the fill ring had no room for yet (should stay empty, see {@link #returnStashed}). */
    private final long[] stash;
    private int stashed;
    /** Descriptors written to the TX ring but not yet published. */
    private int staged;
    private final long[] kernelStatistics = new long[6];
    private volatile boolean closed;

    /**
     * Takes over an opened, not yet bound socket and puts its RX frames on the fill ring, which
     * must happen before {@link XdpSocket#bind()}: the kernel may start receiving at once.
     */
    XdpQueue(final XdpConfig config, final XdpSocket socket)
    {
        this.socket = socket;
        this.umem = socket.umem();
        this.rx = socket.rx();
        this.fill = socket.fill();
        this.tx = socket.tx();
        this.completion = socket.completion();
        this.fd = socket.fd();
        this.frameSize = config.frameSize();
        this.frameMask = frameSize - 1;
        this.maxKicks = config.ringSize() / 32 + 2;
        this.completeChecksums = config.completeChecksums();
        final int rxFrames = config.ringSize();
        final int granted = fill.freeEntries(rxFrames);
        final int at = fill.producerIndex();
        for (int i = 0; i < granted; i++)
        {
            fill.putAddress(at + i, (long)i * frameSize);
        }
        fill.advance(granted);
        fill.publish();
        stash = new long[rxFrames];
        freeFrames = new long[config.frameCount() - rxFrames];
        for (int i = rxFrames; i < config.frameCount(); i++)
        {
            freeFrames[freeCount++] = (long)i * frameSize;
        }
    }

    /**
     * Takes up to {@code maxBurst} frames from the RX ring and hands each to the sink where it
     * lies in the UMEM; every frame goes back to the fill ring after its callback.
     *
     * @return frames delivered
     */
    public int receive(final XdpRxSink sink, final int maxBurst)
    {
        final XdpRing rx = this.rx;
        final int n = rx.available(maxBurst);
        if (n == 0)
        {
            if (stashed > 0)
            {
                returnStashed(0);
            }
            if (fill.needsWakeup())
            {
                counters.increment(XdpCounters.FILL_WAKEUPS);
                LibC.recvfrom(fd, 0, 0, IfXdp.MSG_DONTWAIT, 0, 0);
            }
            return 0;
        }
        // Room for n: the fill ring holds twice the RX frames (see XdpSocket.fillRingSize), so
        // even with the kernel's consumer index lagging it should never be short. Should it be,
        // the frames wait in a stash here rather than being lost or stopping the port.
        final int room = returnStashed(n);
        final int rxIndex = rx.consumerIndex();
        final int fillIndex = fill.producerIndex();
        long bytes = 0;
        int delivered = 0;
        int completed = 0;
        int i = 0;
        try
        {
            for (; i < n; i++)
            {
                final long address = rx.descAddress(rxIndex + i);
                final int length = rx.descLength(rxIndex + i);
                giveBack(fillIndex, i, room, address);
                if (length <= 0 || (address & frameMask) + length > frameSize)
                {
                    counters.increment(XdpCounters.RX_DROPS);
                    continue;
                }
                if (completeChecksums && PartialChecksum.complete(umem, (int)address, length))
                {
                    completed++;
                }
                sink.onFrame(umem, (int)address, length);
                bytes += length;
                delivered++;
            }
        }
        finally
        {
            // Also when a sink threw: the rest of the burst is dropped, every frame goes back.
            for (int j = i + 1; j < n; j++)
            {
                giveBack(fillIndex, j, room, rx.descAddress(rxIndex + j));
            }
            fill.advance(Math.min(n, room));
            fill.publish();
            rx.release(n);
            counters.add(XdpCounters.RX_PACKETS, delivered);
            counters.add(XdpCounters.RX_BYTES, bytes);
            counters.add(XdpCounters.RX_CSUM_COMPLETED, completed);
        }
        return delivered;
    }

    /** Frame {@code i} of a burst back to the fill ring, or to the stash when beyond the room there was. */
    private void giveBack(final int fillIndex, final int i, final int room, final long address)
    {
        if (i < room)
        {
            fill.putAddress(fillIndex + i, address & ~frameMask);
        }
        else
        {
            stash[stashed++] = address & ~frameMask;
            counters.increment(XdpCounters.FILL_DEFERRED);
        }
    }

    /**
     * Moves stashed frames to the fill ring as far as it has room (and publishes them).
     *
     * @return the room left for {@code wanted} more entries
     */
    private int returnStashed(final int wanted)
    {
        if (stashed > 0)
        {
            final int k = fill.freeEntries(stashed);
            final int at = fill.producerIndex();
            for (int i = 0; i < k; i++)
            {
                fill.putAddress(at + i, stash[--stashed]);
            }
            fill.advance(k);
            fill.publish();
        }
        return fill.freeEntries(wanted);
    }

    /**
     * Copies the frame into a free TX frame and puts it on the TX ring. It is handed to the
     * kernel by {@link #flush()} (or here, once 32 are waiting: the kernel's per-kick budget in
     * copy mode).
     *
     * @return false when the frame was dropped (counted): TX ring full, no free TX frame, too big
     */
    public boolean send(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length <= 0 || length > frameSize)
        {
            counters.increment(XdpCounters.TX_OVERSIZE);
            return false;
        }
        if (freeCount == 0 && reclaim() == 0)
        {
            counters.increment(XdpCounters.TX_NO_FRAME);
            return false;
        }
        if (tx.freeEntries(1) == 0)
        {
            counters.increment(XdpCounters.TX_RING_FULL);
            return false;
        }
        final long address = freeFrames[--freeCount];
        umem.putBytes((int)address, buffer, offset, length);
        tx.putDesc(tx.producerIndex(), address, length, 0);
        tx.advance(1);
        counters.increment(XdpCounters.TX_PACKETS);
        counters.add(XdpCounters.TX_BYTES, length);
        if (++staged >= 32)
        {
            flush();
        }
        return true;
    }

    /**
     * Publishes the staged TX descriptors and, when the kernel asks for it, kicks it with
     * {@code sendto} until it has taken them all (bounded: a kick that makes no progress ends
     * it; what is left goes with the next flush). Then takes back completed TX frames.
     */
    public void flush()
    {
        if (staged > 0)
        {
            staged = 0;
            tx.publish();
        }
        int pending = tx.pending();
        for (int kicks = 0; pending > 0 && kicks < maxKicks && tx.needsWakeup(); kicks++)
        {
            counters.increment(XdpCounters.TX_KICKS);
            if (LibC.sendto(fd, 0, 0, IfXdp.MSG_DONTWAIT, 0, 0) < 0)
            {
                final int errno = LibC.errno();
                if (errno != Errno.EAGAIN && errno != Errno.EBUSY && errno != Errno.ENOBUFS)
                {
                    counters.increment(XdpCounters.TX_ERRORS);
                    break;
                }
            }
            reclaim(); // a full completion ring stops the kernel's TX
            final int left = tx.pending();
            if (left == pending)
            {
                break;
            }
            pending = left;
        }
        reclaim();
    }

    /** Takes TX frames the kernel is done with off the completion ring; returns how many. */
    private int reclaim()
    {
        final XdpRing completion = this.completion;
        final int n = completion.available(Integer.MAX_VALUE);
        if (n > 0)
        {
            final int at = completion.consumerIndex();
            for (int i = 0; i < n; i++)
            {
                freeFrames[freeCount++] = completion.address(at + i) & ~frameMask;
            }
            completion.release(n);
            counters.add(XdpCounters.TX_COMPLETIONS, n);
        }
        return n;
    }

    /** Copies the kernel's {@code XDP_STATISTICS} (fill-ring starvation, RX ring full, ...) into the counters. */
    public synchronized void refreshKernelStatistics()
    {
        if (!closed && socket.statistics(kernelStatistics))
        {
            for (int i = 0; i < kernelStatistics.length; i++)
            {
                counters.set(XdpCounters.KERNEL_RX_DROPPED + i, kernelStatistics[i]);
            }
        }
    }

    /** The AF_XDP socket's fd, for poll(2): readable when the RX ring has frames. */
    public int fd()
    {
        return fd;
    }

    /** The interface queue this socket is bound to. */
    public int queueId()
    {
        return socket.queueId();
    }

    public XdpCounters counters()
    {
        return counters;
    }

    /** TX frames not in flight (for tests). */
    int freeTxFrames()
    {
        return freeCount;
    }

    /** Closes the socket and frees its UMEM. Idempotent; only after the queue's threads have stopped. */
    @Override
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        refreshKernelStatistics();
        closed = true;
        socket.close();
    }

    @Override
    public String toString()
    {
        return "queue " + socket.queueId() + " " + counters;
    }
}
