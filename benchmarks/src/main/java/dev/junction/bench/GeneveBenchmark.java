package dev.junction.bench;

import dev.junction.flowtable.Field;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.PacketParser;
import dev.junction.flowtable.xlate.OdpActions;
import dev.junction.flowtable.xlate.OvsHash;
import dev.junction.geneve.Decapsulator;
import dev.junction.geneve.Encapsulator;
import dev.junction.geneve.IpPrefix;
import dev.junction.geneve.TlvMap;
import dev.junction.geneve.TunnelPort;
import dev.junction.geneve.TunnelType;
import dev.junction.geneve.Tunnels;
import dev.junction.geneve.Underlay;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.List;

/**
 * Geneve encapsulation and decapsulation alone, without the datapath around them.
 *
 * <ul>
 *   <li>{@code encap}: {@link Encapsulator#push} of an inner frame with the {@code TNL_PUSH}
 *   action a real {@link Tunnels#push} built at translation (outer Ethernet, IPv4, UDP, Geneve
 *   with OVN's option class 0x102 type 0x80 len 4): the header copy, the inner frame copy, the
 *   lengths, the IPv4 header checksum, the entropy source port from the packet's RSS hash (taken
 *   once in setup, as the datapath gets it from receive) and, with {@code csum}, the UDP checksum
 *   over the whole outer UDP datagram.</li>
 *   <li>{@code decap}: {@link Decapsulator#decap} of the Geneve frames node A's encap produced,
 *   on node B (outer checks, the IPv4 header checksum, the UDP checksum when the frame has one,
 *   the option walk into tun_metadata0, the tunnel port lookup), then
 *   {@link Decapsulator#copyTunnel} into a flow key. Parsing the inner frame is not included
 *   ({@link ParseBenchmark} measures it; {@link OverlayBenchmark} the whole path).</li>
 * </ul>
 *
 * Bursts of 32 packets of 32 different inner UDP flows (so 32 RSS hashes and source ports);
 * one op is one packet. Decap only moves the packet's start and length, so restoring them is all
 * each packet needs before it is decapsulated again.
 *
 * <p>Not final: JMH generates subclasses of {@code @State} benchmark classes.
 */
@State(Scope.Thread)
public class GeneveBenchmark extends PacketBenchmark
{
    static final int BURST = 32;

    /** Underlay port, tunnel port, VNI and OVN's option value (ingress port 1, egress port 2) on both nodes. */
    static final int UNDERLAY_PORT = 9;
    static final int TUNNEL_PORT = 10;
    static final long VNI = 0x5;
    static final long OVN_MD = 0x0001_0002L;
    static final long MAC_A = Frames.mac(0xaa, 0x55, 0xaa, 0x55, 0x00, 0x01);
    static final long MAC_B = Frames.mac(0xaa, 0x55, 0xaa, 0x55, 0x00, 0x02);
    static final String IP_A = "172.31.1.1";
    static final String IP_B = "172.31.1.2";

    /** Inner Ethernet frame bytes: the minimum-size frame and one that fills a 1500-byte underlay MTU. */
    @Param({"64", "1400"})
    public int frameBytes;

    /** The tunnel port's csum option: compute (encap) and verify (decap) the outer UDP checksum. */
    @Param({"false", "true"})
    public boolean csum;

    private final OdpActions push = new OdpActions();
    private final Packet[] inner = new Packet[BURST];
    private final int[] rssHash = new int[BURST];
    private final Packet[] outer = new Packet[BURST];
    private final Packet[] received = new Packet[BURST];
    private final int[] receivedLength = new int[BURST];
    private Decapsulator decapsulator;
    private final FlowKey key = new FlowKey();

    /**
     * One node's tunnels: the underlay on port 9 with its address and the peer as a static
     * neighbour, Geneve port 10 to the peer with key=flow, OVN's TLV map.
     */
    static Tunnels node(final boolean a, final boolean csum)
    {
        final String local = a ? IP_A : IP_B;
        final String remote = a ? IP_B : IP_A;
        final Underlay underlay = new Underlay(UNDERLAY_PORT, a ? MAC_A : MAC_B)
            .address(IpPrefix.parse(local + "/24"))
            .neighbour(IpPrefix.address(remote), a ? MAC_B : MAC_A);
        final TlvMap tlv = new TlvMap().parse("{class=0x102,type=0x80,len=4}->tun_metadata0");
        return new Tunnels(underlay, tlv,
            List.of(TunnelPort.of(TUNNEL_PORT, TunnelType.GENEVE, IpPrefix.address(remote), true, 0, csum)));
    }

