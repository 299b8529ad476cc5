package dev.junction.control.diff;

import dev.junction.control.diff.CtFlowSets.Config;
import dev.junction.control.diff.CtFlowSets.MarkMode;
import dev.junction.control.diff.CtFlowSets.Nat;
import dev.junction.control.diff.CtFlowSets.ZoneMode;
import dev.junction.control.diff.CtTraceFactory.Echo;
import dev.junction.control.diff.CtTraceFactory.Host;
import dev.junction.control.diff.CtTraceFactory.Route;
import dev.junction.control.diff.CtTraceFactory.Side;
import dev.junction.control.diff.CtTraceFactory.Tcp;
import dev.junction.control.diff.CtTraceFactory.Trace;
import dev.junction.control.diff.CtTraceFactory.Udp;
import dev.junction.control.diff.CtTraceFactory.Verdict;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static dev.junction.control.diff.CtTraceFactory.CLIENT1;
import static dev.junction.control.diff.CtTraceFactory.CLIENT2;
import static dev.junction.control.diff.CtTraceFactory.CLIENT_PORT;
import static dev.junction.control.diff.CtTraceFactory.PROTO_GRE;
import static dev.junction.control.diff.CtTraceFactory.ROUTER;
import static dev.junction.control.diff.CtTraceFactory.SERVER1;
import static dev.junction.control.diff.CtTraceFactory.SERVER2;
import static dev.junction.control.diff.CtTraceFactory.SERVER_PORT;
import static dev.junction.control.diff.PacketFactory.PROTO_SCTP;
import static dev.junction.control.diff.PacketFactory.PROTO_TCP;
import static dev.junction.control.diff.PacketFactory.PROTO_UDP;

/**
 * Seeded generator of conntrack differential cases: a flow set from {@link CtFlowSets} with
 * random features and a trace of several interleaved conversations from {@link CtTraceFactory}
 * consistent with it (NAT decides the addresses each side uses). Every case is a pure function
 * of (seed, case index).
 */
final class CtCaseGenerator
{
    /** A conntrack case: flows, the ordered trace, and what it exercises (for the report). */
    record CtCase(String name, String flows, Trace trace, List<String> notes)
    {
        FlowCaseGenerator.FlowCase toFlowCase()
        {
            return new FlowCaseGenerator.FlowCase(name, flows, trace.inputs(), notes);
        }
    }

    private final long seed;

    CtCaseGenerator(final long seed)
    {
        this.seed = seed;
    }

    CtCase generate(final int caseIndex)
    {
        final SplittableRandom random = FlowCaseGenerator.randomFor(seed, caseIndex);
        Config config = randomConfig(random);
        final Builder b = new Builder(random, config);
        final int conversations = 2 + random.nextInt(5);
        final List<Trace> parts = new ArrayList<>();
        final List<String> notes = new ArrayList<>(config.describe());
        for (int i = 0; i < conversations; i++)
        {
            final Trace part = new Trace();
            notes.add("conversation " + i + ": " + b.conversation(part));
            parts.add(part);
        }
        final Trace trace = Trace.interleave(random, parts);
        if (random.nextInt(3) == 0 && !b.tuplePaths.isEmpty())
        {
            config = config.withTupleRules(tupleRules(random, config, b.tuplePaths));
            notes.add(config.tupleRules().size() + " rules match the original-direction tuple (ct_nw_src ...) " +
                "and tag with a VLAN");
        }
        final String flows = CtFlowSets.render(config, String.format(
            "# junction conntrack differential case: seed=0x%x case=%d", seed, caseIndex));
        return new CtCase(String.format("ct seed=0x%x case=%d", seed, caseIndex), flows, trace, notes);
    }

