package dev.junction.afxdp.tap;

import dev.junction.afxdp.testing.ForwarderThread;

/**
 * What one TAP receives is sent on the other, through {@link TapDevice#receive} /
 * {@link GsoEgress} (super-frames passed on whole, or cut when segmentation is forced).
 */
final class TapForwarder extends ForwarderThread
{
    private final TapDevice a;
    private final TapDevice b;
    private final GsoEgress egress = new GsoEgress();
    private final RxSink aToB;
    private final RxSink bToA;
    private volatile boolean forceSegmentation;
    /** Published copies of the egress counters (it is single-threaded). */
    private volatile long framesSegmented;
    private volatile long segmentsSent;
    private volatile long refused;

    TapForwarder(final TapDevice a, final TapDevice b)
    {
        super("tap-forwarder", a.fd(), b.fd());
        this.a = a;
        this.b = b;
        aToB = (buffer, offset, length, header) -> egress.send(b, buffer, offset, length, header);
        bToA = (buffer, offset, length, header) -> egress.send(a, buffer, offset, length, header);
    }

    TapForwarder start()
    {
        begin();
        return this;
    }

    void forceSegmentation(final boolean force)
    {
        forceSegmentation = force;
    }

    @Override
    protected int pass()
    {
        egress.forceSegmentation(forceSegmentation);
        final int n = a.receive(aToB, BURST) + b.receive(bToA, BURST);
        framesSegmented = egress.framesSegmented();
        segmentsSent = egress.segmentsSent();
        refused = egress.refused();
        return n;
    }

    long framesSegmented()
    {
        return framesSegmented;
    }

    long segmentsSent()
    {
        return segmentsSent;
    }

    long refused()
    {
        return refused;
    }
}
