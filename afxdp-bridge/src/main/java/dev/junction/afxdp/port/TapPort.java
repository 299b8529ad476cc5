package dev.junction.afxdp.port;

import dev.junction.afxdp.tap.TapConfig;
import dev.junction.afxdp.tap.TapDevice;
import dev.junction.afxdp.linux.Tun;
import dev.junction.datapath.pipeline.TxBatch;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A TAP device as a datapath port: its RX is polled by a {@link PortPoller}, its TX takes the
 * pipeline's batches. The device is opened with checksum offload (TUN_F_CSUM), so the pod side
 * keeps its default TX checksum offload: partial checksums are completed at RX, before the
 * datapath parses the frame. TSO is not negotiated: frames are at most MTU-sized, which the
 * pipeline's fixed ring slots need (a GSO super-frame of 64 KiB per slot would not be bounded
 * memory).
 */
public final class TapPort implements DevicePort
{
    private final int port;
    private final TapDevice device;
    private final UnsafeBuffer txView = new UnsafeBuffer(new byte[0]);

    private TapPort(final int port, final TapDevice device)
    {
        this.port = port;
        this.device = device;
    }

    public static TapPort open(final int port, final String name, final int mtu)
    {
        return new TapPort(port, TapDevice.open(new TapConfig(name).mtu(mtu).offloads(Tun.TUN_F_CSUM)));
    }

    @Override
    public int port()
    {
        return port;
    }

    @Override
    public String name()
    {
        return device.name();
    }

    @Override
    public int fd()
    {
        return device.fd();
    }

    @Override
    public int receive(final PortPoller poller, final int maxBurst)
    {
        return device.receive(poller, maxBurst);
    }

    public TapDevice device()
    {
        return device;
    }

    /**
     * Sends a batch. Workers call this concurrently and a TAP has one queue here, so sends are
     * serialised on the device (OVS gives each PMD thread a TX queue; a multi-queue TAP would too).
     */
    @Override
    public void send(final int worker, final TxBatch batch)
    {
        synchronized (device)
        {
            for (int i = 0; i < batch.size(); i++)
            {
                txView.wrap(batch.frame(i), 0, batch.length(i));
                device.send(txView, 0, batch.length(i));
            }
        }
    }

    @Override
    public void close()
    {
        device.close();
    }
}
