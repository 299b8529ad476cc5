package dev.junction.control.node;

import java.util.concurrent.TimeUnit;

/**
 * A control source (a manifests directory watcher, an API server's informers) opened on a thread
 * of its own, and tried again until it opens: a node restarted from its flow journal forwards
 * with the journal's last version while the source is away (an API server down, a directory not
 * mounted yet), and fails closed, never open: nothing changes until the source speaks. Each
 * failed attempt is logged; the wait between attempts doubles up to a bound.
 */
final class RetryingSource implements AutoCloseable
{
    /** Opens the source; what it returns is closed with this. */
    @FunctionalInterface
    interface Opener
    {
        AutoCloseable open() throws Exception;
    }

    static final long FIRST_RETRY_MS = 1000;
    static final long MAX_RETRY_MS = 30_000;

    private final String name;
    private final Opener opener;
    private final JsonLog log;
    private final Thread thread;
    private AutoCloseable opened;
    private boolean closed;

    RetryingSource(final String name, final Opener opener, final JsonLog log)
    {
        this.name = name;
        this.opener = opener;
        this.log = log;
        thread = new Thread(this::run, "junction-control-source");
        thread.setDaemon(true);
        thread.start();
    }

    private void run()
    {
        long wait = FIRST_RETRY_MS;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                final AutoCloseable s = opener.open();
                synchronized (this)
                {
                    if (!closed)
                    {
                        opened = s;
                        log.info("control source connected", "source", name, "attempts", attempt);
                        return;
                    }
                }
                s.close(); // closed while it was opening
                return;
            }
            catch (final InterruptedException ex)
            {
                return;
            }
            catch (final Exception ex)
            {
                synchronized (this)
                {
                    if (closed)
                    {
                        return;
                    }
                }
                log.error("control source unavailable: the journal's version stays in force", "source", name, "attempt",
                    attempt, "error", String.valueOf(ex.getMessage()), "retry_ms", wait);
            }
            try
            {
                TimeUnit.MILLISECONDS.sleep(wait);
            }
            catch (final InterruptedException ex)
            {
                return;
            }
            wait = Math.min(MAX_RETRY_MS, wait * 2);
        }
    }

    /** Stops trying and closes the source if it opened. */
    @Override
    public void close() throws Exception
    {
        final AutoCloseable s;
        synchronized (this)
        {
            closed = true;
            s = opened;
        }
        thread.interrupt();
        if (s != null)
        {
            s.close();
        }
    }
}
