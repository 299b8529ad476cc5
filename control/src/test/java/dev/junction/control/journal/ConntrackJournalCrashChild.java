package dev.junction.control.journal;

import dev.junction.conntrack.Conntrack;

import java.nio.file.Path;

/**
 * Run by {@link ConntrackJournalCrashTest} in a JVM of its own: appends checkpoints of a table of
 * 2,000 connections to the journal in {@code args[0]} until killed, printing each one's wall-clock
 * stamp once {@code append} has returned.
 */
public final class ConntrackJournalCrashChild
{
    public static void main(final String[] args)
    {
        final Conntrack ct = ConntrackJournalTest.withConnections(2_000);
        try (ConntrackJournal journal = ConntrackJournal.open(Path.of(args[0])))
        {
            for (long stamp = 1; ; stamp++)
            {
                journal.append(ct.checkpoint(2_000_000_000L, stamp));
                System.out.println(stamp);
                System.out.flush();
            }
        }
        catch (final java.io.IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
    }
}
