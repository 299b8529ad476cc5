package dev.junction.geneve;

import dev.junction.flowtable.Field;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.PacketParser;
import dev.junction.flowtable.xlate.OdpActions;
import dev.junction.flowtable.xlate.OvsHash;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Encapsulation and decapsulation round trips, the receive checks (each malformed variant is
 * refused with its reason and leaves the packet untouched), the TLV map's limits, and the
 * entropy source port against values a real OVS 3.1 emitted.
 */
class GeneveCodecTest
{
    private static final long LOCAL_MAC = 0xaa55aa550001L;
    private static final long REMOTE_MAC = 0xaa55aa550002L;

    private static Tunnels tunnels(final boolean csum, final boolean v6)
    {
        final Underlay u = new Underlay(9, LOCAL_MAC)
            .address(IpPrefix.parse("172.31.1.1/24")).address(IpPrefix.parse("fd00:31::1/64"))
            .neighbour(IpPrefix.address("172.31.1.2"), REMOTE_MAC).neighbour(IpPrefix.address("fd00:31::2"), REMOTE_MAC);
        final TlvMap tlv = new TlvMap().parse("{class=0x102,type=0x80,len=4}->tun_metadata0");
        return new Tunnels(u, tlv, List.of(
            TunnelPort.of(10, TunnelType.GENEVE, IpPrefix.address(v6 ? "fd00:31::2" : "172.31.1.2"), true, 0, csum),
            TunnelPort.of(11, TunnelType.VXLAN, IpPrefix.address("172.31.1.2"), false, 77, false)));
    }

    private static byte[] innerUdp(final int len, final SplittableRandom r)
    {
        final byte[] f = new byte[Math.max(len, 42)];
        r.nextBytes(f);
        final byte[] hdr = {0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 8, 0, 0x45, 0};
        System.arraycopy(hdr, 0, f, 0, hdr.length);
        final int ipLen = f.length - 14;
        f[16] = (byte)(ipLen >>> 8);
        f[17] = (byte)ipLen;
        f[20] = 0;
        f[21] = 0;
        f[22] = 64;
        f[23] = 17;
        f[24] = 0;
        f[25] = 0;
        final int c = ~Encapsulator.fold(Encapsulator.sum(f, 14, 20, 0)) & 0xffff;
        f[24] = (byte)(c >>> 8);
        f[25] = (byte)c;
        final int udpLen = ipLen - 20;
        f[38] = (byte)(udpLen >>> 8);
        f[39] = (byte)udpLen;
        f[40] = 0;
        f[41] = 0; // UDP checksum 0: valid over IPv4
        return f;
    }

    private static Packet packet(final byte[] frame, final int port)
    {
        final Packet p = new Packet(2048);
        p.wrap(frame, 0, frame.length);
        p.inPort = port;
        return p;
    }

    private static OdpActions push(final Tunnels t, final int port, final long vni, final long md0)
    {
        final FlowKey flow = new FlowKey();
        Field.DL_TYPE.set(flow.words, 0x0800);
        Field.TUN_ID.set(flow.words, vni);
        Field.TUN_METADATA0.set(flow.words, md0);
        flow.words[FlowKey.W_TUN_GBP] |= 1;
        final OdpActions out = new OdpActions();
        assertNull(t.push(port, flow, new long[FlowKey.WORDS], out));
        return out;
    }

