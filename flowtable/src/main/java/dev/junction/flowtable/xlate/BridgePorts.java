package dev.junction.flowtable.xlate;

import java.util.Arrays;

/**
 * The bridge's port set: the ports outputs may go to, and what flooding sends to. It may change
 * while packets flow ({@link #set}): each version is an immutable sorted array published whole,
 * so a translation sees one version or the next, never a mix.
 */
public final class BridgePorts implements Translator.Ports
{
    private volatile int[] ports;

    public BridgePorts(final int[] ports)
    {
        set(ports);
    }

    /** Replaces the port set (a port added or removed); megaflows need revalidating afterwards. */
    public void set(final int[] ports)
    {
        this.ports = Arrays.stream(ports).distinct().sorted().toArray();
    }

    @Override
    public boolean exists(final int port)
    {
        return Arrays.binarySearch(ports, port) >= 0;
    }

    @Override
    public int[] all()
    {
        // Shared, not copied: the translator only iterates it, and a copy would allocate per flood.
        return ports;
    }
}
