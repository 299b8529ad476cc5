package dev.junction.afxdp.xdp;

import dev.junction.afxdp.testing.ForwarderThread;

/**
 * What one AF_XDP port receives is sent on the other, through {@link AfXdpPort#receive} /
 * {@link AfXdpPort#send}, flushing both TX rings after each pass.
 */
final class XdpForwarder extends ForwarderThread
{
    private final AfXdpPort a;
    private final AfXdpPort b;
    private final XdpRxSink aToB;
    private final XdpRxSink bToA;

    XdpForwarder(final AfXdpPort a, final AfXdpPort b)
    {
        super("xdp-forwarder", a.fd(), b.fd());
        this.a = a;
        this.b = b;
        aToB = (buffer, offset, length) -> b.send(buffer, offset, length);
        bToA = (buffer, offset, length) -> a.send(buffer, offset, length);
    }

    XdpForwarder start()
    {
        begin();
        return this;
    }

    @Override
    protected int pass()
    {
        final int n = a.receive(aToB, BURST) + b.receive(bToA, BURST);
        b.flush();
        a.flush();
        return n;
    }
}
