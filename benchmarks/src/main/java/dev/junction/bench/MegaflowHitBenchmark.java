package dev.junction.bench;

import dev.junction.datapath.cache.Megaflow;
import dev.junction.datapath.cache.MegaflowCache;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.PacketParser;
import dev.junction.flowtable.ofp.FlowRule;
import dev.junction.flowtable.xlate.OdpActions;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.SplittableRandom;

/**
 * A megaflow-cache hit (the EMC missed): parse the frame, then tuple-space search over
 * {@code subtables} masks holding 100,000 megaflows. Masks are OVN-like: in_port, Ethertype and
 * the "no VLAN" match, plus nw_dst prefixes of 16 to 32 bits, some with an exact UDP port or
 * nw_src as well. Packets are spread evenly over the megaflows, so on average half the
 * subtables are probed before the hit, the worst case OVS's subtable ranking improves on.
 * One op is one packet. {@code burst} looks packets up one at a time, {@code burstBatched} a
 * burst at a time.
 *
 * <p>Not final: JMH generates subclasses of {@code @State} benchmark classes.
 */
@State(Scope.Thread)
public class MegaflowHitBenchmark extends PacketBenchmark
{
    static final int BURST = 32;
    static final int MEGAFLOWS = 100_000;
    static final int PACKETS = 4096;

    @Param({"1", "10", "50"})
    public int subtables;

    private final MegaflowCache cache = new MegaflowCache(MegaflowCache.DEFAULT_LIMIT);
    private final PacketParser parser = new PacketParser(1);
    private final FlowKey key = new FlowKey();
    private final FlowKey[] batchKeys = new FlowKey[BURST];
    private final long[][] batchWords = new long[BURST][];
    private final Megaflow[] batchResults = new Megaflow[BURST];
    private final Packet[] packets = new Packet[PACKETS];
    private int next;

    @Setup
    public void setUp()
    {
        for (int i = 0; i < BURST; i++)
        {
            batchKeys[i] = new FlowKey();
            batchWords[i] = batchKeys[i].words;
        }
        final SplittableRandom random = new SplittableRandom(42);
        final long[][] masks = new long[subtables][];
        for (int j = 0; j < subtables; j++)
        {
            masks[j] = mask(j);
        }
        final OdpActions output = new OdpActions();
        output.add1(OdpActions.OUTPUT, 2);
        final long a = Frames.mac(2, 0, 0, 0, 0, 1);
        final long b = Frames.mac(2, 0, 0, 0, 0, 2);
        final Packet scratch = new Packet(64);
        final FlowKey k = new FlowKey();
        for (int m = 0; m < MEGAFLOWS; m++)
        {
            final byte[] frame = Frames.udp4(a, b, random.nextInt(), Frames.ipv4(10, 0, 0, 0) | random.nextInt(1 << 24),
                1024 + random.nextInt(60_000), 1 + m % 1000, 64);
            scratch.wrap(frame, 0, frame.length);
            scratch.inPort = 1;
            parser.parse(scratch, k);
            cache.install(k, masks[m % subtables], output, false, new FlowRule[0], 0);
            if (m % (MEGAFLOWS / PACKETS) == 0 && m / (MEGAFLOWS / PACKETS) < PACKETS)
            {
                final Packet p = new Packet(frame.length);
                p.wrap(frame, 0, frame.length);
                p.inPort = 1;
                packets[m / (MEGAFLOWS / PACKETS)] = p;
            }
        }
        if (cache.size() != MEGAFLOWS || cache.subtableCount() != subtables)
        {
            throw new IllegalStateException(cache.size() + " megaflows in " + cache.subtableCount() + " subtables");
        }
        for (final Packet p : packets)
        {
            parser.parse(p, key);
            if (cache.lookup(key.words) == null)
            {
                throw new IllegalStateException("a benchmark packet misses the megaflow cache");
            }
        }
    }

    /** Mask j: 17 nw_dst prefix lengths, then the same with an exact UDP port, then with nw_src. */
    private static long[] mask(final int j)
    {
        final long[] m = new long[FlowKey.WORDS];
        m[FlowKey.W_IN_PORT] = 0xffff_ffffL << 32;
        m[FlowKey.W_DL_DST_TYPE] = 0xffff;
        m[FlowKey.W_VLAN] = 0xffff_ffff_ffff_0000L;
        m[FlowKey.W_NW] = 0xffL << 56 | 3L << 32;
        final int plen = 32 - (j % 17);
        m[FlowKey.W_NW_ADDR] = (0xffff_ffffL << (32 - plen)) & 0xffff_ffffL;
        if (j / 17 == 1)
        {
            m[FlowKey.W_TP] = 0xffffL << 32;
        }
        else if (j / 17 == 2)
        {
            m[FlowKey.W_NW_ADDR] |= 0xffff_ffffL << 32;
        }
        return m;
    }

    @Benchmark
    @OperationsPerInvocation(BURST)
    public long burst()
    {
        long hits = 0;
        int n = next;
        for (int i = 0; i < BURST; i++)
        {
            parser.parse(packets[n], key);
            final Megaflow mf = cache.lookup(key.words);
            hits += mf.actions().size();
            n = (n + 1) & (PACKETS - 1);
        }
        next = n;
        return hits;
    }

    /**
     * The same packets looked up a burst at a time ({@link MegaflowCache#lookupBatch}, subtable by
     * subtable as dpcls does): parse all 32, then one batched lookup, so the cache misses of
     * different packets overlap instead of queueing behind each other.
     */
    @Benchmark
    @OperationsPerInvocation(BURST)
    public long burstBatched()
    {
        int n = next;
        for (int i = 0; i < BURST; i++)
        {
            parser.parse(packets[n], batchKeys[i]);
            n = (n + 1) & (PACKETS - 1);
        }
        next = n;
        cache.lookupBatch(batchWords, BURST, batchResults);
        long hits = 0;
        for (int i = 0; i < BURST; i++)
        {
            hits += batchResults[i].actions().size();
        }
        return hits;
    }
}
