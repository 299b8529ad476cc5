package dev.junction.afxdp.tap;

import dev.junction.afxdp.testing.Frames;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Super-frames built by hand, cut, and every segment checked field by field with checksums
 * computed independently ({@link Frames#naiveSum}).
 */
class TcpSegmenterTest
{
    private final TcpSegmenter segmenter = new TcpSegmenter();
    private final List<byte[]> segments = new ArrayList<>();
    private final TcpSegmenter.SegmentSink collect = (buffer, offset, length) ->
    {
        final byte[] copy = new byte[length];
        buffer.getBytes(offset, copy);
        segments.add(copy);
    };

    @Test
    void ipv4SuperFrameBecomesMssSegmentsWithIdsSequencesFlagsAndChecksums()
    {
        // Partial checksum in the super-frame, as the kernel hands it: segments must not depend on it.
        final byte[] frame = Frames.tcp(false, false, 4000, Frames.TCP_ACK | Frames.TCP_PSH | Frames.TCP_FIN | Frames.TCP_CWR | Frames.TCP_ECE,
            0xffff_f000L, 0xfffe, 12);
        Frames.makePartial(frame, 14, false, 6, 34, 34 + 16);
        assertEquals(3, cut(frame, 1448));
        verify(frame, false, false, 1448, 12);
    }

    @Test
    void ipv6SuperFrameWithOddTail()
    {
        final byte[] frame = Frames.tcp(true, false, 3 * 1428 + 1, Frames.TCP_ACK | Frames.TCP_PSH, 77, 0, 0);
        Frames.makePartial(frame, 14, true, 6, 54, 54 + 16);
        assertEquals(4, cut(frame, 1428));
        verify(frame, true, false, 1428, 0);
    }

    @Test
    void vlanTaggedFramesKeepTheirTag()
    {
        final byte[] frame = Frames.tcp(false, true, 3000, Frames.TCP_ACK, 5, 100, 0);
        assertEquals(3, cut(frame, 1400));
        verify(frame, false, true, 1400, 0);
        for (final byte[] s : segments)
        {
            assertEquals(0x8100, Frames.u16(s, 12));
            assertEquals(42, Frames.u16(s, 14));
        }
    }

    @Test
    void largestSuperFrameAndExactMultiples()
    {
        final byte[] big = Frames.tcp(false, false, 65_535 - 20 - 32, Frames.TCP_ACK | Frames.TCP_PSH, 1, 1, 12);
        assertEquals((65_535 - 52 + 1447) / 1448, cut(big, 1448));
        verify(big, false, false, 1448, 12);
        final byte[] exact = Frames.tcp(true, false, 2 * 1000, Frames.TCP_ACK | Frames.TCP_FIN, 1, 1, 0);
        assertEquals(2, cut(exact, 1000));
        verify(exact, true, false, 1000, 0);
    }

    @Test
    void aFrameWithinOneMssOrWithoutPayloadIsOneSegmentWithCompleteChecksums()
    {
        final byte[] small = Frames.tcp(false, false, 100, Frames.TCP_ACK | Frames.TCP_PSH | Frames.TCP_CWR, 9, 9, 0);
        Frames.makePartial(small, 14, false, 6, 34, 34 + 16);
        assertEquals(1, cut(small, 1448));
        verify(small, false, false, 1448, 0);
        final byte[] empty = Frames.tcp(true, false, 0, Frames.TCP_SYN, 9, 9, 20);
        assertEquals(1, cut(empty, 1448));
        verify(empty, true, false, 1448, 20);
    }

    @Test
    void refusesWhatItCannotCut()
    {
        final byte[] udp = Frames.udp(false, 3000);
        assertEquals(TcpSegmenter.MALFORMED, cut(udp, 1448));
        final byte[] ok = Frames.tcp(false, false, 3000, Frames.TCP_ACK, 1, 1, 0);
        assertEquals(TcpSegmenter.MALFORMED, cut(ok, 0), "MSS 0");
        assertEquals(TcpSegmenter.MALFORMED, cut(Arrays.copyOf(ok, 2000), 1448), "IP length beyond the frame");
        final byte[] fragment = ok.clone();
        fragment[14 + 6] = 0x20; // MF
        assertEquals(TcpSegmenter.MALFORMED, cut(fragment, 1448));
        final byte[] extHeader = Frames.tcp(true, false, 3000, Frames.TCP_ACK, 1, 1, 0);
        extHeader[14 + 6] = 0; // hop-by-hop options before TCP
        assertEquals(TcpSegmenter.MALFORMED, cut(extHeader, 1448));
        final byte[] badOffset = ok.clone();
        badOffset[34 + 12] = 0x40; // data offset 16 bytes
        assertEquals(TcpSegmenter.MALFORMED, cut(badOffset, 1448));
        assertTrue(segments.isEmpty(), "nothing reaches the sink for a refused frame");
    }

    @Test
    void segmentingAllocatesNothing()
    {
        final byte[] frame = Frames.tcp(false, false, 60_000, Frames.TCP_ACK, 1, 1, 12);
        final UnsafeBuffer in = new UnsafeBuffer(ByteBuffer.allocateDirect(frame.length));
        in.putBytes(0, frame);
        final long[] bytes = new long[1];
        final TcpSegmenter.SegmentSink count = (buffer, offset, length) -> bytes[0] += length;
        for (int i = 0; i < 2_000; i++)
        {
            segmenter.segment(in, 0, frame.length, 1448, count); // warm up
        }
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 2_000; i++)
        {
            segmenter.segment(in, 0, frame.length, 1448, count);
        }
        final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 1024, allocated + " bytes allocated for 2,000 super-frames");
        assertTrue(bytes[0] > 0);
    }

    private int cut(final byte[] frame, final int mss)
    {
        segments.clear();
        // Off-heap, at an odd offset, as an RX buffer behind a 12-byte header would not be aligned either.
        final MutableDirectBuffer in = new UnsafeBuffer(ByteBuffer.allocateDirect(frame.length + 13));
        in.putBytes(13, frame);
        return segmenter.segment(in, 13, frame.length, mss, collect);
    }

    private void verify(final byte[] frame, final boolean v6, final boolean vlan, final int mss, final int options)
    {
        final int ip = vlan ? 18 : 14;
        final int l4 = ip + (v6 ? 40 : 20);
        final int tcpHeader = 20 + options;
        final int headers = l4 + tcpHeader;
        final int payload = frame.length - headers;
        final int n = segments.size();
        final long seq0 = Frames.u32(frame, l4 + 4);
        final int flags0 = frame[l4 + 13] & 0xff;
        int consumed = 0;
        for (int i = 0; i < n; i++)
        {
            final byte[] s = segments.get(i);
            final int chunk = Math.min(mss, payload - consumed);
            final String what = "segment " + i + " of " + n;
            assertEquals(headers + chunk, s.length, what);
            // Ethernet (and VLAN) header unchanged.
            assertArrayEquals(Arrays.copyOf(frame, ip), Arrays.copyOf(s, ip), what);
            if (v6)
            {
                assertEquals(tcpHeader + chunk, Frames.u16(s, ip + 4), what + " payload length");
                assertArrayEquals(Arrays.copyOfRange(frame, ip + 6, ip + 40), Arrays.copyOfRange(s, ip + 6, ip + 40), what);
            }
            else
            {
                assertEquals(20 + tcpHeader + chunk, Frames.u16(s, ip + 2), what + " total length");
                assertEquals((Frames.u16(frame, ip + 4) + i) & 0xffff, Frames.u16(s, ip + 4), what + " IP id");
                assertEquals(Frames.u16(frame, ip + 6), Frames.u16(s, ip + 6), what + " DF kept");
                assertTrue(Frames.ipv4HeaderValid(s, ip), what + " IPv4 header checksum");
            }
            assertEquals((seq0 + consumed) & 0xffff_ffffL, Frames.u32(s, l4 + 4), what + " sequence");
            int expectedFlags = flags0;
            if (i < n - 1)
            {
                expectedFlags &= ~(Frames.TCP_FIN | Frames.TCP_PSH);
            }
            if (i > 0)
            {
                expectedFlags &= ~Frames.TCP_CWR;
            }
            assertEquals(expectedFlags, s[l4 + 13] & 0xff, what + " flags");
            // Ports, ack, window, options as in the super-frame.
            assertArrayEquals(Arrays.copyOfRange(frame, l4, l4 + 4), Arrays.copyOfRange(s, l4, l4 + 4), what);
            assertArrayEquals(Arrays.copyOfRange(frame, l4 + 8, l4 + 13), Arrays.copyOfRange(s, l4 + 8, l4 + 13), what);
            assertArrayEquals(Arrays.copyOfRange(frame, l4 + 14, l4 + 16), Arrays.copyOfRange(s, l4 + 14, l4 + 16), what);
            assertArrayEquals(Arrays.copyOfRange(frame, l4 + 18, headers), Arrays.copyOfRange(s, l4 + 18, headers), what);
            assertArrayEquals(Arrays.copyOfRange(frame, headers + consumed, headers + consumed + chunk),
                Arrays.copyOfRange(s, headers, s.length), what + " payload");
            assertTrue(Frames.l4ChecksumValid(s, ip, v6, 6, l4, s.length - l4), what + " TCP checksum");
            consumed += chunk;
        }
        assertEquals(payload, consumed, "every payload byte in exactly one segment");
    }
}
