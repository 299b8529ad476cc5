package dev.junction.datapath.pipeline;

import java.util.Arrays;

/**
 * Maps port numbers (sparse: OpenFlow numbers go up to 0xfffe) to dense indexes for the per-port
 * counter and batch arrays. A binary search over a few ports costs less than a map and allocates
 * nothing.
 */
final class PortIndex
{
    private final int[] ports;

    PortIndex(final int[] ports)
    {
        this.ports = Arrays.stream(ports).distinct().sorted().toArray();
    }

    /** Dense index of {@code port}, or a negative number when the port is not configured. */
    int indexOf(final int port)
    {
        return Arrays.binarySearch(ports, port);
    }

    int port(final int index)
    {
        return ports[index];
    }

    int size()
    {
        return ports.length;
    }
}
