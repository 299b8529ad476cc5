package dev.junction.bench;

import dev.junction.datapath.Datapath;
import dev.junction.datapath.cache.CacheConfig;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.ofp.FlowParseException;
import dev.junction.flowtable.ofp.FlowParser;
import dev.junction.flowtable.ofp.FlowTables;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.List;

/**
 * The exact-match-cache hit path of {@link Datapath#receive}: parse, EMC lookup, megaflow
 * statistics, execute (one output) and transmit. 64 flows of 64-byte UDP frames, all resident in
 * the EMC (insertion probability 1 so warm-up fills it; the lookup itself is what OVS's is).
 * One op is one packet.
 *
 * <p>Not final: JMH generates subclasses of {@code @State} benchmark classes.
 */
@State(Scope.Thread)
public class EmcHitBenchmark extends PacketBenchmark
{
    static final int BURST = 32;
    static final int FLOWS = 64;

    private Datapath datapath;
    private final DatapathBenchmark.CountingTransmitter transmitter = new DatapathBenchmark.CountingTransmitter();
    private final Packet[] packets = new Packet[FLOWS];
    private int next;

    @Setup
    public void setUp() throws FlowParseException
    {
        final FlowTables tables = new FlowTables(new FlowParser("emc").parseAll(List.of(
            "priority=100,in_port=1,udp,actions=output:2", "priority=0,actions=drop")));
        datapath = new Datapath(tables, new int[] {1, 2}, transmitter, Datapath.DEFAULT_MTU, 1,
            CacheConfig.DEFAULTS.withEmc(8192, 1), System::nanoTime);
        final long a = Frames.mac(2, 0, 0, 0, 0, 1);
        final long b = Frames.mac(2, 0, 0, 0, 0, 2);
        for (int i = 0; i < FLOWS; i++)
        {
            final byte[] frame = Frames.udp4(a, b, Frames.ipv4(10, 0, 0, 1), Frames.ipv4(10, 0, 0, 2), 10_000 + i,
                53, 64);
            packets[i] = new Packet(frame.length);
            packets[i].wrap(frame, 0, frame.length);
            packets[i].inPort = 1;
        }
        for (int i = 0; i < 4; i++)
        {
            burst();
        }
        if (datapath.upcalls() > FLOWS || datapath.emcHits() == 0 || transmitter.packets != 4L * BURST)
        {
            throw new IllegalStateException("EMC not warm: upcalls " + datapath.upcalls() + ", EMC hits "
                + datapath.emcHits() + ", sent " + transmitter.packets);
        }
    }

    @Benchmark
    @OperationsPerInvocation(BURST)
    public long burst()
    {
        int n = next;
        for (int i = 0; i < BURST; i++)
        {
            datapath.receive(packets[n], null);
            n = (n + 1) & (FLOWS - 1);
        }
        next = n;
        return transmitter.bytes;
    }
}
