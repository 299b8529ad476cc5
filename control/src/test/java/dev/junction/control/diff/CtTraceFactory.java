package dev.junction.control.diff;

import dev.junction.control.diff.FlowCaseGenerator.Input;
import dev.junction.control.diff.FlowCaseGenerator.Packet;
import dev.junction.control.diff.PacketFactory.Checksum;
import dev.junction.control.diff.PacketFactory.Ip4;
import dev.junction.control.diff.PacketFactory.Ip6;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static dev.junction.control.diff.PacketFactory.ETH_IPV4;
import static dev.junction.control.diff.PacketFactory.ETH_IPV6;
import static dev.junction.control.diff.PacketFactory.PROTO_ICMP;
import static dev.junction.control.diff.PacketFactory.PROTO_ICMPV6;
import static dev.junction.control.diff.PacketFactory.PROTO_SCTP;
import static dev.junction.control.diff.PacketFactory.PROTO_TCP;
import static dev.junction.control.diff.PacketFactory.PROTO_UDP;
import static dev.junction.control.diff.PacketFactory.TCP_ACK;
import static dev.junction.control.diff.PacketFactory.TCP_FIN;
import static dev.junction.control.diff.PacketFactory.TCP_PSH;
import static dev.junction.control.diff.PacketFactory.TCP_RST;
import static dev.junction.control.diff.PacketFactory.TCP_SYN;

/**
 * Conversations for the conntrack differential tests: TCP sessions (handshake, data both ways,
 * FIN and RST closes, retransmits, out-of-window segments, reuse of a closed tuple), UDP
 * request/reply, ICMP echo, ICMP errors quoting earlier packets, and other IP protocols, as
 * frames with valid checksums, built with {@link PacketFactory}'s static builders.
 *
 * <p>Clients sit behind switch port {@link #CLIENT_PORT}, servers behind {@link #SERVER_PORT}.
 * Each packet is injected where its sender sits and carries what that sender would put on the
 * wire: with NAT the client addresses the service (VIP) and the server answers the address it
 * saw (the SNAT address, or the client itself). Every step is annotated with how OVS's
 * conntrack should classify it ({@link Verdict}), so that a test can check that the oracle
 * really forwarded what the generator meant to be forwarded before Junction is judged.
 */
final class CtTraceFactory
{
    static final int CLIENT_PORT = 1;
    static final int SERVER_PORT = 2;

    /** Base pcap time: whole seconds fit the 32-bit field; steps follow 1 ms apart. */
    static final long T0 = 1_700_000_000L * 1_000_000_000L;
    static final long STEP_NANOS = 1_000_000L;

    static final int PROTO_GRE = 47;

    /** How conntrack (first pass, the packet's own zone) should classify a packet. */
    enum Verdict
    {
        /** +trk+new: allowed from the client side (and committed), dropped from the server side. */
        NEW,
        /** +trk+est: forwarded to the other side. */
        EST,
        /** +trk+rel: forwarded to the other side. */
        REL,
        /** +trk+inv: dropped. */
        INV,
        /** Not predicted: counted as "maybe forwarded" by the self-check. */
        UNKNOWN
    }

    enum Side
    {
        CLIENT, SERVER
    }

    record Host(String name, byte[] mac, byte[] ip4, byte[] ip6, int port)
    {
        byte[] ip(final boolean v6)
        {
            return v6 ? ip6 : ip4;
        }
    }

    static final Host CLIENT1 = new Host("c1", PacketFactory.mac("0a:00:00:00:01:01"), ip4("10.0.0.1"),
        PacketFactory.ip6("fd00::1"), CLIENT_PORT);
    static final Host CLIENT2 = new Host("c2", PacketFactory.mac("0a:00:00:00:01:03"), ip4("10.0.0.3"),
        PacketFactory.ip6("fd00::3"), CLIENT_PORT);
    static final Host SERVER1 = new Host("s1", PacketFactory.mac("0a:00:00:00:02:02"), ip4("10.0.0.2"),
        PacketFactory.ip6("fd00::2"), SERVER_PORT);
    static final Host SERVER2 = new Host("s2", PacketFactory.mac("0a:00:00:00:02:04"), ip4("10.0.0.4"),
        PacketFactory.ip6("fd00::4"), SERVER_PORT);
    /** A router on the server side that reports unreachable hosts. */
    static final Host ROUTER = new Host("rtr", PacketFactory.mac("0a:00:00:00:02:fe"), ip4("10.0.0.254"),
        PacketFactory.ip6("fd00::fe"), SERVER_PORT);