    /** Pod frame i of a burst: UDP between two pods, source port varying, as pod traffic does. */
    static byte[] podFrame(final int i, final int frameBytes)
    {
        return Frames.udp4(Frames.mac(0x0a, 0x58, 0x0a, 0xf4, 0x00, 0x05), Frames.mac(0x0a, 0x58, 0x0a, 0xf4, 0x01, 0x06),
            Frames.ipv4(10, 244, 0, 5), Frames.ipv4(10, 244, 1, 6), 40_000 + i, 8080, frameBytes);
    }

    @Setup
    public void setUp()
    {
        final Tunnels a = node(true, csum);
        final Tunnels b = node(false, csum);
        final PacketParser parser = new PacketParser();
        final FlowKey flow = new FlowKey();
        for (int i = 0; i < BURST; i++)
        {
            final byte[] frame = podFrame(i, frameBytes);
            inner[i] = new Packet(frame.length);
            inner[i].wrap(frame, 0, frame.length);
            inner[i].inPort = 1;
            parser.parse(inner[i], flow);
            rssHash[i] = OvsHash.fiveTuple(flow, 0);
            outer[i] = new Packet(2048);
        }
        // What translation of "set_field:0x5->tun_id,set_field:0x10002->tun_metadata0,output:10" pushes.
        flow.set(Field.TUN_ID, VNI);
        flow.set(Field.TUN_METADATA0, OVN_MD);
        flow.words[FlowKey.W_TUN_GBP] |= 1L; // tun_metadata0 present, as set_field marks it
        final String why = a.push(TUNNEL_PORT, flow, new long[FlowKey.WORDS], push);
        if (why != null || push.get(0) != OdpActions.TNL_PUSH)
        {
            throw new IllegalStateException("no tunnel push: " + why);
        }
        decapsulator = new Decapsulator(b);
        for (int i = 0; i < BURST; i++)
        {
            final int n = Encapsulator.push(inner[i], outer[i], push, 0, rssHash[i]);
            final byte[] frame = java.util.Arrays.copyOfRange(outer[i].buf, outer[i].start, outer[i].start + n);
            // Geneve with one 8-byte option: 14 + 20 + 8 + 8 + 8 bytes of outer headers.
            if (n != frameBytes + 58 || ((frame[40] & 0xff) << 8 | frame[41] & 0xff) == 0 == csum)
            {
                throw new IllegalStateException("unexpected outer frame: " + n + " bytes, csum " + csum);
            }
            received[i] = new Packet(frame.length);
            received[i].wrap(frame, 0, frame.length);
            receivedLength[i] = frame.length;
        }
        decap();
        if (Field.TUN_ID.get(key.words) != VNI || key.words[FlowKey.W_TUN_METADATA] != OVN_MD
            || (int)Field.TUN_DST.get(key.words) != Frames.ipv4(172, 31, 1, 2) || received[0].length != frameBytes)
        {
            throw new IllegalStateException("decap lost the tunnel metadata: tun_id " + Field.TUN_ID.get(key.words)
                + ", tun_metadata0 " + key.words[FlowKey.W_TUN_METADATA]);
        }
    }

    @Benchmark
    @OperationsPerInvocation(BURST)
    public long encap()
    {
        long bytes = 0;
        for (int i = 0; i < BURST; i++)
        {
            bytes += Encapsulator.push(inner[i], outer[i], push, 0, rssHash[i]);
        }
        return bytes;
    }

    @Benchmark
    @OperationsPerInvocation(BURST)
    public long decap()
    {
        long ports = 0;
        for (int i = 0; i < BURST; i++)
        {
            final Packet p = received[i];
            p.start = Packet.HEADROOM;
            p.length = receivedLength[i];
            p.inPort = UNDERLAY_PORT;
            final int port = decapsulator.decap(p);
            if (port != TUNNEL_PORT)
            {
                throw new IllegalStateException("decap returned " + port);
            }
            decapsulator.copyTunnel(key);
            ports += port + key.words[FlowKey.W_TUN_METADATA];
        }
        return ports;
    }
}
