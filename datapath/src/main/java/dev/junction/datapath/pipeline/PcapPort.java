package dev.junction.datapath.pipeline;

import dev.junction.datapath.pcap.PcapReader;
import dev.junction.datapath.pcap.PcapWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A port backed by pcap files, for replaying traces through the real pipeline: what it "receives"
 * is read from {@code in} (once, in file order, waiting for ring slots rather than dropping, as a
 * file can wait and a NIC cannot), what the workers send to it is appended to {@code out}. Either
 * may be absent. Frames keep their pcap timestamps on the way in; outputs get the clock's time.
 */
public final class PcapPort implements TxPort, AutoCloseable
{
    private final int port;
    private final Path in;
    private final PcapWriter out;
    private final AtomicLong read = new AtomicLong();
    private volatile boolean done;
    private volatile String error;

    public PcapPort(final int port, final Path in, final Path out) throws IOException
    {
        this.port = port;
        this.in = in;
        this.out = out == null ? null : new PcapWriter(out);
        if (in != null)
        {
            PcapReader.open(in).close(); // fail at start on a missing or malformed file, not later
        }
        done = in == null;
    }

    public int port()
    {
        return port;
    }

    /** Feeds the input file into {@code pipeline} on the calling thread; returns when it is read. */
    public void feed(final Pipeline pipeline)
    {
        if (in == null)
        {
            return;
        }
        try (PcapReader r = PcapReader.open(in))
        {
            while (r.next())
            {
                if (!pipeline.receiveWaiting(port, r.frame(), 0, r.length(), r.timestampNanos()) && pipeline.isClosing())
                {
                    break;
                }
                read.incrementAndGet();
            }
        }
        catch (final IOException | UncheckedIOException ex)
        {
            error = String.valueOf(ex.getMessage());
        }
        finally
        {
            done = true;
        }
    }

    /** Frames read from the input so far. */
    public long framesRead()
    {
        return read.get();
    }

    /** Whether the input has been read to its end (or there is none). */
    public boolean inputDone()
    {
        return done;
    }

    /** Why reading the input stopped early, or null. */
    public String error()
    {
        return error;
    }

    @Override
    public void send(final int worker, final TxBatch batch)
    {
        if (out == null)
        {
            return;
        }
        synchronized (out)
        {
            try
            {
                final long now = System.currentTimeMillis() * 1_000_000L;
                for (int i = 0; i < batch.size(); i++)
                {
                    out.write(now, batch.frame(i), 0, batch.length(i));
                }
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        }
    }

    @Override
    public void close() throws IOException
    {
        if (out != null)
        {
            synchronized (out)
            {
                out.close();
            }
        }
    }
}