    static final byte[] SNAT4 = ip4("10.0.0.100");
    static final byte[] SNAT6 = PacketFactory.ip6("fd00::100");
    static final byte[] VIP4 = ip4("10.0.0.50");
    static final byte[] VIP6 = PacketFactory.ip6("fd00::50");

    record Step(Side from, int port, byte[] frame, String description, Verdict verdict)
    {
        /**
         * Where the policy of {@link CtFlowSets} sends this packet: a port, or 0 for a drop, -1
         * unknown. New connections may only be opened from the client port.
         */
        int expectedOutput()
        {
            final int other = port == CLIENT_PORT ? SERVER_PORT : CLIENT_PORT;
            return switch (verdict)
            {
                case NEW -> port == CLIENT_PORT ? other : 0;
                case EST, REL -> other;
                case INV -> 0;
                case UNKNOWN -> -1;
            };
        }
    }

    /** An ordered trace: steps are sent in this order, {@link #STEP_NANOS} apart. */
    static final class Trace
    {
        final List<Step> steps = new ArrayList<>();

        void add(final Step step)
        {
            steps.add(step);
        }

        /** The steps split per injection port, in time order (the oracle merges them by time). */
        List<Input> inputs()
        {
            final Map<Integer, List<Packet>> perPort = new TreeMap<>();
            for (int i = 0; i < steps.size(); i++)
            {
                final Step s = steps.get(i);
                perPort.computeIfAbsent(s.port(), p -> new ArrayList<>()).add(new Packet(T0 + i * STEP_NANOS,
                    s.frame(), String.format("step %d: %s [%s]", i, s.description(), s.verdict())));
            }
            final List<Input> inputs = new ArrayList<>();
            perPort.forEach((port, packets) -> inputs.add(new Input(port, packets)));
            return inputs;
        }

        /** The self-check: per output port, [min, max] packets the policy forwards there. */
        Map<Integer, int[]> expectedOutputCounts()
        {
            final Map<Integer, int[]> counts = new TreeMap<>();
            for (final Step s : steps)
            {
                final int out = s.expectedOutput();
                if (out > 0)
                {
                    final int[] c = counts.computeIfAbsent(out, p -> new int[2]);
                    c[0]++;
                    c[1]++;
                }
                else if (out < 0)
                {
                    final int other = s.port() == CLIENT_PORT ? SERVER_PORT : CLIENT_PORT;
                    counts.computeIfAbsent(other, p -> new int[2])[1]++;
                }
            }
            return counts;
        }

        /**
         * Random interleaving of several conversations' steps, each conversation keeping its own
         * order (which is all conntrack state depends on, connections being disjoint).
         */
        static Trace interleave(final SplittableRandom random, final List<Trace> parts)
        {
            final Trace out = new Trace();
            final int[] next = new int[parts.size()];
            int remaining = parts.stream().mapToInt(t -> t.steps.size()).sum();
            while (remaining > 0)
            {
                int pick = random.nextInt(remaining);
                for (int i = 0; i < parts.size(); i++)
                {
                    final int left = parts.get(i).steps.size() - next[i];
                    if (pick < left)
                    {
                        out.add(parts.get(i).steps.get(next[i]++));
                        break;
                    }
                    pick -= left;
                }
                remaining--;
            }
            return out;
        }
    }

