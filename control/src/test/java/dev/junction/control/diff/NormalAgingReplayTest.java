package dev.junction.control.diff;

import dev.junction.datapath.pcap.PcapReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * NORMAL's MAC aging in pcap time (300 s, OVS's default mac-aging-time): a host whose packets
 * only hit a megaflow stays learned (its megaflow refreshes the entry, as OVS's xlate cache does),
 * a host silent for longer than the aging time is forgotten and traffic to it floods again. The
 * OVS oracle runs on wall-clock time, so this follows OVS's documented semantics instead.
 */
class NormalAgingReplayTest
{
    private static final long S = 1_000_000_000L;
    private static final byte[] A = PacketFactory.mac("02:00:00:00:00:0a");
    private static final byte[] B = PacketFactory.mac("02:00:00:00:00:0b");
    private static final byte[] C = PacketFactory.mac("02:00:00:00:00:0c");

    @TempDir
    Path dir;

    private static FlowCaseGenerator.Packet frame(final long at, final byte[] dst, final byte[] src, final int tag)
    {
        final byte[] udp = PacketFactory.udp(1000 + tag, 53, new byte[8]);
        final byte[] ip = new PacketFactory.Ip4().src(0x0a000001).dst(0x0a000002)
            .build(PacketFactory.PROTO_UDP, udp, PacketFactory.Checksum.CORRECT);
        return new FlowCaseGenerator.Packet(LearnOracleTest.BASE_NANOS + at,
            PacketFactory.ethernet(dst, src, new int[0], PacketFactory.ETH_IPV4, ip), "");
    }

    /** UDP source ports (the packets' tags) that left through {@code port}. */
    private List<Integer> tagsOut(final Path out, final int port) throws Exception
    {
        final List<Integer> tags = new ArrayList<>();
        final Path pcap = out.resolve(port + ".pcap");
        if (Files.exists(pcap))
        {
            try (PcapReader r = PcapReader.open(pcap))
            {
                while (r.next())
                {
                    final byte[] f = r.frame();
                    tags.add(((f[34] & 0xff) << 8 | (f[35] & 0xff)) - 1000);
                }
            }
        }
        return tags;
    }

    @Test
    void megaflowHitsKeepAHostLearnedAndSilentHostsAgeOut() throws Exception
    {
        // A on port 1, B on port 2, C on port 3. A talks to B once a second for 400 s; B only
        // answers at the start.
        final List<FlowCaseGenerator.Packet> port1 = new ArrayList<>();
        final List<FlowCaseGenerator.Packet> port2 = new ArrayList<>();
        final List<FlowCaseGenerator.Packet> port3 = new ArrayList<>();
        port1.add(frame(0, PacketFactory.BROADCAST, A, 1));        // A announces: flooded to 2, 3, 4
        port2.add(frame(S / 2, A, B, 2));                          // B to A: A known, unicast to 1; B learned
        for (int i = 1; i <= 400; i++)
        {
            port1.add(frame(i * S, B, A, 100));                     // A to B: unicast to 2 while B is known
        }
        port3.add(frame(401 * S, A, C, 3));                        // C to A at 401 s: A still known -> port 1 only
        final List<String> args = new FlowCaseGenerator.FlowCase("aging", "actions=NORMAL\n", List.of(
            new FlowCaseGenerator.Input(1, port1), new FlowCaseGenerator.Input(2, port2),
            new FlowCaseGenerator.Input(3, port3)), List.of()).writeTo(dir);
        final Path out = dir.resolve("out");
        final List<String> replay = new ArrayList<>(args);
        replay.addAll(List.of("--out", out.toString()));
        final DifferentialOracleTest.JunctionRun run = DifferentialOracleTest.runJunction(replay,
            DifferentialOracleTest.SHARED_STATE_WORKERS);
        assertEquals(0, run.exitCode(), run.output());
        // A stayed learned through its megaflow's hits: C's packet goes to port 1 alone.
        assertEquals(List.of(2, 3), tagsOut(out, 1));
        assertEquals(false, tagsOut(out, 4).contains(3), "C's packet to A must not flood: A is still learned");
        // B fell silent at 0.5 s: aged out 300 s later, A's packets to it flood from then on.
        final List<Integer> toB = tagsOut(out, 2);
        final List<Integer> flooded = tagsOut(out, 4);
        assertEquals(1, flooded.get(0), "A's announcement floods");
        final long unicastToB = toB.stream().filter(t -> t == 100).count();
        final long floodedToB = flooded.stream().filter(t -> t == 100).count();
        assertEquals(400, unicastToB, "every packet to B reaches port 2");
        // 1..300 s unicast (B young), 301..400 s flooded: B aged out at 300.5 s, noticed by the
        // once-a-second housekeeping at the 301 s packet.
        assertEquals(100, floodedToB, "packets to B flooded after it aged out");
    }
}
