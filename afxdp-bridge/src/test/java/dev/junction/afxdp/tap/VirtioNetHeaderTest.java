package dev.junction.afxdp.tap;

import dev.junction.afxdp.testing.Frames;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VirtioNetHeaderTest
{
    @Test
    void fieldsAreLittleEndianAtTheirVirtioOffsets()
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[VirtioNetHeader.LENGTH]);
        final VirtioNetHeader h = new VirtioNetHeader().wrap(b, 0);
        h.flags(VirtioNetHeader.F_NEEDS_CSUM).gsoType(VirtioNetHeader.GSO_TCPV4 | VirtioNetHeader.GSO_ECN)
            .hdrLen(0x0142).gsoSize(1448).csumStart(34).csumOffset(16);
        assertArrayEquals(new byte[] {1, (byte)0x81, 0x42, 0x01, (byte)0xa8, 0x05, 34, 0, 16, 0, 0, 0}, b.byteArray());
        assertTrue(h.isGso());
        assertTrue(h.isTcpGso());
        assertEquals(1448, h.gsoSize());
        h.clear();
        assertFalse(h.isGso());
        assertFalse(h.needsChecksum());
    }

    @Test
    void copyFromTakesTheTenMeaningfulBytesAndZeroesNumBuffers()
    {
        final UnsafeBuffer src = new UnsafeBuffer(new byte[] {1, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9});
        final UnsafeBuffer dst = new UnsafeBuffer(new byte[] {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7});
        new VirtioNetHeader().wrap(dst, 0).copyFrom(new VirtioNetHeader().wrap(src, 0));
        assertArrayEquals(new byte[] {1, 4, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0}, dst.byteArray());
    }

    @Test
    void completesAPartialTcpChecksumOverIpv4AndIpv6()
    {
        for (final boolean v6 : new boolean[] {false, true})
        {
            for (final int payload : new int[] {0, 1, 2, 7, 1000, 1447})
            {
                final byte[] expected = Frames.tcp(v6, false, payload, Frames.TCP_ACK | Frames.TCP_PSH, 1000, 7, 12);
                final byte[] frame = expected.clone();
                final int ip = 14;
                final int l4 = ip + (v6 ? 40 : 20);
                Frames.makePartial(frame, ip, v6, 6, l4, l4 + 16);
                assertFalse(Frames.l4ChecksumValid(frame, ip, v6, 6, l4, frame.length - l4) && payload > 0,
                    "a partial checksum must not already verify");
                final VirtioNetHeader h = header(l4, 16);
                assertTrue(h.completeChecksum(direct(frame, 5), 5, frame.length));
                final byte[] out = copyOut(frame.length, 5);
                assertTrue(Frames.l4ChecksumValid(out, ip, v6, 6, l4, out.length - l4), (v6 ? "v6 " : "v4 ") + payload);
                assertEquals(Frames.u16(expected, l4 + 16), Frames.u16(out, l4 + 16));
                assertFalse(h.needsChecksum(), "the flag is cleared once the checksum is complete");
            }
        }
    }

    @Test
    void completesAPartialUdpChecksum()
    {
        final byte[] frame = Frames.udp(false, 333);
        final int l4 = 34;
        Frames.makePartial(frame, 14, false, 17, l4, l4 + 6);
        final VirtioNetHeader h = header(l4, 6);
        assertTrue(h.completeChecksum(direct(frame, 0), 0, frame.length));
        final byte[] out = copyOut(frame.length, 0);
        assertTrue(Frames.l4ChecksumValid(out, 14, false, 17, l4, out.length - l4));
        assertTrue(Frames.u16(out, l4 + 6) != 0, "UDP checksum 0 would mean none");
    }

    @Test
    void refusesOffsetsOutsideTheFrameAndLeavesItAlone()
    {
        final byte[] frame = Frames.udp(false, 10);
        final VirtioNetHeader h = header(frame.length - 1, 0);
        assertFalse(h.completeChecksum(direct(frame, 0), 0, frame.length));
        assertArrayEquals(frame, copyOut(frame.length, 0));
        assertTrue(h.needsChecksum());
        final VirtioNetHeader far = header(34, 1000);
        assertFalse(far.completeChecksum(direct(frame, 0), 0, frame.length));
    }

    @Test
    void aFrameWithoutTheFlagIsUntouched()
    {
        final byte[] frame = Frames.udp(false, 10);
        frame[40] = 0x12; // a wrong checksum, which is not ours to fix without the flag
        final VirtioNetHeader h = new VirtioNetHeader().wrap(new UnsafeBuffer(new byte[VirtioNetHeader.LENGTH]), 0);
        assertTrue(h.completeChecksum(direct(frame, 0), 0, frame.length));
        assertArrayEquals(frame, copyOut(frame.length, 0));
    }

    private UnsafeBuffer buffer;

    private UnsafeBuffer direct(final byte[] frame, final int at)
    {
        buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(frame.length + at));
        buffer.putBytes(at, frame);
        return buffer;
    }

    private byte[] copyOut(final int length, final int at)
    {
        final byte[] out = new byte[length];
        buffer.getBytes(at, out);
        return out;
    }

    private static VirtioNetHeader header(final int csumStart, final int csumOffset)
    {
        return new VirtioNetHeader().wrap(new UnsafeBuffer(new byte[VirtioNetHeader.LENGTH]), 0)
            .flags(VirtioNetHeader.F_NEEDS_CSUM).csumStart(csumStart).csumOffset(csumOffset);
    }
}