    /**
     * A path between a client and a server in both views: the client sends {@code cIp:cPort ->
     * dstIp:dstPort} (the VIP for DNAT) and the server sees and answers {@code srcIp:srcPort ->
     * sIp:sPort} (the SNAT address for SNAT). For ICMP echo the "ports" are the identifier.
     */
    record Route(Host client, Host server, boolean v6, int proto, byte[] cIp, int cPort, byte[] dstIp, int dstPort,
                byte[] srcIp, int srcPort, byte[] sIp, int sPort, boolean natted)
    {
        /** A path through no NAT. */
        static Route direct(final Host client, final Host server, final boolean v6, final int proto, final int cPort,
                           final int sPort)
        {
            return new Route(client, server, v6, proto, client.ip(v6), cPort, server.ip(v6), sPort,
                client.ip(v6), cPort, server.ip(v6), sPort, false);
        }

        Route withSnat(final byte[] snatIp, final int snatPort)
        {
            return new Route(client, server, v6, proto, cIp, cPort, dstIp, dstPort, snatIp, snatPort, sIp, sPort, true);
        }

        /** The client addresses {@code vip:vport}; the server is reached at its own address and {@code sPort}. */
        Route withDnat(final byte[] vip, final int vport)
        {
            return new Route(client, server, v6, proto, cIp, cPort, vip, vport, srcIp, srcPort, sIp, sPort, true);
        }

        /** The same path with the server seeing the client's traffic from {@code port}. */
        Route withServerSeenPort(final int port)
        {
            return new Route(client, server, v6, proto, cIp, cPort, dstIp, dstPort, srcIp, port, sIp, sPort, natted);
        }

        String hostName(final Side side)
        {
            return side == Side.CLIENT ? client.name() : server.name();
        }

        String label()
        {
            final String c = addr(cIp, cPort) + ">" + addr(dstIp, dstPort);
            final boolean natted = !Arrays.equals(dstIp, sIp) || dstPort != sPort || !Arrays.equals(srcIp, cIp)
                || srcPort != cPort;
            return protoName(proto, v6) + " " + c + (natted ? " (server sees " + addr(srcIp, srcPort) + ">" +
                addr(sIp, sPort) + ")" : "");
        }

        private String addr(final byte[] ip, final int port)
        {
            final String a = ipString(ip);
            if (port == 0 || proto != PROTO_TCP && proto != PROTO_UDP)
            {
                return a;
            }
            return v6 ? "[" + a + "]:" + port : a + ":" + port;
        }

        byte[] frameFromClient(final int l4Proto, final byte[] l4)
        {
            return frame(client.mac(), server.mac(), cIp, dstIp, l4Proto, l4);
        }

        byte[] frameFromServer(final int l4Proto, final byte[] l4)
        {
            return frame(server.mac(), client.mac(), sIp, srcIp, l4Proto, l4);
        }

        private byte[] frame(final byte[] srcMac, final byte[] dstMac, final byte[] src, final byte[] dst,
                             final int l4Proto, final byte[] l4)
        {
            return ethernetIp(srcMac, dstMac, src, dst, l4Proto, l4, 64);
        }

        /** The IP packet (no Ethernet) the server received for a client frame: what an ICMP error quotes. */
        byte[] ipAsServerSaw(final byte[] clientFrame)
        {
            final byte[] padded = Arrays.copyOfRange(clientFrame, 14, clientFrame.length);
            final int ipLength = v6 ? 40 + ((padded[4] & 0xff) << 8 | padded[5] & 0xff)
                : (padded[2] & 0xff) << 8 | padded[3] & 0xff;
            final byte[] ip = Arrays.copyOf(padded, ipLength);
            final int l4Proto = v6 ? ip[6] & 0xff : ip[9] & 0xff;
            final int l3Len = v6 ? 40 : (ip[0] & 0x0f) * 4;
            final byte[] l4 = Arrays.copyOfRange(ip, l3Len, ip.length);
            // Rewrite the ports the way NAT did, then rebuild the packet with the server's view.
            if (l4Proto == PROTO_TCP || l4Proto == PROTO_UDP)
            {
                putShort(l4, 0, srcPort);
                putShort(l4, 2, sPort);
                l4[l4Proto == PROTO_TCP ? 16 : 6] = 0;
                l4[l4Proto == PROTO_TCP ? 17 : 7] = 0;
            }
            else if (l4Proto == PROTO_ICMP || l4Proto == PROTO_ICMPV6)
            {
                l4[2] = 0;
                l4[3] = 0;
            }
            final int ttl = v6 ? ip[7] & 0xff : ip[8] & 0xff;
            return ipPacket(srcIp, sIp, l4Proto, l4, ttl);
        }
    }

