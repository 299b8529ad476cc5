package dev.junction.datapath.pipeline;

import dev.junction.flowtable.ofp.FlowTables;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Workers of one bridge share its connection tracker: RSS is not symmetric, so a connection's
 * request and reply often land on different workers, and the reply must still be +est.
 */
class PipelineConntrackTest
{
    private static final Duration IDLE = Duration.ofSeconds(20);

    @Test
    void repliesAreEstablishedWhicheverWorkerTheyLandOn() throws Exception
    {
        final int workers = 2;
        final FlowTables tables = TestFrames.tables(
            "table=0,priority=100,ip,actions=ct(table=1,zone=1)",
            "table=1,priority=100,ct_state=+new+trk,in_port=1,ip,actions=ct(commit,zone=1),output:2",
            "table=1,priority=100,ct_state=+est+trk,in_port=2,ip,actions=output:3",
            "table=1,priority=0,actions=drop");
        final TestFrames.Collector requests = new TestFrames.Collector();
        final TestFrames.Collector replies = new TestFrames.Collector();
        final PipelineConfig config = new PipelineConfig().workers(workers).ringSize(1024)
            .port(1, TestFrames.discard()).port(2, requests).port(3, replies);
        final List<byte[]> forward = new ArrayList<>();
        final List<byte[]> backward = new ArrayList<>();
        int crossing = 0;
        for (int flow = 0; flow < 3 * 64; flow += 3) // IPv4 UDP flows (checksum 0 is valid)
        {
            final byte[] f = TestFrames.frame(flow, 0);
            final byte[] r = reply(f);
            forward.add(f);
            backward.add(r);
            if (worker(f, workers) != worker(r, workers))
            {
                crossing++;
            }
        }
        assertTrue(crossing > 0, "no connection crosses workers: the test would prove nothing");
        try (Pipeline pipeline = new Pipeline(config, TestFrames.factory(tables)))
        {
            pipeline.start();
            for (final byte[] f : forward)
            {
                assertTrue(pipeline.receive(1, f, 0, f.length, 0));
            }
            assertTrue(pipeline.awaitIdle(IDLE));
            for (final byte[] r : backward)
            {
                assertTrue(pipeline.receive(2, r, 0, r.length, 0));
            }
            assertTrue(pipeline.awaitIdle(IDLE));
            assertEquals(forward.size(), requests.snapshot().size(), "every new connection is committed and forwarded");
            final Set<Long> flowsBack = new HashSet<>();
            replies.snapshot().forEach(r -> flowsBack.add(r[0]));
            assertEquals(backward.size(), flowsBack.size(), "every reply is +est (" + crossing + " crossed workers)");
        }
    }

    private static int worker(final byte[] frame, final int workers)
    {
        return Integer.remainderUnsigned(RssHash.hash(frame, 0, frame.length), workers);
    }

    /** The same frame with IPv4 addresses and UDP ports swapped (the IP checksum is unchanged by a swap). */
    private static byte[] reply(final byte[] f)
    {
        final byte[] r = f.clone();
        for (int i = 0; i < 4; i++)
        {
            r[26 + i] = f[30 + i];
            r[30 + i] = f[26 + i];
        }
        for (int i = 0; i < 2; i++)
        {
            r[34 + i] = f[36 + i];
            r[36 + i] = f[34 + i];
        }
        return r;
    }
}