    @ParameterizedTest
    @CsvSource({"64,false,false", "1400,false,false", "64,true,false", "1400,true,false", "64,false,true", "1400,true,true"})
    void encapThenDecapGivesTheInnerFrameAndMetadataBack(final int len, final boolean csum, final boolean v6)
    {
        final SplittableRandom r = new SplittableRandom(len * 31L + (csum ? 1 : 0));
        final Tunnels t = tunnels(csum, v6);
        final byte[] inner = innerUdp(len, r);
        final OdpActions acts = push(t, 10, 0x5, 0x10002);
        final Packet out = new Packet(2048);
        final int total = Encapsulator.push(packet(inner, 1), out, acts, 0, 0x12345678);
        assertEquals(inner.length + Encapsulator.headerLength(acts, 0), total);
        // Every checksum of the outer headers verifies on its own (IPv4 header, UDP when present).
        final int ip = out.start + 14;
        if (!v6)
        {
            assertEquals(0xffff, Encapsulator.fold(Encapsulator.sum(out.buf, ip, 20, 0)));
        }
        final int udp = out.l4;
        final int udpLen = (out.buf[udp + 4] & 0xff) << 8 | (out.buf[udp + 5] & 0xff);
        assertEquals(out.end() - udp, udpLen);
        assertEquals(Tunnels.sourcePort(0x12345678), (out.buf[udp] & 0xff) << 8 | (out.buf[udp + 1] & 0xff));
        if (csum || v6)
        {
            long sum = v6 ? Encapsulator.sum(out.buf, ip + 8, 32, 0) : Encapsulator.sum(out.buf, ip + 12, 8, 0);
            assertEquals(0xffff, Encapsulator.fold(Encapsulator.sum(out.buf, udp, udpLen, sum + 17 + udpLen)));
        }
        // The other side: our packet, addressed to us, comes back to tunnel port 10 intact.
        final Tunnels far = tunnels(csum, v6);
        final byte[] wire = java.util.Arrays.copyOfRange(out.buf, out.start, out.end());
        final Packet in = packet(wire, 9);
        // Swap addresses so the packet is addressed to the tunnel's local endpoint from its remote one.
        swapEndpoints(in, v6);
        final Decapsulator d = new Decapsulator(far);
        assertEquals(10, d.decap(in));
        assertEquals(inner.length, in.length);
        assertTrue(java.util.Arrays.equals(inner, java.util.Arrays.copyOfRange(in.buf, in.start, in.end())));
        final FlowKey key = new FlowKey();
        new PacketParser(1).parse(in, key);
        d.copyTunnel(key);
        assertEquals(0x5, Field.TUN_ID.get(key.words));
        assertEquals(0x10002, Field.TUN_METADATA0.get(key.words));
        assertEquals(1, key.words[FlowKey.W_TUN_GBP] & Field.TUN_PRESENT_MASK);
        assertEquals(10, key.inPort());
        assertTrue(FlowKey.hasTunnel(key.words));
    }

    /** Turns our outgoing packet into one arriving from the remote: swap MACs and IP addresses, fix checksums. */
    private static void swapEndpoints(final Packet p, final boolean v6)
    {
        final byte[] b = p.buf;
        final int s = p.start;
        for (int i = 0; i < 6; i++)
        {
            final byte x = b[s + i];
            b[s + i] = b[s + 6 + i];
            b[s + 6 + i] = x;
        }
        final int ip = s + 14;
        final int a = v6 ? ip + 8 : ip + 12;
        final int n = v6 ? 16 : 4;
        for (int i = 0; i < n; i++)
        {
            final byte x = b[a + i];
            b[a + i] = b[a + n + i];
            b[a + n + i] = x;
        }
        // Swapping the two addresses changes neither checksum: both sum the same words.
    }

    private Packet encapsulated(final Tunnels t, final int port)
    {
        final OdpActions acts = push(t, port, 0x5, 0x10002);
        final Packet out = new Packet(2048);
        Encapsulator.push(packet(innerUdp(100, new SplittableRandom(1)), 1), out, acts, 0, 7);
        final Packet in = packet(java.util.Arrays.copyOfRange(out.buf, out.start, out.end()), 9);
        swapEndpoints(in, false);
        return in;
    }

