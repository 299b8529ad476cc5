package dev.junction.control.probe;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.k8s.Protocol;
import dev.junction.datapath.Datapath;
import dev.junction.datapath.cache.CacheConfig;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.ofp.FlowTables;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides reachability with real packets through a datapath running the derived flows, as the
 * upstream e2e suite decides it with agnhost: a TCP handshake (SYN, SYN-ACK, ACK) or a UDP
 * request and its reply, each packet injected on its pod's port and required to come out of the
 * other pod's port with the right addresses and ports. Conntrack, NAT, ACLs and routing all
 * act; one datapath serves all pairs in turn, so state accumulates as in a real node.
 */
public final class Prober
{
    /** One pair's outcome and, when denied, the step that failed. */
    public record Result(boolean allowed, String detail)
    {
    }

    private final BridgeLayout layout;
    private final Datapath datapath;
    private final List<byte[]> sent = new ArrayList<>();
    private final List<Integer> sentPorts = new ArrayList<>();
    private int nextSourcePort = 40000;

    public Prober(final BridgeLayout layout, final FlowTables tables)
    {
        this.layout = layout;
        this.datapath = new Datapath(new dev.junction.datapath.Bridge(tables), layout.ofports(), (port, p) ->
        {
            sentPorts.add(port);
            sent.add(Arrays.copyOfRange(p.buf, p.start, p.end()));
        }, Datapath.DEFAULT_MTU, 1, CacheConfig.DEFAULTS, System::nanoTime);
    }

    public Datapath datapath()
    {
        return datapath;
    }

    /** Every ordered pair of ports (self included), from -> to -> allowed/denied. */
    public Map<String, Map<String, Result>> matrix(final Protocol protocol, final int port, final boolean ipv6)
    {
        final Map<String, Map<String, Result>> out = new LinkedHashMap<>();
        for (final BridgeLayout.PodPort from : layout.ports())
        {
            final Map<String, Result> row = new LinkedHashMap<>();
            for (final BridgeLayout.PodPort to : layout.ports())
            {
                row.put(to.name(), probe(from, to, protocol, port, ipv6));
            }
            out.put(from.name(), row);
        }
        return out;
    }

    /** One connection attempt from {@code from} to {@code to}'s address. */
    public Result probe(final BridgeLayout.PodPort from, final BridgeLayout.PodPort to, final Protocol protocol, final int port,
        final boolean ipv6)
    {
        final InetAddress src = from.ip(ipv6).orElse(null);
        final InetAddress dst = to.ip(ipv6).orElse(null);
        if (src == null || dst == null)
        {
            return new Result(false, "no IPv" + (ipv6 ? 6 : 4) + " address");
        }
        return connect(from, src, to, dst, dst, protocol, port, port);
    }

    /**
     * A connection from {@code from} to {@code address:port}, answered by {@code to} at
     * {@code backendAddress:backendPort} (the same unless a service translates it).
     */
    public Result connect(final BridgeLayout.PodPort from, final InetAddress src, final BridgeLayout.PodPort to,
        final InetAddress address, final InetAddress backendAddress, final Protocol protocol, final int port, final int backendPort)
    {
        if (protocol == Protocol.SCTP)
        {
            return new Result(false, "SCTP is not probed");
        }
        final int proto = protocol == Protocol.TCP ? ProbeFrames.PROTO_TCP : ProbeFrames.PROTO_UDP;
        final int sport = nextSourcePort;
        nextSourcePort = nextSourcePort >= 65000 ? 40000 : nextSourcePort + 1;
        final boolean tcp = proto == ProbeFrames.PROTO_TCP;
        final String towardsServer = from.sw().key() == to.sw().key() && address.equals(backendAddress)
            ? to.mac() : from.sw().gatewayMac();
        final String towardsClient = from.sw().key() == to.sw().key() ? from.mac() : to.sw().gatewayMac();
        final long clientIsn = 1000;
        final long serverIsn = 5000;
        // 1. The client's first packet must reach the backend, translated if it went to a VIP.
        if (!step(from, ProbeFrames.frame(from.mac(), towardsServer, src, address, proto, sport, port,
            tcp ? ProbeFrames.TCP_SYN : -1, clientIsn, 0), to, src, backendAddress, sport, backendPort))
        {
            return new Result(false, tcp ? "SYN not delivered" : "request not delivered");
        }
        // 2. The reply must reach the client, from the address it connected to.
        if (!step(to, ProbeFrames.frame(to.mac(), towardsClient, backendAddress, src, proto, backendPort, sport,
            tcp ? ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK : -1, serverIsn, clientIsn + 1), from, address, src, port, sport))
        {
            return new Result(false, tcp ? "SYN-ACK not delivered" : "reply not delivered");
        }
        if (tcp && !step(from, ProbeFrames.frame(from.mac(), towardsServer, src, address, proto, sport, port,
            ProbeFrames.TCP_ACK, clientIsn + 1, serverIsn + 1), to, src, backendAddress, sport, backendPort))
        {
            return new Result(false, "ACK not delivered");
        }
        return new Result(true, "");
    }

    /** Injects {@code frame} on {@code in}'s port; true when {@code out}'s port sent it on with these addresses and ports. */
    private boolean step(final BridgeLayout.PodPort in, final byte[] frame, final BridgeLayout.PodPort out,
        final InetAddress src, final InetAddress dst, final int sport, final int dport)
    {
        sent.clear();
        sentPorts.clear();
        final Packet p = new Packet(frame.length + Packet.HEADROOM);
        p.wrap(frame, 0, frame.length);
        p.inPort = in.ofport();
        datapath.receive(p, null);
        for (int i = 0; i < sent.size(); i++)
        {
            if (sentPorts.get(i) == out.ofport() && matches(sent.get(i), src, dst, sport, dport))
            {
                return true;
            }
        }
        return false;
    }

    private static boolean matches(final byte[] f, final InetAddress src, final InetAddress dst, final int sport, final int dport)
    {
        if (f.length < 14)
        {
            return false;
        }
        final int type = (f[12] & 0xff) << 8 | (f[13] & 0xff);
        final int alen = type == 0x0800 ? 4 : type == 0x86dd ? 16 : 0;
        if (alen == 0)
        {
            return false;
        }
        final int srcAt = alen == 4 ? 14 + 12 : 14 + 8;
        final int l4 = alen == 4 ? 14 + (f[14] & 0x0f) * 4 : 14 + 40;
        if (f.length < l4 + 4)
        {
            return false;
        }
        return Arrays.equals(f, srcAt, srcAt + alen, src.getAddress(), 0, alen)
            && Arrays.equals(f, srcAt + alen, srcAt + 2 * alen, dst.getAddress(), 0, alen)
            && ((f[l4] & 0xff) << 8 | (f[l4 + 1] & 0xff)) == sport
            && ((f[l4 + 2] & 0xff) << 8 | (f[l4 + 3] & 0xff)) == dport;
    }
}