    // ---- Conversations ----

    /** A TCP connection's two endpoints: sequence numbers, windows and the steps they send. */
    static final class Tcp
    {
        private final Trace trace;
        private Route path;
        private final SplittableRandom random;
        private long cNext;
        private long sNext;
        private final int cWin;
        private final int sWin;
        private final int wscale;
        private byte[] lastFrame;
        private Side lastSide;
        private String lastDescription;

        Tcp(final Trace trace, final Route path, final SplittableRandom random)
        {
            this.trace = trace;
            this.path = path;
            this.random = random;
            this.cNext = random.nextLong(1L << 32);
            this.sNext = random.nextLong(1L << 32);
            this.cWin = 4096 + random.nextInt(60000);
            this.sWin = 4096 + random.nextInt(60000);
            this.wscale = random.nextInt(3) == 0 ? -1 : random.nextInt(8);
        }

        Route path()
        {
            return path;
        }

        /** SYN, SYN-ACK, ACK. */
        Tcp handshake()
        {
            syn(Verdict.NEW);
            synAck(Verdict.EST);
            return ack(Side.CLIENT, Verdict.EST);
        }

        Tcp syn(final Verdict verdict)
        {
            final long isn = cNext;
            send(Side.CLIENT, TCP_SYN, isn, 0, synOptions(), new byte[0], "SYN", verdict);
            cNext = isn + 1;
            return this;
        }

        /** As if the client had sent its SYN somewhere the switch never saw. */
        Tcp synUnseen()
        {
            cNext = cNext + 1;
            return this;
        }

        /** A retransmission of the client's SYN (the ISN is cNext - 1). */
        Tcp synRetransmit(final Verdict verdict)
        {
            send(Side.CLIENT, TCP_SYN, cNext - 1, 0, synOptions(), new byte[0], "SYN (retransmit)", verdict);
            return this;
        }

        Tcp synAck(final Verdict verdict)
        {
            final long isn = sNext;
            send(Side.SERVER, TCP_SYN | TCP_ACK, isn, cNext, synOptions(), new byte[0], "SYN-ACK", verdict);
            sNext = isn + 1;
            return this;
        }

        Tcp ack(final Side from, final Verdict verdict)
        {
            final boolean client = from == Side.CLIENT;
            send(from, TCP_ACK, client ? cNext : sNext, client ? sNext : cNext, new byte[0], new byte[0], "ACK",
                verdict);
            return this;
        }

        Tcp data(final Side from, final int length, final Verdict verdict)
        {
            final boolean client = from == Side.CLIENT;
            final byte[] payload = payload(length);
            final long seq = client ? cNext : sNext;
            send(from, TCP_PSH | TCP_ACK, seq, client ? sNext : cNext, new byte[0], payload,
                "data " + length + " B", verdict);
            if (client)
            {
                cNext = seq + length;
            }
            else
            {
                sNext = seq + length;
            }
            return this;
        }

        /** The last segment sent again, unchanged. */
        Tcp retransmitLast(final Verdict verdict)
        {
            trace.add(new Step(lastSide, lastSide == Side.CLIENT ? path.client().port() : path.server().port(),
                lastFrame, path.label() + " " + path.hostName(lastSide) + " retransmits " + lastDescription, verdict));
            return this;
        }

        /** Data whose sequence number is far outside the receiver's window: OVS marks it invalid. */
        Tcp outOfWindowData(final Side from)
        {
            final boolean client = from == Side.CLIENT;
            final long seq = (client ? cNext : sNext) + 0x4000_0000L + random.nextInt(1 << 20);
            send(from, TCP_PSH | TCP_ACK, seq, client ? sNext : cNext, new byte[0], payload(20),
                "data far out of window", Verdict.INV);
            return this;
        }

        /** An ACK of data never sent (ack far ahead): OVS's ack-skew check marks it invalid. */
        Tcp ackFarAhead(final Side from)
        {
            final boolean client = from == Side.CLIENT;
            send(from, TCP_ACK, client ? cNext : sNext, (client ? sNext : cNext) + 0x2000_0000L, new byte[0],
                new byte[0], "ACK far ahead", Verdict.INV);
            return this;
        }