    @Test
    void malformedTunnelPacketsAreRefusedWithTheirReason()
    {
        final Tunnels t = tunnels(true, false);
        final int geneve = 14 + 20 + 8;
        // Geneve version 1.
        Packet p = encapsulated(t, 10);
        p.buf[p.start + geneve] |= 0x40;
        fixUdpChecksum(p);
        assertEquals(Decapsulator.MALFORMED, new Decapsulator(t).decap(p));
        // A protocol other than Ethernet.
        p = encapsulated(t, 10);
        p.buf[p.start + geneve + 2] = 0x08;
        p.buf[p.start + geneve + 3] = 0x00;
        fixUdpChecksum(p);
        assertEquals(Decapsulator.MALFORMED, new Decapsulator(t).decap(p));
        // A corrupted payload: the UDP checksum no longer verifies.
        p = encapsulated(t, 10);
        p.buf[p.end() - 1] ^= 0x5a;
        assertEquals(Decapsulator.MALFORMED, new Decapsulator(t).decap(p));
        // An unknown critical option (type 0x81, class 0x103).
        p = encapsulated(t, 10);
        p.buf[p.start + geneve + 8 + 1] = 0x03;
        p.buf[p.start + geneve + 8 + 2] = (byte)0x81;
        fixUdpChecksum(p);
        assertEquals(Decapsulator.CRITICAL_OPTION, new Decapsulator(t).decap(p));
        // The same option, not critical: ignored, the packet is accepted without tun_metadata0.
        p = encapsulated(t, 10);
        p.buf[p.start + geneve + 8 + 1] = 0x03;
        p.buf[p.start + geneve + 8 + 2] = 0x01;
        fixUdpChecksum(p);
        final Decapsulator d = new Decapsulator(t);
        assertEquals(10, d.decap(p));
        final FlowKey k = new FlowKey();
        d.copyTunnel(k);
        assertEquals(0, k.words[FlowKey.W_TUN_GBP] & Field.TUN_PRESENT_MASK);
        // Truncated options: the option length runs past the packet's Geneve header.
        p = encapsulated(t, 10);
        p.buf[p.start + geneve] = 0x3f;
        fixUdpChecksum(p);
        assertEquals(Decapsulator.MALFORMED, new Decapsulator(t).decap(p));
        // Not for our MAC, or not for our address: not a tunnel packet at all.
        p = encapsulated(t, 10);
        p.buf[p.start + 5] ^= 1;
        assertEquals(Decapsulator.NOT_TUNNEL, new Decapsulator(t).decap(p));
        // From an address no tunnel port has as its remote.
        p = encapsulated(t, 10);
        p.buf[p.start + 14 + 15] = 9;
        fixIpChecksum(p);
        fixUdpChecksum(p);
        assertEquals(Decapsulator.NO_PORT, new Decapsulator(t).decap(p));
        // A truncated frame.
        p = encapsulated(t, 10);
        p.length = 14 + 20 + 4;
        assertEquals(Decapsulator.NOT_TUNNEL, new Decapsulator(t).decap(p));
    }

    @Test
    void vxlanNeedsExactlyTheIFlagAndItsKey()
    {
        final Tunnels t = tunnels(false, false);
        final int vx = 14 + 20 + 8;
        Packet p = encapsulated(t, 11);
        assertEquals(11, new Decapsulator(t).decap(p));
        p = encapsulated(t, 11);
        p.buf[p.start + vx] = 0x0c;
        assertEquals(Decapsulator.MALFORMED, new Decapsulator(t).decap(p));
        p = encapsulated(t, 11);
        p.buf[p.start + vx + 6] = 78; // VNI 78, the port wants 77
        assertEquals(Decapsulator.NO_PORT, new Decapsulator(t).decap(p));
    }

    private static void fixIpChecksum(final Packet p)
    {
        final int ip = p.start + 14;
        p.buf[ip + 10] = 0;
        p.buf[ip + 11] = 0;
        final int c = ~Encapsulator.fold(Encapsulator.sum(p.buf, ip, 20, 0)) & 0xffff;
        p.buf[ip + 10] = (byte)(c >>> 8);
        p.buf[ip + 11] = (byte)c;
    }

    private static void fixUdpChecksum(final Packet p)
    {
        final int ip = p.start + 14;
        final int udp = ip + 20;
        final int len = p.end() - udp;
        p.buf[udp + 6] = 0;
        p.buf[udp + 7] = 0;
        final long sum = Encapsulator.sum(p.buf, ip + 12, 8, 0) + 17 + len;
        final int c = ~Encapsulator.fold(Encapsulator.sum(p.buf, udp, len, sum)) & 0xffff;
        p.buf[udp + 6] = (byte)(c >>> 8);
        p.buf[udp + 7] = (byte)c;
    }

