package dev.junction.afxdp.port;

import dev.junction.datapath.pipeline.TxPort;

/** A datapath port backed by a device: the pipeline sends to it, a {@link PortPoller} reads from it. */
public interface DevicePort extends TxPort, AutoCloseable
{
    /** The datapath (OpenFlow) port number. */
    int port();

    /** The device's name (interface). */
    String name();

    /** A descriptor poll(2) reports readable when frames wait. */
    int fd();

    /** Every descriptor that can report frames (a multi-queue port has one per queue); {@link #fd()} alone by default. */
    default int[] fds()
    {
        return new int[] {fd()};
    }

    /** Reads up to {@code maxBurst} frames, handing each to {@code poller}'s collector. */
    int receive(PortPoller poller, int maxBurst);

    @Override
    void close();
}
