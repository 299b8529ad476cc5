package dev.junction.control.node;

import dev.junction.conntrack.Checkpoint;
import dev.junction.conntrack.Conntrack;
import dev.junction.control.journal.ConntrackJournal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Keeps a node's connections across a restart, kill -9 included: {@link #restoreInto} puts the
 * last whole checkpoint of {@code state_dir/conntrack} back before any packet is read, and then a
 * thread of its own writes a checkpoint every {@code conntrack_checkpoint_ms}, and a last one
 * at a clean stop. The packet path is not stopped for it ({@link Conntrack#checkpoint}).
 * Conntrack's clock is the packets' (System.nanoTime at RX); the downtime comes from the wall
 * clock stamped into each checkpoint.
 *
 * <p>A checkpoint is the whole table (about 140 bytes a connection), so a big table is written
 * less often than the interval asks: the next one waits at least ten times as long as the last
 * took (at most a tenth of a core), and long enough that the journal's two roll cycles stay
 * within {@code conntrack_checkpoint_disk_mb}. At 100,000 connections (14 MB, ~66 ms) and the
 * default 128 MB, that is one checkpoint every ~66 s: connections newer than that are the ones
 * a kill -9 loses. Each change of spacing is logged.
 */
final class ConntrackCheckpointer implements AutoCloseable
{
    private final ConntrackJournal journal;
    private final long intervalNanos;
    private final long diskBytes;
    private volatile long spacingNanos;
    private final JsonLog log;
    /** The journal's last whole checkpoint, read by {@link #load}. */
    private final Optional<Checkpoint> last;
    private final long readNanos;
    private Conntrack conntrack;
    private Thread thread;
    private volatile boolean running = true;
    private volatile long written;
    private volatile long lastBytes;
    private volatile long lastWallMillis;

    private ConntrackCheckpointer(final ConntrackJournal journal, final long intervalMs, final long diskMb,
        final JsonLog log, final Optional<Checkpoint> last, final long readNanos)
    {
        this.journal = journal;
        this.intervalNanos = TimeUnit.MILLISECONDS.toNanos(intervalMs);
        this.spacingNanos = intervalNanos;
        this.diskBytes = diskMb << 20;
        this.log = log;
        this.last = last;
        this.readNanos = readNanos;
    }

    /**
     * Opens the journal and reads its last whole checkpoint on a thread of its own: Chronicle's
     * first use in a JVM costs a second or more of class loading and set-up, which a restart
     * then spends beside the flows' loading and the devices' opening instead of after them.
     */
    static CompletableFuture<ConntrackCheckpointer> load(final Path stateDir, final long intervalMs, final long diskMb,
        final JsonLog log)
    {
        final CompletableFuture<ConntrackCheckpointer> f = new CompletableFuture<>();
        final Thread t = new Thread(() ->
        {
            final long started = System.nanoTime();
            try
            {
                final ConntrackJournal journal = ConntrackJournal.open(stateDir);
                try
                {
                    final Optional<Checkpoint> last = journal.last();
                    f.complete(new ConntrackCheckpointer(journal, intervalMs, diskMb, log, last, System.nanoTime() - started));
                }
                catch (final RuntimeException | Error ex)
                {
                    journal.close();
                    throw ex;
                }
            }
            catch (final IOException | RuntimeException | Error ex)
            {
                f.completeExceptionally(ex);
            }
        }, "junction-ct-journal-load");
        t.setDaemon(true);
        t.start();
        return f;
    }

    /** The checkpointer {@link #load} gives, once it has: throws what loading threw. */
    static ConntrackCheckpointer await(final CompletableFuture<ConntrackCheckpointer> loading) throws IOException
    {
        try
        {
            return loading.get();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while reading the conntrack journal", ex);
        }
        catch (final ExecutionException ex)
        {
            if (ex.getCause() instanceof IOException io)
            {
                throw io;
            }
            if (ex.getCause() instanceof RuntimeException re)
            {
                throw re;
            }
            throw new IllegalStateException("conntrack journal: " + ex.getCause(), ex.getCause());
        }
    }

    /**
     * Puts the last checkpoint's connections into {@code ct} (before any packet is read) and
     * logs what came back; later checkpoints are of {@code ct}.
     */
    void restoreInto(final Conntrack ct)
    {
        conntrack = ct;
        if (last.isEmpty())
        {
            log.info("conntrack restored", "connections", 0, "skipped_documents", journal.skipped(), "reason",
                "no checkpoint", "read_ms", millis(readNanos));
            return;
        }
        final Checkpoint cp = last.get();
        final Checkpoint.Restored r = ct.restore(cp, System.nanoTime(), System.currentTimeMillis());
        log.info("conntrack restored", "connections", r.restored(), "expired", r.expired(), "refused", r.refused(),
            "skipped_documents", journal.skipped(), "downtime_ms", System.currentTimeMillis() - cp.wallMillis(),
            "read_ms", millis(readNanos), "restore_ms", millis(r.nanos()));
    }

    private static String millis(final long nanos)
    {
        return String.format(Locale.ROOT, "%.3f", nanos / 1e6);
    }

    /** Starts writing a checkpoint every interval. */
    void start()
    {
        thread = new Thread(this::run, "junction-ct-checkpoint");
        thread.setDaemon(true);
        thread.start();
    }

    private void run()
    {
        long next = System.nanoTime();
        while (running)
        {
            next += spacingNanos;
            final long wait = next - System.nanoTime();
            if (wait > 0)
            {
                LockSupport.parkNanos(this, wait);
                if (!running)
                {
                    break;
                }
            }
            else
            {
                next = System.nanoTime(); // behind (a slow disk): do not write back to back to catch up
            }
            checkpoint();
        }
    }

    private void checkpoint()
    {
        try
        {
            final long started = System.nanoTime();
            final int bytes = journal.append(conntrack.checkpoint(started, System.currentTimeMillis()));
            final long took = System.nanoTime() - started;
            lastBytes = bytes;
            lastWallMillis = System.currentTimeMillis();
            if (written++ == 0)
            {
                log.info("conntrack checkpoints", "interval_ms", TimeUnit.NANOSECONDS.toMillis(intervalNanos),
                    "disk_mb", diskBytes >> 20, "journal", journal.directory());
            }
            final long spacing = spacing(intervalNanos, took, bytes, diskBytes, journal.cycleMillis());
            if (spacing != spacingNanos)
            {
                spacingNanos = spacing;
                log.info("conntrack checkpoint spacing", "spacing_ms", TimeUnit.NANOSECONDS.toMillis(spacing), "bytes", bytes,
                    "took_ms", millis(took));
            }
        }
        catch (final RuntimeException ex)
        {
            log.warn("conntrack checkpoint not written", "error", String.valueOf(ex));
        }
    }

    /**
     * How long to wait after a checkpoint of {@code bytes} that took {@code tookNanos}: the
     * interval, or ten times the time taken, or what keeps two roll cycles of {@code cycleMillis}
     * within {@code diskBytes}, whichever is longest; rounded up to the interval's multiple so a
     * table that barely changes size does not change the spacing at every checkpoint.
     */
    static long spacing(final long intervalNanos, final long tookNanos, final long bytes, final long diskBytes,
        final long cycleMillis)
    {
        final long perCycle = Math.max(1, diskBytes / 2);
        final long forDisk = (long)((double)bytes * TimeUnit.MILLISECONDS.toNanos(cycleMillis) / perCycle);
        final long wanted = Math.max(intervalNanos, Math.max(10 * tookNanos, forDisk));
        return (wanted + intervalNanos - 1) / intervalNanos * intervalNanos;
    }

    /** Checkpoints written since start. */
    long written()
    {
        return written;
    }

    /** The last checkpoint's size in bytes (0 before the first). */
    long lastBytes()
    {
        return lastBytes;
    }

    /** Seconds since the last checkpoint was written (-1 before the first): what a kill -9 now would lose. */
    double ageSeconds()
    {
        final long last = lastWallMillis;
        return last == 0 ? -1 : (System.currentTimeMillis() - last) / 1e3;
    }

    /** The spacing checkpoints are written at now, in seconds (the interval, or longer for a big table). */
    double spacingSeconds()
    {
        return spacingNanos / 1e9;
    }

    /** Closes the journal of a checkpointer never started (a start that failed): nothing is written. */
    void closeJournal()
    {
        journal.close();
    }

    /** Stops the thread, writes a last checkpoint (a clean stop loses nothing either) and closes the journal. */
    @Override
    public void close()
    {
        running = false;
        if (thread != null)
        {
            LockSupport.unpark(thread);
            try
            {
                thread.join(2000);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            if (!thread.isAlive())
            {
                checkpoint();
            }
        }
        journal.close();
    }
}