    static Config randomConfig(final SplittableRandom random)
    {
        final int zone = 1 + random.nextInt(random.nextBoolean() ? 20 : 65535);
        Config c = Config.basic(zone);
        final ZoneMode zoneMode = ZoneMode.values()[random.nextInt(3)];
        final Nat nat = random.nextInt(5) < 2 ? (random.nextBoolean() ? Nat.SNAT : Nat.DNAT) : Nat.NONE;
        final boolean twoZones = nat == Nat.NONE && random.nextInt(4) == 0;
        final int table = twoZones ? 1 : new int[]{ 0, 1, 1, 5 }[random.nextInt(4)];
        final int reg = random.nextInt(3) == 0 ? 1 + random.nextInt(12) : 0;
        // No force with NAT: a retransmitted SYN arrives already NATed by table 0's ct(nat), misses
        // the NAT commit rule and is force-committed again, which OVS 3.1.0 takes for a reply and
        // leaves the connection stuck in SYN_SENT: verdicts the generator does not model (judged
        // by the named case forceCommitOnNatedRetransmit instead).
        c = c.withMisc(zoneMode, table, random.nextInt(3) == 0, reg, random.nextLong(1L << 32),
            nat == Nat.NONE && random.nextInt(4) == 0, random.nextInt(4) == 0);
        if (twoZones)
        {
            int b = 1 + random.nextInt(100);
            if (b == zone)
            {
                b++;
            }
            c = c.withZoneB(b, random.nextBoolean());
        }
        if (random.nextBoolean())
        {
            final long mask = random.nextBoolean() ? 0xffffffffL : 0xffL << (8 * random.nextInt(4));
            long a = random.nextLong(1L << 32);
            long bMark = random.nextLong(1L << 32);
            if ((a & mask) == (bMark & mask))
            {
                bMark ^= mask & 0x0101_0101L;
            }
            c = c.withMarks(random.nextBoolean() ? MarkMode.SET_FIELD : MarkMode.LOAD, a, bMark, mask);
        }
        if (random.nextInt(3) == 0)
        {
            final BigInteger value = new BigInteger(1, longs(random.nextLong() >>> 1, random.nextLong()));
            if (random.nextBoolean())
            {
                c = c.withLabel("0x" + value.toString(16), null);
            }
            else
            {
                // A masked set_field: OVS refuses value bits outside the mask.
                final BigInteger mask = new BigInteger("ffff00000000000000000000ffffffff", 16);
                c = c.withLabel("0x" + value.and(mask).toString(16), "0x" + mask.toString(16));
            }
        }
        if (nat == Nat.SNAT)
        {
            c = c.withNat(Nat.SNAT, 0, 0, 0, 0, random.nextBoolean());
        }
        else if (nat == Nat.DNAT)
        {
            c = c.withNat(Nat.DNAT, 80, random.nextInt(3) == 0 ? 0 : 8080, 53, random.nextInt(3) == 0 ? 0 : 5353,
                random.nextBoolean());
        }
        return c;
    }

    private static byte[] longs(final long high, final long low)
    {
        return java.nio.ByteBuffer.allocate(16).putLong(high).putLong(low).array();
    }

    /** Extra rules matching the original-direction tuple of some connections, tagging with a VLAN. */
    static List<String> tupleRules(final SplittableRandom random, final Config c, final List<Route> paths)
    {
        final List<String> rules = new ArrayList<>();
        final int t = c.finalTable();
        int vlan = 100;
        for (final Route p : paths)
        {
            if (random.nextInt(3) == 0)
            {
                continue;
            }
            final boolean reply = random.nextBoolean();
            final List<String> m = new ArrayList<>();
            m.add(p.v6() ? "ipv6" : "ip");
            final String src = p.v6() ? "ct_ipv6_src" : "ct_nw_src";
            final String dst = p.v6() ? "ct_ipv6_dst" : "ct_nw_dst";
            final boolean ports = p.proto() == PROTO_TCP || p.proto() == PROTO_UDP;
            m.add("ct_nw_proto=" + p.proto());
            if (random.nextBoolean())
            {
                m.add(src + "=" + CtTraceFactory.ipString(p.cIp()) + (!p.v6() && random.nextInt(3) == 0 ? "/24" : ""));
            }
            if (random.nextBoolean())
            {
                m.add(dst + "=" + CtTraceFactory.ipString(p.dstIp()));
            }
            if (ports && random.nextBoolean())
            {
                m.add("ct_tp_src=" + p.cPort());
            }
            if (ports && random.nextBoolean())
            {
                m.add("ct_tp_dst=" + p.dstPort());
            }
            rules.add(String.format("table=%d,priority=150,ct_state=%s,in_port=%d,%s,actions=mod_vlan_vid:%d,output:%d",
                t, reply ? "+trk+est+rpl-inv" : "+trk+est-rpl-inv", reply ? SERVER_PORT : CLIENT_PORT,
                String.join(",", m), vlan++, reply ? CLIENT_PORT : SERVER_PORT));
        }
        return rules;
    }

