package dev.junction.flowtable.xlate;

import dev.junction.flowtable.FlowKey;

/**
 * The bridge's tunnel ports, as translation sees them: an output to one becomes a datapath
 * tunnel push whose outer headers are built at translation time (OVS's native tunnelling builds
 * them in xlate too, from its route and neighbour tables), so the datapath only copies them in
 * and fixes lengths, checksums and the entropy source port per packet.
 */
public interface TunnelPorts
{
    TunnelPorts NONE = new TunnelPorts()
    {
        @Override
        public boolean isTunnel(final int port)
        {
            return false;
        }

        @Override
        public String push(final int port, final FlowKey flow, final long[] wc, final OdpActions out)
        {
            return "not a tunnel port";
        }
    };

    boolean isTunnel(int port);

    /**
     * Appends an {@link OdpActions#TNL_PUSH} for {@code flow} leaving through tunnel port
     * {@code port}, widening {@code wc} by every flow bit the header depends on.
     *
     * @return null when pushed, else why the packet cannot go (no route, unresolved neighbour)
     */
    String push(int port, FlowKey flow, long[] wc, OdpActions out);
}
