package dev.junction.control.journal;

import net.openhft.chronicle.queue.impl.RollingResourcesCache;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The roll-cycle files of a journal's Chronicle queue: a journal whose last whole state is in
 * one cycle deletes the older cycles' files, which keeps it bounded on disk.
 */
final class RollCycleFiles
{
    private static final String SUFFIX = SingleChronicleQueue.SUFFIX;

    private final Path dir;
    private final SingleChronicleQueue queue;
    private final RollingResourcesCache names;

    RollCycleFiles(final Path dir, final SingleChronicleQueue queue)
    {
        this.dir = dir;
        this.queue = queue;
        this.names = new RollingResourcesCache(
            queue.rollCycle(), queue.epoch(), name -> new File(dir.toFile(), name + SUFFIX),
            file -> file.getName().substring(0, file.getName().length() - SUFFIX.length()));
    }

    /** Deletes the cycle files older than the cycle of {@code index}: nothing before it is read again. */
    void deleteBefore(final long index)
    {
        final int cycle = queue.rollCycle().toCycle(index);
        final File[] files = dir.toFile().listFiles((d, name) -> name.endsWith(SUFFIX));
        if (files == null)
        {
            return;
        }
        boolean deleted = false;
        for (final File file : files)
        {
            final String name = file.getName();
            final int fileCycle;
            try
            {
                fileCycle = names.parseCount(name.substring(0, name.length() - SUFFIX.length()));
            }
            catch (final RuntimeException ex)
            {
                continue; // not one of the queue's cycle files: left alone
            }
            if (fileCycle < cycle)
            {
                try
                {
                    Files.deleteIfExists(file.toPath());
                    deleted = true;
                }
                catch (final IOException ex)
                {
                    throw new UncheckedIOException("journal " + dir + ": cannot delete old cycle " + file, ex);
                }
            }
        }
        if (deleted)
        {
            queue.refreshDirectoryListing();
        }
    }
}
