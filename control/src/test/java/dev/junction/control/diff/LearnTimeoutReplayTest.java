package dev.junction.control.diff;

import dev.junction.datapath.pcap.PcapReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Learned-flow timeouts in pcap time: a client keeps its backend until it has been idle for the
 * learned flow's idle_timeout (the timer runs from the last packet that met the learned flow), and
 * loses it after hard_timeout whatever its traffic. The OVS oracle runs on wall-clock time, so
 * it cannot judge this; the expectations follow OVS's rule expiry (ofproto.c: idle from the
 * rule's last use, hard from its last modification, checked about once a second), with gaps well
 * away from the one-second granularity on both sides.
 */
class LearnTimeoutReplayTest
{
    private static final long S = 1_000_000_000L;

    @TempDir
    Path dir;

    /** Client 0's SYNs: even source ports would pick backend 2, odd ones backend 3. */
    private record Syn(long atNanos, int client, int sport)
    {
    }

    private Map<Integer, Integer> replay(final String learnTimeouts, final List<Syn> syns) throws Exception
    {
        final String flows = "table=0,priority=100,tcp,nw_dst=10.0.0.50,tp_dst=80,actions=resubmit(,1),resubmit(,2)\n"
            + "table=2,priority=200,reg10=0x4000/0x4000,actions=resubmit(,4)\n"
            + "table=2,priority=100,tcp,tp_src=0/1,actions=load:0xa000002->NXM_NX_REG4[],learn(table=1," + learnTimeouts
            + ",eth_type=0x800,NXM_OF_IP_SRC[],ip_dst=10.0.0.50,nw_proto=6,tcp_dst=80,load:0x1->NXM_NX_REG10[14],"
            + "load:NXM_NX_REG4[]->NXM_NX_REG4[]),resubmit(,4)\n"
            + "table=2,priority=100,tcp,tp_src=1/1,actions=load:0xa000003->NXM_NX_REG4[],learn(table=1," + learnTimeouts
            + ",eth_type=0x800,NXM_OF_IP_SRC[],ip_dst=10.0.0.50,nw_proto=6,tcp_dst=80,load:0x1->NXM_NX_REG10[14],"
            + "load:NXM_NX_REG4[]->NXM_NX_REG4[]),resubmit(,4)\n"
            + "table=4,priority=100,tcp,reg4=0xa000002,actions=output:2\n"
            + "table=4,priority=100,tcp,reg4=0xa000003,actions=output:3\n";
        final List<FlowCaseGenerator.Packet> packets = new ArrayList<>();
        for (final Syn s : syns)
        {
            final byte[] tcp = PacketFactory.tcp(s.sport(), 80, 1000, 0, PacketFactory.TCP_SYN, new byte[0], new byte[0]);
            final byte[] ip = new PacketFactory.Ip4().src(0x0a000064 + s.client()).dst(0x0a000032)
                .build(PacketFactory.PROTO_TCP, tcp, PacketFactory.Checksum.CORRECT);
            packets.add(new FlowCaseGenerator.Packet(LearnOracleTest.BASE_NANOS + s.atNanos(),
                PacketFactory.ethernet(PacketFactory.mac("0a:00:00:00:01:01"), PacketFactory.mac("0a:00:00:00:00:fe"),
                    new int[0], PacketFactory.ETH_IPV4, ip), "SYN"));
        }
        final List<String> args = new FlowCaseGenerator.FlowCase("timeouts", flows,
            List.of(new FlowCaseGenerator.Input(1, packets)), List.of()).writeTo(dir);
        final Path out = dir.resolve("out");
        final List<String> replay = new ArrayList<>(args);
        replay.addAll(List.of("--out", out.toString()));
        final DifferentialOracleTest.JunctionRun run = DifferentialOracleTest.runJunction(replay,
            DifferentialOracleTest.SHARED_STATE_WORKERS);
        assertEquals(0, run.exitCode(), run.output());
        // Which backend port each source port reached.
        final Map<Integer, Integer> backendBySport = new LinkedHashMap<>();
        for (final int port : new int[] {2, 3})
        {
            final Path pcap = out.resolve(port + ".pcap");
            if (!Files.exists(pcap))
            {
                continue;
            }
            try (PcapReader r = PcapReader.open(pcap))
            {
                while (r.next())
                {
                    final byte[] f = r.frame();
                    backendBySport.put((f[34] & 0xff) << 8 | (f[35] & 0xff), port);
                }
            }
        }
        assertEquals(syns.size(), backendBySport.size(), "every SYN reaches a backend");
        return backendBySport;
    }

    @Test
    void idleTimerRunsFromTheLastPacket() throws Exception
    {
        final Map<Integer, Integer> to = replay("idle_timeout=10", List.of(
            new Syn(0, 0, 1000),          // even: backend 2, learned
            new Syn(8 * S, 0, 1001),      // 8 s idle: still pinned to 2 although odd
            new Syn(16 * S, 0, 1003),     // 8 s after the last packet (16 s after learning): still 2
            new Syn(30 * S, 0, 1005),     // 14 s idle: the learned flow expired, odd picks 3
            new Syn(31 * S, 0, 1006),     // pinned to 3 now although even
            new Syn(31 * S + 1, 1, 1007), // another client is independent: odd, 3
            new Syn(35 * S, 1, 1008)));   // pinned to 3
        assertEquals(2, to.get(1000));
        assertEquals(2, to.get(1001));
        assertEquals(2, to.get(1003));
        assertEquals(3, to.get(1005));
        assertEquals(3, to.get(1006));
        assertEquals(3, to.get(1007));
        assertEquals(3, to.get(1008));
    }

    @Test
    void hardTimeoutEndsAffinityWhateverTheTraffic() throws Exception
    {
        final Map<Integer, Integer> to = replay("idle_timeout=100,hard_timeout=10", List.of(
            new Syn(0, 0, 2000),         // even: 2, learned
            new Syn(4 * S, 0, 2001),     // pinned
            new Syn(8 * S, 0, 2003),     // pinned
            new Syn(12 * S, 0, 2005),    // 12 s after learning: hard timeout over, odd picks 3
            new Syn(13 * S, 0, 2006)));  // pinned to 3
        assertEquals(2, to.get(2000));
        assertEquals(2, to.get(2001));
        assertEquals(2, to.get(2003));
        assertEquals(3, to.get(2005));
        assertEquals(3, to.get(2006));
        final String stats = Files.readString(dir.resolve("out/flow-stats.txt"));
        assertTrue(stats.contains("table=1, n_packets=1, n_bytes=54, idle_timeout=100, hard_timeout=10, tcp,nw_src=10.0.0.100")
            && stats.contains("set_field:0xa000003->reg4"), "the relearned flow points at backend 3:\n" + stats);
    }
}