        /** A RST whose sequence number is in the window but not exact: OVS requires seq == seqlo (+-1). */
        Tcp rstWrongSeq(final Side from)
        {
            final boolean client = from == Side.CLIENT;
            send(from, TCP_RST | TCP_ACK, (client ? cNext : sNext) + 100, client ? sNext : cNext, new byte[0],
                new byte[0], "RST with inexact seq", Verdict.INV);
            return this;
        }

        /** FIN from {@code first}, ACK, FIN from the other side, ACK. */
        Tcp finClose(final Side first)
        {
            final Side second = first == Side.CLIENT ? Side.SERVER : Side.CLIENT;
            fin(first, Verdict.EST);
            ack(second, Verdict.EST);
            fin(second, Verdict.EST);
            return ack(first, Verdict.EST);
        }

        Tcp fin(final Side from, final Verdict verdict)
        {
            final boolean client = from == Side.CLIENT;
            final long seq = client ? cNext : sNext;
            send(from, TCP_FIN | TCP_ACK, seq, client ? sNext : cNext, new byte[0], new byte[0], "FIN", verdict);
            if (client)
            {
                cNext = seq + 1;
            }
            else
            {
                sNext = seq + 1;
            }
            return this;
        }

        Tcp rst(final Side from, final Verdict verdict)
        {
            final boolean client = from == Side.CLIENT;
            send(from, TCP_RST | TCP_ACK, client ? cNext : sNext, client ? sNext : cNext, new byte[0], new byte[0],
                "RST", verdict);
            return this;
        }

        /** The server refuses the SYN: RST|ACK with seq 0 acking the SYN. */
        Tcp refuse(final Verdict verdict)
        {
            send(Side.SERVER, TCP_RST | TCP_ACK, 0, cNext, new byte[0], new byte[0], "RST (refused)", verdict);
            return this;
        }

        /**
         * Same ports again after a close: the client picks a new ISN and the server will too. A SYN
         * on a closed connection makes OVS expire the old one and create a new one; through NAT
         * the old one's reverse (un-NAT) entry stays in the table until the clean thread sweeps
         * it (every 20 s of wall time, never during a trace), so the new connection's reply tuple
         * collides with it and OVS moves on to the next source port: the server sees port + 1.
         */
        Tcp newIncarnation()
        {
            if (path.natted())
            {
                path = path.withServerSeenPort(path.srcPort() + 1);
            }
            cNext = cNext + 100_000 + random.nextInt(1 << 20) & 0xffff_ffffL;
            sNext = random.nextLong(1L << 32);
            return this;
        }

        /** The last frame sent (for ICMP errors quoting it). */
        byte[] lastFrame()
        {
            return lastFrame;
        }

        private byte[] synOptions()
        {
            // MSS 1460, then window scale (NOP, WS) when this connection uses it.
            return wscale < 0 ? new byte[]{ 2, 4, 0x05, (byte)0xb4 } :
                new byte[]{ 2, 4, 0x05, (byte)0xb4, 1, 3, 3, (byte)wscale };
        }

        private void send(final Side from, final int flags, final long seq, final long ack, final byte[] options,
                          final byte[] payload, final String what, final Verdict verdict)
        {
            final boolean client = from == Side.CLIENT;
            final byte[] seg = PacketFactory.tcp(client ? path.cPort() : path.sPort(),
                client ? path.dstPort() : path.srcPort(), seq & 0xffff_ffffL, ack & 0xffff_ffffL, flags, options,
                payload);
            final int win = (flags & TCP_RST) != 0 ? 0 : client ? cWin : sWin;
            // SYNs carry the window unscaled; later segments scaled down when window scaling is on.
            putShort(seg, 14, (flags & TCP_SYN) != 0 || wscale < 0 ? win : Math.max(1, win >> wscale));
            final byte[] frame = client ? path.frameFromClient(PROTO_TCP, seg) : path.frameFromServer(PROTO_TCP, seg);
            final String description = String.format("%s seq=%d ack=%d", what, seq & 0xffff_ffffL,
                (flags & TCP_ACK) != 0 ? ack & 0xffff_ffffL : 0);
            trace.add(new Step(from, client ? path.client().port() : path.server().port(), frame,
                path.label() + " " + path.hostName(from) + " " + description, verdict));
            lastFrame = frame;
            lastSide = from;
            lastDescription = description;
        }

