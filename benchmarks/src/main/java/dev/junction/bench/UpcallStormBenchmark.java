package dev.junction.bench;

import dev.junction.datapath.Datapath;
import dev.junction.datapath.DropReason;
import dev.junction.datapath.UpcallLimiter;
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

import java.util.ArrayList;
import java.util.List;

/**
 * Established traffic during an upcall storm (issue 8): one worker forwards bursts of 32
 * established packets (warm EMC/megaflow hits over the OVN-sized tables of {@link OvnLikeTables})
 * while one pod port sends new 5-tuples at {@code stormRate} packets per second of wall time,
 * each of which misses every cache (a rule reading {@code tp_src,tp_dst} makes every megaflow
 * exact on both ports) and costs a full translation unless the port's upcall budget
 * ({@link UpcallLimiter}, {@code upcallLimit} per second, 0 = unlimited) refuses it. One op is
 * one established packet, so the score is the established throughput; compare a storm's score
 * with {@code stormRate=0} of the same run (the acceptance bar is 80%).
 *
 * <p>The storm is paced by {@link System#nanoTime()}: before each established burst the packets
 * it owes since the start go in (at most 512 per burst, so a stalled worker does not catch up in
 * one enormous burst). Storm frames are rewritten in place (ports and the TCP checksum,
 * incrementally), so they stay valid for conntrack and nothing is allocated per packet.
 *
 * <p>Not final: JMH generates subclasses of {@code @State} benchmark classes.
 */
@State(Scope.Thread)
public class UpcallStormBenchmark extends PacketBenchmark
{
    private static final int BURST = 32;
    private static final int MAX_STORM_PER_BURST = 512;
    /** Ethernet 14 + IPv4 20: the TCP header of the generated frames. */
    private static final int L4 = 34;

    @Param({"0", "100000"})
    public long stormRate;

    @Param({"0", "10000"})
    public long upcallLimit;

    private Datapath datapath;
    private final DatapathBenchmark.CountingTransmitter transmitter = new DatapathBenchmark.CountingTransmitter();
    private final Packet[] established = new Packet[BURST];
    private final byte[][] templates = new byte[BURST][];
    private final int[] inPorts = new int[BURST];
    private Packet stormPacket;
    private byte[] storm;
    private int stormPort;
    private long start;
    private long stormSent;
    private int stormSeq;

    @Setup(Level.Trial)
    public void setUp() throws FlowParseException
    {
        final OvnLikeTables ovn = OvnLikeTables.generate(1, 10_000);
        final List<String> flows = new ArrayList<>(ovn.flows());
        // Every TCP megaflow is exact on both ports (the moves read them whole; a match would be
        // prefix-tracked and stay wide): a new 5-tuple is a new megaflow, i.e. an upcall. reg9
        // marks the second pass through table 0, which then runs the OVN-like rules.
        flows.add("table=0,priority=65535,tcp,reg9=0,actions=move:NXM_OF_TCP_SRC[]->NXM_NX_REG1[0..15],"
            + "move:NXM_OF_TCP_DST[]->NXM_NX_REG2[0..15],load:1->NXM_NX_REG9[],resubmit(,0)");
        final FlowTables tables = new FlowTables(new FlowParser("ovn-like+ports").parseAll(flows));
        datapath = new Datapath(tables, OvnLikeTables.ports(), transmitter)
            .upcallLimiter(new UpcallLimiter(upcallLimit, Math.max(1, upcallLimit / 10)));
        OvnLikeTables.Input stormInput = null;
        int n = 0;
        for (final OvnLikeTables.Input in : ovn.inputs(4096, 2))
        {
            if (!in.kind().equals("same-node") && !in.kind().equals("cross-node"))
            {
                continue;
            }
            if (stormInput == null)
            {
                stormInput = in;
                continue;
            }
            if (n < BURST && in.inPort() != stormInput.inPort() && forwards(in))
            {
                templates[n] = in.frame();
                inPorts[n] = in.inPort();
                established[n] = new Packet(in.frame().length);
                n++;
            }
        }
        if (stormInput == null || n < BURST)
        {
            throw new IllegalStateException("the generated traffic has too few forwarded TCP flows: " + n);
        }
        storm = stormInput.frame().clone();
        stormPort = stormInput.inPort();
        stormPacket = new Packet(storm.length);
        for (int i = 0; i < 3; i++)
        {
            burst(); // warm: installs the established megaflows and EMC entries
        }
        start = System.nanoTime();
        stormSent = 0;
    }

    private boolean forwards(final OvnLikeTables.Input in)
    {
        final long before = transmitter.packets;
        final Packet p = new Packet(in.frame().length);
        p.wrap(in.frame(), 0, in.frame().length);
        p.inPort = in.inPort();
        datapath.receive(p, null);
        return transmitter.packets > before;
    }

    @Benchmark
    @OperationsPerInvocation(BURST)
    public long burst()
    {
        if (stormRate > 0)
        {
            final long owed = (System.nanoTime() - start) * stormRate / 1_000_000_000L - stormSent;
            final long now = Math.min(owed, MAX_STORM_PER_BURST);
            for (int i = 0; i < now; i++)
            {
                stormOne();
            }
            stormSent += Math.max(owed, 0);
        }
        for (int i = 0; i < BURST; i++)
        {
            final Packet p = established[i];
            p.wrap(templates[i], 0, templates[i].length);
            p.inPort = inPorts[i];
            datapath.receive(p, null);
        }
        return transmitter.bytes;
    }

    /** The next storm packet: new source and destination ports, TCP checksum adjusted (RFC 1624). */
    private void stormOne()
    {
        final int seq = stormSeq++;
        final int sport = 1024 + (seq & 0x7fff);
        final int dport = 1024 + ((seq >>> 15) & 0x7fff);
        final int oldSport = u16(storm, L4);
        final int oldDport = u16(storm, L4 + 2);
        put16(storm, L4, sport);
        put16(storm, L4 + 2, dport);
        int sum = ~u16(storm, L4 + 16) & 0xffff;
        sum += (~oldSport & 0xffff) + sport + (~oldDport & 0xffff) + dport;
        sum = (sum & 0xffff) + (sum >>> 16);
        sum = (sum & 0xffff) + (sum >>> 16);
        put16(storm, L4 + 16, ~sum & 0xffff);
        stormPacket.wrap(storm, 0, storm.length);
        stormPacket.inPort = stormPort;
        datapath.receive(stormPacket, null);
    }

    @TearDown(Level.Trial)
    public void report()
    {
        final double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("%nUpcallStormBenchmark storm %d/s, limit %d/s: storm packets %d (%.0f/s), upcalls %d, "
            + "refused by the limit %d, megaflows %d%n", stormRate, upcallLimit, stormSeq, stormSeq / seconds,
            datapath.upcalls(), datapath.drops(DropReason.UPCALL_LIMIT), datapath.megaflows().size());
    }

    private static int u16(final byte[] f, final int at)
    {
        return (f[at] & 0xff) << 8 | f[at + 1] & 0xff;
    }

    private static void put16(final byte[] f, final int at, final int v)
    {
        f[at] = (byte)(v >>> 8);
        f[at + 1] = (byte)v;
    }
}
