package dev.junction.flowtable;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HexFormat;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The exact-match cache stores and compares only the words {@link KeyHash#shape} lists, which is
 * right only if no parsed key ever has a non-zero word outside its shape. Checked on seeded
 * random mutations and truncations of every frame kind the parser knows.
 */
class KeyShapeTest
{
    private static final String ETH = "020000000002" + "020000000001";
    private static final String[] FRAMES = {
        // IPv4 TCP, UDP, ICMP
        ETH + "0800" + "45000028000040004006f9c80a0000010a000002" + "04d20050000000010000000050020000e3880000",
        ETH + "0800" + "4500001c000040004011f9c80a0000010a000002" + "04d200350008abcd",
        ETH + "0800" + "4500001c000040004001f9c80a0000010a000002" + "0800f7ff00000000",
        // 802.1Q and QinQ around IPv4 UDP
        "020000000002020000000001" + "8100" + "0064" + "0800" + "4500001c000040004011f9c80a0000010a000002" + "04d200350008abcd",
        "020000000002020000000001" + "88a8" + "0064" + "8100" + "00c8" + "0800"
            + "4500001c000040004011f9c80a0000010a000002" + "04d200350008abcd",
        // IPv6 TCP, a fragment header, ICMPv6 neighbour solicitation with a source link-layer option
        ETH + "86dd" + "6000000000140640" + "fd000000000000000000000000000001" + "fd000000000000000000000000000002"
            + "04d20050000000010000000050020000e3880000",
        ETH + "86dd" + "60000000001c2c40" + "fd000000000000000000000000000001" + "fd000000000000000000000000000002"
            + "1100000100000001" + "04d200350008abcd" + "04d200350008abcd",
        ETH + "86dd" + "6000000000203aff" + "fe800000000000000000000000000001" + "ff020000000000000000000000000002"
            + "87000000" + "00000000" + "fd000000000000000000000000000002" + "0101020000000001",
        // ARP request, RARP, LLC/SNAP IPv4, plain 802.3 LLC
        ETH + "0806" + "0001080006040001" + "020000000001" + "0a000001" + "000000000000" + "0a000002",
        ETH + "8035" + "0001080006040003" + "020000000001" + "0a000001" + "020000000001" + "0a000002",
        ETH + "0024" + "aaaa03000000" + "0800" + "4500001c000040004011f9c80a0000010a000002" + "04d200350008abcd",
        ETH + "0026" + "424203000000000000000000000000000000000000000000000000000000000000000000",
    };

    @ParameterizedTest
    @ValueSource(longs = {1L, 7L, 42L, 2026L})
    void parsedKeysHaveNoWordOutsideTheirShape(final long seed)
    {
        final SplittableRandom rnd = new SplittableRandom(seed);
        final FlowKey k = new FlowKey();
        final Packet p = new Packet(256);
        int checked = 0;
        for (int i = 0; i < 20_000; i++)
        {
            final PacketParser parser = new PacketParser(1 + rnd.nextInt(2));
            final byte[] b = HexFormat.of().parseHex(FRAMES[rnd.nextInt(FRAMES.length)]);
            // Mutate a few bytes (often none), then maybe truncate.
            final int mutations = rnd.nextInt(4);
            for (int j = 0; j < mutations; j++)
            {
                b[rnd.nextInt(b.length)] = (byte)rnd.nextInt(256);
            }
            final int len = rnd.nextInt(4) == 0 ? rnd.nextInt(b.length + 1) : b.length;
            p.wrap(b, 0, len);
            p.inPort = 1 + rnd.nextInt(100);
            parser.parse(p, k);
            final long shape = KeyHash.shape(k.words);
            assertEquals(0, nonZero(k.words) & ~shape,
                () -> "words outside the shape of " + HexFormat.of().formatHex(b, 0, len));
            checked += Long.bitCount(nonZero(k.words)) > 1 ? 1 : 0;
        }
        assertTrue(checked > 10_000, "too few frames parsed beyond in_port: " + checked);
    }

    @ParameterizedTest
    @ValueSource(longs = {3L, 11L})
    void recirculatedAndTunnelledKeysListEveryNonZeroWordAndHashOnlyThem(final long seed)
    {
        final SplittableRandom rnd = new SplittableRandom(seed);
        final PacketParser parser = new PacketParser(1);
        final Packet p = new Packet(256);
        final FlowKey k = new FlowKey();
        final FlowKey copy = new FlowKey();
        for (int i = 0; i < 5_000; i++)
        {
            final byte[] b = HexFormat.of().parseHex(FRAMES[rnd.nextInt(FRAMES.length)]);
            p.wrap(b, 0, b.length);
            p.inPort = 5;
            parser.parse(p, k);
            final long[] w = k.words;
            if (rnd.nextBoolean())
            {
                w[FlowKey.W_IN_PORT] |= 1 + rnd.nextInt(1000); // recirc_id
                for (final int word : new int[] {FlowKey.W_CT, FlowKey.W_CT_LABEL, FlowKey.W_DP_HASH,
                    FlowKey.W_CT_NW, FlowKey.W_CT_TP, FlowKey.W_CT_IPV6_SRC, FlowKey.W_CT_IPV6_DST + 1})
                {
                    w[word] = rnd.nextBoolean() ? rnd.nextLong() : 0;
                }
            }
            if (rnd.nextBoolean())
            {
                w[FlowKey.W_TUN_HDR] = 6081 | (long)rnd.nextInt(1 << 16) << 16;
                for (int word = FlowKey.W_TUN_ID; word < FlowKey.W_DL_DST_TYPE; word++)
                {
                    if (word != FlowKey.W_TUN_HDR && rnd.nextInt(3) == 0)
                    {
                        w[word] = rnd.nextLong();
                    }
                }
            }
            final long shape = KeyHash.shape(w);
            assertEquals(0, nonZero(w) & ~shape);
            assertTrue(Long.bitCount(shape) <= FlowKey.WORDS);
            // Equal keys gather and hash equally.
            copy.copyFrom(k);
            final long[] miniA = new long[FlowKey.WORDS + 1];
            final long[] miniB = new long[FlowKey.WORDS + 1];
            assertEquals(KeyHash.gatherAndHash(w, shape, miniA),
                KeyHash.gatherAndHash(copy.words, KeyHash.shape(copy.words), miniB));
            assertEquals(java.util.Arrays.toString(miniA), java.util.Arrays.toString(miniB));
        }
    }

    private static long nonZero(final long[] w)
    {
        long bits = 0;
        for (int i = 0; i < FlowKey.WORDS; i++)
        {
            bits |= w[i] != 0 ? 1L << i : 0;
        }
        return bits;
    }
}
