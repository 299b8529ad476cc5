package dev.junction.control.pinctrl;

import dev.junction.control.flows.Stage;
import dev.junction.datapath.PacketIn;
import dev.junction.flowtable.ofp.Action;
import dev.junction.flowtable.ofp.FlowParser;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ACL log's rate limit, a token bucket on packet time (20 a second by default): a burst
 * gets its first 20 lines, the rest are counted and reported when lines pass again, and over a
 * long run the lines never exceed the bucket plus the rate times the time.
 */
class AclLogRateTest
{
    private static final long SECOND = 1_000_000_000L;

    private final List<String> lines = new ArrayList<>();
    private final Pinctrl pinctrl = new Pinctrl(lines::add);
    private final byte[] userdata;

    AclLogRateTest() throws Exception
    {
        // The userdata as a derived default-deny flow carries it, read back by the flow parser.
        final String action = ControllerOps.logAction(ControllerOps.VERDICT_DROP, "alert", "x/deny-all:default-deny");
        userdata = ((Action.Controller)new FlowParser("t").parseLine("tcp,actions=" + action, 1).actions.get(0)).userdata();
    }

    /** A TCP SYN 10.0.0.1:sport -> 10.0.0.2:80, as the packet-in of the ingress ACL's default drop at {@code nanos}. */
    private PacketIn denied(final int sport, final long nanos)
    {
        final byte[] f = new byte[54];
        f[5] = 1;
        f[11] = 2;
        f[12] = 0x08;
        f[14] = 0x45;
        f[17] = 40;
        f[22] = 64;
        f[23] = 6;
        f[26] = 10;
        f[29] = 1;
        f[30] = 10;
        f[33] = 2;
        f[34] = (byte)(sport >> 8);
        f[35] = (byte)sport;
        f[37] = 80;
        f[46] = 0x50;
        f[47] = 0x02;
        return new PacketIn(f, f.length, 3, 1, 0xd0000001L, Stage.ACL_INGRESS.table, 0, userdata, nanos);
    }

    private void send(final PacketIn pin)
    {
        pinctrl.packetIn(pin, (port, frame) -> true);
    }

    @Test
    void hundredDeniedPacketsInABurstGiveTwentyLinesAndEightySuppressed()
    {
        for (int i = 0; i < 100; i++)
        {
            send(denied(40000 + i, SECOND + i * 100_000L)); // 100 packets in 10 ms
        }
        assertEquals(20, lines.size());
        assertEquals(20, pinctrl.logged());
        assertEquals(80, pinctrl.suppressed());
        assertEquals("acl_log: name=\"x/deny-all:default-deny\", policy=x/deny-all, rule=default-deny, verdict=drop, "
            + "severity=alert, direction=Ingress: tcp,in_port=3,dl_src=00:00:00:00:00:02,dl_dst=00:00:00:00:00:01,"
            + "nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=40000,tp_dst=80", lines.get(0));
        // A second later the bucket is full again: the suppressed count is reported, then the line.
        send(denied(50000, 2 * SECOND + 10_000_000L));
        assertEquals("acl_log: 80 events suppressed by the rate limit", lines.get(20));
        assertTrue(lines.get(21).contains("tp_src=50000"), lines.get(21));
    }

    @Test
    void overAnyRunLinesStayWithinTheBucketAndTheRate()
    {
        final SplittableRandom random = new SplittableRandom(0x5eed);
        long now = SECOND;
        for (int i = 0; i < 5000; i++)
        {
            now += random.nextLong(0, 4_000_000L); // about 500 a second, bursty
            send(denied(1024 + i % 60000, now));
        }
        final double seconds = (now - SECOND) / 1e9;
        assertTrue(pinctrl.logged() <= 20 + 20 * seconds + 1, pinctrl.logged() + " lines in " + seconds + " s");
        assertTrue(pinctrl.logged() >= 20 * seconds - 1, "the rate is used: " + pinctrl.logged() + " lines in " + seconds + " s");
        assertEquals(5000, pinctrl.logged() + pinctrl.suppressed());
    }
}
