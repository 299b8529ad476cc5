package dev.junction.datapath;

import dev.junction.datapath.cache.CacheConfig;
import dev.junction.datapath.pipeline.TestFrames;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.ofp.FlowTables;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Controller actions with and without a packet-in handler: what the handler gets (the packet as
 * rewritten so far, in_port, reason, cookie, table, userdata), that packet-outs leave after the
 * packet's own outputs and never re-enter the tables, the bounded packet-out queue, and drop
 * accounting (output and sent to the controller is no drop).
 */
class PacketInTest
{
    private final List<Integer> ports = new ArrayList<>();
    private final List<byte[]> frames = new ArrayList<>();

    private Datapath datapath(final String... flows)
    {
        final FlowTables tables = TestFrames.tables(flows);
        return new Datapath(new Bridge(tables), new int[] {1, 2, 3}, (port, p) ->
        {
            ports.add(port);
            frames.add(Arrays.copyOfRange(p.buf, p.start, p.end()));
        }, Datapath.DEFAULT_MTU, 1, CacheConfig.DEFAULTS, () -> 0L).packetTime(true);
    }

    private static Packet udp(final int inPort, final int seq)
    {
        final byte[] f = TestFrames.frame(0, seq); // IPv4 UDP
        final Packet p = new Packet(f.length);
        p.wrap(f, 0, f.length);
        p.inPort = inPort;
        p.timestampNanos = 1_000_000_000L + seq;
        return p;
    }

    @Test
    void handlerGetsThePacketAsRewrittenAndItsRuleAndAnswersAfterTheOutputs()
    {
        final Datapath dp = datapath(
            "table=0,udp,actions=mod_nw_dst:10.0.0.9,resubmit(,4)",
            "table=4,cookie=0x77,udp,actions=controller(reason=no_match,id=3,userdata=01.02.ab),output:2");
        final List<PacketIn> got = new ArrayList<>();
        dp.packetInHandler((pin, out) ->
        {
            got.add(pin);
            final byte[] answer = pin.frame().clone();
            answer[0] = 0x42;
            out.send(pin.inPort(), answer);
        });
        // Twice: the second packet hits the megaflow, and must reach the handler all the same.
        for (int seq = 0; seq < 2; seq++)
        {
            dp.receive(udp(1, seq), null);
        }
        assertEquals(2, got.size());
        final PacketIn pin = got.get(0);
        assertEquals(1, pin.inPort());
        assertEquals(0, pin.reason());
        assertEquals(0x77, pin.cookie());
        assertEquals(4, pin.table());
        assertEquals(3, pin.controllerId());
        assertArrayEquals(new byte[] {1, 2, (byte)0xab}, pin.userdata());
        assertEquals(pin.frame().length, pin.totalLength());
        // The rewrite before the controller action is in the packet-in (IPv4 dst at 14 + 16).
        assertArrayEquals(new byte[] {10, 0, 0, 9}, Arrays.copyOfRange(pin.frame(), 30, 34));
        assertEquals(1, dp.megaflowHits() + dp.emcHits(), "the second packet came from the cache");
        // Each packet: its own output on 2, then the handler's answer on the in_port, untranslated.
        assertEquals(List.of(2, 1, 2, 1), ports);
        assertEquals(0x42, frames.get(1)[0]);
        assertEquals(2, dp.packetIns());
        assertEquals(0, dp.drops(DropReason.CONTROLLER) + dp.drops(DropReason.NO_OUTPUT));
    }

    @Test
    void withoutHandlerOnlyAPacketThatWentNowhereElseIsAControllerDrop()
    {
        final Datapath dp = datapath(
            "table=0,priority=10,udp,in_port=1,actions=controller,output:2",
            "table=0,priority=5,udp,actions=controller");
        dp.receive(udp(1, 0), null);
        assertEquals(0, dp.drops(DropReason.CONTROLLER), "output and sent to the controller is no drop");
        assertEquals(List.of(2), ports);
        dp.receive(udp(3, 1), null);
        assertEquals(1, dp.drops(DropReason.CONTROLLER));
        assertEquals(0, dp.drops(DropReason.NO_OUTPUT));
        assertEquals(0, dp.packetIns());
    }

    @Test
    void packetInTakenByTheHandlerIsNoDropAndMaxLenTruncates()
    {
        final Datapath dp = datapath("table=0,udp,actions=controller:20");
        final List<PacketIn> got = new ArrayList<>();
        dp.packetInHandler((pin, out) -> got.add(pin));
        final Packet p = udp(1, 0);
        final int length = p.length;
        dp.receive(p, null);
        assertEquals(20, got.get(0).frame().length);
        assertEquals(length, got.get(0).totalLength());
        assertEquals(1, got.get(0).reason(), "reason action");
        assertEquals(0, dp.drops(DropReason.CONTROLLER) + dp.drops(DropReason.NO_OUTPUT));
        assertEquals(List.of(), ports);
    }

    @Test
    void packetOutsBeyondTheQueueAreCountedDrops()
    {
        final Datapath dp = datapath("table=0,udp,actions=controller");
        dp.packetInHandler((pin, out) ->
        {
            for (int i = 0; i < Datapath.PACKET_OUT_QUEUE + 4; i++)
            {
                out.send(3, pin.frame());
            }
        });
        dp.receive(udp(1, 0), null);
        assertEquals(Datapath.PACKET_OUT_QUEUE, ports.size());
        assertEquals(4, dp.drops(DropReason.PACKET_OUT_OVERFLOW));
        // The queue is empty again for the next packet.
        dp.receive(udp(1, 1), null);
        assertEquals(2 * Datapath.PACKET_OUT_QUEUE, ports.size());
        assertEquals(8, dp.drops(DropReason.PACKET_OUT_OVERFLOW));
    }

    @Test
    void aThrowingHandlerCostsOnlyItsPacketIn()
    {
        final Datapath dp = datapath("table=0,udp,actions=controller,output:2");
        dp.packetInHandler((pin, out) ->
        {
            throw new IllegalStateException("handler bug");
        });
        dp.receive(udp(1, 0), null);
        assertEquals(List.of(2), ports);
        assertEquals(1, dp.packetInErrors());
    }
}
