package dev.junction.bench;

import dev.junction.datapath.Datapath;
import dev.junction.datapath.DropReason;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.ofp.FlowParseException;
import dev.junction.flowtable.ofp.FlowParser;
import dev.junction.flowtable.ofp.FlowTables;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.List;

/**
 * {@link Datapath#receive} end to end: parse, translate, execute the rewrites (MACs, TTL with
 * the incremental IPv4 checksum) and transmit, on the two-pods example's tables. Each
 * invocation receives a burst of packets alternating between the two pods, as a port's RX
 * burst would; one op is one packet.
 *
 * <p>The routing rule rewrites the frame, so each packet's bytes are restored from its template
 * first (an array copy, as a NIC's receive DMA would write them): without it the TTL would run
 * out and the benchmark would measure the TTL-exception path instead.
 *
 * <p>Not final: JMH generates subclasses of {@code @State} benchmark classes.
 */
@State(Scope.Thread)
public class DatapathBenchmark extends PacketBenchmark
{
    static final int BURST = 32;

    /** The rules of examples/two-pods/flows.txt: port security, an ACL, routing with rewrites. */
    static final List<String> TWO_PODS_FLOWS = List.of(
        "table=0,priority=100,in_port=1,dl_src=0a:58:0a:f4:00:05,ip,nw_src=10.244.0.5,actions=resubmit(,10)",
        "table=0,priority=100,in_port=2,dl_src=0a:58:0a:f4:01:06,ip,nw_src=10.244.1.6,actions=resubmit(,10)",
        "table=0,priority=0,actions=drop",
        "table=10,priority=200,tcp,tp_dst=23,actions=drop",
        "table=10,priority=100,ip,actions=goto_table:20",
        "table=20,priority=100,ip,nw_dst=10.244.1.0/24,actions=mod_dl_src:0a:58:0a:f4:01:01,"
            + "mod_dl_dst:0a:58:0a:f4:01:06,dec_ttl,output:2",
        "table=20,priority=100,ip,nw_dst=10.244.0.0/24,actions=mod_dl_src:0a:58:0a:f4:00:01,"
            + "mod_dl_dst:0a:58:0a:f4:00:05,dec_ttl,output:1");

    /** Ethernet frame bytes without FCS: the minimum-size frame and a full-MTU one. */
    @Param({"64", "1500"})
    public int frameBytes;

    private Datapath datapath;
    private final CountingTransmitter transmitter = new CountingTransmitter();
    private final Packet[] packets = new Packet[BURST];
    private final byte[][] templates = new byte[2][];
    private final int[] inPorts = {1, 2};

    @Setup
    public void setUp() throws FlowParseException
    {
        final FlowTables tables = new FlowTables(new FlowParser("two-pods").parseAll(TWO_PODS_FLOWS));
        datapath = new Datapath(tables, new int[] {1, 2}, transmitter);
        final long podA = Frames.mac(0x0a, 0x58, 0x0a, 0xf4, 0x00, 0x05);
        final long podB = Frames.mac(0x0a, 0x58, 0x0a, 0xf4, 0x01, 0x06);
        final long routerA = Frames.mac(0x0a, 0x58, 0x0a, 0xf4, 0x00, 0x01);
        final long routerB = Frames.mac(0x0a, 0x58, 0x0a, 0xf4, 0x01, 0x01);
        final int ipA = Frames.ipv4(10, 244, 0, 5);
        final int ipB = Frames.ipv4(10, 244, 1, 6);
        templates[0] = Frames.tcp4(podA, routerA, ipA, ipB, 40000, 80, frameBytes);
        templates[1] = Frames.tcp4(podB, routerB, ipB, ipA, 80, 40000, frameBytes);
        for (int i = 0; i < BURST; i++)
        {
            packets[i] = new Packet(frameBytes);
        }
        burst();
        // Every packet must be forwarded: a drop path would be a different (cheaper) benchmark.
        if (transmitter.packets != BURST || datapath.drops(DropReason.NO_OUTPUT) != 0
            || datapath.drops(DropReason.MTU_EXCEEDED) != 0 || datapath.drops(DropReason.XLATE_ERROR) != 0)
        {
            throw new IllegalStateException("expected " + BURST + " forwarded packets, got " + transmitter.packets);
        }
    }

    @Benchmark
    @OperationsPerInvocation(BURST)
    public long burst()
    {
        for (int i = 0; i < BURST; i++)
        {
            final Packet p = packets[i];
            final int side = i & 1;
            p.wrap(templates[side], 0, frameBytes);
            p.inPort = inPorts[side];
            datapath.receive(p, null);
        }
        return transmitter.bytes;
    }

    /** Stands in for a port's TX queue: counts, so the transmit call cannot be optimized away. */
    static final class CountingTransmitter implements Datapath.Transmitter
    {
        long packets;
        long bytes;

        @Override
        public void transmit(final int port, final Packet packet)
        {
            packets++;
            bytes += packet.length;
        }
    }
}
