package dev.junction.afxdp.port;

import dev.junction.afxdp.xdp.AfXdpPort;
import dev.junction.afxdp.xdp.XdpConfig;
import dev.junction.datapath.pipeline.TxBatch;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * An AF_XDP socket on an interface as a datapath port: its RX ring is read by a
 * {@link PortPoller}; the workers' TX batches are copied into its UMEM TX frames, serialised on
 * the port (one TX ring; the ring itself is single-producer), then one flush (and a kernel kick
 * only if it asks for one) per batch. Partial checksums of veth frames are completed at RX.
 */
public final class XdpPort implements DevicePort
{
    private final int port;
    private final AfXdpPort xdp;
    private final UnsafeBuffer txView = new UnsafeBuffer(new byte[0]);

    private XdpPort(final int port, final AfXdpPort xdp)
    {
        this.port = port;
        this.xdp = xdp;
    }

    public static XdpPort open(final int port, final String ifname, final XdpConfig.Mode mode, final int queue)
    {
        return new XdpPort(port, AfXdpPort.open(new XdpConfig(ifname).mode(mode).queueId(queue)));
    }

    @Override
    public int port()
    {
        return port;
    }

    @Override
    public String name()
    {
        return xdp.interfaceName();
    }

    @Override
    public int fd()
    {
        return xdp.fd();
    }

    public AfXdpPort xdp()
    {
        return xdp;
    }

    @Override
    public int receive(final PortPoller poller, final int maxBurst)
    {
        return xdp.receive(poller, maxBurst);
    }

    @Override
    public void send(final int worker, final TxBatch batch)
    {
        synchronized (xdp)
        {
            for (int i = 0; i < batch.size(); i++)
            {
                txView.wrap(batch.frame(i), 0, batch.length(i));
                xdp.send(txView, 0, batch.length(i));
            }
            xdp.flush();
        }
    }

    @Override
    public void close()
    {
        xdp.close();
    }
}