    /** Builds conversations consistent with one flow set's NAT. */
    static final class Builder
    {
        private final SplittableRandom random;
        private final Config config;
        private final Set<Integer> usedPorts = new HashSet<>();
        private final Set<String> usedOther = new HashSet<>();
        final List<Route> tuplePaths = new ArrayList<>();

        Builder(final SplittableRandom random, final Config config)
        {
            this.random = random;
            this.config = config;
        }

        /**
         * A client port (or ICMP id) not used before in this case, so NAT never has to pick another
         * one, except port + 1 for a NATed connection reopened on the same tuple (kept free too).
         */
        int freshPort()
        {
            while (true)
            {
                final int p = 1024 + random.nextInt(64000);
                if (!usedPorts.contains(p) && !usedPorts.contains(p + 1))
                {
                    usedPorts.add(p);
                    usedPorts.add(p + 1);
                    return p;
                }
            }
        }

        /** A client-initiated path: through the case's NAT (to the VIP for most DNAT paths). */
        Route clientPath(final boolean v6, final int proto, final int dstPort)
        {
            final Host client = random.nextBoolean() ? CLIENT1 : CLIENT2;
            final int cPort = proto == PROTO_TCP || proto == PROTO_UDP || CtTraceFactory.icmpProto(v6) == proto ?
                freshPort() : 0;
            if (config.nat() == Nat.DNAT && random.nextInt(4) != 0)
            {
                final int natPort;
                if (proto == PROTO_TCP && dstPort == config.vipPortTcp())
                {
                    natPort = config.natPortTcp() != 0 ? config.natPortTcp() : dstPort;
                }
                else if (proto == PROTO_UDP && dstPort == config.vipPortUdp())
                {
                    natPort = config.natPortUdp() != 0 ? config.natPortUdp() : dstPort;
                }
                else
                {
                    natPort = dstPort;
                }
                return Route.direct(client, SERVER1, v6, proto, cPort, natPort)
                    .withDnat(v6 ? CtTraceFactory.VIP6 : CtTraceFactory.VIP4, dstPort);
            }
            final Host server = random.nextBoolean() ? SERVER1 : SERVER2;
            final Route p = Route.direct(client, server, v6, proto, cPort, dstPort);
            if (config.nat() == Nat.SNAT)
            {
                // OVS keeps the client's port when the SNAT tuple is free (it is: ports are unique).
                return p.withSnat(v6 ? CtTraceFactory.SNAT6 : CtTraceFactory.SNAT4, cPort);
            }
            return p;
        }

        /** A path opened by a server towards a client: never through NAT (it is dropped). */
        Route serverPath(final boolean v6, final int proto, final int dstPort)
        {
            final Host client = random.nextBoolean() ? CLIENT1 : CLIENT2;
            final Host server = random.nextBoolean() ? SERVER1 : SERVER2;
            return Route.direct(server, client, v6, proto, freshPort(), dstPort);
        }

