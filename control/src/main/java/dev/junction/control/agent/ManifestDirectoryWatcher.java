package dev.junction.control.agent;

import dev.junction.control.k8s.ManifestLoader;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The manifests directory as a source that is watched: a change to any file under it (written,
 * added, removed, renamed) gives the listener a new snapshot of the whole directory, as an
 * informer's resync would. Edits come in bursts (an editor's temporary file, {@code kubectl}-like
 * tools writing several files), so a change is only read once the directory has been quiet for
 * the debounce interval; what was read is compared by fingerprint (each file's path, size and
 * modification time) so that a touch of nothing new gives no snapshot.
 *
 * <p>inotify (the {@link WatchService}) only wakes the thread early: it watches one directory
 * level and drops events on overflow, so the fingerprint is also taken every poll interval,
 * which catches changes in subdirectories and lost events. One thread, a daemon; {@link #close()}
 * stops it.
 */
public final class ManifestDirectoryWatcher implements AutoCloseable
{
    public static final Duration DEFAULT_DEBOUNCE = Duration.ofMillis(200);
    public static final Duration DEFAULT_POLL = Duration.ofSeconds(2);

    private final Path directory;
    private final Duration debounce;
    private final Duration poll;
    private final Consumer<ManifestLoader.Result> listener;
    private final WatchService watch;
    private final Thread thread;
    private volatile boolean closed;
    private volatile long snapshots;
    private List<String> fingerprint;

    private ManifestDirectoryWatcher(final Path directory, final Duration debounce, final Duration poll,
        final Consumer<ManifestLoader.Result> listener) throws IOException
    {
        this.directory = directory;
        this.debounce = debounce;
        this.poll = poll;
        this.listener = listener;
        this.watch = FileSystems.getDefault().newWatchService();
        directory.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
            StandardWatchEventKinds.ENTRY_DELETE);
        this.thread = new Thread(this::run, "junction-manifests");
        this.thread.setDaemon(true);
    }

    /**
     * Reads the directory once and hands that first snapshot to the listener on the caller's
     * thread (so a node can compile it before opening its ports), then watches for changes.
     */
    public static ManifestDirectoryWatcher start(final Path directory, final Duration debounce, final Duration poll,
        final Consumer<ManifestLoader.Result> listener) throws IOException
    {
        if (!Files.isDirectory(directory))
        {
            throw new IllegalArgumentException("manifests: " + directory + " is not a directory");
        }
        if (debounce.isNegative() || poll.isNegative() || poll.isZero())
        {
            throw new IllegalArgumentException("debounce must be >= 0 and poll > 0");
        }
        final ManifestDirectoryWatcher w = new ManifestDirectoryWatcher(directory, debounce, poll, listener);
        w.fingerprint = w.fingerprint();
        w.deliver();
        w.thread.start();
        return w;
    }

    private void run()
    {
        try
        {
            while (!closed)
            {
                // Wake on an inotify event or at the poll interval, whichever comes first.
                final var key = watch.poll(poll.toMillis(), TimeUnit.MILLISECONDS);
                if (key != null)
                {
                    key.pollEvents();
                    key.reset();
                }
                List<String> seen = fingerprint();
                if (seen.equals(fingerprint))
                {
                    continue;
                }
                // Quiet period: keep waiting while the directory still changes.
                while (!closed)
                {
                    Thread.sleep(debounce.toMillis());
                    final List<String> again = fingerprint();
                    if (again.equals(seen))
                    {
                        break;
                    }
                    seen = again;
                }
                fingerprint = seen;
                deliver();
            }
        }
        catch (final InterruptedException | ClosedWatchServiceException ex)
        {
            // closed
        }
    }

    private void deliver()
    {
        // The loader never throws for bad content: problems are in the result's report.
        listener.accept(ManifestLoader.load(directory));
        snapshots++;
    }

    /** Each regular file under the directory as "path size mtime", sorted; unreadable parts as a marker. */
    private List<String> fingerprint()
    {
        final List<String> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(directory))
        {
            files.forEach(f ->
            {
                try
                {
                    final BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
                    if (a.isRegularFile())
                    {
                        out.add(directory.relativize(f) + " " + a.size() + " " + a.lastModifiedTime().to(TimeUnit.NANOSECONDS));
                    }
                }
                catch (final IOException ex)
                {
                    out.add(directory.relativize(f) + " unreadable");
                }
            });
        }
        catch (final IOException | java.io.UncheckedIOException ex)
        {
            out.add("unlistable " + ex.getMessage());
        }
        out.sort(null);
        return out;
    }

    /** Snapshots delivered so far (the first one included). */
    public long snapshots()
    {
        return snapshots;
    }

    @Override
    public void close()
    {
        closed = true;
        try
        {
            watch.close();
        }
        catch (final IOException ex)
        {
            // nothing left to release
        }
        thread.interrupt();
        try
        {
            thread.join(5_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
