package dev.junction.bench;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.PacketParser;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;


/**
 * {@link PacketParser#parse}: frame to flow key, the first step of every packet and the
 * baseline the other benchmarks are reported against. One op is one packet.
 *
 * <p>Not final: JMH generates subclasses of {@code @State} benchmark classes.
 */
@State(Scope.Thread)
public class ParseBenchmark extends PacketBenchmark
{
    /** The header stacks parsed: each takes a different branch of the parser. */
    public enum Kind
    {
        /** 64-byte TCP/IPv4, the smallest frame on the wire. */
        TCP4,
        /** UDP/IPv6: 128-bit addresses and the extension-header loop. */
        UDP6,
        /** A 64-byte TCP/IPv4 frame inside an 802.1Q tag. */
        VLAN
    }

    @Param
    public Kind kind;

    private final PacketParser parser = new PacketParser();
    private final FlowKey key = new FlowKey();
    private Packet packet;

    @Setup
    public void setUp()
    {
        final byte[] frame = frame(kind);
        packet = new Packet(frame.length);
        packet.wrap(frame, 0, frame.length);
        packet.inPort = 1;
        parser.parse(packet, key);
        // A frame the parser stops short on would measure an early return, not a parse.
        if (packet.l4 < 0)
        {
            throw new IllegalStateException(kind + ": parser found no transport header");
        }
    }

    /** Parsing never writes the frame, so the same bytes are parsed each time without restoring. */
    @Benchmark
    public FlowKey parse()
    {
        parser.parse(packet, key);
        return key;
    }

    static byte[] frame(final Kind kind)
    {
        final long srcMac = Frames.mac(0x0a, 0x58, 0x0a, 0xf4, 0x00, 0x05);
        final long dstMac = Frames.mac(0x0a, 0x58, 0x0a, 0xf4, 0x01, 0x06);
        final int srcIp = Frames.ipv4(10, 244, 0, 5);
        final int dstIp = Frames.ipv4(10, 244, 1, 6);
        switch (kind)
        {
            case TCP4:
                return Frames.tcp4(srcMac, dstMac, srcIp, dstIp, 40000, 80, 64);
            case UDP6:
                return Frames.udp6(srcMac, dstMac, new long[] {0xfd00_0010_0244_0000L, 5},
                    new long[] {0xfd00_0010_0244_0001L, 6}, 40000, 53, 96);
            case VLAN:
                return Frames.vlanTagged(Frames.tcp4(srcMac, dstMac, srcIp, dstIp, 40000, 80, 60), 100);
            default:
                throw new IllegalArgumentException(kind.name());
        }
    }
}