        /** Appends one random conversation to {@code t}; returns what it is. */
        String conversation(final Trace t)
        {
            final boolean v6 = random.nextInt(3) == 0;
            final int kind = random.nextInt(100);
            if (kind < 40)
            {
                return tcpSession(t, v6);
            }
            if (kind < 47)
            {
                final Tcp tcp = new Tcp(t, clientPath(v6, PROTO_TCP, 1 + random.nextInt(1000)), random);
                tcp.syn(Verdict.NEW).refuse(Verdict.EST);
                if (random.nextBoolean())
                {
                    tcp.newIncarnation().syn(Verdict.NEW).refuse(Verdict.EST);
                    return "tcp refused twice " + tcp.path().label();
                }
                return "tcp refused " + tcp.path().label();
            }
            if (kind < 52)
            {
                final Tcp tcp = new Tcp(t, serverPath(v6, PROTO_TCP, 22), random);
                tcp.syn(Verdict.NEW);
                if (random.nextBoolean())
                {
                    tcp.synRetransmit(Verdict.NEW);
                }
                return "server-initiated tcp (dropped) " + tcp.path().label();
            }
            if (kind < 67)
            {
                return udp(t, v6);
            }
            if (kind < 70)
            {
                final Udp udp = new Udp(t, serverPath(v6, PROTO_UDP, 514));
                udp.request("server-initiated", Verdict.NEW);
                return "server-initiated udp (dropped)";
            }
            if (kind < 82)
            {
                final Route p = clientPath(v6, CtTraceFactory.icmpProto(v6), 0);
                final Echo echo = new Echo(t, p);
                final int n = 1 + random.nextInt(3);
                for (int i = 0; i < n; i++)
                {
                    echo.request(i == 0 ? Verdict.NEW : Verdict.EST).reply(Verdict.EST);
                }
                tuplePaths.add(p);
                if (random.nextInt(3) == 0)
                {
                    // An echo reply nobody asked for: ICMP conntrack refuses to start with it.
                    new Echo(t, clientPath(v6, CtTraceFactory.icmpProto(v6), 0)).reply(Verdict.INV);
                    return "icmp echo x" + n + " + unsolicited reply " + p.label();
                }
                return "icmp echo x" + n + " " + p.label();
            }
            if (kind < 88)
            {
                // A router on the server side reports the client's first packet unreachable.
                if (random.nextBoolean())
                {
                    final Tcp tcp = new Tcp(t, clientPath(v6, PROTO_TCP, 443), random);
                    tcp.syn(Verdict.NEW);
                    CtTraceFactory.icmpError(t, tcp.path(), ROUTER, tcp.lastFrame(), "the SYN", Verdict.REL);
                    return "tcp SYN + host unreachable from router " + tcp.path().label();
                }
                final Udp udp = new Udp(t, clientPath(v6, PROTO_UDP, 123));
                udp.request("ntp?", Verdict.NEW);
                CtTraceFactory.icmpError(t, udp.path(), ROUTER, udp.lastRequest(), "the request", Verdict.REL);
                return "udp + host unreachable from router " + udp.path().label();
            }
            if (kind < 94)
            {
                final int proto = random.nextBoolean() ? PROTO_GRE : PROTO_SCTP;
                if (config.nat() == Nat.SNAT && !usedOther.add(proto + "/" + v6))
                {
                    return udp(t, v6);    // a second one would collide on the SNAT address
                }
                final Route p = clientPath(v6, proto, 0);
                CtTraceFactory.other(t, p, Side.CLIENT, "hello", Verdict.NEW);
                CtTraceFactory.other(t, p, Side.SERVER, "hello back", Verdict.EST);
                CtTraceFactory.other(t, p, Side.CLIENT, "more", Verdict.EST);
                return "other protocol " + p.label();
            }
            // Strays that match nothing: a SYN-ACK and an ICMP error for unknown connections.
            final Tcp stray = new Tcp(t, clientPath(v6, PROTO_TCP, 80), random);
            if (random.nextBoolean())
            {
                stray.synUnseen().synAck(Verdict.INV);
                return "stray SYN-ACK " + stray.path().label();
            }
            final Udp udp = new Udp(new Trace(), clientPath(v6, PROTO_UDP, 53));
            udp.request("never sent", Verdict.UNKNOWN);
            CtTraceFactory.icmpError(t, udp.path(), udp.path().server(), udp.lastRequest(), "a request never seen",
                Verdict.INV);
            return "ICMP error for an unknown connection " + udp.path().label();
        }

