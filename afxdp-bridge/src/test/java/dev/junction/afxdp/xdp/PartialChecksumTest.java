package dev.junction.afxdp.xdp;

import dev.junction.afxdp.testing.Frames;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PartialChecksumTest
{
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void completesAPartialTcpChecksumToTheFullOne(final boolean v6)
    {
        for (final int payload : new int[] {0, 1, 7, 1448})
        {
            final byte[] full = Frames.tcp(v6, false, payload, Frames.TCP_ACK, 1, 2, 12);
            final byte[] partial = full.clone();
            final int ip = 14;
            final int l4 = ip + (v6 ? 40 : 20);
            Frames.makePartial(partial, ip, v6, 6, l4, l4 + 16);
            assertFalse(Arrays.equals(full, partial));
            assertTrue(PartialChecksum.complete(new UnsafeBuffer(partial), 0, partial.length));
            assertArrayEquals(full, partial, "payload " + payload);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void completesAPartialUdpChecksum(final boolean v6)
    {
        final byte[] full = Frames.udp(v6, 333);
        final byte[] partial = full.clone();
        final int l4 = 14 + (v6 ? 40 : 20);
        Frames.makePartial(partial, 14, v6, 17, l4, l4 + 6);
        assertTrue(PartialChecksum.complete(new UnsafeBuffer(partial), 0, partial.length));
        assertArrayEquals(full, partial);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void leavesCompleteChecksumsAlone(final boolean v6)
    {
        final byte[] tcp = Frames.tcp(v6, true, 100, Frames.TCP_ACK, 1, 2, 0);
        final byte[] copy = tcp.clone();
        assertFalse(PartialChecksum.complete(new UnsafeBuffer(tcp), 0, tcp.length));
        assertArrayEquals(copy, tcp);
    }

    @org.junit.jupiter.api.Test
    void completesBehindAVlanTagAndAtAnOffset()
    {
        final byte[] full = Frames.tcp(false, true, 500, Frames.TCP_ACK, 1, 2, 0);
        final byte[] partial = full.clone();
        final int ip = 18;
        Frames.makePartial(partial, ip, false, 6, ip + 20, ip + 20 + 16);
        final byte[] umem = new byte[4096];
        System.arraycopy(partial, 0, umem, 2304, partial.length);
        assertTrue(PartialChecksum.complete(new UnsafeBuffer(umem), 2304, partial.length));
        assertArrayEquals(full, Arrays.copyOfRange(umem, 2304, 2304 + full.length));
    }

    @org.junit.jupiter.api.Test
    void leavesTruncatedAndNonIpFramesAlone()
    {
        final byte[] full = Frames.tcp(false, false, 500, Frames.TCP_ACK, 1, 2, 0);
        Frames.makePartial(full, 14, false, 6, 34, 50);
        final byte[] cut = Arrays.copyOf(full, 300); // IP total length says more than there is
        final byte[] copy = cut.clone();
        assertFalse(PartialChecksum.complete(new UnsafeBuffer(cut), 0, cut.length));
        assertArrayEquals(copy, cut);
        final byte[] arp = new byte[60];
        arp[12] = 0x08;
        arp[13] = 0x06;
        assertFalse(PartialChecksum.complete(new UnsafeBuffer(arp), 0, arp.length));
        assertFalse(PartialChecksum.complete(new UnsafeBuffer(new byte[10]), 0, 10));
    }
}
