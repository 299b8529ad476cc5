package dev.junction.geneve;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.PacketParser;
import dev.junction.flowtable.xlate.OdpActions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whatever arrives on the underlay (mutated and truncated tunnel packets, random bytes, ARP and
 * ND lookalikes), the receive side answers with a result code and never throws, never reads
 * outside the frame, and a packet it refuses is left as it was. Seeded; each seed 20,000 frames.
 */
class MalformedUnderlayTest
{
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void mutatedFramesGetAResultNeverAnException(final long seed)
    {
        final SplittableRandom r = new SplittableRandom(seed);
        final Underlay u = new Underlay(9, 0xaa55aa550001L).address(IpPrefix.parse("172.31.1.1/24"))
            .address(IpPrefix.parse("fd00:31::1/64")).neighbour(IpPrefix.address("172.31.1.2"), 0xaa55aa550002L)
            .neighbour(IpPrefix.address("fd00:31::2"), 0xaa55aa550002L);
        final Tunnels t = new Tunnels(u, new TlvMap().parse("{class=0x102,type=0x80,len=4}->tun_metadata0"), List.of(
            TunnelPort.of(10, TunnelType.GENEVE, null, true, 0, r.nextBoolean()),
            TunnelPort.of(11, TunnelType.VXLAN, IpPrefix.address("172.31.1.2"), true, 0, false)));
        final Decapsulator decap = new Decapsulator(t);
        final UnderlayArp arp = new UnderlayArp(u);
        final UnderlayNd nd = new UnderlayNd(u);
        final PacketParser parser = new PacketParser(1);
        final FlowKey key = new FlowKey();
        final Packet reply = new Packet(2048);
        final byte[][] seeds = {geneve(t, false), geneve(t, true), vxlan(t)};
        int accepted = 0;
        for (int i = 0; i < 20_000; i++)
        {
            final byte[] base = seeds[r.nextInt(seeds.length)];
            final byte[] f = java.util.Arrays.copyOf(base, r.nextInt(4) == 0 ? r.nextInt(base.length + 1) : base.length);
            final int flips = 1 + r.nextInt(4);
            for (int k = 0; k < flips && f.length > 0; k++)
            {
                // Mostly the headers (first 120 bytes), where the checks are.
                f[r.nextInt(Math.min(f.length, 120))] = (byte)r.nextInt(256);
            }
            if (r.nextInt(50) == 0)
            {
                r.nextBytes(f);
            }
            final Packet p = new Packet(2048);
            p.wrap(f, 0, f.length);
            p.inPort = 9;
            final int res = decap.decap(p);
            assertTrue(res == 10 || res == 11 || res == Decapsulator.NOT_TUNNEL || res == Decapsulator.MALFORMED
                || res == Decapsulator.NO_PORT || res == Decapsulator.CRITICAL_OPTION, "result " + res);
            if (res > 0)
            {
                accepted++;
                assertTrue(p.start >= Packet.HEADROOM && p.end() <= Packet.HEADROOM + f.length, "inner frame inside the outer");
                parser.parse(p, key);
                decap.copyTunnel(key);
            }
            else
            {
                assertTrue(p.start == Packet.HEADROOM && p.length == f.length, "a refused packet is left as it was");
                arp.receive(p, reply);
                nd.receive(p, reply);
            }
        }
        assertTrue(accepted > 100, "some mutations keep a valid packet (payload bytes): " + accepted);
    }

    private static byte[] geneve(final Tunnels t, final boolean v6)
    {
        return frame(t, 10, v6);
    }

    private static byte[] vxlan(final Tunnels t)
    {
        return frame(t, 11, false);
    }

    /** One of our own encapsulations turned around (addresses and MACs swapped): a valid packet for us. */
    private static byte[] frame(final Tunnels t, final int port, final boolean v6)
    {
        final FlowKey flow = new FlowKey();
        dev.junction.flowtable.Field.DL_TYPE.set(flow.words, 0x0800);
        dev.junction.flowtable.Field.TUN_ID.set(flow.words, 5);
        dev.junction.flowtable.Field.TUN_METADATA0.set(flow.words, 0x10002);
        flow.words[FlowKey.W_TUN_GBP] |= 1;
        if (v6)
        {
            flow.words[FlowKey.W_TUN_IPV6_DST] = 0xfd00003100000000L;
            flow.words[FlowKey.W_TUN_IPV6_DST + 1] = 2;
        }
        else
        {
            dev.junction.flowtable.Field.TUN_DST.set(flow.words, 0xac1f0102L);
        }
        final OdpActions acts = new OdpActions();
        if (t.push(port, flow, new long[FlowKey.WORDS], acts) != null)
        {
            throw new IllegalStateException("no push");
        }
        final byte[] inner = new byte[60];
        inner[12] = 0x08;
        inner[14] = 0x45;
        final Packet in = new Packet(2048);
        in.wrap(inner, 0, inner.length);
        final Packet out = new Packet(2048);
        Encapsulator.push(in, out, acts, 0, 1);
        final byte[] f = java.util.Arrays.copyOfRange(out.buf, out.start, out.end());
        for (int i = 0; i < 6; i++)
        {
            final byte x = f[i];
            f[i] = f[6 + i];
            f[6 + i] = x;
        }
        final int a = v6 ? 22 : 26;
        final int n = v6 ? 16 : 4;
        for (int i = 0; i < n; i++)
        {
            final byte x = f[a + i];
            f[a + i] = f[a + n + i];
            f[a + n + i] = x;
        }
        return f;
    }
}