        private String udp(final Trace t, final boolean v6)
        {
            final int dport = config.nat() == Nat.DNAT && random.nextBoolean() ? config.vipPortUdp() :
                new int[]{ 53, 123, 5000 }[random.nextInt(3)];
            final Route p = clientPath(v6, PROTO_UDP, dport);
            final Udp udp = new Udp(t, p);
            final int n = 1 + random.nextInt(3);
            for (int i = 0; i < n; i++)
            {
                udp.request("q" + i, i == 0 ? Verdict.NEW : Verdict.EST).reply("r" + i, Verdict.EST);
            }
            tuplePaths.add(p);
            if (random.nextInt(3) == 0)
            {
                udp.request("q" + n, Verdict.EST);
                CtTraceFactory.icmpError(t, p, p.server(), udp.lastRequest(), "the last request", Verdict.REL);
                return "udp x" + n + " + port unreachable " + p.label();
            }
            return "udp x" + n + " " + p.label();
        }

        private String tcpSession(final Trace t, final boolean v6)
        {
            final int dport = config.nat() == Nat.DNAT && random.nextBoolean() ? config.vipPortTcp() :
                new int[]{ 80, 443, 22, 8080 }[random.nextInt(4)];
            final Route p = clientPath(v6, PROTO_TCP, dport);
            final Tcp tcp = new Tcp(t, p, random);
            tuplePaths.add(p);
            final List<String> what = new ArrayList<>();
            if (random.nextInt(5) == 0)
            {
                tcp.syn(Verdict.NEW).synRetransmit(Verdict.NEW).synAck(Verdict.EST).ack(Side.CLIENT, Verdict.EST);
                what.add("SYN retransmitted");
            }
            else
            {
                tcp.handshake();
            }
            final int exchanges = 1 + random.nextInt(4);
            for (int i = 0; i < exchanges; i++)
            {
                final Side first = random.nextInt(4) == 0 ? Side.SERVER : Side.CLIENT;
                final Side second = first == Side.CLIENT ? Side.SERVER : Side.CLIENT;
                tcp.data(first, 1 + random.nextInt(300), Verdict.EST);
                if (random.nextInt(3) == 0)
                {
                    tcp.data(first, 1 + random.nextInt(300), Verdict.EST);
                }
                if (random.nextInt(5) == 0)
                {
                    tcp.retransmitLast(Verdict.EST);
                    what.add("retransmit");
                }
                tcp.data(second, 1 + random.nextInt(300), Verdict.EST);
                tcp.ack(first, Verdict.EST);
                final int odd = random.nextInt(12);
                if (odd == 0)
                {
                    tcp.outOfWindowData(random.nextBoolean() ? Side.CLIENT : Side.SERVER);
                    what.add("out-of-window data");
                }
                else if (odd == 1)
                {
                    tcp.ackFarAhead(random.nextBoolean() ? Side.CLIENT : Side.SERVER);
                    what.add("ack far ahead");
                }
                else if (odd == 2)
                {
                    tcp.rstWrongSeq(random.nextBoolean() ? Side.CLIENT : Side.SERVER);
                    what.add("RST with inexact seq");
                }
            }
            final int close = random.nextInt(6);
            if (close <= 2)
            {
                final Side first = close == 0 ? Side.SERVER : Side.CLIENT;
                tcp.finClose(first);
                what.add("FIN close by " + first);
            }
            else if (close <= 4)
            {
                final Side by = close == 3 ? Side.SERVER : Side.CLIENT;
                tcp.rst(by, Verdict.EST);
                what.add("RST by " + by);
                if (random.nextBoolean())
                {
                    // Still in flight from the other side: in the window, so OVS lets it through.
                    tcp.data(by == Side.CLIENT ? Side.SERVER : Side.CLIENT, 1 + random.nextInt(100), Verdict.EST);
                    what.add("data after RST");
                }
            }
            else
            {
                what.add("left open");
            }
            if (close <= 4 && random.nextBoolean())
            {
                // The same tuple again: a SYN on a closed connection starts a new one.
                tcp.newIncarnation().handshake().data(Side.CLIENT, 10, Verdict.EST).data(Side.SERVER, 20, Verdict.EST);
                if (random.nextBoolean())
                {
                    tcp.finClose(Side.CLIENT);
                }
                what.add("reopened");
            }
            return "tcp session (" + String.join(", ", what) + ") " + p.label();
        }
    }
}
