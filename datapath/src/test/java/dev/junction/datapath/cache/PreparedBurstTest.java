package dev.junction.datapath.cache;

import dev.junction.datapath.Datapath;
import dev.junction.datapath.pipeline.TestFrames;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.ofp.FlowTables;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A burst looked up first ({@link Datapath#prepare}) and then processed packet by packet
 * ({@link Datapath#receivePrepared}) must forward exactly as {@link Datapath#receive} one at a
 * time: same frames to the same ports in the same order, same upcalls, same hits in total.
 * Bursts mix new flows (their megaflow installed by an earlier packet of the same burst), known
 * ones, short frames, a table change between bursts (revalidation removes and retargets
 * megaflows the next burst looked up) and idle expiry on the datapath's clock.
 */
class PreparedBurstTest
{
    private static final String[] VERSIONS = {
        "priority=10,ip,nw_src=10.1.0.0/25,actions=output:2\npriority=5,ip,actions=mod_nw_ttl:9,output:3\n"
            + "priority=5,ipv6,actions=output:3\npriority=0,actions=drop",
        "priority=10,ip,nw_src=10.1.0.0/26,actions=output:3\npriority=5,tcp,actions=output:2\n"
            + "priority=4,ip,actions=drop\npriority=0,actions=output:2",
    };

    @ParameterizedTest
    @ValueSource(longs = {1L, 21L, 400L})
    void preparedBurstsForwardAsSinglePackets(final long seed)
    {
        final List<String> single = new ArrayList<>();
        final List<String> batched = new ArrayList<>();
        final Datapath a = datapath(single);
        final Datapath b = datapath(batched);
        final SplittableRandom rnd = new SplittableRandom(seed);
        final Packet[] burst = new Packet[MegaflowCache.MAX_BATCH];
        final Packet[] copies = new Packet[MegaflowCache.MAX_BATCH];
        for (int round = 0; round < 300; round++)
        {
            if (round % 60 == 59)
            {
                final FlowTables next = TestFrames.tables(VERSIONS[(round / 60) % 2].split("\n"));
                a.publish(next);
                b.publish(next);
            }
            final int n = 1 + rnd.nextInt(MegaflowCache.MAX_BATCH);
            for (int i = 0; i < n; i++)
            {
                // Flows repeat within and across bursts; now and then a frame too short to parse.
                final byte[] frame = rnd.nextInt(50) == 0 ? new byte[10]
                    : TestFrames.frame(rnd.nextInt(200), round * 64 + i);
                burst[i] = packet(frame, rnd.nextInt(2) + 1, round);
                copies[i] = packet(frame, burst[i].inPort, round);
            }
            for (int i = 0; i < n; i++)
            {
                a.receive(burst[i], null);
            }
            b.prepare(copies, n);
            for (int i = 0; i < n; i++)
            {
                b.receivePrepared(copies[i], i);
            }
            assertEquals(single, batched, "outputs differ after round " + round);
        }
        assertEquals(a.upcalls(), b.upcalls(), "upcalls");
        assertEquals(a.emcHits() + a.megaflowHits(), b.emcHits() + b.megaflowHits(), "cache hits");
        assertEquals(a.megaflows().size(), b.megaflows().size(), "megaflows");
        assertTrue(single.size() > 3_000 && b.megaflowHits() > 100 && b.emcHits() > 100,
            single.size() + " outputs, " + b.megaflowHits() + " megaflow hits, " + b.emcHits() + " EMC hits");
    }

    private static Datapath datapath(final List<String> out)
    {
        final AtomicLong clock = new AtomicLong(1_000_000_000L);
        return new Datapath(TestFrames.tables(VERSIONS[0].split("\n")), new int[] {1, 2, 3},
            (port, p) ->
            {
                out.add(port + ":" + HexFormat.of().formatHex(p.buf, p.start, p.start + p.length));
                clock.addAndGet(50_000_000L); // 20 outputs a second of datapath time: idle expiry happens
            },
            Datapath.DEFAULT_MTU, 1, CacheConfig.DEFAULTS.withEmc(8192, 2), clock::get);
    }

    private static Packet packet(final byte[] frame, final int inPort, final int round)
    {
        final Packet p = new Packet(frame.length);
        p.wrap(frame, 0, frame.length);
        p.inPort = inPort;
        p.timestampNanos = round * 1_000_000L;
        return p;
    }
}
