package dev.junction.datapath.pcap;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes classic little-endian pcap with microsecond timestamps and Ethernet link type,
 * the format Open vSwitch's dummy ports write, keeping each packet's original timestamp.
 */
public final class PcapWriter implements AutoCloseable
{
    private final OutputStream out;
    private final byte[] header = new byte[24];

    public PcapWriter(final Path path) throws IOException
    {
        out = new BufferedOutputStream(Files.newOutputStream(path), 1 << 16);
        putInt(header, 0, 0xa1b2c3d4);
        putShort(header, 4, 2);
        putShort(header, 6, 4);
        putInt(header, 8, 0);
        putInt(header, 12, 0);
        putInt(header, 16, PcapReader.MAX_SNAPLEN);
        putInt(header, 20, PcapReader.LINKTYPE_ETHERNET);
        out.write(header, 0, 24);
    }

    public void write(final long timestampNanos, final byte[] frame, final int offset, final int length)
        throws IOException
    {
        final long micros = timestampNanos / 1000;
        putInt(header, 0, (int)(micros / 1_000_000));
        putInt(header, 4, (int)(micros % 1_000_000));
        putInt(header, 8, length);
        putInt(header, 12, length);
        out.write(header, 0, 16);
        out.write(frame, offset, length);
    }

    @Override
    public void close() throws IOException
    {
        out.close();
    }

    private static void putInt(final byte[] b, final int off, final int v)
    {
        b[off] = (byte)v;
        b[off + 1] = (byte)(v >>> 8);
        b[off + 2] = (byte)(v >>> 16);
        b[off + 3] = (byte)(v >>> 24);
    }

    private static void putShort(final byte[] b, final int off, final int v)
    {
        b[off] = (byte)v;
        b[off + 1] = (byte)(v >>> 8);
    }
}
