package dev.junction.control.probe;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.k8s.Protocol;
import dev.junction.control.pinctrl.Pinctrl;
import dev.junction.datapath.PacketInHandler;
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
    /** Virtual time: each packet a microsecond later; {@link #advance} skips ahead (affinity and idle timeouts). */
    private long nowNanos = 1_000_000_000L;

    /**
     * A connection a probe opened to a service: who answered, and what the client used;
     * {@code rejected} when the client got a TCP RST or ICMP unreachable back instead (a VIP
     * without endpoints, answered by pinctrl).
     */
    public record ServiceConnection(boolean established, BridgeLayout.PodPort client, InetAddress clientIp, int clientPort,
        InetAddress vip, int port, Protocol protocol, BridgeLayout.PodPort backend, String detail, boolean rejected)
    {
        ServiceConnection(final boolean established, final BridgeLayout.PodPort client, final InetAddress clientIp,
            final int clientPort, final InetAddress vip, final int port, final Protocol protocol,
            final BridgeLayout.PodPort backend, final String detail)
        {
            this(established, client, clientIp, clientPort, vip, port, protocol, backend, detail, false);
        }
    }

    /** A prober whose packet-ins go to a {@link Pinctrl} that answers rejects and discards ACL log lines. */
    public Prober(final BridgeLayout layout, final FlowTables tables)
    {
        this(layout, tables, new Pinctrl(line -> { }));
    }

    /** A prober whose datapath gives packet-ins to {@code handler} (null: none, they are dropped). */
    public Prober(final BridgeLayout layout, final FlowTables tables, final PacketInHandler handler)
    {
        this.layout = layout;
        this.datapath = new Datapath(new dev.junction.datapath.Bridge(tables), layout.ofports(), (port, p) ->
        {
            sentPorts.add(port);
            sent.add(Arrays.copyOfRange(p.buf, p.start, p.end()));
        }, Datapath.DEFAULT_MTU, 1, CacheConfig.DEFAULTS, System::nanoTime).packetTime(true).packetInHandler(handler);
    }

    /**
     * A client's first packet, as a probe sends it: a TCP SYN (sequence 1000) or a UDP datagram
     * from {@code from}'s MAC to {@code dstMac}; what {@code junction trace --manifests} injects.
     */
    public static byte[] firstPacket(final BridgeLayout.PodPort from, final String dstMac, final InetAddress src,
        final InetAddress dst, final Protocol protocol, final int sport, final int dport)
    {
        final boolean tcp = protocol == Protocol.TCP;
        return ProbeFrames.frame(from.mac(), dstMac, src, dst, tcp ? ProbeFrames.PROTO_TCP : ProbeFrames.PROTO_UDP, sport, dport,
            tcp ? ProbeFrames.TCP_SYN : -1, 1000, 0);
    }

    /** Lets virtual time pass without packets: learned flows and connections may time out. */
    public void advance(final java.time.Duration d)
    {
        nowNanos += d.toNanos();
    }

    /**
     * Opens a connection from {@code from} to a service address: the first packet must come out
     * of some pod's port (the backend the load balancer chose), DNATed; the backend's reply must
     * reach the client from {@code vip:port}; for TCP the client's ACK must reach the backend.
     */
    public ServiceConnection connectService(final BridgeLayout.PodPort from, final InetAddress vip, final int port,
        final Protocol protocol)
    {
        final boolean ipv6 = vip.getAddress().length == 16;
        final InetAddress src = from.ip(ipv6).orElse(null);
        if (src == null || protocol == Protocol.SCTP)
        {
            return new ServiceConnection(false, from, src, 0, vip, port, protocol, null, "no address of the VIP's family, or SCTP");
        }
        final int proto = protocol == Protocol.TCP ? ProbeFrames.PROTO_TCP : ProbeFrames.PROTO_UDP;
        final boolean tcp = proto == ProbeFrames.PROTO_TCP;
        final int sport = sourcePort();
        inject(from, ProbeFrames.frame(from.mac(), from.sw().gatewayMac(), src, vip, proto, sport, port,
            tcp ? ProbeFrames.TCP_SYN : -1, 1000, 0));
        BridgeLayout.PodPort backend = null;
        InetAddress backendIp = null;
        int backendPort = 0;
        for (int i = 0; i < sent.size() && backend == null; i++)
        {
            final byte[] f = sent.get(i);
            final BridgeLayout.PodPort out = portNumbered(sentPorts.get(i));
            final Addresses a = Addresses.of(f);
            if (out != null && a != null && a.src.equals(src) && a.sport == sport && out.ips().contains(a.dst))
            {
                backend = out;
                backendIp = a.dst;
                backendPort = a.dport;
            }
        }
        if (backend == null)
        {
            final String refusal = refusal(from, src, sport, vip, port);
            return new ServiceConnection(false, from, src, sport, vip, port, protocol, null,
                refusal == null ? "no backend received the first packet" : "rejected: " + refusal, refusal != null);
        }
        final String towardsClient = from.sw().key() == backend.sw().key() ? from.mac() : backend.sw().gatewayMac();
        if (!step(backend, ProbeFrames.frame(backend.mac(), towardsClient, backendIp, src, proto, backendPort, sport,
            tcp ? ProbeFrames.TCP_SYN | ProbeFrames.TCP_ACK : -1, 5000, 1001), from, vip, src, port, sport))
        {
            return new ServiceConnection(false, from, src, sport, vip, port, protocol, backend, "reply not delivered from the VIP");
        }
        if (tcp && !step(from, ProbeFrames.frame(from.mac(), from.sw().gatewayMac(), src, vip, proto, sport, port,
            ProbeFrames.TCP_ACK, 1001, 5001), backend, src, backendIp, sport, backendPort))
        {
            return new ServiceConnection(false, from, src, sport, vip, port, protocol, backend, "ACK not delivered");
        }
        return new ServiceConnection(true, from, src, sport, vip, port, protocol, backend, "");
    }

    /** One more client packet on an open service connection; true when the same backend got it. */
    public boolean send(final ServiceConnection c)
    {
        final boolean tcp = c.protocol() == Protocol.TCP;
        final int proto = tcp ? ProbeFrames.PROTO_TCP : ProbeFrames.PROTO_UDP;
        inject(c.client(), ProbeFrames.frame(c.client().mac(), c.client().sw().gatewayMac(), c.clientIp(), c.vip(), proto,
            c.clientPort(), c.port(), tcp ? ProbeFrames.TCP_ACK : -1, 1001, 5001));
        for (int i = 0; i < sent.size(); i++)
        {
            final Addresses a = Addresses.of(sent.get(i));
            if (sentPorts.get(i) == c.backend().ofport() && a != null && a.src.equals(c.clientIp()) && a.sport == c.clientPort())
            {
                return true;
            }
        }
        return false;
    }

    /**
     * What the client got back instead of a connection: "TCP RST" (from {@code vip:port}) or
     * "ICMP unreachable" (quoting its packet to {@code vip:port}); null when nothing came back.
     */
    private String refusal(final BridgeLayout.PodPort client, final InetAddress src, final int sport, final InetAddress vip,
        final int port)
    {
        for (int i = 0; i < sent.size(); i++)
        {
            if (sentPorts.get(i) != client.ofport())
            {
                continue;
            }
            final byte[] f = sent.get(i);
            final Addresses a = Addresses.of(f);
            final int alen = vip.getAddress().length;
            final int l4 = alen == 4 ? 14 + (f[14] & 0x0f) * 4 : 14 + 40;
            final int proto = f[alen == 4 ? 14 + 9 : 14 + 6] & 0xff;
            if (a != null && proto == ProbeFrames.PROTO_TCP && matches(f, vip, src, port, sport)
                && f.length >= l4 + 14 && (f[l4 + 13] & 0x04) != 0)
            {
                return "TCP RST";
            }
            final boolean icmp = alen == 4 ? proto == 1 && (f[l4] & 0xff) == 3 : proto == 58 && (f[l4] & 0xff) == 1;
            // The quoted packet starts 8 bytes into the ICMP message: it was ours, to the VIP.
            if (icmp && f.length >= l4 + 8 && matches(quoted(f, l4 + 8, alen), src, vip, sport, port))
            {
                return "ICMP unreachable (code " + (f[l4 + 1] & 0xff) + ")";
            }
        }
        return null;
    }

    /** The IP packet an ICMP error quotes (from {@code at}), as a frame {@link Addresses} can read. */
    private static byte[] quoted(final byte[] f, final int at, final int alen)
    {
        final byte[] q = new byte[14 + f.length - at];
        q[12] = (byte)(alen == 4 ? 0x08 : 0x86);
        q[13] = (byte)(alen == 4 ? 0x00 : 0xdd);
        System.arraycopy(f, at, q, 14, f.length - at);
        return q;
    }

    private BridgeLayout.PodPort portNumbered(final int ofport)
    {
        for (final BridgeLayout.PodPort p : layout.ports())
        {
            if (p.ofport() == ofport)
            {
                return p;
            }
        }
        return null;
    }

    private int sourcePort()
    {
        final int sport = nextSourcePort;
        nextSourcePort = nextSourcePort >= 65000 ? 40000 : nextSourcePort + 1;
        return sport;
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
        final int sport = sourcePort();
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
        inject(in, frame);
        for (int i = 0; i < sent.size(); i++)
        {
            if (sentPorts.get(i) == out.ofport() && matches(sent.get(i), src, dst, sport, dport))
            {
                return true;
            }
        }
        return false;
    }

    private void inject(final BridgeLayout.PodPort in, final byte[] frame)
    {
        sent.clear();
        sentPorts.clear();
        final Packet p = new Packet(frame.length + Packet.HEADROOM);
        p.wrap(frame, 0, frame.length);
        p.inPort = in.ofport();
        nowNanos += 1_000;
        p.timestampNanos = nowNanos;
        datapath.receive(p, null);
    }

    /** The addresses and ports of an IPv4/IPv6 TCP or UDP frame. */
    private record Addresses(InetAddress src, InetAddress dst, int sport, int dport)
    {
        static Addresses of(final byte[] f)
        {
            if (f.length < 14)
            {
                return null;
            }
            final int type = (f[12] & 0xff) << 8 | (f[13] & 0xff);
            final int alen = type == 0x0800 ? 4 : type == 0x86dd ? 16 : 0;
            final int srcAt = alen == 4 ? 14 + 12 : 14 + 8;
            final int l4 = alen == 4 ? 14 + (f[14] & 0x0f) * 4 : 14 + 40;
            if (alen == 0 || f.length < l4 + 4)
            {
                return null;
            }
            return new Addresses(dev.junction.control.k8s.Ip.of(Arrays.copyOfRange(f, srcAt, srcAt + alen)),
                dev.junction.control.k8s.Ip.of(Arrays.copyOfRange(f, srcAt + alen, srcAt + 2 * alen)),
                (f[l4] & 0xff) << 8 | (f[l4 + 1] & 0xff), (f[l4 + 2] & 0xff) << 8 | (f[l4 + 3] & 0xff));
        }
    }

    private static boolean matches(final byte[] f, final InetAddress src, final InetAddress dst, final int sport, final int dport)
    {
        final Addresses a = Addresses.of(f);
        return a != null && a.src.equals(src) && a.dst.equals(dst) && a.sport == sport && a.dport == dport;
    }
}
