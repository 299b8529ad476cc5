package dev.junction.afxdp.tap;

import dev.junction.afxdp.linux.Errno;
import dev.junction.afxdp.linux.Ifreq;
import dev.junction.afxdp.linux.LibC;
import dev.junction.afxdp.linux.LinkControl;
import dev.junction.afxdp.linux.NativeException;
import dev.junction.afxdp.linux.Tun;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * A TAP port: a Linux {@code /dev/net/tun} device in {@code IFF_TAP | IFF_NO_PI | IFF_VNET_HDR}
 * mode, non-blocking, with checksum and TCP segmentation offloads, read and written in bursts
 * through off-heap buffers.
 *
 * <p>Every frame crosses the fd behind a 12-byte {@link VirtioNetHeader}. With the offloads on,
 * the kernel hands us frames whose L4 checksum is only partial and TCP super-frames of up to
 * 64 KiB (the pods' stacks think they talk to a NIC that checksums and segments): RX completes
 * the former (see {@link TapConfig#completeChecksums}) and delivers the latter as they are, with
 * their header, for the egress to pass on or cut ({@link GsoEgress}).
 *
 * <p>Threading: one thread calls {@link #receive}, one thread calls the {@code send} methods
 * (may be the same). RX and TX have separate buffers. Neither allocates, blocks, or throws on
 * the packet path: an empty queue ends a burst, a TX the kernel would block is a counted drop.
 *
 * <p>{@link #close()} closes the fd; the kernel then removes the device (unless persistent),
 * also when it has since been moved to another network namespace.
 */
public final class TapDevice implements AutoCloseable
{
    /** Room for a 64 KiB super-frame behind Ethernet and two VLAN tags, and the header. */
    public static final int RX_CAPACITY = VirtioNetHeader.LENGTH + TcpSegmenter.MAX_FRAME + 1;
    private static final int IOVEC_SIZE = 16;

    private final String name;
    private final TapConfig config;
    private final TapCounters counters = new TapCounters();
    private volatile int fd;

    private final UnsafeBuffer rxBuffer = new UnsafeBuffer(BufferUtil.allocateDirectAligned(align(RX_CAPACITY), 64));
    private final VirtioNetHeader rxHeader = new VirtioNetHeader();

    /** TX: [0, 16) the header sent before the frame, [16, 48) two iovecs (header, frame). */
    private final UnsafeBuffer txControl = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64, 64));
    private final VirtioNetHeader txHeader = new VirtioNetHeader();
    /** TX of on-heap frames: header and a copy of the frame, written with one write(2). */
    private final UnsafeBuffer txStaging = new UnsafeBuffer(BufferUtil.allocateDirectAligned(align(RX_CAPACITY), 64));
    private final VirtioNetHeader stagingHeader = new VirtioNetHeader();

    private TapDevice(final int fd, final String name, final TapConfig config)
    {
        this.fd = fd;
        this.name = name;
        this.config = config;
        rxHeader.wrap(rxBuffer, 0);
        txHeader.wrap(txControl, 0).clear();
        stagingHeader.wrap(txStaging, 0);
        txControl.putLong(16, txControl.addressOffset(), ByteOrder.nativeOrder());
        txControl.putLong(24, VirtioNetHeader.LENGTH, ByteOrder.nativeOrder());
    }

    /**
     * Creates (or attaches to) the TAP, configures it and, unless told otherwise, brings it up.
     * Needs CAP_NET_ADMIN. On failure nothing is left open.
     *
     * @throws NativeException with errno's text and a hint (privileges, a name in use by a
     *                         non-TAP device, a kernel without TUN)
     */
    public static TapDevice open(final TapConfig config)
    {
        final int fd = LibC.open(Tun.CLONE_DEVICE, Tun.O_RDWR | Tun.O_NONBLOCK | Tun.O_CLOEXEC);
        if (fd < 0)
        {
            final int errno = LibC.errno();
            throw new NativeException("open " + Tun.CLONE_DEVICE, errno,
                errno == Errno.ENOENT || errno == Errno.ENODEV ? "no TUN/TAP support (modprobe tun, or mknod /dev/net/tun c 10 200)"
                    : errno == Errno.EACCES || errno == Errno.EPERM ? "needs root or CAP_NET_ADMIN" : "");
        }
        try
        {
            final Ifreq ifr = new Ifreq().name(config.name()).flags(Tun.IFF_TAP | Tun.IFF_NO_PI | Tun.IFF_VNET_HDR);
            if (LibC.ioctl(fd, Tun.TUNSETIFF, ifr.address()) < 0)
            {
                final int errno = LibC.errno();
                throw new NativeException("TUNSETIFF " + config.name() + " (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR)", errno,
                    errno == Errno.EPERM ? "creating a TAP needs CAP_NET_ADMIN (run as root)"
                        : errno == Errno.EINVAL ? "bad name, or the name belongs to a device that is not a TAP with these flags"
                        : errno == Errno.EBUSY ? "the TAP is already attached to another process" : "");
            }
            final String actualName = ifr.name();
            final UnsafeBuffer intArg = new UnsafeBuffer(BufferUtil.allocateDirectAligned(8, 8));
            intArg.putInt(0, VirtioNetHeader.LENGTH, ByteOrder.nativeOrder());
            check(LibC.ioctl(fd, Tun.TUNSETVNETHDRSZ, intArg.addressOffset()), "TUNSETVNETHDRSZ 12 " + actualName);
            // virtio 1.0 headers are little-endian; say so, so the layout holds on any host.
            intArg.putInt(0, 1, ByteOrder.nativeOrder());
            check(LibC.ioctl(fd, Tun.TUNSETVNETLE, intArg.addressOffset()), "TUNSETVNETLE " + actualName);
            check(LibC.ioctl(fd, Tun.TUNSETOFFLOAD, config.offloads()), "TUNSETOFFLOAD 0x"
                + Integer.toHexString(config.offloads()) + " " + actualName);
            check(LibC.ioctl(fd, Tun.TUNSETPERSIST, config.persistent() ? 1 : 0), "TUNSETPERSIST " + actualName);
            if (config.mtu() != 0)
            {
                LinkControl.setMtu(actualName, config.mtu());
            }
            if (config.up())
            {
                LinkControl.setUp(actualName, true);
            }
            return new TapDevice(fd, actualName, config);
        }
        catch (final RuntimeException e)
        {
            LibC.close(fd);
            throw e;
        }
    }

    private static void check(final int result, final String what)
    {
        if (result < 0)
        {
            throw new NativeException(what, LibC.errno());
        }
    }

    /** The interface name the kernel gave the device. */
    public String name()
    {
        return name;
    }

    /** The fd, for a poller; -1 once closed. */
    public int fd()
    {
        return fd;
    }

    public TapConfig config()
    {
        return config;
    }

    public TapCounters counters()
    {
        return counters;
    }

    /** Whether a super-frame of this gso_type may be written as one (the matching TSO offload is on). */
    public boolean acceptsGso(final int gsoType)
    {
        final int type = gsoType & ~VirtioNetHeader.GSO_ECN;
        final int offloads = config.offloads();
        if ((offloads & Tun.TUN_F_CSUM) == 0)
        {
            return false;
        }
        return type == VirtioNetHeader.GSO_TCPV4 ? (offloads & Tun.TUN_F_TSO4) != 0
            : type == VirtioNetHeader.GSO_TCPV6 && (offloads & Tun.TUN_F_TSO6) != 0;
    }

    /** Whether a frame with a partial checksum may be written as it is ({@code TUN_F_CSUM}). */
    public boolean acceptsPartialChecksum()
    {
        return (config.offloads() & Tun.TUN_F_CSUM) != 0;
    }

    /**
     * Reads up to {@code maxBurst} frames, handing each to the sink as soon as it is read; stops
     * early when the queue is empty.
     *
     * @return frames delivered
     */
    public int receive(final RxSink sink, final int maxBurst)
    {
        final int fd = this.fd;
        final long address = rxBuffer.addressOffset();
        int delivered = 0;
        for (int i = 0; i < maxBurst; i++)
        {
            final long n = LibC.read(fd, address, RX_CAPACITY);
            if (n < 0)
            {
                final int errno = LibC.errno();
                if (errno == Errno.EINTR)
                {
                    continue;
                }
                if (errno != Errno.EAGAIN)
                {
                    counters.increment(TapCounters.RX_ERRORS);
                }
                break;
            }
            if (n < VirtioNetHeader.LENGTH || n >= RX_CAPACITY) // runt, or possibly truncated
            {
                counters.increment(TapCounters.RX_DROPS);
                continue;
            }
            final int length = (int)n - VirtioNetHeader.LENGTH;
            if (rxHeader.isGso())
            {
                counters.increment(TapCounters.RX_GSO);
            }
            else if (rxHeader.needsChecksum() && config.completeChecksums())
            {
                if (!rxHeader.completeChecksum(rxBuffer, VirtioNetHeader.LENGTH, length))
                {
                    counters.increment(TapCounters.RX_DROPS);
                    continue;
                }
                counters.increment(TapCounters.RX_CSUM_COMPLETED);
            }
            counters.increment(TapCounters.RX_PACKETS);
            counters.add(TapCounters.RX_BYTES, length);
            sink.onFrame(rxBuffer, VirtioNetHeader.LENGTH, length, rxHeader);
            delivered++;
        }
        return delivered;
    }

    /** Sends a plain frame (checksums complete, no GSO). */
    public boolean send(final DirectBuffer buffer, final int offset, final int length)
    {
        return send(buffer, offset, length, null);
    }

    /**
     * Sends a frame behind a copy of {@code header} (its flags, GSO type and size, checksum
     * offsets): a partial-checksum frame or a super-frame passed through as it was received.
     * The caller has checked {@link #acceptsGso}; {@code null} means a plain frame.
     * An off-heap buffer is written in place with writev(2); an on-heap one is copied first.
     *
     * @return false when the frame was not sent (counted as a drop or an error)
     */
    public boolean send(final DirectBuffer buffer, final int offset, final int length, final VirtioNetHeader header)
    {
        if (length <= 0 || length > TcpSegmenter.MAX_FRAME)
        {
            counters.increment(TapCounters.TX_DROPS);
            return false;
        }
        final long written;
        if (buffer.byteArray() == null)
        {
            if (header == null)
            {
                txHeader.clear();
            }
            else
            {
                txHeader.copyFrom(header);
            }
            final long control = txControl.addressOffset();
            txControl.putLong(32, buffer.addressOffset() + offset, ByteOrder.nativeOrder());
            txControl.putLong(40, length, ByteOrder.nativeOrder());
            written = LibC.writev(fd, control + 16, 2);
        }
        else
        {
            if (header == null)
            {
                stagingHeader.clear();
            }
            else
            {
                stagingHeader.copyFrom(header);
            }
            txStaging.putBytes(VirtioNetHeader.LENGTH, buffer, offset, length);
            written = LibC.write(fd, txStaging.addressOffset(), VirtioNetHeader.LENGTH + length);
        }
        if (written < 0)
        {
            final int errno = LibC.errno();
            counters.increment(errno == Errno.EAGAIN || errno == Errno.ENOBUFS ? TapCounters.TX_DROPS : TapCounters.TX_ERRORS);
            return false;
        }
        if (header != null && header.isGso())
        {
            counters.increment(TapCounters.TX_GSO);
        }
        counters.increment(TapCounters.TX_PACKETS);
        counters.add(TapCounters.TX_BYTES, length);
        return true;
    }

    /** Closes the fd; the kernel removes a non-persistent device. Idempotent. */
    @Override
    public void close()
    {
        final int fd = this.fd;
        if (fd >= 0)
        {
            this.fd = -1;
            LibC.close(fd);
        }
    }

    @Override
    public String toString()
    {
        return "TapDevice{" + name + ", fd=" + fd + ", " + counters + "}";
    }

    private static int align(final int n)
    {
        return (n + 63) & ~63;
    }
}
