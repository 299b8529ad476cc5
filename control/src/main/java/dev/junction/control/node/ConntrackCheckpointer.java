package dev.junction.control.node;

import dev.junction.conntrack.Checkpoint;
import dev.junction.conntrack.Conntrack;
import dev.junction.control.journal.ConntrackJournal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Keeps a node's connections across a restart, kill -9 included: {@link #restore} puts the
 * last whole checkpoint of {@code state_dir/conntrack} back before the ports open, and then a
 * thread of its own writes a checkpoint every {@code conntrack_checkpoint_ms}, and a last one
 * at a clean stop. The packet path is not stopped for it ({@link Conntrack#checkpoint}).
 * Conntrack's clock is the packets' (System.nanoTime at RX); the downtime comes from the wall
 * clock stamped into each checkpoint.
 */
final class ConntrackCheckpointer implements AutoCloseable
{
    private final Conntrack conntrack;
    private final ConntrackJournal journal;
    private final long intervalNanos;
    private final JsonLog log;
    private Thread thread;
    private volatile boolean running = true;
    private long written;

    private ConntrackCheckpointer(final Conntrack conntrack, final ConntrackJournal journal, final long intervalMs,
        final JsonLog log)
    {
        this.conntrack = conntrack;
        this.journal = journal;
        this.intervalNanos = TimeUnit.MILLISECONDS.toNanos(intervalMs);
        this.log = log;
    }

    /** Opens the journal and restores its last checkpoint into {@code conntrack}, logging what came back. */
    static ConntrackCheckpointer restore(final Path stateDir, final Conntrack conntrack, final long intervalMs,
        final JsonLog log) throws IOException
    {
        final long started = System.nanoTime();
        final ConntrackJournal journal = ConntrackJournal.open(stateDir);
        final ConntrackCheckpointer c = new ConntrackCheckpointer(conntrack, journal, intervalMs, log);
        try
        {
            journal.last().ifPresentOrElse(cp ->
            {
                final long read = System.nanoTime() - started;
                final Checkpoint.Restored r = conntrack.restore(cp, System.nanoTime(), System.currentTimeMillis());
                log.info("conntrack restored", "connections", r.restored(), "expired", r.expired(), "refused", r.refused(),
                    "skipped_documents", journal.skipped(), "downtime_ms", System.currentTimeMillis() - cp.wallMillis(),
                    "read_ms", String.format(java.util.Locale.ROOT, "%.3f", read / 1e6),
                    "restore_ms", String.format(java.util.Locale.ROOT, "%.3f", r.nanos() / 1e6),
                    "total_ms", String.format(java.util.Locale.ROOT, "%.3f", (System.nanoTime() - started) / 1e6));
            }, () -> log.info("conntrack restored", "connections", 0, "skipped_documents", journal.skipped(),
                "reason", "no checkpoint"));
        }
        catch (final RuntimeException ex)
        {
            journal.close();
            throw ex;
        }
        return c;
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
            next += intervalNanos;
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
            journal.append(conntrack.checkpoint(System.nanoTime(), System.currentTimeMillis()));
            if (written++ == 0)
            {
                log.info("conntrack checkpoints", "interval_ms", TimeUnit.NANOSECONDS.toMillis(intervalNanos),
                    "journal", journal.directory());
            }
        }
        catch (final RuntimeException ex)
        {
            log.warn("conntrack checkpoint not written", "error", String.valueOf(ex));
        }
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
