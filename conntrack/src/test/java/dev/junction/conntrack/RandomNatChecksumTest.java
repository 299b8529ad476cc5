package dev.junction.conntrack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.junction.flowtable.ct.CtState;

/**
 * Seeded random flows (IPv4/IPv6, TCP/UDP, SNAT/DNAT to random single addresses and ports):
 * every translated packet's checksums verify when recomputed from scratch, and the reply,
 * translated back, is byte for byte the reply the unNATed peer would have sent.
 */
class RandomNatChecksumTest
{
    @ParameterizedTest
    @ValueSource(longs = { 1, 2, 3, 4, 5, 6, 7, 8 })
    void translatedPacketsVerifyAndRepliesRoundTrip(final long seed)
    {
        final Random rnd = new Random(seed);
        final CtHarness h = new CtHarness();
        for (int i = 0; i < 200; i++)
        {
            final boolean v6 = rnd.nextBoolean();
            final boolean tcp = rnd.nextBoolean();
            final boolean snat = rnd.nextBoolean();
            final int sp = 1 + rnd.nextInt(65535);
            final int dp = 1 + rnd.nextInt(65535);
            final int port = 1 + rnd.nextInt(65535);
            final byte[] payload = new byte[rnd.nextInt(40)];
            rnd.nextBytes(payload);
            final byte[] out;
            final byte[] back;
            final CtHarness.Spec spec;
            if (!v6)
            {
                final int a = rnd.nextInt();
                final int b = rnd.nextInt();
                final int n = rnd.nextInt() | 1;
                spec = (snat ? CtHarness.Spec.commit().snat(n, n) : CtHarness.Spec.commit().dnat(n, n)).ports(port, port);
                out = tcp ? Frames.ipv4(a, b, 6, Frames.tcpSegment(sp, dp, rnd.nextInt(), 0, Frames.SYN, 1000, payload, null))
                    : Frames.udp(a, b, sp, dp, payload);
                back = tcp ? Frames.ipv4(b, a, 6, Frames.tcpSegment(dp, sp, 5, 0, Frames.ACK | Frames.RST, 0, new byte[0], null))
                    : Frames.udp(b, a, dp, sp, payload);
            }
            else
            {
                final long[] a = { rnd.nextLong(), rnd.nextLong() };
                final long[] b = { rnd.nextLong(), rnd.nextLong() };
                final long[] n = { rnd.nextLong(), rnd.nextLong() | 1 };
                spec = (snat ? CtHarness.Spec.commit().snat6(n) : CtHarness.Spec.commit().dnat6(n)).ports(port, port);
                out = tcp ? Frames.ipv6(a, b, 6, Frames.tcpSegment(sp, dp, rnd.nextInt(), 0, Frames.SYN, 1000, payload, null))
                    : Frames.udp6(a, b, sp, dp, payload);
                back = tcp ? Frames.ipv6(b, a, 6, Frames.tcpSegment(dp, sp, 5, 0, Frames.ACK | Frames.RST, 0, new byte[0], null))
                    : Frames.udp6(b, a, dp, sp, payload);
            }
            final int st = h.run(out, spec, CtHarness.SEC);
            assertEquals(CtState.TRK | CtState.NEW | (snat ? CtState.SNAT : CtState.DNAT), st, "packet " + i);
            final byte[] translated = h.frame();
            assertTrue(Frames.checksumsValid(translated, 14), "packet " + i);
            // The peer answers the translated packet: swap its addresses and ports.
            final byte[] reply = swap(back, translated, v6);
            h.run(reply, CtHarness.Spec.ct().nat(), CtHarness.SEC);
            final byte[] restored = h.frame();
            assertTrue(Frames.checksumsValid(restored, 14), "reply " + i);
            assertArrayEquals(Arrays.copyOfRange(back, 14, back.length), Arrays.copyOfRange(restored, 14, restored.length),
                "reply " + i);
        }
    }

    /** {@code back} with addresses and ports as the peer of {@code translated} would send them, checksums fixed. */
    private static byte[] swap(final byte[] back, final byte[] translated, final boolean v6)
    {
        final byte[] r = back.clone();
        final int l4 = v6 ? 54 : 34;
        if (v6)
        {
            System.arraycopy(translated, 22, r, 38, 16);
            System.arraycopy(translated, 38, r, 22, 16);
        }
        else
        {
            System.arraycopy(translated, 26, r, 30, 4);
            System.arraycopy(translated, 30, r, 26, 4);
            Frames.put16(r, 24, 0);
            Frames.put16(r, 24, Checksums.csum(r, 14, 20));
        }
        System.arraycopy(translated, l4, r, l4 + 2, 2);
        System.arraycopy(translated, l4 + 2, r, l4, 2);
        Frames.fixL4(r, 14);
        return r;
    }
}
