package dev.junction.afxdp.xdp;

import dev.junction.afxdp.linux.Errno;
import dev.junction.afxdp.linux.IfXdp;
import dev.junction.afxdp.linux.LibC;
import dev.junction.afxdp.linux.NativeException;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * An AF_XDP socket with its own UMEM, set up with plain syscalls: the UMEM is an anonymous
 * page-aligned mapping registered with {@code XDP_UMEM_REG}; the four rings are sized with
 * setsockopt, located with {@code XDP_MMAP_OFFSETS} and mapped from the socket; then the socket
 * is bound ({@code sockaddr_xdp}) to one queue of one interface with {@code XDP_USE_NEED_WAKEUP}
 * and {@code XDP_COPY} or {@code XDP_ZEROCOPY}.
 *
 * <p>This class only owns the memory and the descriptor; {@link AfXdpPort} drives the rings.
 * Must be created in the network namespace of the interface. {@link #close()} unmaps the rings,
 * closes the socket, then unmaps the UMEM (in that order: the kernel stops using it first).
 */
public final class XdpSocket implements AutoCloseable
{
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private final XdpConfig config;
    private final int ifindex;
    private final int queueId;
    private volatile int fd;
    private final long umemAddress;
    private final long umemLength;
    private final UnsafeBuffer umem;
    private final Mapping rxMap;
    private final Mapping txMap;
    private final Mapping fillMap;
    private final Mapping completionMap;
    private final XdpRing rx = new XdpRing();
    private final XdpRing tx = new XdpRing();
    private final XdpRing fill = new XdpRing();
    private final XdpRing completion = new XdpRing();
    private final UnsafeBuffer statistics = new UnsafeBuffer(BufferUtil.allocateDirectAligned(IfXdp.STATISTICS_SIZE + 8, 8));

    private record Mapping(long address, long length)
    {
    }

    /**
     * Opens, registers and maps a socket for queue {@code queueId} of the interface ({@link #bind()} binds it).
     * On failure everything done so far is undone.
     *
     * @throws NativeException naming the failed step, with errno's text and a hint
     */
    public static XdpSocket open(final XdpConfig config, final int ifindex, final int queueId)
    {
        config.validate();
        final int fd = LibC.socket(IfXdp.AF_XDP, IfXdp.SOCK_RAW | IfXdp.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            final int errno = LibC.errno();
            throw new NativeException("socket(AF_XDP)", errno, errno == Errno.EAFNOSUPPORT
                ? "kernel without CONFIG_XDP_SOCKETS" : errno == Errno.EPERM ? "needs CAP_NET_RAW (run as root)" : "");
        }
        final long umemLength = (long)config.frameCount() * config.frameSize();
        final long umemAddress = LibC.mmap(0, umemLength, IfXdp.PROT_READ | IfXdp.PROT_WRITE,
            IfXdp.MAP_PRIVATE | IfXdp.MAP_ANONYMOUS | IfXdp.MAP_POPULATE, -1, 0);
        if (umemAddress == -1)
        {
            final int errno = LibC.errno();
            LibC.close(fd);
            throw new NativeException("mmap UMEM of " + umemLength + " bytes", errno);
        }
        Mapping[] maps = new Mapping[4];
        try
        {
            final UnsafeBuffer scratch = new UnsafeBuffer(BufferUtil.allocateDirectAligned(256, 8));
            scratch.setMemory(0, 256, (byte)0);
            scratch.putLong(0, umemAddress, ORDER);
            scratch.putLong(8, umemLength, ORDER);
            scratch.putInt(16, config.frameSize(), ORDER);
            scratch.putInt(20, 0, ORDER); // headroom: none beyond the kernel's own XDP_PACKET_HEADROOM
            scratch.putInt(24, 0, ORDER); // flags: aligned chunks
            setsockopt(fd, IfXdp.XDP_UMEM_REG, scratch, IfXdp.UMEM_REG_SIZE, "XDP_UMEM_REG " + umemLength + " bytes, frames of "
                + config.frameSize());
            scratch.putInt(0, config.ringSize(), ORDER);
            scratch.putInt(0, fillRingSize(config), ORDER);
            setsockopt(fd, IfXdp.XDP_UMEM_FILL_RING, scratch, 4, "XDP_UMEM_FILL_RING " + fillRingSize(config));
            scratch.putInt(0, config.ringSize(), ORDER);
            setsockopt(fd, IfXdp.XDP_UMEM_COMPLETION_RING, scratch, 4, "XDP_UMEM_COMPLETION_RING " + config.ringSize());
            setsockopt(fd, IfXdp.XDP_RX_RING, scratch, 4, "XDP_RX_RING " + config.ringSize());
            setsockopt(fd, IfXdp.XDP_TX_RING, scratch, 4, "XDP_TX_RING " + config.ringSize());

            // xdp_mmap_offsets: where producer, consumer, flags and entries sit in each ring's mapping.
            scratch.setMemory(0, 256, (byte)0);
            scratch.putInt(200, IfXdp.MMAP_OFFSETS_SIZE, ORDER);
            if (LibC.getsockopt(fd, IfXdp.SOL_XDP, IfXdp.XDP_MMAP_OFFSETS, scratch.addressOffset(), scratch.addressOffset() + 200) < 0)
            {
                throw new NativeException("getsockopt XDP_MMAP_OFFSETS", LibC.errno());
            }
            if (scratch.getInt(200, ORDER) < IfXdp.MMAP_OFFSETS_SIZE)
            {
                throw new IllegalStateException("XDP_MMAP_OFFSETS without the flags word (kernel older than 5.4)");
            }
            final int size = config.ringSize();
            maps[0] = map(fd, scratch, IfXdp.OFF_RX, size, IfXdp.DESC_SIZE, IfXdp.XDP_PGOFF_RX_RING, "RX");
            maps[1] = map(fd, scratch, IfXdp.OFF_TX, size, IfXdp.DESC_SIZE, IfXdp.XDP_PGOFF_TX_RING, "TX");
            maps[2] = map(fd, scratch, IfXdp.OFF_FILL, fillRingSize(config), IfXdp.ADDR_SIZE, IfXdp.XDP_UMEM_PGOFF_FILL_RING, "fill");
            maps[3] = map(fd, scratch, IfXdp.OFF_COMPLETION, size, IfXdp.ADDR_SIZE, IfXdp.XDP_UMEM_PGOFF_COMPLETION_RING,
                "completion");
            final XdpSocket socket = new XdpSocket(config, ifindex, queueId, fd, umemAddress, umemLength, maps, scratch);
            maps = null; // owned by the socket from here
            return socket;
        }
        catch (final RuntimeException e)
        {
            if (maps != null)
            {
                for (final Mapping m : maps)
                {
                    if (m != null)
                    {
                        LibC.munmap(m.address, m.length);
                    }
                }
            }
            LibC.close(fd);
            LibC.munmap(umemAddress, umemLength);
            throw e;
        }
    }

    private XdpSocket(final XdpConfig config, final int ifindex, final int queueId, final int fd, final long umemAddress, final long umemLength,
        final Mapping[] maps, final UnsafeBuffer offsets)
    {
        this.config = config;
        this.ifindex = ifindex;
        this.queueId = queueId;
        this.fd = fd;
        this.umemAddress = umemAddress;
        this.umemLength = umemLength;
        this.umem = new UnsafeBuffer(umemAddress, (int)umemLength);
        rxMap = maps[0];
        txMap = maps[1];
        fillMap = maps[2];
        completionMap = maps[3];
        final int size = config.ringSize();
        wrap(rx, rxMap, offsets, IfXdp.OFF_RX, size, IfXdp.DESC_SIZE);
        wrap(tx, txMap, offsets, IfXdp.OFF_TX, size, IfXdp.DESC_SIZE);
        wrap(fill, fillMap, offsets, IfXdp.OFF_FILL, fillRingSize(config), IfXdp.ADDR_SIZE);
        wrap(completion, completionMap, offsets, IfXdp.OFF_COMPLETION, size, IfXdp.ADDR_SIZE);
    }

    /**
     * The fill ring has room for twice the RX frames. The kernel takes fill entries into a
     * private cache and publishes its consumer index only when that cache runs dry, so a frame
     * can come back on the RX ring while the entry it was taken from still counts as unread:
     * up to one ring's worth of such stale entries plus every RX frame we hand back must fit.
     */
    static int fillRingSize(final XdpConfig config)
    {
        return 2 * config.ringSize();
    }

    /**
     * Binds to the socket's queue of the interface. Before binding, the caller puts RX
     * frames on the fill ring (the kernel may start receiving at once).
     */
    public void bind()
    {
        final UnsafeBuffer addr = new UnsafeBuffer(BufferUtil.allocateDirectAligned(IfXdp.SOCKADDR_XDP_SIZE, 8));
        addr.setMemory(0, IfXdp.SOCKADDR_XDP_SIZE, (byte)0);
        final int flags = IfXdp.XDP_USE_NEED_WAKEUP | (config.zeroCopy() ? IfXdp.XDP_ZEROCOPY : IfXdp.XDP_COPY);
        addr.putShort(0, (short)IfXdp.AF_XDP, ORDER);
        addr.putShort(2, (short)flags, ORDER);
        addr.putInt(4, ifindex, ORDER);
        addr.putInt(8, queueId, ORDER);
        if (LibC.bind(fd, addr.addressOffset(), IfXdp.SOCKADDR_XDP_SIZE) < 0)
        {
            final int errno = LibC.errno();
            throw new NativeException("bind AF_XDP to " + config.interfaceName() + " queue " + queueId
                + (config.zeroCopy() ? " zero-copy" : " copy mode"), errno,
                errno == Errno.EINVAL ? "no such queue (ethtool -l " + config.interfaceName() + ")"
                    : errno == Errno.EOPNOTSUPP ? "the driver has no AF_XDP zero-copy support; use copy mode"
                    : errno == Errno.EBUSY ? "another AF_XDP socket is bound to this queue" : "");
        }
    }

    public int fd()
    {
        return fd;
    }

    public int ifindex()
    {
        return ifindex;
    }

    public int queueId()
    {
        return queueId;
    }

    public XdpConfig config()
    {
        return config;
    }

    /** The whole UMEM; a descriptor's address is an offset into it. */
    public UnsafeBuffer umem()
    {
        return umem;
    }

    public long umemAddress()
    {
        return umemAddress;
    }

    public XdpRing rx()
    {
        return rx;
    }

    public XdpRing tx()
    {
        return tx;
    }

    public XdpRing fill()
    {
        return fill;
    }

    public XdpRing completion()
    {
        return completion;
    }

    /**
     * Reads the kernel's {@code struct xdp_statistics} (one getsockopt) into {@code into}:
     * rx_dropped, rx_invalid_descs, tx_invalid_descs, rx_ring_full, rx_fill_ring_empty_descs,
     * tx_ring_empty_descs. Not for the packet path; not thread-safe.
     *
     * @return false when the socket is closed or the call failed
     */
    public boolean statistics(final long[] into)
    {
        final int fd = this.fd;
        if (fd < 0)
        {
            return false;
        }
        statistics.setMemory(0, IfXdp.STATISTICS_SIZE + 8, (byte)0);
        statistics.putInt(IfXdp.STATISTICS_SIZE, IfXdp.STATISTICS_SIZE, ORDER);
        if (LibC.getsockopt(fd, IfXdp.SOL_XDP, IfXdp.XDP_STATISTICS, statistics.addressOffset(),
            statistics.addressOffset() + IfXdp.STATISTICS_SIZE) < 0)
        {
            return false;
        }
        for (int i = 0; i < Math.min(6, into.length); i++)
        {
            into[i] = statistics.getLong(i * 8, ORDER);
        }
        return true;
    }

    /** Unmaps the rings, closes the socket (unbinding it), unmaps the UMEM. Idempotent. */
    @Override
    public void close()
    {
        final int fd = this.fd;
        if (fd < 0)
        {
            return;
        }
        this.fd = -1;
        for (final Mapping m : new Mapping[] {rxMap, txMap, fillMap, completionMap})
        {
            LibC.munmap(m.address, m.length);
        }
        LibC.close(fd);
        LibC.munmap(umemAddress, umemLength);
    }

    private static void setsockopt(final int fd, final int option, final UnsafeBuffer value, final int length, final String what)
    {
        if (LibC.setsockopt(fd, IfXdp.SOL_XDP, option, value.addressOffset(), length) < 0)
        {
            final int errno = LibC.errno();
            throw new NativeException("setsockopt " + what, errno, errno == Errno.ENOMEM || errno == Errno.ENOBUFS
                ? "cannot pin the UMEM (RLIMIT_MEMLOCK; run as root or raise ulimit -l)" : "");
        }
    }

    private static Mapping map(final int fd, final UnsafeBuffer offsets, final int ring, final int size, final int entrySize,
        final long pgoff, final String name)
    {
        final long length = offsets.getLong(ring + IfXdp.OFF_DESC, ORDER) + (long)size * entrySize;
        final long address = LibC.mmap(0, length, IfXdp.PROT_READ | IfXdp.PROT_WRITE, IfXdp.MAP_SHARED | IfXdp.MAP_POPULATE,
            fd, pgoff);
        if (address == -1)
        {
            throw new NativeException("mmap " + name + " ring (" + size + " entries)", LibC.errno());
        }
        return new Mapping(address, length);
    }

    private static void wrap(final XdpRing ring, final Mapping map, final UnsafeBuffer offsets, final int at, final int size,
        final int entrySize)
    {
        ring.wrap(map.address, (int)map.length,
            (int)offsets.getLong(at + IfXdp.OFF_PRODUCER, ORDER),
            (int)offsets.getLong(at + IfXdp.OFF_CONSUMER, ORDER),
            (int)offsets.getLong(at + IfXdp.OFF_FLAGS, ORDER),
            (int)offsets.getLong(at + IfXdp.OFF_DESC, ORDER),
            size, entrySize);
    }
}
