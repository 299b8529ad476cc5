package dev.junction.bench;

import dev.junction.flowtable.xlate.Translator;

import java.util.Arrays;

/** The bridge's port set for a translator used without a {@code Datapath} around it. */
public final class BridgePorts implements Translator.Ports
{
    private final int[] ports;

    public BridgePorts(final int[] ports)
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