        private byte[] payload(final int length)
        {
            final byte[] p = new byte[length];
            for (int i = 0; i < length; i++)
            {
                p[i] = (byte)('a' + random.nextInt(26));
            }
            return p;
        }
    }

    /** A UDP exchange. */
    static final class Udp
    {
        private final Trace trace;
        private final Route path;
        private byte[] lastRequest;

        Udp(final Trace trace, final Route path)
        {
            this.trace = trace;
            this.path = path;
        }

        Udp request(final String text, final Verdict verdict)
        {
            final byte[] frame = path.frameFromClient(PROTO_UDP, PacketFactory.udp(path.cPort(), path.dstPort(),
                text.getBytes(StandardCharsets.US_ASCII)));
            trace.add(new Step(Side.CLIENT, path.client().port(), frame, path.label() + " request \"" + text + "\"",
                verdict));
            lastRequest = frame;
            return this;
        }

        Udp reply(final String text, final Verdict verdict)
        {
            final byte[] frame = path.frameFromServer(PROTO_UDP, PacketFactory.udp(path.sPort(), path.srcPort(),
                text.getBytes(StandardCharsets.US_ASCII)));
            trace.add(new Step(Side.SERVER, path.server().port(), frame, path.label() + " reply \"" + text + "\"",
                verdict));
            return this;
        }

        byte[] lastRequest()
        {
            return lastRequest;
        }

        Route path()
        {
            return path;
        }
    }

    /** ICMP or ICMPv6 echo request/reply; the path's ports are the identifier. */
    static final class Echo
    {
        private final Trace trace;
        private final Route path;
        private int seq;

        Echo(final Trace trace, final Route path)
        {
            this.trace = trace;
            this.path = path;
        }

        Echo request(final Verdict verdict)
        {
            seq++;
            final int type = path.v6() ? 128 : 8;
            final byte[] frame = path.frameFromClient(icmpProto(path.v6()),
                PacketFactory.icmp(type, 0, path.cPort() << 16 | seq, body(seq)));
            trace.add(new Step(Side.CLIENT, path.client().port(), frame,
                path.label() + " echo request id=" + path.cPort() + " seq=" + seq, verdict));
            return this;
        }

        Echo reply(final Verdict verdict)
        {
            final int type = path.v6() ? 129 : 0;
            final byte[] frame = path.frameFromServer(icmpProto(path.v6()),
                PacketFactory.icmp(type, 0, path.srcPort() << 16 | seq, body(seq)));
            trace.add(new Step(Side.SERVER, path.server().port(), frame,
                path.label() + " echo reply id=" + path.srcPort() + " seq=" + seq, verdict));
            return this;
        }

        private static byte[] body(final int seq)
        {
            return ("junction-ct-echo-" + seq).getBytes(StandardCharsets.US_ASCII);
        }
    }

    /**
     * An ICMP error sent towards the client by {@code reporter} (the server itself, or a router
     * on its side), quoting {@code quotedClientFrame} as the server side received it.
     */
    static void icmpError(final Trace trace, final Route path, final Host reporter, final byte[] quotedClientFrame,
                          final String what, final Verdict verdict)
    {
        final byte[] quoted = path.ipAsServerSaw(quotedClientFrame);
        final boolean fromServer = reporter == path.server();
        final byte[] src = fromServer ? path.sIp() : reporter.ip(path.v6());
        final byte[] l4;
        final String kind;
        if (path.v6())
        {
            // Destination unreachable: code 4 port unreachable (server), code 3 address unreachable (router).
            final int code = fromServer ? 4 : 3;
            l4 = PacketFactory.icmp6(1, code, 0, quoted);
            kind = "icmp6 dest-unreach code " + code;
        }
        else
        {
            // Destination unreachable: code 3 port unreachable (server), code 1 host unreachable (router).
            final int code = fromServer ? 3 : 1;
            l4 = PacketFactory.icmp(3, code, 0, quoted);
            kind = "icmp dest-unreach code " + code;
        }
        final byte[] frame = ethernetIp(reporter.mac(), path.client().mac(), src, path.srcIp(),
            icmpProto(path.v6()), l4, 64);
        trace.add(new Step(Side.SERVER, reporter.port(), frame,
            kind + " from " + reporter.name() + " quoting " + what + " of " + path.label(), verdict));
    }

