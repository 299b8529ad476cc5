package dev.junction.datapath.pcap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PcapReaderTest
{
    @TempDir
    Path dir;

    @Test
    void writerOutputReadsBackWithTimestamps() throws IOException
    {
        final Path f = dir.resolve("a.pcap");
        try (PcapWriter w = new PcapWriter(f))
        {
            w.write(1_700_000_000_123_456_000L, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}, 0, 14);
            w.write(1_700_000_001_000_001_000L, new byte[60], 0, 60);
        }
        try (PcapReader r = PcapReader.open(f))
        {
            assertTrue(r.next());
            assertEquals(1_700_000_000_123_456_000L, r.timestampNanos());
            assertEquals(14, r.length());
            assertEquals(9, r.frame()[8]);
            assertTrue(r.next());
            assertEquals(60, r.length());
            assertFalse(r.next());
        }
    }

    @Test
    void readsPcapngEnhancedPacketsWithNanosecondResolution() throws IOException
    {
        final ByteBuffer b = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x0a0d0d0a).putInt(28).putInt(0x1a2b3c4d).putShort((short)1).putShort((short)0).putLong(-1).putInt(28);
        // IDB with if_tsresol = 9 (nanoseconds)
        b.putInt(1).putInt(28).putShort((short)1).putShort((short)0).putInt(65535)
            .putShort((short)9).putShort((short)1).put((byte)9).put(new byte[3]).putInt(28);
        final byte[] frame = new byte[14];
        Arrays.fill(frame, (byte)0x5a);
        final long ts = 1_700_000_000_123_456_789L;
        b.putInt(6).putInt(32 + 16).putInt(0).putInt((int)(ts >>> 32)).putInt((int)ts).putInt(14).putInt(14)
            .put(frame).put(new byte[2]).putInt(32 + 16);
        final Path f = dir.resolve("a.pcapng");
        Files.write(f, Arrays.copyOf(b.array(), b.position()));
        try (PcapReader r = PcapReader.open(f))
        {
            assertTrue(r.next());
            assertEquals(ts, r.timestampNanos());
            assertArrayEquals(frame, Arrays.copyOf(r.frame(), r.length()));
            assertEquals(PcapReader.LINKTYPE_ETHERNET, r.linkType());
            assertFalse(r.next());
        }
    }

    @Test
    void truncatedFileIsAClearError() throws IOException
    {
        final Path f = dir.resolve("t.pcap");
        try (PcapWriter w = new PcapWriter(f))
        {
            w.write(0, new byte[100], 0, 100);
        }
        final byte[] all = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(all, all.length - 10));
        try (PcapReader r = PcapReader.open(f))
        {
            final IOException ex = assertThrows(IOException.class, r::next);
            assertTrue(ex.getMessage().contains("t.pcap"), ex.getMessage());
        }
        Files.write(f, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24});
        assertThrows(PcapFormatException.class, () -> PcapReader.open(f));
    }
}
