package dev.junction.control.probe;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.flows.GatewayPort;
import dev.junction.datapath.Bridge;
import dev.junction.datapath.Datapath;
import dev.junction.datapath.cache.CacheConfig;
import dev.junction.flowtable.Packet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The whole cluster on one bridge ({@link FlowCompiler#cluster}) in a datapath: a frame goes in
 * on a port, what came out of which port is returned. Every node's gateway router has its
 * external port here, so traffic from and to outside the cluster is one {@link #send} each.
 */
final class OneBridge
{
    final FlowCompiler.Compiled compiled;
    private final Datapath datapath;
    private final List<Integer> sentPorts = new ArrayList<>();
    private final List<byte[]> sent = new ArrayList<>();

    OneBridge(final FlowCompiler.Compiled compiled) throws Exception
    {
        this.compiled = compiled;
        datapath = new Datapath(new Bridge(compiled.tables()), compiled.layout().ofports(), (port, p) ->
        {
            sentPorts.add(port);
            sent.add(Arrays.copyOfRange(p.buf, p.start, p.end()));
        }, Datapath.DEFAULT_MTU, 1, CacheConfig.DEFAULTS, System::nanoTime);
    }

    BridgeLayout.PodPort pod(final String key)
    {
        return compiled.layout().port(key).orElseThrow();
    }

    GatewayPort gateway(final String node)
    {
        return compiled.layout().gateway(node).orElseThrow();
    }

    /** Runs one frame in on {@code port}; returns what came out, as (port, frame) pairs. */
    List<Object[]> send(final int port, final byte[] frame)
    {
        sent.clear();
        sentPorts.clear();
        final Packet p = new Packet(frame.length + Packet.HEADROOM);
        p.wrap(frame, 0, frame.length);
        p.inPort = port;
        datapath.receive(p, null);
        final List<Object[]> out = new ArrayList<>();
        for (int i = 0; i < sent.size(); i++)
        {
            out.add(new Object[] {sentPorts.get(i), sent.get(i)});
        }
        return out;
    }
}
