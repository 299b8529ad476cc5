package dev.junction.afxdp.tap;

import dev.junction.afxdp.testing.Frames;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

class InternetChecksumTest
{
    /** Folding a positive sum gives the unique value in [1, 0xffff] of its class, so the two must agree exactly. */
    @Test
    void eightBytesAStepFoldsToTheSameSumAsSixteenBitWords()
    {
        final SplittableRandom random = new SplittableRandom(7);
        final byte[] data = new byte[70_000];
        for (int i = 0; i < data.length; i++)
        {
            data[i] = (byte)random.nextInt(256);
        }
        final UnsafeBuffer direct = new UnsafeBuffer(ByteBuffer.allocateDirect(data.length));
        direct.putBytes(0, data);
        final UnsafeBuffer heap = new UnsafeBuffer(data);
        for (int round = 0; round < 2_000; round++)
        {
            final int offset = random.nextInt(64);
            final int length = round < 40 ? round : random.nextInt(data.length - offset + 1);
            final int expected = Frames.naiveSum(data, offset, length);
            assertEquals(expected, InternetChecksum.fold(InternetChecksum.sum(direct, offset, length, 0)), "off " + offset + " len " + length);
            assertEquals(expected, InternetChecksum.fold(InternetChecksum.sum(heap, offset, length, 0)), "off " + offset + " len " + length);
        }
    }

    @Test
    void allOnesIsZeroAndFinishInverts()
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[] {(byte)0xff, (byte)0xff, (byte)0xff, (byte)0xff});
        assertEquals(0xffff, InternetChecksum.fold(InternetChecksum.sum(b, 0, 4, 0)));
        assertEquals(0, InternetChecksum.finish(InternetChecksum.sum(b, 0, 4, 0)));
        // RFC 1071's example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2.
        final UnsafeBuffer rfc = new UnsafeBuffer(new byte[] {0, 1, (byte)0xf2, 3, (byte)0xf4, (byte)0xf5, (byte)0xf6, (byte)0xf7});
        assertEquals(0xddf2, InternetChecksum.fold(InternetChecksum.sum(rfc, 0, 8, 0)));
    }
}
