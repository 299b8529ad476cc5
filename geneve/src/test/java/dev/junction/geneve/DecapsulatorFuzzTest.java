package dev.junction.geneve;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.PacketParser;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Decapsulator#decap} on arbitrary frames arriving at the underlay port of a configured
 * node (IPv4 and IPv6 local endpoints, a Geneve port with a flow remote, a VXLAN port with a
 * fixed one, a TLV map with a 4- and an 8-byte option): it never throws and answers a tunnel
 * port or one of its result codes. An accepted packet's inner frame lies inside the outer one;
 * a refused packet is left as it was. Refused frames then go to the underlay's ARP and ND
 * responders, as the datapath does. The buffer ends where the frame ends, so an over-read throws.
 *
 * <p>Seeds: {@code src/test/resources/dev/junction/geneve/DecapsulatorFuzzTestInputs/decap/}.
 */
class DecapsulatorFuzzTest
{
    private static final int GENEVE_PORT = 10;
    private static final int VXLAN_PORT = 11;

    private final Underlay underlay = new Underlay(9, 0xaa55aa550001L).address(IpPrefix.parse("172.31.1.1/24"))
        .address(IpPrefix.parse("fd00:31::1/64")).neighbour(IpPrefix.address("172.31.1.2"), 0xaa55aa550002L);
    private final Tunnels tunnels = new Tunnels(underlay,
        new TlvMap().parse("{class=0x102,type=0x80,len=4}->tun_metadata0").parse("{class=0xffff,type=0x01,len=8}->tun_metadata1"),
        List.of(TunnelPort.of(GENEVE_PORT, TunnelType.GENEVE, null, true, 0, true),
            TunnelPort.of(VXLAN_PORT, TunnelType.VXLAN, IpPrefix.address("172.31.1.2"), true, 0, false)));
    private final Decapsulator decap = new Decapsulator(tunnels);
    private final UnderlayArp arp = new UnderlayArp(underlay);
    private final UnderlayNd nd = new UnderlayNd(underlay);
    private final Packet reply = new Packet(2048);
    private final FlowKey key = new FlowKey();

    @FuzzTest(maxDuration = "15s")
    void decap(final byte[] frame)
    {
        final Packet p = new Packet(frame.length);
        p.wrap(frame, 0, frame.length);
        p.inPort = underlay.port;
        final int res = decap.decap(p);
        assertTrue(res == GENEVE_PORT || res == VXLAN_PORT || res == Decapsulator.NOT_TUNNEL
            || res == Decapsulator.MALFORMED || res == Decapsulator.NO_PORT || res == Decapsulator.CRITICAL_OPTION,
            "result " + res);
        if (res > 0)
        {
            assertEquals(res, p.inPort);
            assertTrue(p.length >= 14 && p.start >= Packet.HEADROOM && p.end() <= Packet.HEADROOM + frame.length,
                "inner frame " + p.start + "+" + p.length + " outside the outer");
            new PacketParser(1).parse(p, key);
            decap.copyTunnel(key);
        }
        else
        {
            assertTrue(p.start == Packet.HEADROOM && p.length == frame.length, "a refused packet is left as it was");
            assertArrayEquals(frame, Arrays.copyOfRange(p.buf, p.start, p.end()));
            if (res == Decapsulator.NO_PORT)
            {
                decap.snoopOuterSource();
            }
            arp.receive(p, reply);
            nd.receive(p, reply);
        }
    }
}
