package dev.junction.datapath.cache;

import dev.junction.datapath.Datapath;
import dev.junction.datapath.pipeline.TestFrames;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.ofp.FlowRule;
import dev.junction.flowtable.ofp.FlowTables;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The caches inside {@link Datapath}: bounded megaflows with counted refusals, revalidation on a
 * new table version, idle expiry on the datapath's clock, and rule statistics that equal what
 * translating every packet would count.
 */
class DatapathCacheTest
{
    private final List<Integer> sentTo = new ArrayList<>();
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);

    private Datapath datapath(final FlowTables tables, final CacheConfig config)
    {
        return new Datapath(tables, new int[] {1, 2, 3}, (port, p) -> sentTo.add(port), Datapath.DEFAULT_MTU, 1,
            config, clock::get);
    }

    private static void receive(final Datapath dp, final int flow, final int seq)
    {
        final byte[] frame = TestFrames.frame(flow, seq);
        final Packet p = new Packet(frame.length);
        p.wrap(frame, 0, frame.length);
        p.inPort = 1;
        dp.receive(p, null);
    }

    @Test
    void aFullMegaflowCacheRefusesInstallsButStillForwards()
    {
        // The move reads all of nw_src, so every flow (its own nw_src) needs its own megaflow.
        final FlowTables tables = TestFrames.tables("ip,actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG0[],output:2");
        final Datapath dp = datapath(tables, CacheConfig.DEFAULTS.withMegaflowLimit(3));
        for (int flow = 0; flow < 9; flow += 3) // IPv4 UDP flows only (flow % 3 == 0)
        {
            receive(dp, flow, 0);
        }
        for (int flow = 9; flow < 30; flow += 3)
        {
            receive(dp, flow, 0);
        }
        assertEquals(3, dp.megaflows().size());
        assertEquals(7, dp.megaflows().refused());
        assertEquals(10, sentTo.size(), "refused installs must not drop packets");
    }

    @Test
    void aNewTableVersionIsRevalidatedBeforeTheNextPacket()
    {
        final FlowTables first = TestFrames.tables("ip,actions=output:2");
        final Datapath dp = datapath(first, CacheConfig.DEFAULTS.withEmc(8192, 1));
        receive(dp, 0, 0);
        receive(dp, 0, 1);
        assertEquals(List.of(2, 2), sentTo);
        assertEquals(1, dp.upcalls());

        // Same mask, other actions: the megaflow is kept with the new actions (no new upcall).
        dp.publish(TestFrames.tables("ip,actions=output:3"));
        receive(dp, 0, 2);
        assertEquals(3, sentTo.get(2));
        assertEquals(1, dp.upcalls());
        assertEquals(0, dp.revalidatedAway());

        // Another mask: the megaflow goes, the next packet is an upcall under the new table.
        dp.publish(TestFrames.tables("ip,nw_src=10.1.0.0,actions=output:2"));
        receive(dp, 0, 3);
        assertEquals(2, sentTo.get(3));
        assertEquals(1, dp.revalidatedAway());
        assertEquals(2, dp.upcalls());
    }

    @Test
    void idleMegaflowsExpireOnTheDatapathClock()
    {
        final Datapath dp = datapath(TestFrames.tables("ip,actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG0[],output:2"),
            CacheConfig.DEFAULTS.withMaxIdleMillis(10_000));
        receive(dp, 0, 0);
        receive(dp, 3, 0);
        assertEquals(2, dp.megaflows().size());
        clock.addAndGet(5_000_000_000L);
        for (int i = 0; i < 64; i++) // the clock is read every 32 packets
        {
            receive(dp, 3, i);
        }
        assertEquals(2, dp.megaflows().size(), "5 s idle is not yet 10 s");
        clock.addAndGet(6_000_000_000L);
        for (int i = 0; i < 64; i++)
        {
            receive(dp, 3, i);
        }
        assertEquals(1, dp.megaflows().size(), "flow 0 idle 11 s expired, flow 3 kept busy stays");
        assertEquals(1, dp.expiredMegaflows());
    }

    @Test
    void ruleStatisticsEqualThoseOfTranslatingEveryPacket()
    {
        final String[] flows = {"priority=10,ip,actions=resubmit(,1)", "table=1,udp,actions=output:2",
            "table=1,tcp,actions=output:3", "priority=0,actions=drop"};
        final FlowTables cachedTables = TestFrames.tables(flows);
        final FlowTables plainTables = TestFrames.tables(flows);
        final Datapath cached = datapath(cachedTables, CacheConfig.DEFAULTS.withEmc(8192, 1));
        final Datapath plain = datapath(plainTables, CacheConfig.DISABLED);
        for (int seq = 0; seq < 50; seq++)
        {
            for (int flow = 0; flow < 12; flow++)
            {
                receive(cached, flow, seq);
                receive(plain, flow, seq);
            }
        }
        cached.pushStats();
        assertTrue(cached.emcHits() + cached.megaflowHits() > 500, "the caches were used");
        final List<FlowRule> a = cachedTables.rules();
        final List<FlowRule> b = plainTables.rules();
        for (int i = 0; i < a.size(); i++)
        {
            assertEquals(b.get(i).packets(), a.get(i).packets(), "packets of " + a.get(i).line);
            assertEquals(b.get(i).bytes(), a.get(i).bytes(), "bytes of " + a.get(i).line);
        }
        assertTrue(a.get(0).packets() > 0);
    }
}
