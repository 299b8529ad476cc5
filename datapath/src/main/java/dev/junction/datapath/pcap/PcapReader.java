package dev.junction.datapath.pcap;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Streaming reader of classic pcap (either byte order, micro- or nanosecond timestamps) and
 * pcapng (SHB, IDB, EPB, SPB; other blocks skipped). One record at a time into a reused buffer,
 * so a million-packet trace is read in constant memory.
 *
 * <p>Hand-parsed on purpose: both formats are a few fixed headers, and a library would cost
 * more than it saves. Malformed files raise {@link PcapFormatException} naming the file and
 * offset; they never hang or read past what the file declares.
 */
public final class PcapReader implements AutoCloseable
{
    public static final int LINKTYPE_ETHERNET = 1;
    /** Frames larger than this are refused: no Ethernet frame we switch is bigger. */
    public static final int MAX_SNAPLEN = 262_144;

    private static final int PCAP_MAGIC_US = 0xa1b2c3d4;
    private static final int PCAP_MAGIC_NS = 0xa1b23c4d;
    private static final int PCAPNG_SHB = 0x0a0d0d0a;
    private static final int PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
    private static final int PCAPNG_IDB = 1;
    private static final int PCAPNG_SPB = 3;
    private static final int PCAPNG_EPB = 6;

    private final Path path;
    private final InputStream in;
    private final boolean pcapng;
    private final byte[] header = new byte[32];
    private byte[] frame = new byte[2048];
    private boolean bigEndian;
    private long offset;
    private int linkType;
    private long classicScaleNanos;
    private int length;
    private int originalLength;
    private long timestampNanos;
    // pcapng interface table: link type and timestamp resolution (ns per tick) per interface.
    private int[] ifLinkType = new int[4];
    private long[] ifTickNanos = new long[4];
    private int ifCount;

    private PcapReader(final Path path, final InputStream in) throws IOException
    {
        this.path = path;
        this.in = in;
        readFully(header, 0, 4);
        final int magicLe = getInt(header, 0, false);
        if (magicLe == PCAPNG_SHB)
        {
            pcapng = true;
            readSectionHeader();
        }
        else
        {
            pcapng = false;
            readFully(header, 4, 20);
            if (magicLe == PCAP_MAGIC_US || magicLe == PCAP_MAGIC_NS)
            {
                bigEndian = false;
            }
            else
            {
                final int magicBe = getInt(header, 0, true);
                if (magicBe != PCAP_MAGIC_US && magicBe != PCAP_MAGIC_NS)
                {
                    throw error("not a pcap or pcapng file (magic 0x%08x)", magicBe);
                }
                bigEndian = true;
            }
            classicScaleNanos = getInt(header, 0, bigEndian) == PCAP_MAGIC_NS ? 1 : 1000;
            linkType = getInt(header, 20, bigEndian) & 0xffff;
        }
    }

    public static PcapReader open(final Path path) throws IOException
    {
        return open(path, new BufferedInputStream(Files.newInputStream(path), 1 << 16));
    }

    /** Reads {@code in} (closed with the reader, or here when its headers are refused); {@code path} names it in errors. */
    static PcapReader open(final Path path, final InputStream in) throws IOException
    {
        try
        {
            return new PcapReader(path, in);
        }
        catch (final IOException | RuntimeException ex)
        {
            in.close();
            throw ex;
        }
    }

    /** Advances to the next packet record; false at a clean end of file. */
    public boolean next() throws IOException
    {
        return pcapng ? nextPcapng() : nextClassic();
    }

    private boolean nextClassic() throws IOException
    {
        if (!readHeaderOrEof(16))
        {
            return false;
        }
        final long sec = getInt(header, 0, bigEndian) & 0xffffffffL;
        final long sub = getInt(header, 4, bigEndian) & 0xffffffffL;
        final int incl = getInt(header, 8, bigEndian);
        originalLength = getInt(header, 12, bigEndian);
        readFrame(incl);
        timestampNanos = sec * 1_000_000_000L + sub * classicScaleNanos;
        return true;
    }

