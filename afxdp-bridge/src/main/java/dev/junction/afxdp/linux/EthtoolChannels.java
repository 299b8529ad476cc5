package dev.junction.afxdp.linux;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How many RX queues an interface has now, as {@code ethtool -l} reports them: the
 * {@code ETHTOOL_GCHANNELS} ioctl, whose answer counts combined channels (most NICs) and
 * RX-only ones (veth) separately. Drivers without {@code get_channels} answer EOPNOTSUPP; then
 * the {@code /sys/class/net/IF/queues/rx-*} directories are counted, which is right only when
 * sysfs was mounted in the caller's network namespace (the ioctl always is, so it goes first).
 * Setup only.
 */
public final class EthtoolChannels
{
    private static final long SIOCETHTOOL = 0x8946L;
    private static final int ETHTOOL_GCHANNELS = 0x3c;
    /** struct ethtool_channels: cmd, max_rx, max_tx, max_other, max_combined, rx_count, tx_count, other_count, combined_count. */
    private static final int SIZE = 36;
    private static final int RX_COUNT = 20;
    private static final int COMBINED_COUNT = 32;

    private EthtoolChannels()
    {
    }

    /**
     * @return the interface's RX queues (at least 1), or -1 when neither source answers (the
     *         caller's bind will then tell whether a queue exists)
     */
    public static int rxQueues(final String name)
    {
        final UnsafeBuffer channels = new UnsafeBuffer(BufferUtil.allocateDirectAligned(SIZE, 8));
        channels.setMemory(0, SIZE, (byte)0);
        channels.putInt(0, ETHTOOL_GCHANNELS, ByteOrder.nativeOrder());
        final Ifreq ifr = new Ifreq().name(name).data(channels.addressOffset());
        final int sock = LibC.socket(Tun.AF_INET, Tun.SOCK_DGRAM | Tun.SOCK_CLOEXEC, 0);
        if (sock < 0)
        {
            throw new NativeException("socket(AF_INET, SOCK_DGRAM)", LibC.errno());
        }
        final int errno;
        try
        {
            if (LibC.ioctl(sock, SIOCETHTOOL, ifr.address()) == 0)
            {
                final int rx = channels.getInt(RX_COUNT, ByteOrder.nativeOrder())
                    + channels.getInt(COMBINED_COUNT, ByteOrder.nativeOrder());
                return Math.max(1, rx); // a driver that reports no channels still has its one queue
            }
            errno = LibC.errno();
        }
        finally
        {
            LibC.close(sock);
        }
        if (errno == Errno.ENODEV)
        {
            throw new NativeException("ETHTOOL_GCHANNELS " + name, errno, "no such interface in this network namespace");
        }
        return sysfsRxQueues(name);
    }

    /** The {@code rx-N} directories under {@code /sys/class/net/NAME/queues}, or -1 when there is none. */
    static int sysfsRxQueues(final String name)
    {
        final Path queues = Path.of("/sys/class/net", name, "queues");
        int n = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(queues, "rx-*"))
        {
            for (final Path ignored : entries)
            {
                n++;
            }
        }
        catch (final IOException ex)
        {
            return -1;
        }
        return n > 0 ? n : -1;
    }
}