    /** A packet of another IP protocol (GRE or SCTP) in either direction. */
    static void other(final Trace trace, final Route path, final Side from, final String text, final Verdict verdict)
    {
        final byte[] data = text.getBytes(StandardCharsets.US_ASCII);
        final byte[] l4;
        if (path.proto() == PROTO_SCTP)
        {
            l4 = PacketFactory.sctp(5000, 5001, 0x1234_5678L, PacketFactory.sctpDataChunk(data));
        }
        else
        {
            // GRE: no flags, version 0, carrying "IPv4" (the payload is just bytes to conntrack).
            l4 = PacketFactory.concat(new byte[]{ 0, 0, 0x08, 0x00 }, data);
        }
        final boolean client = from == Side.CLIENT;
        final byte[] frame = client ? path.frameFromClient(path.proto(), l4) : path.frameFromServer(path.proto(), l4);
        trace.add(new Step(from, client ? path.client().port() : path.server().port(), frame,
            path.label() + " " + path.hostName(from) + " \"" + text + "\"", verdict));
    }

    // ---- Helpers ----

    static int icmpProto(final boolean v6)
    {
        return v6 ? PROTO_ICMPV6 : PROTO_ICMP;
    }

    /** An Ethernet frame (padded to 60 bytes like a NIC delivers it) carrying an IP packet. */
    static byte[] ethernetIp(final byte[] srcMac, final byte[] dstMac, final byte[] src, final byte[] dst,
                             final int proto, final byte[] l4, final int ttl)
    {
        return PacketFactory.pad(PacketFactory.ethernet(dstMac, srcMac, new int[0],
            src.length == 16 ? ETH_IPV6 : ETH_IPV4, ipPacket(src, dst, proto, l4, ttl)), 60);
    }

    /** An IPv4 (DF set, as Linux sends) or IPv6 packet with valid checksums. */
    static byte[] ipPacket(final byte[] src, final byte[] dst, final int proto, final byte[] l4, final int ttl)
    {
        if (src.length == 16)
        {
            return new Ip6().src(src).dst(dst).hopLimit(ttl).build(proto, l4, Checksum.CORRECT);
        }
        return new Ip4().src(toInt(src)).dst(toInt(dst)).ttl(ttl).dontFragment(true)
            .build(proto, l4, Checksum.CORRECT);
    }

    static byte[] ip4(final String text)
    {
        return PacketFactory.ip6(text);
    }

    static int toInt(final byte[] ip4)
    {
        return (ip4[0] & 0xff) << 24 | (ip4[1] & 0xff) << 16 | (ip4[2] & 0xff) << 8 | ip4[3] & 0xff;
    }

    static String ipString(final byte[] ip)
    {
        return ip.length == 4 ? PacketFactory.ip4String(toInt(ip)) : PacketFactory.ip6String(ip);
    }

    static String protoName(final int proto, final boolean v6)
    {
        return switch (proto)
        {
            case PROTO_TCP -> v6 ? "tcp6" : "tcp";
            case PROTO_UDP -> v6 ? "udp6" : "udp";
            case PROTO_ICMP, PROTO_ICMPV6 -> v6 ? "icmp6" : "icmp";
            case PROTO_SCTP -> v6 ? "sctp6" : "sctp";
            case PROTO_GRE -> v6 ? "gre6" : "gre";
            default -> "proto" + proto;
        };
    }


    private static void putShort(final byte[] b, final int off, final int v)
    {
        b[off] = (byte)(v >>> 8);
        b[off + 1] = (byte)v;
    }

    private CtTraceFactory()
    {
    }
}
