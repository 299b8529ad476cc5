package dev.junction.control.probe;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.flows.GatewayPort;
import dev.junction.control.k8s.Ip;
import dev.junction.datapath.Bridge;
import dev.junction.datapath.Datapath;
import dev.junction.datapath.cache.CacheConfig;
import dev.junction.flowtable.Packet;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
    /** Virtual time (the datapath runs on packet time): each frame a microsecond later; {@link #advance} skips ahead. */
    private long nowNanos = 1_000_000_000L;

    OneBridge(final FlowCompiler.Compiled compiled) throws Exception
    {
        this.compiled = compiled;
        datapath = new Datapath(new Bridge(compiled.tables()), compiled.layout().ofports(), (port, p) ->
        {
            sentPorts.add(port);
            sent.add(Arrays.copyOfRange(p.buf, p.start, p.end()));
        }, Datapath.DEFAULT_MTU, 1, CacheConfig.DEFAULTS, System::nanoTime).packetTime(true);
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
        nowNanos += 1_000;
        p.timestampNanos = nowNanos;
        datapath.receive(p, null);
        final List<Object[]> out = new ArrayList<>();
        for (int i = 0; i < sent.size(); i++)
        {
            out.add(new Object[] {sentPorts.get(i), sent.get(i)});
        }
        return out;
    }

    /** Lets virtual time pass without packets: learned flows and connections may time out. */
    void advance(final java.time.Duration d)
    {
        nowNanos += d.toNanos();
    }

    Datapath datapath()
    {
        return datapath;
    }

    /** A pod's packet to an outside address, from its address of the destination's family, addressed to its gateway. */
    List<Object[]> fromPod(final BridgeLayout.PodPort p, final String dst, final int proto, final int sport, final int dport,
        final int flags)
    {
        final InetAddress to = Ip.parse(dst);
        return send(p.ofport(), ProbeFrames.frame(p.mac(), p.sw().gatewayMac(), p.ip(Ip.isIpv6(to)).orElseThrow(), to, proto, sport,
            dport, flags, 1, 0));
    }

    /** A pod's packet to {@code dst} from its address of that family, addressed to its gateway (sequence 7, ack 2). */
    List<Object[]> fromPod(final BridgeLayout.PodPort p, final InetAddress dst, final int proto, final int sport, final int dport,
        final int flags)
    {
        return send(p.ofport(), ProbeFrames.frame(p.mac(), p.sw().gatewayMac(), p.ip(Ip.isIpv6(dst)).orElseThrow(), dst, proto, sport,
            dport, flags, 7, 2));
    }

    /**
     * {@code 100.64.0.(key + 1)} or {@code fd98::(key + 1)} of OVN-K's join subnets: what a backend
     * sees as client under externalTrafficPolicy Cluster through {@code gw}.
     */
    static InetAddress joinIp(final GatewayPort gw, final boolean v6)
    {
        final byte[] a = Ip.parse(v6 ? "fd98::" : "100.64.0.0").getAddress();
        a[a.length - 1] = (byte)(gw.key() + 1);
        return Ip.of(a);
    }

    /** The one frame that came out, which must be out of {@code port}. */
    static byte[] only(final List<Object[]> out, final int port, final String what)
    {
        assertEquals(1, out.size(), what + ": exactly one frame out");
        assertEquals(port, (int)(Integer)out.get(0)[0], what + ": out of port " + port);
        return (byte[])out.get(0)[1];
    }

    /** The one frame that left through {@code gw}'s external port. */
    static byte[] outOf(final List<Object[]> out, final GatewayPort gw)
    {
        assertEquals(1, out.size(), "exactly one frame out");
        assertEquals(gw.ofport(), (int)(Integer)out.get(0)[0], "out of " + gw.router() + "'s external port");
        return (byte[])out.get(0)[1];
    }
}
