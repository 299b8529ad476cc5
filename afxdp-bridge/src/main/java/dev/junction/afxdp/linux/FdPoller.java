package dev.junction.afxdp.linux;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * {@code poll(2)} over a fixed set of file descriptors waiting for input, in a preallocated
 * {@code struct pollfd} array: a port thread sleeps here when every port was empty instead of
 * spinning (on a two-core node a spinning port thread starves the workers). Allocation-free.
 */
public final class FdPoller
{
    private static final int POLLFD_SIZE = 8;
    private static final short POLLIN = 0x1;

    private final UnsafeBuffer pollfds;
    private final int count;

    public FdPoller(final int... fds)
    {
        count = fds.length;
        pollfds = new UnsafeBuffer(BufferUtil.allocateDirectAligned(Math.max(1, count) * POLLFD_SIZE, 8));
        for (int i = 0; i < count; i++)
        {
            pollfds.putInt(i * POLLFD_SIZE, fds[i], ByteOrder.nativeOrder());
            pollfds.putShort(i * POLLFD_SIZE + 4, POLLIN, ByteOrder.nativeOrder());
        }
    }

    /**
     * Waits until one of the descriptors is readable or the timeout passes.
     *
     * @return how many are readable (0 on timeout or an interrupted wait), or -1 with errno set
     */
    public int await(final int timeoutMillis)
    {
        final int n = LibC.poll(pollfds.addressOffset(), count, timeoutMillis);
        if (n < 0 && LibC.errno() == Errno.EINTR)
        {
            return 0;
        }
        return n;
    }

    /** Whether descriptor {@code i} reported input (or an error) in the last {@link #await}. */
    public boolean ready(final int i)
    {
        return pollfds.getShort(i * POLLFD_SIZE + 6, ByteOrder.nativeOrder()) != 0;
    }
}