    @Test
    void tlvMapRefusesWhatJunctionCannotHold()
    {
        final TlvMap m = new TlvMap().parse("{class=0x102,type=0x80,len=4}->tun_metadata0,{class=0xffff,type=1,len=8}->tun_metadata7");
        assertEquals(0, m.slotFor(0x102, 0x80));
        assertEquals(1, m.slotFor(0xffff, 1), "tun_metadata7 is the second mapped field: slot 1");
        assertEquals(-1, m.slotFor(0x102, 0x81));
        assertThrows(IllegalArgumentException.class, () -> new TlvMap().parse("{class=0x102,type=0x80,len=4}->tun_metadata64"));
        assertThrows(IllegalArgumentException.class, () -> new TlvMap().parse("{class=0x102,type=0x80,len=12}->tun_metadata0"));
        assertThrows(IllegalArgumentException.class, () -> new TlvMap().parse("{class=0x102,type=0x80,len=3}->tun_metadata0"));
        assertThrows(IllegalArgumentException.class, () -> m.add(0x102, 0x80, 4, 1));
        assertThrows(IllegalArgumentException.class, () -> new TlvMap().parse("{class=0x102,len=4}->tun_metadata0"));
        assertThrows(IllegalArgumentException.class, () -> new TlvMap().parse("class=0x102,type=0x80,len=4->tun_metadata0"));
    }

    @Test
    void tlvMapGivesAnyOfTheSixtyFourFieldsASlotInFieldOrder()
    {
        final TlvMap m = new TlvMap().parse("{class=0xffff,type=1,len=8}->tun_metadata63,"
            + "{class=0x102,type=0x80,len=4}->tun_metadata13");
        assertEquals(0, m.slotFor(0x102, 0x80), "tun_metadata13 comes first: slots follow field order");
        assertEquals(1, m.slotFor(0xffff, 1));
        assertEquals(4, m.length(0));
        assertEquals(8, m.length(1));
        assertEquals(13, m.slots().field(0));
        assertEquals(63, m.slots().field(1));
        assertEquals(-1, m.slots().slot(0));
        final TlvMap full = new TlvMap();
        for (int i = 0; i < 8; i++)
        {
            full.add(0x200, i, 4, 8 * i);
        }
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> full.add(0x200, 9, 4, 63));
        assertTrue(ex.getMessage().contains("at most 8 fields"), ex.getMessage());
    }

    /**
     * The UDP source port OVS 3.1 chose for these inner packets (observed through the tunnel
     * oracle): miniflow_hash_5tuple of the inner packet, scaled into [32768, 61000).
     */
    @ParameterizedTest
    @CsvSource({"6,1234,80,33723", "17,5000,53,34607"})
    void sourcePortIsOvsEntropyPort(final int proto, final int sport, final int dport, final int expected)
    {
        final FlowKey k = new FlowKey();
        Field.DL_TYPE.set(k.words, 0x0800);
        Field.NW_SRC.set(k.words, 0x0a000001);
        Field.NW_DST.set(k.words, 0x0a000002);
        Field.NW_PROTO.set(k.words, proto);
        Field.TP_SRC.set(k.words, sport);
        Field.TP_DST.set(k.words, dport);
        assertEquals(expected, Tunnels.sourcePort(OvsHash.fiveTuple(k, 0)));
    }

    @Test
    void unresolvedNextHopIsReportedAndQueuedForArp()
    {
        final Underlay u = new Underlay(9, LOCAL_MAC).address(IpPrefix.parse("172.31.1.1/24"))
            .route(IpPrefix.parse("10.9.0.0/16"), IpPrefix.address("172.31.1.254"));
        final Tunnels t = new Tunnels(u, new TlvMap(), List.of(TunnelPort.of(11, TunnelType.GENEVE, null, true, 0, false)));
        final FlowKey flow = new FlowKey();
        Field.TUN_DST.set(flow.words, 0x0a090304); // 10.9.3.4, via the gateway
        final String why = t.push(11, flow, new long[FlowKey.WORDS], new OdpActions());
        assertTrue(why != null && why.contains("172.31.1.254"), why);
        final byte[][] pending = t.pollResolution();
        assertEquals("172.31.1.1", IpPrefix.ip(pending[0]));
        assertEquals("172.31.1.254", IpPrefix.ip(pending[1]));
        assertNull(t.pollResolution());
        Field.TUN_DST.set(flow.words, 0);
        assertTrue(t.push(11, flow, new long[FlowKey.WORDS], new OdpActions()).contains("no tun_dst"));
        Field.TUN_DST.set(flow.words, 0x0b000001);
        assertTrue(t.push(11, flow, new long[FlowKey.WORDS], new OdpActions()).contains("no route"));
    }
}
