package dev.junction.bench;

import dev.junction.datapath.Bridge;
import dev.junction.datapath.Datapath;
import dev.junction.datapath.DropReason;
import dev.junction.datapath.cache.CacheConfig;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.ofp.FlowParseException;
import dev.junction.flowtable.ofp.FlowParser;
import dev.junction.flowtable.ofp.FlowTables;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.List;

/**
 * The whole Geneve overlay path across two nodes, each a {@link Datapath} with tunnels
 * ({@link GeneveBenchmark#node}): node A receives a pod frame on port 1 whose flow sets tun_id
 * and tun_metadata0 (OVN's logical ports) and outputs to Geneve port 10, so A parses, hits its
 * EMC and encapsulates; A's transmitter captures the outer frame off the underlay port (a copy,
 * as a NIC's TX ring would take it); node B receives the captured burst on its underlay port,
 * decapsulates, parses the inner frame, hits its EMC on a key with tun_id and tun_metadata0 and
 * outputs to pod port 3. One op is one packet through both nodes; bursts of 32 packets of 32
 * different pod flows.
 *
 * <p>The caches are warm (OVS's defaults: EMC insertion 1/100, so setup warms them with a few
 * thousand packets and checks every measured packet hits an EMC); {@link #noUpcalls} fails the
 * run if a packet was translated during measurement.
 *
 * <p>Not final: JMH generates subclasses of {@code @State} benchmark classes.
 */
@State(Scope.Thread)
public class OverlayBenchmark extends PacketBenchmark
{
    static final int BURST = 32;
    static final int POD_PORT_B = 3;

    static final List<String> NODE_A_FLOWS = List.of(
        "priority=20,in_port=1,ip,actions=set_field:0x5->tun_id,set_field:0x10002->tun_metadata0,output:10",
        "priority=0,actions=drop");
    static final List<String> NODE_B_FLOWS = List.of(
        "priority=30,in_port=10,tun_id=0x5,tun_metadata0=0x10002,actions=output:3",
        "priority=20,in_port=10,actions=drop",
        "priority=0,actions=drop");

    /** Inner (pod) frame bytes. */
    @Param({"64", "1400"})
    public int frameBytes;

    /** The tunnel ports' csum option on both nodes. */
    @Param({"false", "true"})
    public boolean csum;

    private Datapath nodeA;
    private Datapath nodeB;
    private final Capture wire = new Capture();
    private final DatapathBenchmark.CountingTransmitter podsB = new DatapathBenchmark.CountingTransmitter();
    private final Packet[] pods = new Packet[BURST];
    private long upcallsAfterSetup;

    @Setup
    public void setUp() throws FlowParseException
    {
        nodeA = new Datapath(new Bridge(new FlowTables(new FlowParser("node-a").parseAll(NODE_A_FLOWS)))
            .tunnels(GeneveBenchmark.node(true, csum)), new int[] {1, 2, GeneveBenchmark.UNDERLAY_PORT}, wire,
            Datapath.DEFAULT_MTU, 1, CacheConfig.DEFAULTS, System::nanoTime);
        nodeB = new Datapath(new Bridge(new FlowTables(new FlowParser("node-b").parseAll(NODE_B_FLOWS)))
            .tunnels(GeneveBenchmark.node(false, csum)), new int[] {POD_PORT_B, GeneveBenchmark.UNDERLAY_PORT}, podsB,
            Datapath.DEFAULT_MTU, 1, CacheConfig.DEFAULTS, System::nanoTime);
        for (int i = 0; i < BURST; i++)
        {
            final byte[] frame = GeneveBenchmark.podFrame(i, frameBytes);
            pods[i] = new Packet(frame.length);
            pods[i].wrap(frame, 0, frame.length);
            pods[i].inPort = 1;
        }
        // EMC insertion is 1 in 100: 2,000 packets per flow leave a flow outside it with odds 0.99^2000.
        for (int i = 0; i < 2000; i++)
        {
            burst();
        }
        final long emcA = nodeA.emcHits();
        final long emcB = nodeB.emcHits();
        wire.packets = 0;
        podsB.packets = 0;
        burst();
        if (wire.packets != BURST || podsB.packets != BURST || nodeA.emcHits() - emcA != BURST
            || nodeB.emcHits() - emcB != BURST || nodeB.drops(DropReason.NO_OUTPUT) != 0
            || nodeA.drops(DropReason.MTU_EXCEEDED) != 0)
        {
            throw new IllegalStateException("overlay not warm: A sent " + wire.packets + " (EMC hits "
                + (nodeA.emcHits() - emcA) + "), B delivered " + podsB.packets + " (EMC hits " + (nodeB.emcHits() - emcB)
                + "), B upcalls " + nodeB.upcalls() + ", B no-output drops " + nodeB.drops(DropReason.NO_OUTPUT));
        }
        upcallsAfterSetup = nodeA.upcalls() + nodeB.upcalls();
    }

    /** The measured loop must have been all cache hits. */
    @TearDown(Level.Trial)
    public void noUpcalls()
    {
        final long upcalls = nodeA.upcalls() + nodeB.upcalls() - upcallsAfterSetup;
        if (upcalls != 0)
        {
            throw new IllegalStateException(upcalls + " upcalls during measurement");
        }
    }

    @Benchmark
    @OperationsPerInvocation(BURST)
    public long burst()
    {
        wire.count = 0;
        for (int i = 0; i < BURST; i++)
        {
            nodeA.receive(pods[i], null);
        }
        final Packet[] onWire = wire.frames;
        for (int i = 0; i < wire.count; i++)
        {
            final Packet p = onWire[i];
            p.inPort = GeneveBenchmark.UNDERLAY_PORT;
            nodeB.receive(p, null);
        }
        return podsB.bytes;
    }

    /** Node A's underlay: copies each outer frame into the next slot of a burst, for node B to receive. */
    static final class Capture implements Datapath.Transmitter
    {
        final Packet[] frames = new Packet[BURST];
        int count;
        long packets;

        Capture()
        {
            for (int i = 0; i < BURST; i++)
            {
                frames[i] = new Packet(2048);
            }
        }

        @Override
        public void transmit(final int port, final Packet packet)
        {
            if (port != GeneveBenchmark.UNDERLAY_PORT || count == BURST)
            {
                throw new IllegalStateException("node A sent to port " + port);
            }
            frames[count++].copyFrom(packet);
            packets++;
        }
    }
}