    private boolean nextPcapng() throws IOException
    {
        while (true)
        {
            if (!readHeaderOrEof(8))
            {
                return false;
            }
            final int type = getInt(header, 0, bigEndian);
            final int total = getInt(header, 4, bigEndian);
            if (type == PCAPNG_SHB)
            {
                readSectionHeaderBody(total);
                continue;
            }
            if (total < 12 || (total & 3) != 0 || total > MAX_SNAPLEN + 64)
            {
                throw error("bad pcapng block length %d", total);
            }
            final int body = total - 12;
            if (type == PCAPNG_EPB)
            {
                readFully(header, 0, 20);
                final int ifId = getInt(header, 0, bigEndian);
                final long ticks = ((getInt(header, 4, bigEndian) & 0xffffffffL) << 32)
                    | (getInt(header, 8, bigEndian) & 0xffffffffL);
                final int captured = getInt(header, 12, bigEndian);
                originalLength = getInt(header, 16, bigEndian);
                if (ifId < 0 || ifId >= ifCount)
                {
                    throw error("packet names interface %d, only %d declared", ifId, ifCount);
                }
                if (captured < 0 || captured > body - 20)
                {
                    throw error("captured length %d exceeds its block", captured);
                }
                readFrame(captured);
                skip(body - 20 - captured + 4);
                linkType = ifLinkType[ifId];
                timestampNanos = ticks * ifTickNanos[ifId];
                return true;
            }
            else if (type == PCAPNG_SPB)
            {
                readFully(header, 0, 4);
                originalLength = getInt(header, 0, bigEndian);
                final int captured = Math.min(originalLength, body - 4);
                if (captured < 0 || ifCount == 0)
                {
                    throw error("bad simple packet block");
                }
                readFrame(captured);
                skip(body - 4 - captured + 4);
                linkType = ifLinkType[0];
                timestampNanos = 0;
                return true;
            }
            else if (type == PCAPNG_IDB)
            {
                readInterfaceDescription(body);
            }
            else
            {
                skip(body + 4);
            }
        }
    }

    private void readSectionHeader() throws IOException
    {
        readFully(header, 4, 8);
        final int bom = getInt(header, 8, false);
        if (bom == PCAPNG_BYTE_ORDER_MAGIC)
        {
            bigEndian = false;
        }
        else if (getInt(header, 8, true) == PCAPNG_BYTE_ORDER_MAGIC)
        {
            bigEndian = true;
        }
        else
        {
            throw error("pcapng section header has no byte-order magic");
        }
        final int total = getInt(header, 4, bigEndian);
        if (total < 28 || (total & 3) != 0)
        {
            throw error("bad pcapng section header length %d", total);
        }
        skip(total - 12);
        ifCount = 0;
    }

    private void readSectionHeaderBody(final int totalAsRead) throws IOException
    {
        readFully(header, 8, 4);
        final int bomLe = getInt(header, 8, false);
        bigEndian = bomLe != PCAPNG_BYTE_ORDER_MAGIC;
        final int total = getInt(header, 4, bigEndian);
        if (total < 28 || (total & 3) != 0)
        {
            throw error("bad pcapng section header length %d", totalAsRead);
        }
        skip(total - 12);
        ifCount = 0;
    }

    private void readInterfaceDescription(final int body) throws IOException
    {
        if (body < 8)
        {
            throw error("short interface description block");
        }
        final byte[] b = new byte[body + 4];
        readFully(b, 0, b.length);
        final int lt = getShort(b, 0, bigEndian);
        long tick = 1000; // default resolution: microseconds
        int off = 8;
        while (off + 4 <= body)
        {
            final int code = getShort(b, off, bigEndian);
            final int len = getShort(b, off + 2, bigEndian);
            if (code == 0)
            {
                break;
            }
            if (code == 9 && len >= 1 && off + 4 < body)
            {
                final int tsres = b[off + 4] & 0xff;
                tick = tsresToNanos(tsres);
            }
            off += 4 + ((len + 3) & ~3);
        }
        if (ifCount == ifLinkType.length)
        {
            ifLinkType = java.util.Arrays.copyOf(ifLinkType, ifCount * 2);
            ifTickNanos = java.util.Arrays.copyOf(ifTickNanos, ifCount * 2);
        }
        ifLinkType[ifCount] = lt;
        ifTickNanos[ifCount] = tick;
        ifCount++;
    }

