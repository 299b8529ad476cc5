package dev.junction.flowtable;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HexFormat;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PacketParserTest
{
    private static final String ETH = "020000000002" + "020000000001";
    private static final String TCP_SYN_IPV4 = ETH + "0800" + "45000028000040004006f9c80a0000010a000002"
        + "04d20050000000010000000050020000e3880000";

    private static FlowKey parse(final String hex, final Packet p)
    {
        final byte[] b = HexFormat.of().parseHex(hex);
        p.wrap(b, 0, b.length);
        p.inPort = 7;
        final FlowKey k = new FlowKey();
        new PacketParser().parse(p, k);
        return k;
    }

    @Test
    void tcpOverIpv4() 
    {
        final Packet p = new Packet(128);
        final FlowKey k = parse(TCP_SYN_IPV4, p);
        assertEquals(7, k.inPort());
        assertEquals(0x0800, k.dlType());
        assertEquals(0x0a000001L, k.get(Field.NW_SRC));
        assertEquals(0x0a000002L, k.get(Field.NW_DST));
        assertEquals(6, k.nwProto());
        assertEquals(64, k.nwTtl());
        assertEquals(1234, k.get(Field.TP_SRC));
        assertEquals(80, k.get(Field.TP_DST));
        assertEquals(0x002, k.get(Field.TCP_FLAGS));
        assertEquals(p.start + 14, p.l3);
        assertEquals(p.start + 34, p.l4);
    }

    @Test
    void truncatedTcpKeepsL3AndLeavesPortsZero()
    {
        // IP total length says 40 but only 30 bytes are there: OVS's sanity check stops at L3.
        final Packet p = new Packet(128);
        final FlowKey k = parse(TCP_SYN_IPV4.substring(0, (14 + 30) * 2), p);
        assertEquals(0x0800, k.dlType());
        assertEquals(0, k.get(Field.NW_SRC));
        assertEquals(0, k.nwProto());
        assertEquals(-1, p.l4);
    }

    @Test
    void laterFragmentHasNoPorts()
    {
        final String frag = ETH + "0800" + "45000028000000104006f9c80a0000010a000002" + "04d20050000000010000000050020000e3880000";
        final FlowKey k = parse(frag, new Packet(128));
        assertEquals(FlowKey.FRAG_ANY | FlowKey.FRAG_LATER, k.nwFrag());
        assertEquals(0, k.get(Field.TP_SRC));
    }

    @Test
    void qinqParsesOnlyTheOuterTagByDefault()
    {
        final String qinq = ETH + "88a8" + "0064" + "8100" + "00c8" + "0800" + "45000014000000004006f9c80a0000010a000002";
        final FlowKey k = parse(qinq, new Packet(128));
        assertEquals(0x88a8, k.vlanTpid(0));
        assertEquals(0x1064, k.vlanTci(0));
        assertEquals(0x8100, k.dlType());
    }

    @ParameterizedTest
    @ValueSource(longs = {1L, 2L, 3L, 42L})
    void randomAndTruncatedFramesNeverThrow(final long seed)
    {
        final SplittableRandom rnd = new SplittableRandom(seed);
        final PacketParser parser = new PacketParser(2);
        final FlowKey k = new FlowKey();
        final Packet p = new Packet(256);
        final byte[] base = HexFormat.of().parseHex(TCP_SYN_IPV4);
        for (int i = 0; i < 20_000; i++)
        {
            final byte[] b = rnd.nextBoolean() ? base.clone() : new byte[rnd.nextInt(200)];
            for (int j = 0; j < b.length; j++)
            {
                if (rnd.nextInt(8) == 0)
                {
                    b[j] = (byte)rnd.nextInt(256);
                }
            }
            final int len = rnd.nextInt(b.length + 1);
            p.wrap(b, 0, len);
            parser.parse(p, k);
            assertEquals(true, p.l4 <= p.end() && p.l3 <= p.end());
        }
    }
}
