package dev.junction.control.diff;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.flows.GatewayPort;
import dev.junction.control.flows.LogicalPort;
import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.EndpointSlice;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.Node;
import dev.junction.control.k8s.Protocol;
import dev.junction.control.k8s.Service;
import dev.junction.control.k8s.ServicePort;
import dev.junction.control.topology.OvnNames;
import dev.junction.datapath.Bridge;
import dev.junction.datapath.Datapath;
import dev.junction.datapath.cache.CacheConfig;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.ofp.FlowParseException;
import dev.junction.flowtable.ofp.FlowParser;
import dev.junction.flowtable.ofp.FlowTables;
import dev.junction.flowtable.ofp.GroupParser;
import dev.junction.flowtable.ofp.GroupTable;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Seeded traffic for a manifests directory compiled onto one bridge: one pcap per pod port, in
 * timestamp order, of what pods of that cluster send. Conversations between pod pairs (TCP
 * handshake, a data segment each way, FIN exchange or a reset; UDP requests and replies; ICMP
 * echo), connections to service VIPs and node ports, ARP and neighbour solicitations for the
 * gateway and for pods, gratuitous and spoofed ARP, packets with a spoofed source MAC or address
 * (port security drops them), TTL 1 packets, ICMP errors about earlier datagrams, TCP segments
 * that do not fit their connection, new connections on a finished one's source port, random
 * 5-tuples, several conversations interleaved; now and then a short frame padded to 60 bytes.
 * Every checksum is correct. IP fragments only when asked for (see {@link #fragments}).
 *
 * <p>The bridge's management ports ({@code k8s-<node>}, the hosts) send and answer like pods:
 * host to pod (the kubelet's probes; they pass default-deny policies on the pod's own node),
 * pod to host, host to a pod of another node through the cluster router. Neighbour solicitations
 * come from a port's address, its link-local address and {@code ::} (duplicate address detection).
 *
 * <p>With gateway routers (nodes with addresses): TCP and UDP exchanges with addresses outside
 * the cluster, the replies injected on the external port the request left from, to the address
 * and port it left with (what the next hop would send back); a request that did not leave (an
 * EgressFirewall denied it) is answered as if it had, through the client's node; and now and
 * then a packet from outside that answers nothing.
 *
 * <p>Frames are addressed as a pod's stack addresses them: to the peer's MAC on the same node
 * switch, to the gateway MAC otherwise and for every VIP (see {@code Prober}). Replies come back
 * whether or not the request got through: a pod answers what reached it, but the generator writes
 * both sides, and either datapath must treat an unexpected reply the same way.
 *
 * <p>Which backend answers a VIP: the one the first packet reached. That is decided by the select
 * group, so the generator runs every packet it writes, in order, through an in-process Junction
 * datapath on the derived flows and reads where the first packet came out. This only picks the
 * stimulus: the test then replays the written pcaps through Open vSwitch and Junction, and a
 * different bucket choice shows as a difference in the forwarded packet itself. A first packet
 * that was dropped gets its replies from a backend the generator picks (any endpoint, ready or not).
 */
final class ManifestTrafficGenerator
{
    /** The pcaps' first timestamp: whole seconds fit the 32-bit pcap field. */
    static final long BASE_NANOS = 1_700_000_000L * 1_000_000_000L;
    private static final int MAX_ACTIVE = 6;
    private static final byte[] ZERO_MAC = new byte[6];

    /** What was written: per port, its packets; and every packet in order, described. */
    record Traffic(List<FlowCaseGenerator.Input> inputs, List<String> log, int packets)
    {
    }

    /** A service address and port, and who may answer it. */
    private record Vip(String service, InetAddress address, int port, Protocol protocol, List<Backend> candidates,
        int fallbackPort)
    {
    }

    private record Backend(LogicalPort port, InetAddress address, int number)
    {
    }

    /** A frame a port sent, as the simulation saw it. */
    private record RouterVip(GatewayPort gateway, InetAddress address, int port, Protocol protocol)
    {
    }

    private record Sent(int port, byte[] frame)
    {
    }

    /** A request as it reached pod {@code at}, sent by {@code sender}. */
    private record Delivered(LogicalPort at, byte[] frame, LogicalPort sender)
    {
    }

    private final BridgeLayout layout;
    private final List<LogicalPort> ports;
    private final List<Vip> vips = new ArrayList<>();
    private final List<InetAddress> nodeIps = new ArrayList<>();
    private final List<GatewayPort> gateways;
    /** Whether a gateway router has IPv6 or resolves its next hop: IPv6 egress and the next hops' ARP / ND in the traffic. */
    private final boolean neighbours;
    /** What the gateway routers load-balance for outside clients: node ports, external IPs, LB ingress IPs. */
    private final List<RouterVip> routerVips = new ArrayList<>();
    private final SplittableRandom random;
    /**
     * Whether big UDP replies go out as two IP fragments. Off by default: OVS's userspace
     * conntrack reassembles fragments (ipf) and passes them on, Junction's drops them (its known
     * limitation), so the test would only show that difference. On for whoever adds reassembly.
     */
    private final boolean fragments;
    private final Datapath sim;
    private final List<Sent> sent = new ArrayList<>();
    private final Packet packet = new Packet(4096);
    private final TreeMap<Integer, List<FlowCaseGenerator.Packet>> byPort = new TreeMap<>();
    private final List<String> log = new ArrayList<>();
    /** Requests that reached a pod, for ICMP errors about them. */
    private final List<Delivered> delivered = new ArrayList<>();
    /** The latest TCP conversations, for stray segments and reused source ports. */
    private final List<Tcp> tcps = new ArrayList<>();
    private long now = BASE_NANOS;
    private int nextSourcePort;
    private int ipId;
    private int packets;

    ManifestTrafficGenerator(final FlowCompiler.Compiled compiled, final ClusterModel model, final long seed,
        final boolean fragments) throws FlowParseException
    {
        this.fragments = fragments;
        this.layout = compiled.layout();
        // The management ports send and answer too: the host's traffic to pods, pods' to the host.
        final List<LogicalPort> all = new ArrayList<>(layout.ports());
        layout.managementPorts().stream().filter(LogicalPort::local).forEach(all::add);
        this.ports = List.copyOf(all);
        if (ports.isEmpty())
        {
            throw new IllegalArgumentException("no pod ports: nothing sends");
        }
        this.random = new SplittableRandom(seed);
        this.gateways = layout.gateways().stream().filter(GatewayPort::local).toList();
        this.neighbours = gateways.stream().anyMatch(g -> g.ip6() != null || g.nextHopMac(false) == null);
        this.nextSourcePort = 32768 + random.nextInt(4096);
        this.ipId = random.nextInt(0x10000);
        for (final Node n : model.nodes())
        {
            nodeIps.addAll(n.internalIps());
        }
        for (final Service svc : model.services())
        {
            addVips(model, svc);
            addRouterVips(svc);
        }
        final GroupTable groups = new GroupParser("groups").parseAll(compiled.groups());
        final FlowTables tables = new FlowTables(new FlowParser("flows").groups(groups).parseAll(compiled.flows().lines()),
            groups);
        // Time as in the replay: the packets' own timestamps.
        this.sim = new Datapath(new Bridge(tables), layout.ofports(), (port, p) ->
            sent.add(new Sent(port, Arrays.copyOfRange(p.buf, p.start, p.end()))),
            Datapath.DEFAULT_MTU, 1, CacheConfig.DEFAULTS, () -> now).packetTime(true);
    }

    /** Writes {@code conversations} conversations and single packets, interleaved; deterministic for the seed. */
    Traffic generate(final int conversations)
    {
        resolveNextHops();
        final List<Conversation> active = new ArrayList<>();
        int started = 0;
        while (started < conversations || !active.isEmpty())
        {
            while (started < conversations && active.size() < MAX_ACTIVE)
            {
                active.add(newConversation());
                started++;
            }
            final int i = random.nextInt(active.size());
            if (!active.get(i).step())
            {
                active.remove(i);
            }
        }
        final List<FlowCaseGenerator.Input> inputs = new ArrayList<>();
        byPort.forEach((port, list) -> inputs.add(new FlowCaseGenerator.Input(port, List.copyOf(list))));
        return new Traffic(inputs, List.copyOf(log), packets);
    }

    // ---- What to send next ----

    private Conversation newConversation()
    {
        if (!gateways.isEmpty())
        {
            final int outside = random.nextInt(100);
            // Drawn only where there is IPv6 egress or resolution: the IPv4-only sets keep their traffic.
            final boolean v6 = neighbours && random.nextBoolean();
            final LogicalPort client = pickWith(v6);
            if (outside < 20 && client != null)
            {
                return new Outside(client, v6, random.nextBoolean() ? Protocol.TCP : Protocol.UDP);
            }
            if (outside < 23)
            {
                return () ->
                {
                    unasked();
                    return false;
                };
            }
            if (outside < 28 && neighbours)
            {
                return () ->
                {
                    nextHopNeighbour();
                    return false;
                };
            }
            if (outside < 35 && !routerVips.isEmpty())
            {
                return new Inbound(pick(routerVips));
            }
        }
        final int dice = random.nextInt(100);
        if (dice < 30)
        {
            return podPair(Protocol.TCP);
        }
        if (dice < 43)
        {
            return podPair(Protocol.UDP);
        }
        if (dice < 48)
        {
            return echo();
        }
        if (dice < 65 && !vips.isEmpty())
        {
            return toVip();
        }
        if (dice < 69 && tcps.stream().anyMatch(Tcp::finished))
        {
            return reuse();
        }
        if (dice < 69)
        {
            return podPair(Protocol.TCP);
        }
        return single(random.nextInt(13));
    }

    /** A conversation between two pods (possibly one pod with itself) on a port the server may serve. */
    private Conversation podPair(final Protocol protocol)
    {
        final LogicalPort client = pick(ports);
        final LogicalPort server = random.nextInt(20) == 0 ? client : pick(ports);
        final boolean v6 = family(client, server);
        final Flow f = new Flow(client, client.ip(v6).orElseThrow(), server.ip(v6).orElseThrow(), serverPort(server, protocol),
            protocol, null);
        f.answer(server, f.target, f.targetPort);
        return protocol == Protocol.TCP ? new Tcp(f) : new Udp(f);
    }

    private Conversation echo()
    {
        final LogicalPort client = pick(ports);
        final LogicalPort server = pick(ports);
        final boolean v6 = family(client, server);
        final Flow f = new Flow(client, client.ip(v6).orElseThrow(), server.ip(v6).orElseThrow(), 0, null, null);
        f.answer(server, f.target, 0);
        return new Echo(f, random.nextInt(0x10000));
    }

    private Conversation toVip()
    {
        final Vip vip = pick(vips);
        final boolean v6 = Ip.isIpv6(vip.address());
        final List<LogicalPort> able = ports.stream().filter(p -> p.ip(v6).isPresent()).toList();
        // A few clients come back again and again: ClientIP affinity has something to remember.
        final LogicalPort client = random.nextBoolean() ? able.get(random.nextInt(Math.min(3, able.size())))
            : pick(able);
        final Flow f = new Flow(client, client.ip(v6).orElseThrow(), vip.address(), vip.port(), vip.protocol(), vip);
        return vip.protocol() == Protocol.TCP ? new Tcp(f) : new Udp(f);
    }

    /**
     * A new connection on the 5-tuple of a finished one (the client reuses its source port while
     * the old connection is in TIME_WAIT or closed): conntrack must start it afresh.
     */
    private Conversation reuse()
    {
        final List<Tcp> done = tcps.stream().filter(Tcp::finished).toList();
        final Flow old = pick(done).f;
        final Flow f = new Flow(old.client, old.source, old.target, old.targetPort, old.protocol, old.vip, old.sourcePort);
        if (old.vip == null)
        {
            f.answer(old.server, old.serverAddress, old.serverPort);
        }
        return new Tcp(f);
    }

    private Conversation single(final int kind)
    {
        return () ->
        {
            switch (kind)
            {
                case 0 -> arpRequest(true);
                case 1 -> arpRequest(false);
                case 2 -> arpOdd();
                case 3 -> neighborSolicitation();
                case 4 -> spoofedMac();
                case 5 -> spoofedAddress();
                case 6 -> lowTtl();
                case 7 -> icmpError();
                case 8, 9 -> straySegment();
                case 10, 11 -> multicast();
                default -> randomFiveTuple();
            }
            return false;
        };
    }

    // ---- Conversations ----

    /** One step at a time: emits its next packet; false when it has nothing more to send. */
    @FunctionalInterface
    private interface Conversation
    {
        boolean step();
    }

    /** Who talks to whom: the client's view (target, port) and, once known, who answers. */
    private final class Flow
    {
        final LogicalPort client;
        final InetAddress source;
        final InetAddress target;
        final int targetPort;
        final Protocol protocol;
        final Vip vip;
        final int sourcePort;
        LogicalPort server;
        InetAddress serverAddress;
        int serverPort;
        /** Whom the server sees and answers: the client, or the hairpin SNAT address when it reached itself. */
        InetAddress peer;
        int peerPort;

        Flow(final LogicalPort client, final InetAddress source, final InetAddress target, final int targetPort,
            final Protocol protocol, final Vip vip)
        {
            this(client, source, target, targetPort, protocol, vip, sourcePort());
        }

        Flow(final LogicalPort client, final InetAddress source, final InetAddress target, final int targetPort,
            final Protocol protocol, final Vip vip, final int sourcePort)
        {
            this.client = client;
            this.source = source;
            this.target = target;
            this.targetPort = targetPort;
            this.protocol = protocol;
            this.vip = vip;
            this.sourcePort = sourcePort;
        }

        void answer(final LogicalPort server, final InetAddress address, final int port)
        {
            answer(server, address, port, source, sourcePort);
        }

        void answer(final LogicalPort server, final InetAddress address, final int port, final InetAddress peer,
            final int peerPort)
        {
            this.server = server;
            this.serverAddress = address;
            this.serverPort = port;
            this.peer = peer;
            this.peerPort = peerPort;
        }

        /** The client's frame: to the peer's MAC on its own switch, else (and for any VIP) to the gateway. */
        byte[] towardsServerMac()
        {
            if (vip == null && server.sw().key() == client.sw().key())
            {
                return PacketFactory.mac(server.mac());
            }
            return PacketFactory.mac(client.sw().gatewayMac());
        }

        byte[] towardsClientMac()
        {
            final boolean onLink = server.sw().key() == client.sw().key() && peer.equals(source);
            return PacketFactory.mac(onLink ? client.mac() : server.sw().gatewayMac());
        }

        String what()
        {
            return client.name() + " " + Ip.text(source) + ":" + sourcePort + " -> " + (vip != null ? vip.service() + " " : "")
                + Ip.text(target) + ":" + targetPort;
        }

        /** After the client's first packet: a VIP's answer comes from where it went, else from a backend picked here. */
        void resolve(final List<Sent> out)
        {
            if (vip == null)
            {
                return;
            }
            for (final Sent s : out)
            {
                final Headers h = Headers.of(s.frame());
                // A pod that reached itself through its service sees the hairpin SNAT address.
                final boolean hairpin = h != null && s.port() == client.ofport() && h.dst().equals(source);
                if (h != null && (h.src().equals(source) && h.sport() == sourcePort || hairpin))
                {
                    final LogicalPort p = ports.stream().filter(x -> x.ofport() == s.port()).findFirst().orElse(null);
                    if (p != null)
                    {
                        answer(p, h.dst(), h.dport(), h.src(), h.sport());
                        return;
                    }
                }
            }
            if (!vip.candidates().isEmpty())
            {
                final Backend b = pick(vip.candidates());
                answer(b.port(), b.address(), b.number());
                return;
            }
            final boolean v6 = Ip.isIpv6(vip.address());
            final LogicalPort p = pick(ports.stream().filter(x -> x.ip(v6).isPresent()).toList());
            answer(p, p.ip(v6).orElseThrow(), vip.fallbackPort());
        }
    }

    private final class Tcp implements Conversation
    {
        private final Flow f;
        private final long clientIsn = random.nextInt() & 0xffffffffL;
        private final long serverIsn = random.nextInt() & 0xffffffffL;
        private final boolean options = random.nextBoolean();
        private final int ending = random.nextInt(10);
        private final byte[] request = payload(10 + random.nextInt(90));
        private final byte[] response = payload(10 + random.nextInt(200));
        private int step;
        private boolean finished;

        Tcp(final Flow f)
        {
            this.f = f;
            if (tcps.size() >= 64)
            {
                tcps.remove(0);
            }
            tcps.add(this);
        }

        boolean finished()
        {
            return finished;
        }

        @Override
        public boolean step()
        {
            final long c = clientIsn + 1;
            final long s = serverIsn + 1;
            final int n1 = request.length;
            final int n2 = response.length;
            switch (step++)
            {
                case 0 ->
                {
                    final List<Sent> out = client(PacketFactory.TCP_SYN, clientIsn, 0, synOptions(), new byte[0], "SYN");
                    f.resolve(out);
                    remember(out, f.client);
                }
                case 1 ->
                {
                    if (ending == 0)
                    {
                        // A closed port: the server resets.
                        server(PacketFactory.TCP_RST | PacketFactory.TCP_ACK, 0, c, new byte[0], new byte[0], "RST");
                        finished = true;
                        return false;
                    }
                    server(PacketFactory.TCP_SYN | PacketFactory.TCP_ACK, serverIsn, c, synOptions(), new byte[0], "SYN-ACK");
                }
                case 2 -> client(PacketFactory.TCP_ACK, c, s, new byte[0], new byte[0], "ACK");
                case 3 -> client(PacketFactory.TCP_PSH | PacketFactory.TCP_ACK, c, s, new byte[0], request, "data");
                case 4 -> server(PacketFactory.TCP_PSH | PacketFactory.TCP_ACK, s, c + n1, new byte[0], response, "data");
                case 5 ->
                {
                    if (ending == 1)
                    {
                        client(PacketFactory.TCP_RST | PacketFactory.TCP_ACK, c + n1, s + n2, new byte[0], new byte[0], "RST");
                        finished = true;
                        return false;
                    }
                    client(PacketFactory.TCP_FIN | PacketFactory.TCP_ACK, c + n1, s + n2, new byte[0], new byte[0], "FIN");
                }
                case 6 -> server(PacketFactory.TCP_FIN | PacketFactory.TCP_ACK, s + n2, c + n1 + 1, new byte[0], new byte[0], "FIN");
                default ->
                {
                    client(PacketFactory.TCP_ACK, c + n1 + 1, s + n2 + 1, new byte[0], new byte[0], "last ACK");
                    finished = true;
                    return false;
                }
            }
            return true;
        }

        private byte[] synOptions()
        {
            // MSS 1460, SACK permitted, window scale 7: what Linux sends; or none at all.
            return options ? new byte[] {2, 4, 5, (byte)0xb4, 4, 2, 1, 3, 3, 7, 1, 1} : new byte[0];
        }

        private List<Sent> client(final int flags, final long seq, final long ack, final byte[] opts, final byte[] data,
            final String what)
        {
            final byte[] tcp = PacketFactory.tcp(f.sourcePort, f.targetPort, seq, ack, flags, opts, data);
            return emit(f.client, ipFrame(f.towardsServerMac(), PacketFactory.mac(f.client.mac()), f.source, f.target, 64,
                PacketFactory.PROTO_TCP, tcp), "TCP " + what + " " + f.what());
        }

        private void server(final int flags, final long seq, final long ack, final byte[] opts, final byte[] data,
            final String what)
        {
            final byte[] tcp = PacketFactory.tcp(f.serverPort, f.peerPort, seq, ack, flags, opts, data);
            emit(f.server, ipFrame(f.towardsClientMac(), PacketFactory.mac(f.server.mac()), f.serverAddress, f.peer, 64,
                PacketFactory.PROTO_TCP, tcp), "TCP " + what + " reply by " + f.server.name() + " to " + f.what());
        }
    }

    private final class Udp implements Conversation
    {
        private final Flow f;
        private final int exchanges = 1 + random.nextInt(2);
        /** A reply too big for one frame (off unless asked for: see {@link #fragments}). */
        private final boolean fragmented = fragments && random.nextInt(3) == 0;
        private int step;

        Udp(final Flow f)
        {
            this.f = f;
        }

        @Override
        public boolean step()
        {
            if (step % 2 == 0)
            {
                final byte[] udp = PacketFactory.udp(f.sourcePort, f.targetPort, payload(8 + random.nextInt(56)));
                final List<Sent> out = emit(f.client, ipFrame(f.towardsServerMac(), PacketFactory.mac(f.client.mac()), f.source,
                    f.target, 64, PacketFactory.PROTO_UDP, udp), "UDP request " + f.what());
                if (step == 0)
                {
                    f.resolve(out);
                }
                remember(out, f.client);
            }
            else if (fragmented)
            {
                final byte[] udp = PacketFactory.udp(f.serverPort, f.peerPort, payload(1600 + random.nextInt(400)));
                final boolean v6 = Ip.isIpv6(f.source);
                final int first = v6 ? 1448 : 1480;
                final byte[] dst = f.towardsClientMac();
                final byte[] src = PacketFactory.mac(f.server.mac());
                final int id = ipId++ & 0xffff;
                for (final boolean head : new boolean[] {true, false})
                {
                    final int offset = head ? 0 : first / 8;
                    final byte[] ip = v6
                        ? new PacketFactory.Ip6().src(f.serverAddress.getAddress()).dst(f.peer.getAddress())
                            .fragment(offset, head, head ? first : -1).build(PacketFactory.PROTO_UDP, udp, PacketFactory.Checksum.CORRECT)
                        : new PacketFactory.Ip4().src(v4(f.serverAddress)).dst(v4(f.peer)).id(id)
                            .fragment(offset, head, head ? first : -1).build(PacketFactory.PROTO_UDP, udp, PacketFactory.Checksum.CORRECT);
                    emit(f.server, PacketFactory.ethernet(dst, src, new int[0], v6 ? PacketFactory.ETH_IPV6 : PacketFactory.ETH_IPV4, ip),
                        "UDP reply fragment " + (head ? "1" : "2") + " by " + f.server.name() + " to " + f.what());
                }
            }
            else
            {
                final byte[] udp = PacketFactory.udp(f.serverPort, f.peerPort, payload(8 + random.nextInt(120)));
                emit(f.server, ipFrame(f.towardsClientMac(), PacketFactory.mac(f.server.mac()), f.serverAddress, f.peer, 64,
                    PacketFactory.PROTO_UDP, udp), "UDP reply by " + f.server.name() + " to " + f.what());
            }
            return ++step < 2 * exchanges;
        }
    }

    private final class Echo implements Conversation
    {
        private final Flow f;
        private final int id;
        private int step;

        Echo(final Flow f, final int id)
        {
            this.f = f;
            this.id = id;
        }

        @Override
        public boolean step()
        {
            final boolean v6 = Ip.isIpv6(f.source);
            final int rest = id << 16 | (step / 2 + 1);
            final byte[] body = payload(16);
            if (step % 2 == 0)
            {
                emit(f.client, ipFrame(f.towardsServerMac(), PacketFactory.mac(f.client.mac()), f.source, f.target, 64,
                    v6 ? PacketFactory.PROTO_ICMPV6 : PacketFactory.PROTO_ICMP,
                    v6 ? PacketFactory.icmp6(128, 0, rest, body) : PacketFactory.icmp(8, 0, rest, body)),
                    "ICMP echo request " + f.what());
            }
            else
            {
                emit(f.server, ipFrame(f.towardsClientMac(), PacketFactory.mac(f.server.mac()), f.serverAddress, f.source, 64,
                    v6 ? PacketFactory.PROTO_ICMPV6 : PacketFactory.PROTO_ICMP,
                    v6 ? PacketFactory.icmp6(129, 0, rest, body) : PacketFactory.icmp(0, 0, rest, body)),
                    "ICMP echo reply by " + f.server.name() + " to " + f.what());
            }
            return ++step < 4;
        }
    }

    // ---- Single packets ----

    /**
     * A segment that does not fit its connection: out of the window, a retransmitted SYN, an ACK
     * for data never sent, a reset, or data after the close; conntrack judges each (invalid or not).
     */
    private void straySegment()
    {
        final List<Tcp> started = tcps.stream().filter(t -> t.step > 0 && t.f.server != null).toList();
        if (started.isEmpty())
        {
            randomFiveTuple();
            return;
        }
        final Tcp t = pick(started);
        final long c = t.clientIsn + 1;
        final long s = t.serverIsn + 1;
        switch (random.nextInt(5))
        {
            case 0 -> t.client(PacketFactory.TCP_PSH | PacketFactory.TCP_ACK, c + 0x2000_0000L, s, new byte[0], payload(20),
                "stray data out of the window");
            case 1 -> t.client(PacketFactory.TCP_SYN, t.clientIsn, 0, t.synOptions(), new byte[0], "stray retransmitted SYN");
            case 2 -> t.server(PacketFactory.TCP_ACK, s, c + 0x1000_0000L, new byte[0], new byte[0],
                "stray ACK of data never sent");
            case 3 -> t.server(PacketFactory.TCP_RST, s + random.nextInt(100), 0, new byte[0], new byte[0], "stray RST");
            default -> t.server(PacketFactory.TCP_PSH | PacketFactory.TCP_ACK, s + t.response.length + 1,
                c + t.request.length + 1, new byte[0], payload(12), "stray data after FIN");
        }
    }

    /** Who has the gateway (or a pod, on this switch or another)? From a pod with an IPv4 address. */
    private void arpRequest(final boolean gateway)
    {
        final LogicalPort p = pickWith(false);
        if (p == null)
        {
            return;
        }
        final InetAddress target;
        if (gateway)
        {
            target = p.sw().gateway(false).orElse(null);
        }
        else
        {
            final LogicalPort other = pickWith(false);
            target = other == null ? null : other.ip(false).orElseThrow();
        }
        if (target == null)
        {
            return;
        }
        final byte[] mac = PacketFactory.mac(p.mac());
        arp(p, PacketFactory.BROADCAST, mac, 1, mac, v4(p.ip(false).orElseThrow()), ZERO_MAC, v4(target),
            "ARP who-has " + Ip.text(target) + " from " + p.name());
    }

    /** Gratuitous ARP, ARP from a spoofed address or hardware address, an unsolicited reply. */
    private void arpOdd()
    {
        final LogicalPort p = pickWith(false);
        if (p == null)
        {
            return;
        }
        final byte[] mac = PacketFactory.mac(p.mac());
        final int own = v4(p.ip(false).orElseThrow());
        final int gw = p.sw().gateway(false).map(ManifestTrafficGenerator::v4).orElse(own ^ 1);
        switch (random.nextInt(4))
        {
            case 0 -> arp(p, PacketFactory.BROADCAST, mac, 1, mac, own, ZERO_MAC, own, "gratuitous ARP from " + p.name());
            case 1 -> arp(p, PacketFactory.BROADCAST, mac, 1, mac, own ^ (1 + random.nextInt(200)), ZERO_MAC, gw,
                "ARP who-has gateway with a spoofed sender address from " + p.name());
            case 2 -> arp(p, PacketFactory.BROADCAST, mac, 1, randomMac(), own, ZERO_MAC, gw,
                "ARP who-has gateway with a spoofed sender MAC from " + p.name());
            default -> arp(p, PacketFactory.mac(p.sw().gatewayMac()), mac, 2, mac, own, PacketFactory.mac(p.sw().gatewayMac()), gw,
                "unsolicited ARP reply to the gateway from " + p.name());
        }
    }

    private void arp(final LogicalPort p, final byte[] dst, final byte[] src, final int op, final byte[] sha,
        final int spa, final byte[] tha, final int tpa, final String what)
    {
        // Padded to the Ethernet minimum, as a NIC sends it.
        emit(p, PacketFactory.pad(PacketFactory.ethernet(dst, src, new int[0], PacketFactory.ETH_ARP,
            PacketFactory.arp(op, sha, spa, tha, tpa)), 60), what);
    }

    /**
     * IPv6 neighbour solicitation (multicast to the solicited-node group) for the gateway, its
     * link-local address or a pod; from the port's address, its link-local address, or {@code ::}
     * (duplicate address detection, no source link-layer option). Or a router solicitation.
     */
    private void neighborSolicitation()
    {
        final LogicalPort p = pickWith(true);
        if (p == null)
        {
            return;
        }
        final byte[] mac = PacketFactory.mac(p.mac());
        final InetAddress linkLocal = OvnNames.linkLocal(p.mac());
        if (random.nextInt(4) == 0)
        {
            // Router solicitation: to all routers, with the source link-layer address option.
            final byte[] rs = PacketFactory.icmp6(133, 0, 0, new byte[] {1, 1, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]});
            final byte[] ip = new PacketFactory.Ip6().src((random.nextBoolean() ? linkLocal : p.ip(true).orElseThrow()).getAddress())
                .dst(PacketFactory.ip6("ff02::2")).hopLimit(255).build(PacketFactory.PROTO_ICMPV6, rs,
                    PacketFactory.Checksum.CORRECT);
            emit(p, PacketFactory.ethernet(PacketFactory.mac("33:33:00:00:00:02"), mac, new int[0], PacketFactory.ETH_IPV6, ip),
                "router solicitation from " + p.name());
            return;
        }
        final InetAddress target = switch (random.nextInt(3))
        {
            case 0 -> p.sw().gateway(true).orElse(null);
            case 1 -> OvnNames.linkLocal(p.sw().gatewayMac());
            default -> pick(ports).ip(true).orElse(null);
        };
        if (target == null)
        {
            return;
        }
        final int source = random.nextInt(4);
        final boolean dad = source == 0;
        final InetAddress from = dad ? Ip.parse("::") : source == 1 ? linkLocal : p.ip(true).orElseThrow();
        final byte[] t = target.getAddress();
        final byte[] group = PacketFactory.ip6("ff02::1:ff00:0");
        group[13] = t[13];
        group[14] = t[14];
        group[15] = t[15];
        final byte[] dstMac = {0x33, 0x33, (byte)0xff, t[13], t[14], t[15]};
        final byte[] ip = new PacketFactory.Ip6().src(from.getAddress()).dst(group).hopLimit(255)
            .build(PacketFactory.PROTO_ICMPV6, PacketFactory.neighborSolicitation(t, dad ? null : mac), PacketFactory.Checksum.CORRECT);
        emit(p, PacketFactory.ethernet(dstMac, mac, new int[0], PacketFactory.ETH_IPV6, ip),
            (dad ? "duplicate address detection" : "neighbour solicitation") + " for " + Ip.text(target) + " from " + p.name()
                + " (" + Ip.text(from) + ")");
    }

    /**
     * What the switch floods: an MLDv2 report (hop-by-hop router alert) from {@code ::} or the
     * link-local address, mDNS to its IPv4 or IPv6 group, an unsolicited neighbour advertisement
     * to all-nodes, an ARP request for an address nobody holds.
     */
    private void multicast()
    {
        final LogicalPort p = pick(ports);
        final byte[] mac = PacketFactory.mac(p.mac());
        final boolean v6 = p.ip(true).isPresent();
        final int kind = random.nextInt(v6 ? 5 : 2);
        if (kind == 0)
        {
            final InetAddress own = p.ip(false).orElse(null);
            if (own != null)
            {
                final int nobody = v4(own) & 0xffffff00 | 200 + random.nextInt(50);
                arp(p, PacketFactory.BROADCAST, mac, 1, mac, v4(own), ZERO_MAC, nobody,
                    "ARP who-has " + PacketFactory.ip4String(nobody) + " (nobody) from " + p.name());
            }
            return;
        }
        if (kind == 1)
        {
            final InetAddress own = p.ip(false).orElse(null);
            if (own != null)
            {
                final byte[] ip = new PacketFactory.Ip4().src(v4(own)).dst(v4(Ip.parse("224.0.0.251")))
                    .build(PacketFactory.PROTO_UDP, PacketFactory.udp(5353, 5353, payload(20)), PacketFactory.Checksum.CORRECT);
                emit(p, PacketFactory.ethernet(PacketFactory.mac("01:00:5e:00:00:fb"), mac, new int[0], PacketFactory.ETH_IPV4, ip),
                    "multicast mDNS to 224.0.0.251 from " + p.name());
            }
            return;
        }
        final InetAddress linkLocal = OvnNames.linkLocal(p.mac());
        if (kind == 2)
        {
            final boolean unspecified = random.nextBoolean();
            // One record: change to exclude (join) the mDNS group.
            final byte[] report = PacketFactory.icmp6(143, 0, 1, PacketFactory.concat(new byte[] {4, 0, 0, 0},
                PacketFactory.ip6("ff02::fb")));
            final byte[] ip = new PacketFactory.Ip6().src((unspecified ? Ip.parse("::") : linkLocal).getAddress())
                .dst(PacketFactory.ip6("ff02::16")).hopLimit(1).hopByHop(true)
                .build(PacketFactory.PROTO_ICMPV6, report, PacketFactory.Checksum.CORRECT);
            emit(p, PacketFactory.ethernet(PacketFactory.mac("33:33:00:00:00:16"), mac, new int[0], PacketFactory.ETH_IPV6, ip),
                "MLDv2 report from " + p.name() + (unspecified ? " (::)" : " (link-local)"));
            return;
        }
        if (kind == 3)
        {
            final byte[] ip = new PacketFactory.Ip6().src(linkLocal.getAddress()).dst(PacketFactory.ip6("ff02::fb"))
                .build(PacketFactory.PROTO_UDP, PacketFactory.udp(5353, 5353, payload(20)), PacketFactory.Checksum.CORRECT);
            emit(p, PacketFactory.ethernet(PacketFactory.mac("33:33:00:00:00:fb"), mac, new int[0], PacketFactory.ETH_IPV6, ip),
                "multicast mDNS to ff02::fb from " + p.name());
            return;
        }
        final byte[] own = p.ip(true).orElseThrow().getAddress();
        final byte[] ip = new PacketFactory.Ip6().src(own).dst(PacketFactory.ip6("ff02::1")).hopLimit(255)
            .build(PacketFactory.PROTO_ICMPV6, PacketFactory.neighborAdvertisement(0x20000000, own, mac), PacketFactory.Checksum.CORRECT);
        emit(p, PacketFactory.ethernet(PacketFactory.mac("33:33:00:00:00:01"), mac, new int[0], PacketFactory.ETH_IPV6, ip),
            "unsolicited neighbour advertisement to all-nodes from " + p.name());
    }

    /** A pod's packet from a MAC that is not its own: port security must drop it. */
    private void spoofedMac()
    {
        final LogicalPort p = pick(ports);
        final LogicalPort to = pick(ports);
        final boolean v6 = family(p, to);
        final Flow f = new Flow(p, p.ip(v6).orElseThrow(), to.ip(v6).orElseThrow(), serverPort(to, Protocol.TCP), Protocol.TCP,
            null);
        f.answer(to, f.target, f.targetPort);
        final byte[] src = random.nextBoolean() ? randomMac() : PacketFactory.mac(pick(ports).mac());
        emit(p, ipFrame(f.towardsServerMac(), src, f.source, f.target, 64, PacketFactory.PROTO_TCP,
            PacketFactory.tcp(f.sourcePort, f.targetPort, random.nextInt() & 0xffffffffL, 0, PacketFactory.TCP_SYN, new byte[0],
                new byte[0])), "TCP SYN with spoofed source MAC " + PacketFactory.macString(src) + " " + f.what());
    }

    /** A pod's packet from an address that is not its own (another pod's, or made up). */
    private void spoofedAddress()
    {
        final LogicalPort p = pick(ports);
        final LogicalPort to = pick(ports);
        final boolean v6 = family(p, to);
        final LogicalPort other = pick(ports);
        InetAddress fake = other.ip(v6).orElse(null);
        if (fake == null || fake.equals(p.ip(v6).orElseThrow()))
        {
            final byte[] b = p.ip(v6).orElseThrow().getAddress();
            b[b.length - 1] ^= (byte)(1 + random.nextInt(100));
            fake = Ip.of(b);
        }
        final Flow f = new Flow(p, fake, to.ip(v6).orElseThrow(), serverPort(to, Protocol.UDP), Protocol.UDP, null);
        f.answer(to, f.target, f.targetPort);
        emit(p, ipFrame(f.towardsServerMac(), PacketFactory.mac(p.mac()), fake, f.target, 64, PacketFactory.PROTO_UDP,
            PacketFactory.udp(f.sourcePort, f.targetPort, payload(12))), "UDP from spoofed address " + f.what());
    }

    /** TTL (hop limit) 1 or 2, to a pod on the same switch, on another one (routed: dec_ttl), or to a VIP. */
    private void lowTtl()
    {
        final LogicalPort p = pick(ports);
        final int ttl = 1 + random.nextInt(2);
        final Flow f;
        if (!vips.isEmpty() && random.nextInt(4) == 0)
        {
            final Vip vip = pick(vips);
            final boolean v6 = Ip.isIpv6(vip.address());
            if (p.ip(v6).isEmpty())
            {
                return;
            }
            f = new Flow(p, p.ip(v6).orElseThrow(), vip.address(), vip.port(), vip.protocol(), vip);
            f.answer(p, f.source, 0);
        }
        else
        {
            final LogicalPort to = pick(ports);
            final boolean v6 = family(p, to);
            f = new Flow(p, p.ip(v6).orElseThrow(), to.ip(v6).orElseThrow(), serverPort(to, Protocol.UDP), Protocol.UDP, null);
            f.answer(to, f.target, f.targetPort);
        }
        final byte[] l4 = f.protocol == Protocol.TCP
            ? PacketFactory.tcp(f.sourcePort, f.targetPort, random.nextInt() & 0xffffffffL, 0, PacketFactory.TCP_SYN, new byte[0],
                new byte[0])
            : PacketFactory.udp(f.sourcePort, f.targetPort, payload(20));
        emit(p, ipFrame(f.towardsServerMac(), PacketFactory.mac(p.mac()), f.source, f.target, ttl,
            f.protocol == Protocol.TCP ? PacketFactory.PROTO_TCP : PacketFactory.PROTO_UDP, l4),
            (f.protocol == Protocol.TCP ? "TCP SYN" : "UDP") + " with TTL " + ttl + " " + f.what());
    }

    /**
     * An ICMP error (port unreachable, or time exceeded) about a datagram a pod received earlier,
     * quoting it as it arrived: conntrack relates it to that connection (un-NATing it for a VIP).
     */
    private void icmpError()
    {
        if (delivered.isEmpty())
        {
            randomFiveTuple();
            return;
        }
        final Delivered d = pick(delivered);
        final LogicalPort at = d.at();
        final byte[] frame = d.frame();
        final LogicalPort to = d.sender();
        final Headers h = Headers.of(frame);
        if (h == null)
        {
            return;
        }
        final boolean v6 = Ip.isIpv6(h.src());
        final int quoted = Math.min(frame.length - 14, v6 ? 1232 : 548);
        final byte[] body = Arrays.copyOfRange(frame, 14, 14 + quoted);
        final boolean unreachable = random.nextInt(3) != 0;
        final byte[] icmp = v6 ? PacketFactory.icmp6(unreachable ? 1 : 3, unreachable ? 4 : 0, 0, body)
            : PacketFactory.icmp(unreachable ? 3 : 11, unreachable ? 3 : 0, 0, body);
        final byte[] dstMac = PacketFactory.mac(at.sw().key() == to.sw().key() ? to.mac() : at.sw().gatewayMac());
        emit(at, ipFrame(dstMac, PacketFactory.mac(at.mac()), h.dst(), h.src(), 64,
            v6 ? PacketFactory.PROTO_ICMPV6 : PacketFactory.PROTO_ICMP, icmp),
            "ICMP " + (unreachable ? "port unreachable" : "time exceeded") + " from " + at.name() + " about " + Ip.text(h.src())
                + ":" + h.sport() + " -> " + Ip.text(h.dst()) + ":" + h.dport());
    }

    /** Any protocol, flags, addresses and ports, from a pod's own MAC and address. */
    private void randomFiveTuple()
    {
        final LogicalPort p = pick(ports);
        final boolean v6 = p.ip(true).isPresent() && (p.ip(false).isEmpty() || random.nextInt(3) == 0);
        final InetAddress src = p.ip(v6).orElseThrow();
        final InetAddress dst = randomDestination(v6);
        final byte[] dstMac = switch (random.nextInt(6))
        {
            case 0 -> PacketFactory.BROADCAST;
            case 1 -> PacketFactory.mac(pick(ports).mac());
            case 2 -> randomMac();
            default -> PacketFactory.mac(p.sw().gatewayMac());
        };
        final int proto;
        final byte[] l4;
        final String what;
        final int dice = random.nextInt(10);
        if (dice < 5)
        {
            final int[] flags = {PacketFactory.TCP_SYN, PacketFactory.TCP_ACK, PacketFactory.TCP_SYN | PacketFactory.TCP_ACK,
                PacketFactory.TCP_FIN | PacketFactory.TCP_ACK, PacketFactory.TCP_RST, PacketFactory.TCP_PSH | PacketFactory.TCP_ACK,
                random.nextInt(0x100)};
            final int fl = flags[random.nextInt(flags.length)];
            proto = PacketFactory.PROTO_TCP;
            l4 = PacketFactory.tcp(randomPort(), randomDestinationPort(), random.nextInt() & 0xffffffffL,
                random.nextInt() & 0xffffffffL, fl, new byte[0], random.nextBoolean() ? new byte[0] : payload(1 + random.nextInt(40)));
            what = String.format("TCP flags 0x%02x", fl);
        }
        else if (dice < 8)
        {
            proto = PacketFactory.PROTO_UDP;
            l4 = PacketFactory.udp(randomPort(), randomDestinationPort(), payload(random.nextInt(60)));
            what = "UDP";
        }
        else
        {
            final int[] types = v6 ? new int[] {128, 129, 1, 2, 3} : new int[] {8, 0, 3, 11, 13};
            final int type = types[random.nextInt(types.length)];
            proto = v6 ? PacketFactory.PROTO_ICMPV6 : PacketFactory.PROTO_ICMP;
            final byte[] body = payload(8 + random.nextInt(24));
            l4 = v6 ? PacketFactory.icmp6(type, random.nextInt(2), random.nextInt(), body)
                : PacketFactory.icmp(type, random.nextInt(2), random.nextInt(), body);
            what = "ICMP type " + type;
        }
        final byte[] frame = ipFrame(dstMac, PacketFactory.mac(p.mac()), src, dst, 64, proto, l4);
        final Headers h = Headers.of(frame);
        emit(p, frame,
            "random " + what + " from " + p.name() + " " + Ip.text(src) + (h == null ? "" : ":" + h.sport()) + " -> "
                + Ip.text(dst) + (h == null ? "" : ":" + h.dport()) + " to MAC " + PacketFactory.macString(dstMac));
    }

    private InetAddress randomDestination(final boolean v6)
    {
        final List<InetAddress> pool = new ArrayList<>();
        for (final LogicalPort q : ports)
        {
            q.ip(v6).ifPresent(pool::add);
        }
        for (final Vip v : vips)
        {
            if (Ip.isIpv6(v.address()) == v6)
            {
                pool.add(v.address());
            }
        }
        for (final BridgeLayout.Switch sw : layout.switches())
        {
            sw.gateway(v6).ifPresent(pool::add);
        }
        nodeIps.stream().filter(a -> Ip.isIpv6(a) == v6).forEach(pool::add);
        pool.add(Ip.parse(v6 ? "2001:db8::53" : "8.8.8.8"));
        pool.add(Ip.parse(v6 ? "fd00:10:96::99" : "172.18.0.77"));
        return pick(pool);
    }

    private int randomDestinationPort()
    {
        final int[] common = {53, 80, 81, 85, 90, 91, 443, 5353, 6379, 7000, 8080, 9000, 9090, 30080};
        final int dice = random.nextInt(4);
        if (dice == 0)
        {
            return random.nextInt(0x10000);
        }
        if (dice == 1 && !vips.isEmpty())
        {
            return pick(vips).port();
        }
        return common[random.nextInt(common.length)];
    }

    private int randomPort()
    {
        return 1024 + random.nextInt(64512);
    }

    /** Outside addresses: the EgressFirewall set's CIDRs and names (see manifests/egress), and some of the world. */
    private static final List<InetAddress> OUTSIDE = List.of(Ip.parse("8.8.8.8"), Ip.parse("203.0.113.10"),
        Ip.parse("203.0.113.11"), Ip.parse("198.51.100.5"), Ip.parse("192.0.2.1"), Ip.parse("172.18.0.77"));
    /** The same for IPv6 (manifests/egress-v6's firewall), as many: one draw picks from either. */
    private static final List<InetAddress> OUTSIDE6 = List.of(Ip.parse("2001:4860:4860::8888"), Ip.parse("2001:db8:113::10"),
        Ip.parse("2001:db8:113::11"), Ip.parse("2001:db8:100::5"), Ip.parse("2001:db8:2::1"), Ip.parse("fc00:f853::77"));

    /** The next hop's MAC: the static binding, else the one the simulated next hop has (and tells by ARP / ND). */
    static String nextHopMac(final GatewayPort g, final boolean v6)
    {
        final String mac = g.nextHopMac(v6);
        return mac != null ? mac : String.format("02:00:5e:10:%02x:%02x", g.key() >> 8 & 0xff, g.key() & 0xff);
    }

    /**
     * Before anything else, each next hop that is resolved (not static) tells its MAC. Not for a
     * want of coverage: OVS credits the packets a stale megaflow carried while a learned flow was
     * being added to the rules of the new translation (its revalidator re-translates and pushes
     * the stats there), so packets dropped as unresolved just before the learning would count on
     * the learned binding in OVS; their outputs agree, the per-rule counters would not.
     * NextHopResolutionTest covers the unresolved drop against OVS by outputs.
     */
    private void resolveNextHops()
    {
        for (final GatewayPort g : gateways)
        {
            for (final boolean v6 : new boolean[] {false, true})
            {
                if (g.ip(v6) != null && g.nextHopMac(v6) == null)
                {
                    nextHopTells(g, v6, 0);
                }
            }
        }
    }

    /**
     * On an external port, about the next hop: its ARP reply or neighbour advertisement to the
     * router, or its own request for the router's address (both learned where the binding is not
     * static, the request answered), or another host's request for the router's address (answered,
     * not learned).
     */
    private void nextHopNeighbour()
    {
        final GatewayPort g = pick(gateways);
        final boolean v6 = g.ip6() != null && (g.ip() == null || random.nextBoolean());
        nextHopTells(g, v6, random.nextInt(3));
    }

    /** Kind 0: the next hop's reply / advertisement; 1: its request for the router's address; 2: another host's. */
    private void nextHopTells(final GatewayPort g, final boolean v6, final int kind)
    {
        final byte[] router = PacketFactory.mac(g.mac());
        final byte[] sender = kind == 2 ? randomMac() : PacketFactory.mac(nextHopMac(g, v6));
        final InetAddress from = kind == 2 ? (v6 ? OUTSIDE6 : OUTSIDE).get(5) : g.nextHop(v6);
        final String what = (kind == 0 ? "next hop's " + (v6 ? "advertisement" : "ARP reply") : (kind == 1 ? "next hop's " : "a host's ")
            + (v6 ? "solicitation" : "ARP request") + " for " + Ip.text(g.ip(v6))) + " from " + Ip.text(from) + " on " + g.router();
        if (!v6)
        {
            final byte[] arp = kind == 0 ? PacketFactory.arp(2, sender, v4(from), router, v4(g.ip()))
                : PacketFactory.arp(1, sender, v4(from), ZERO_MAC, v4(g.ip()));
            emit(g.ofport(), PacketFactory.pad(PacketFactory.ethernet(kind == 0 ? router : PacketFactory.BROADCAST, sender, new int[0],
                PacketFactory.ETH_ARP, arp), 60), what);
            return;
        }
        final byte[] self = g.ip6().getAddress();
        final byte[] group = PacketFactory.ip6("ff02::1:ff00:0");
        System.arraycopy(self, 13, group, 13, 3);
        final byte[] icmp = kind == 0 ? PacketFactory.neighborAdvertisement(0x60000000, from.getAddress(), sender)
            : PacketFactory.neighborSolicitation(self, sender);
        final byte[] ip = new PacketFactory.Ip6().src(from.getAddress()).dst(kind == 0 ? self : group).hopLimit(255)
            .build(PacketFactory.PROTO_ICMPV6, icmp, PacketFactory.Checksum.CORRECT);
        emit(g.ofport(), PacketFactory.ethernet(kind == 0 ? router : new byte[] {0x33, 0x33, (byte)0xff, self[13], self[14], self[15]},
            sender, new int[0], PacketFactory.ETH_IPV6, ip), what);
    }

    /**
     * A pod's TCP (handshake, data each way, a reset) or UDP (one or two request/reply pairs)
     * exchange with an outside address; the answers come in on the external port.
     */
    private final class Outside implements Conversation
    {
        private final LogicalPort client;
        private final InetAddress source;
        /** Drawn first, as before IPv6 was: the IPv4 sets keep their traffic. */
        private final int targetIndex = random.nextInt(OUTSIDE.size());
        private final InetAddress target;
        private final int targetPort = new int[] {53, 80, 81, 443}[random.nextInt(4)];
        private final int sourcePort = sourcePort();
        private final Protocol protocol;
        private final long clientIsn = random.nextInt() & 0xffffffffL;
        private final long serverIsn = random.nextInt() & 0xffffffffL;
        private GatewayPort gateway;
        private InetAddress translated;
        private int translatedPort;
        private int step;

        Outside(final LogicalPort client, final boolean v6, final Protocol protocol)
        {
            this.client = client;
            this.source = client.ip(v6).orElseThrow();
            this.target = (v6 ? OUTSIDE6 : OUTSIDE).get(targetIndex);
            this.protocol = protocol;
        }

        @Override
        public boolean step()
        {
            final boolean tcp = protocol == Protocol.TCP;
            final long c = clientIsn + 1;
            final long s = serverIsn + 1;
            switch (step++)
            {
                case 0 ->
                {
                    final List<Sent> out = request(tcp ? PacketFactory.tcp(sourcePort, targetPort, clientIsn, 0, PacketFactory.TCP_SYN,
                        new byte[0], new byte[0]) : PacketFactory.udp(sourcePort, targetPort, payload(8 + random.nextInt(40))), "SYN");
                    if (!where(out))
                    {
                        return false;
                    }
                }
                case 1 -> reply(tcp ? PacketFactory.tcp(targetPort, translatedPort, serverIsn, c,
                    PacketFactory.TCP_SYN | PacketFactory.TCP_ACK, new byte[0], new byte[0])
                    : PacketFactory.udp(targetPort, translatedPort, payload(8 + random.nextInt(80))), "SYN-ACK");
                case 2 -> request(tcp ? PacketFactory.tcp(sourcePort, targetPort, c, s, PacketFactory.TCP_PSH | PacketFactory.TCP_ACK,
                    new byte[0], payload(20)) : PacketFactory.udp(sourcePort, targetPort, payload(12)), "data");
                case 3 -> reply(tcp ? PacketFactory.tcp(targetPort, translatedPort, s, c + 20, PacketFactory.TCP_PSH | PacketFactory.TCP_ACK,
                    new byte[0], payload(30)) : PacketFactory.udp(targetPort, translatedPort, payload(16)), "data");
                default ->
                {
                    if (tcp)
                    {
                        request(PacketFactory.tcp(sourcePort, targetPort, c + 20, s + 30, PacketFactory.TCP_RST | PacketFactory.TCP_ACK,
                            new byte[0], new byte[0]), "RST");
                    }
                    return false;
                }
            }
            return true;
        }

        private List<Sent> request(final byte[] l4, final String what)
        {
            return emit(client.ofport(), ipFrame(PacketFactory.mac(client.sw().gatewayMac()), PacketFactory.mac(client.mac()), source,
                target, 64, protocol == Protocol.TCP ? PacketFactory.PROTO_TCP : PacketFactory.PROTO_UDP, l4),
                protocol + " " + what + " " + client.name() + " " + Ip.text(source) + ":" + sourcePort + " -> outside "
                    + Ip.text(target) + ":" + targetPort);
        }

        private void reply(final byte[] l4, final String what)
        {
            emit(gateway.ofport(), ipFrame(PacketFactory.mac(gateway.mac()), PacketFactory.mac(nextHopMac(gateway, Ip.isIpv6(target))), target,
                translated, 64, protocol == Protocol.TCP ? PacketFactory.PROTO_TCP : PacketFactory.PROTO_UDP, l4),
                protocol + " " + what + " from outside " + Ip.text(target) + ":" + targetPort + " to " + Ip.text(translated) + ":"
                    + translatedPort + " on " + gateway.router() + " (for " + client.name() + ")");
        }

        /** Where the first packet left, with which address and port; else the client's node's router, untranslated port. */
        private boolean where(final List<Sent> out)
        {
            for (final Sent x : out)
            {
                final GatewayPort g = gateways.stream().filter(gw -> gw.ofport() == x.port()).findFirst().orElse(null);
                final Headers h = Headers.of(x.frame());
                if (g != null && h != null)
                {
                    gateway = g;
                    translated = h.src();
                    translatedPort = h.sport();
                    return true;
                }
            }
            gateway = gateways.stream().filter(gw -> gw.node().equals(client.sw().node())).findFirst().orElse(null);
            translated = gateway == null ? null : gateway.ip(Ip.isIpv6(target));
            translatedPort = sourcePort;
            return translated != null;
        }
    }

    /** A packet from outside to a router's address that answers nothing: conntrack finds no connection, nothing enters. */
    private void unasked()
    {
        final GatewayPort g = pick(gateways);
        // An IPv6-only router has only its IPv6 address to be asked at.
        final boolean v6 = g.ip() == null;
        final InetAddress from = pick(v6 ? OUTSIDE6 : OUTSIDE);
        final InetAddress to = g.ip(v6);
        final boolean tcp = random.nextBoolean();
        final int sport = new int[] {53, 80, 443}[random.nextInt(3)];
        final int dport = randomPort();
        emit(g.ofport(), ipFrame(PacketFactory.mac(g.mac()), PacketFactory.mac(nextHopMac(g, v6)), from, to, 64,
            tcp ? PacketFactory.PROTO_TCP : PacketFactory.PROTO_UDP, tcp ? PacketFactory.tcp(sport, dport, random.nextInt() & 0xffffffffL,
                0, PacketFactory.TCP_SYN, new byte[0], new byte[0]) : PacketFactory.udp(sport, dport, payload(10))),
            "unasked " + (tcp ? "TCP SYN" : "UDP") + " from outside " + Ip.text(from) + ":" + sport + " to " + Ip.text(to) + ":"
                + dport + " on " + g.router());
    }

    /** Clients outside the cluster: the world's addresses and a partner network, behind the next hop or on the segment. */
    private static final List<InetAddress> CLIENTS = List.of(Ip.parse("8.8.8.8"), Ip.parse("203.0.113.5"),
        Ip.parse("198.51.100.9"), Ip.parse("172.18.0.77"));
    /** The same for IPv6 (manifests/gateway-v6's partner network is 2001:db8:113::/64), as many. */
    private static final List<InetAddress> CLIENTS6 = List.of(Ip.parse("2001:4860:4860::8888"), Ip.parse("2001:db8:113::5"),
        Ip.parse("2001:db8:100::9"), Ip.parse("fc00:f853::77"));
    private static final List<String> CLIENT_MACS = List.of("02:00:00:00:00:99", "02:00:00:00:00:98");
    /** A router on the outside clients' path, reporting what it could not deliver. */
    private static final InetAddress OUTSIDE_ROUTER = Ip.parse("192.0.2.254");
    private static final InetAddress OUTSIDE_ROUTER6 = Ip.parse("2001:db8:254::1");

    /**
     * The VIPs of {@code svc} on each router, as GatewayLoadBalancerFlows compiles them: external
     * and ingress IPs of the router's families, a node port per family the router and the service have.
     */
    private void addRouterVips(final Service svc)
    {
        if (svc.headless())
        {
            return;
        }
        final boolean nodePorts = "NodePort".equals(svc.type()) || "LoadBalancer".equals(svc.type());
        for (final GatewayPort g : gateways)
        {
            for (final ServicePort sp : svc.ports())
            {
                final List<InetAddress> external = new ArrayList<>(svc.externalIps());
                external.addAll(svc.loadBalancerIngress());
                external.stream().filter(a -> g.ip(Ip.isIpv6(a)) != null)
                    .forEach(a -> routerVips.add(new RouterVip(g, a, sp.port(), sp.protocol())));
                for (final boolean v6 : new boolean[] {false, true})
                {
                    if (nodePorts && sp.nodePort() > 0 && g.ip(v6) != null && hasFamily(svc, v6))
                    {
                        routerVips.add(new RouterVip(g, g.ip(v6), sp.nodePort(), sp.protocol()));
                    }
                }
            }
        }
    }

    /** A cluster IP of the family; without any, the ipFamilies, else IPv4. */
    private static boolean hasFamily(final Service svc, final boolean v6)
    {
        if (!svc.clusterIps().isEmpty())
        {
            return svc.clusterIps().stream().anyMatch(a -> Ip.isIpv6(a) == v6);
        }
        return svc.ipFamilies().isEmpty() ? !v6 : svc.ipFamilies().contains(v6 ? "IPv6" : "IPv4");
    }

    /**
     * An outside client's TCP (handshake, data each way, a reset) or UDP exchange with a VIP of a
     * gateway router, sent on its external port; the backend answers from where the request
     * reached it (its address and port, to the source it saw). Nowhere reached: the exchange ends.
     * Before the end, now and then an ICMP error about the connection: from the backend about the
     * last request it received, or from a router outside about the last reply that left (to the
     * VIP, on the external port).
     */
    private final class Inbound implements Conversation
    {
        private final RouterVip vip;
        private final InetAddress client;
        private final String clientMac;
        private final int sourcePort;
        private final long clientIsn;
        private final long serverIsn;
        private LogicalPort server;
        private Headers seen;
        private byte[] toServer;
        private byte[] toClient;
        private int step;

        Inbound(final RouterVip vip)
        {
            this.vip = vip;
            // Drawn in this order since before IPv6 VIPs: the IPv4 sets keep their traffic.
            this.client = pick(Ip.isIpv6(vip.address()) ? CLIENTS6 : CLIENTS);
            this.clientMac = random.nextBoolean() ? pick(CLIENT_MACS) : null;
            this.sourcePort = sourcePort();
            this.clientIsn = random.nextInt() & 0xffffffffL;
            this.serverIsn = random.nextInt() & 0xffffffffL;
        }

        @Override
        public boolean step()
        {
            final boolean tcp = vip.protocol() == Protocol.TCP;
            final long c = clientIsn + 1;
            final long s = serverIsn + 1;
            switch (step++)
            {
                case 0 ->
                {
                    final List<Sent> out = request(tcp ? PacketFactory.tcp(sourcePort, vip.port(), clientIsn, 0, PacketFactory.TCP_SYN,
                        new byte[0], new byte[0]) : PacketFactory.udp(sourcePort, vip.port(), payload(8 + random.nextInt(40))), "SYN");
                    for (final Sent x : out)
                    {
                        server = ports.stream().filter(p -> p.ofport() == x.port()).findFirst().orElse(null);
                        seen = Headers.of(x.frame());
                    }
                    return server != null && seen != null;
                }
                case 4 ->
                {
                    icmpError();
                    return true;
                }
                case 1 -> reply(tcp ? PacketFactory.tcp(seen.dport(), seen.sport(), serverIsn, c,
                    PacketFactory.TCP_SYN | PacketFactory.TCP_ACK, new byte[0], new byte[0])
                    : PacketFactory.udp(seen.dport(), seen.sport(), payload(8 + random.nextInt(80))), "SYN-ACK");
                case 2 -> request(tcp ? PacketFactory.tcp(sourcePort, vip.port(), c, s, PacketFactory.TCP_PSH | PacketFactory.TCP_ACK,
                    new byte[0], payload(20)) : PacketFactory.udp(sourcePort, vip.port(), payload(12)), "data");
                case 3 -> reply(tcp ? PacketFactory.tcp(seen.dport(), seen.sport(), s, c + 20, PacketFactory.TCP_PSH | PacketFactory.TCP_ACK,
                    new byte[0], payload(30)) : PacketFactory.udp(seen.dport(), seen.sport(), payload(16)), "data");
                default ->
                {
                    if (tcp)
                    {
                        request(PacketFactory.tcp(sourcePort, vip.port(), c + 20, s + 30, PacketFactory.TCP_RST | PacketFactory.TCP_ACK,
                            new byte[0], new byte[0]), "RST");
                    }
                    return false;
                }
            }
            return true;
        }

        /** About a packet of this connection that was delivered (its IP packet quoted as it arrived). */
        private void icmpError()
        {
            final int dice = random.nextInt(3);
            final byte[] about = dice == 0 ? toServer : dice == 1 ? toClient : null;
            final Headers h = about == null ? null : Headers.of(about);
            if (h == null)
            {
                return;
            }
            final boolean v6 = Ip.isIpv6(h.src());
            final byte[] body = Arrays.copyOfRange(about, 14, 14 + Math.min(about.length - 14, v6 ? 1232 : 548));
            final int kind = random.nextInt(3);
            // Port unreachable, time exceeded, or fragmentation needed / packet too big with an MTU of 1400.
            final byte[] icmp = v6
                ? PacketFactory.icmp6(kind == 0 ? 1 : kind == 1 ? 3 : 2, kind == 0 ? 4 : 0, kind == 2 ? 1400 : 0, body)
                : PacketFactory.icmp(kind == 0 ? 3 : kind == 1 ? 11 : 3, kind == 0 ? 3 : kind == 1 ? 0 : 4, kind == 2 ? 1400 : 0, body);
            final String what = "ICMP " + (kind == 0 ? "port unreachable" : kind == 1 ? "time exceeded" : "too big") + " about "
                + Ip.text(h.src()) + ":" + h.sport() + " -> " + Ip.text(h.dst()) + ":" + h.dport();
            final int proto = v6 ? PacketFactory.PROTO_ICMPV6 : PacketFactory.PROTO_ICMP;
            if (about == toServer)
            {
                emit(server, ipFrame(PacketFactory.mac(server.sw().gatewayMac()), PacketFactory.mac(server.mac()), h.dst(), h.src(), 64,
                    proto, icmp), what + " from backend " + server.name());
                return;
            }
            final GatewayPort g = vip.gateway();
            // The client itself, or a router on its path.
            final InetAddress reporter = kind == 0 ? client : v6 ? OUTSIDE_ROUTER6 : OUTSIDE_ROUTER;
            emit(g.ofport(), ipFrame(PacketFactory.mac(g.mac()), PacketFactory.mac(clientMac != null ? clientMac : nextHopMac(g, v6)),
                reporter, h.src(), 64, proto, icmp), what + " from outside " + Ip.text(reporter) + " on " + g.router());
        }

        private List<Sent> request(final byte[] l4, final String what)
        {
            final GatewayPort g = vip.gateway();
            final List<Sent> out = emit(g.ofport(), ipFrame(PacketFactory.mac(g.mac()), PacketFactory.mac(clientMac != null ? clientMac : nextHopMac(g, Ip.isIpv6(vip.address()))),
                client, vip.address(), 64, vip.protocol() == Protocol.TCP ? PacketFactory.PROTO_TCP : PacketFactory.PROTO_UDP, l4),
                vip.protocol() + " " + what + " from outside " + Ip.text(client) + ":" + sourcePort + " to " + Ip.text(vip.address())
                    + ":" + vip.port() + " on " + g.router());
            out.stream().filter(x -> server == null || x.port() == server.ofport()).forEach(x -> toServer = x.frame());
            return out;
        }

        private void reply(final byte[] l4, final String what)
        {
            final List<Sent> out = emit(server, ipFrame(PacketFactory.mac(server.sw().gatewayMac()), PacketFactory.mac(server.mac()), seen.dst(), seen.src(), 64,
                vip.protocol() == Protocol.TCP ? PacketFactory.PROTO_TCP : PacketFactory.PROTO_UDP, l4),
                vip.protocol() + " " + what + " " + server.name() + " " + Ip.text(seen.dst()) + ":" + seen.dport() + " -> "
                    + Ip.text(seen.src()) + ":" + seen.sport() + " (for " + Ip.text(client) + " via " + vip.gateway().router() + ")");
            out.stream().filter(x -> x.port() == vip.gateway().ofport()).forEach(x -> toClient = x.frame());
        }
    }

    // ---- Emitting ----

    /** Appends the frame to {@code from}'s pcap and runs it through the simulation; returns what came out. */
    private List<Sent> emit(final LogicalPort from, final byte[] frame, final String what)
    {
        return emit(from.ofport(), frame, what);
    }

    /** As {@link #emit(LogicalPort, byte[], String)} on any port of the bridge. */
    private List<Sent> emit(final int port, final byte[] frame, final String what)
    {
        now += 200_000L + random.nextInt(800_000);
        byPort.computeIfAbsent(port, k -> new ArrayList<>()).add(new FlowCaseGenerator.Packet(now, frame, what));
        log.add(String.format("#%-5d t=+%.4fs port %-3d %s", packets, (now - BASE_NANOS) / 1e9, port, what));
        packets++;
        sent.clear();
        packet.wrap(frame, 0, frame.length);
        packet.inPort = port;
        packet.timestampNanos = now;
        sim.receive(packet, null);
        return List.copyOf(sent);
    }

    /** Datagrams that reached a pod, for {@link #icmpError()}. */
    private void remember(final List<Sent> out, final LogicalPort sender)
    {
        for (final Sent s : out)
        {
            ports.stream().filter(p -> p.ofport() == s.port()).findFirst().ifPresent(p ->
            {
                if (delivered.size() < 64)
                {
                    delivered.add(new Delivered(p, s.frame(), sender));
                }
            });
        }
    }

    private byte[] ipFrame(final byte[] dstMac, final byte[] srcMac, final InetAddress src, final InetAddress dst, final int ttl,
        final int proto, final byte[] l4)
    {
        if (Ip.isIpv6(src))
        {
            final byte[] ip = new PacketFactory.Ip6().src(src.getAddress()).dst(dst.getAddress()).hopLimit(ttl)
                .flowLabel(random.nextInt(0x100000)).build(proto, l4, PacketFactory.Checksum.CORRECT);
            return padded(PacketFactory.ethernet(dstMac, srcMac, new int[0], PacketFactory.ETH_IPV6, ip));
        }
        final byte[] ip = new PacketFactory.Ip4().src(v4(src)).dst(v4(dst)).ttl(ttl).id(ipId++ & 0xffff).dontFragment(true)
            .build(proto, l4, PacketFactory.Checksum.CORRECT);
        return padded(PacketFactory.ethernet(dstMac, srcMac, new int[0], PacketFactory.ETH_IPV4, ip));
    }

    /**
     * Now and then a short frame padded to the Ethernet minimum, as a NIC (not a veth) sends it:
     * the padding is no part of the IP packet, and NAT and TTL rewrites must leave it alone.
     */
    private byte[] padded(final byte[] frame)
    {
        return frame.length < 60 && random.nextInt(5) == 0 ? PacketFactory.pad(frame, 60) : frame;
    }

    // ---- Picking ----

    private void addVips(final ClusterModel model, final Service svc)
    {
        if (svc.headless())
        {
            return;
        }
        for (final ServicePort sp : svc.ports())
        {
            if (sp.protocol() == Protocol.SCTP)
            {
                continue;
            }
            final List<InetAddress> addresses = new ArrayList<>(svc.clusterIps());
            addresses.addAll(svc.externalIps());
            addresses.addAll(svc.loadBalancerIngress());
            final int fallback = sp.targetPort() != null && !sp.targetPort().isNamed() ? sp.targetPort().number() : sp.port();
            for (final InetAddress a : addresses)
            {
                vips.add(new Vip(svc.key(), a, sp.port(), sp.protocol(), candidates(model, svc, sp, a), fallback));
            }
            if (sp.nodePort() > 0 && ("NodePort".equals(svc.type()) || "LoadBalancer".equals(svc.type())))
            {
                for (final InetAddress a : nodeIps)
                {
                    vips.add(new Vip(svc.key() + " (node port)", a, sp.nodePort(), sp.protocol(), candidates(model, svc, sp, a),
                        fallback));
                }
            }
        }
    }

    /** Every endpoint of the VIP's family that is a pod here, whatever its conditions, with its port number. */
    private List<Backend> candidates(final ClusterModel model, final Service svc, final ServicePort sp, final InetAddress vip)
    {
        final List<Backend> out = new ArrayList<>();
        for (final EndpointSlice s : model.endpointSlicesOf(svc))
        {
            Integer number = null;
            for (final EndpointSlice.Port p : s.ports())
            {
                if (p.protocol() == sp.protocol() && p.port() != null && Objects.equals(nameOf(p.name()), nameOf(sp.name())))
                {
                    number = p.port();
                }
            }
            if (number == null)
            {
                continue;
            }
            for (final EndpointSlice.Endpoint e : s.endpoints())
            {
                for (final InetAddress a : e.addresses())
                {
                    final int n = number;
                    if (Ip.isIpv6(a) == Ip.isIpv6(vip))
                    {
                        layout.portOf(a).ifPresent(p -> out.add(new Backend(p, a, n)));
                    }
                }
            }
        }
        return out;
    }

    private static String nameOf(final String name)
    {
        return name == null ? "" : name;
    }

    /** A port the server may serve: mostly one of its container ports of the protocol, else a common one. */
    private int serverPort(final LogicalPort server, final Protocol protocol)
    {
        final List<Integer> own = server instanceof BridgeLayout.PodPort pod
            ? pod.pod().ports().stream().filter(cp -> cp.protocol() == protocol).map(cp -> cp.port()).toList() : List.of();
        if (!own.isEmpty() && random.nextInt(10) < 7)
        {
            return pick(own);
        }
        final int[] common = {53, 80, 81, 85, 90, 91, 443, 8080, 9090};
        return common[random.nextInt(common.length)];
    }

    /** IPv4 or IPv6, whichever both have (both: mostly IPv4). */
    private boolean family(final LogicalPort a, final LogicalPort b)
    {
        final boolean v4 = a.ip(false).isPresent() && b.ip(false).isPresent();
        final boolean v6 = a.ip(true).isPresent() && b.ip(true).isPresent();
        if (v4 && v6)
        {
            return random.nextInt(3) == 0;
        }
        return !v4;
    }

    private LogicalPort pickWith(final boolean v6)
    {
        final List<LogicalPort> able = ports.stream().filter(p -> p.ip(v6).isPresent()).toList();
        return able.isEmpty() ? null : pick(able);
    }

    /** Source ports never repeat in a trace: every conversation is a new connection. */
    private int sourcePort()
    {
        final int p = nextSourcePort;
        nextSourcePort = nextSourcePort >= 60999 ? 32768 : nextSourcePort + 1 + random.nextInt(3);
        return p;
    }

    private <T> T pick(final List<T> list)
    {
        return list.get(random.nextInt(list.size()));
    }

    private byte[] payload(final int n)
    {
        final byte[] b = new byte[n];
        for (int i = 0; i < n; i++)
        {
            b[i] = (byte)(' ' + random.nextInt(95));
        }
        return b;
    }

    private byte[] randomMac()
    {
        final byte[] m = new byte[6];
        for (int i = 0; i < 6; i++)
        {
            m[i] = (byte)random.nextInt(0x100);
        }
        m[0] = (byte)(m[0] & 0xfe | 0x02);           // unicast, locally administered
        return m;
    }

    static int v4(final InetAddress a)
    {
        final byte[] b = a.getAddress();
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }

    /** Addresses and ports of an untagged IPv4/IPv6 TCP or UDP frame, or null. */
    private record Headers(InetAddress src, InetAddress dst, int sport, int dport)
    {
        static Headers of(final byte[] f)
        {
            if (f.length < 14)
            {
                return null;
            }
            final int type = (f[12] & 0xff) << 8 | (f[13] & 0xff);
            final int alen = type == 0x0800 ? 4 : type == 0x86dd ? 16 : 0;
            if (alen == 0 || f.length < 14 + (alen == 4 ? 20 : 40))
            {
                return null;
            }
            final int proto = alen == 4 ? f[23] & 0xff : f[20] & 0xff;
            final int srcAt = alen == 4 ? 26 : 22;
            final int l4 = alen == 4 ? 14 + (f[14] & 0x0f) * 4 : 54;
            final boolean ports = (proto == PacketFactory.PROTO_TCP || proto == PacketFactory.PROTO_UDP) && f.length >= l4 + 4;
            return new Headers(Ip.of(Arrays.copyOfRange(f, srcAt, srcAt + alen)),
                Ip.of(Arrays.copyOfRange(f, srcAt + alen, srcAt + 2 * alen)),
                ports ? (f[l4] & 0xff) << 8 | (f[l4 + 1] & 0xff) : 0,
                ports ? (f[l4 + 2] & 0xff) << 8 | (f[l4 + 3] & 0xff) : 0);
        }
    }
}