    private long tsresToNanos(final int tsres) throws PcapFormatException
    {
        final int exp = tsres & 0x7f;
        if ((tsres & 0x80) != 0 || exp > 9)
        {
            // Binary or sub-nanosecond resolutions: round to whole nanoseconds when possible.
            if ((tsres & 0x80) == 0)
            {
                throw error("timestamp resolution 10^-%d is finer than nanoseconds", exp);
            }
            if (exp > 30)
            {
                throw error("timestamp resolution 2^-%d is finer than nanoseconds", exp);
            }
            return Math.max(1, 1_000_000_000L >> exp);
        }
        long nanos = 1_000_000_000L;
        for (int i = 0; i < exp; i++)
        {
            nanos /= 10;
        }
        return nanos;
    }

    private void readFrame(final int incl) throws IOException
    {
        if (incl < 0 || incl > MAX_SNAPLEN)
        {
            throw error("record length %d out of range", incl);
        }
        if (incl > frame.length)
        {
            frame = new byte[Math.max(incl, frame.length * 2)];
        }
        readFully(frame, 0, incl);
        length = incl;
    }

    private boolean readHeaderOrEof(final int n) throws IOException
    {
        final int first = in.read(header, 0, n);
        if (first <= 0)
        {
            return false;
        }
        int got = first;
        while (got < n)
        {
            final int r = in.read(header, got, n - got);
            if (r < 0)
            {
                throw error("truncated record header");
            }
            got += r;
        }
        offset += n;
        return true;
    }

    private void readFully(final byte[] b, final int off, final int n) throws IOException
    {
        int got = 0;
        while (got < n)
        {
            final int r = in.read(b, off + got, n - got);
            if (r < 0)
            {
                throw error("truncated: wanted %d more bytes", n - got);
            }
            got += r;
        }
        offset += n;
    }

    private void skip(final long n) throws IOException
    {
        long left = n;
        while (left > 0)
        {
            final long s = in.skip(left);
            if (s <= 0)
            {
                if (in.read() < 0)
                {
                    throw new EOFException(path + ": truncated block at offset " + offset);
                }
                left--;
            }
            else
            {
                left -= s;
            }
        }
        offset += n;
    }

    private PcapFormatException error(final String format, final Object... args)
    {
        return new PcapFormatException(path + ": offset " + offset + ": " + String.format(format, args));
    }

    private static int getInt(final byte[] b, final int off, final boolean be)
    {
        if (be)
        {
            return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
        }
        return (b[off + 3] & 0xff) << 24 | (b[off + 2] & 0xff) << 16 | (b[off + 1] & 0xff) << 8 | (b[off] & 0xff);
    }

    private static int getShort(final byte[] b, final int off, final boolean be)
    {
        return be ? (b[off] & 0xff) << 8 | (b[off + 1] & 0xff) : (b[off + 1] & 0xff) << 8 | (b[off] & 0xff);
    }

    public Path path()
    {
        return path;
    }

    /** Link type of the current record (of the file, for classic pcap). */
    public int linkType()
    {
        return linkType;
    }

    public long timestampNanos()
    {
        return timestampNanos;
    }

    /** The current frame's bytes, valid until the next call to {@link #next()}. */
    public byte[] frame()
    {
        return frame;
    }

    public int length()
    {
        return length;
    }

    public int originalLength()
    {
        return originalLength;
    }

    @Override
    public void close() throws IOException
    {
        in.close();
    }
}
