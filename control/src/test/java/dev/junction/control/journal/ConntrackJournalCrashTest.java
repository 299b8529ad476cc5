package dev.junction.control.journal;

import dev.junction.conntrack.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kill -9 of a JVM appending conntrack checkpoints: the next open restores a whole checkpoint,
 * no older than the last the child reported, at once (a dead writer's lock is not waited out).
 * 2,000 connections a checkpoint (280 KB), three rounds on one journal.
 */
class ConntrackJournalCrashTest
{
    @TempDir
    Path stateDir;

    @Test
    void killNineWhileAppendingLeavesAWholeCheckpointReadAtOnce() throws Exception
    {
        for (int round = 0; round < 3; round++)
        {
            final AtomicLong lastPrinted = new AtomicLong(-1);
            final Process child = start();
            final Thread reader = new Thread(() -> readLines(child, lastPrinted), "ct-crash-child-stdout");
            reader.start();
            try
            {
                final long want = 20 + ThreadLocalRandom.current().nextInt(100);
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (lastPrinted.get() < want && child.isAlive() && System.nanoTime() < deadline)
                {
                    Thread.sleep(1);
                }
                assertTrue(child.isAlive() && lastPrinted.get() >= want, "the child appended too little in 60 s");
            }
            finally
            {
                child.destroyForcibly();
                child.waitFor(30, TimeUnit.SECONDS);
            }
            reader.join(TimeUnit.SECONDS.toMillis(30));
            final long started = System.nanoTime();
            final Checkpoint cp;
            final long openNanos;
            try (ConntrackJournal journal = ConntrackJournal.open(stateDir))
            {
                openNanos = System.nanoTime() - started;
                cp = journal.last().orElseThrow();
            }
            final long nanos = System.nanoTime() - started;
            System.out.printf("ConntrackJournalCrash: round %d, last printed %d, restored %d, open %.1f ms, open+read %.1f ms%n",
                round, lastPrinted.get(), cp.wallMillis(), openNanos / 1e6, nanos / 1e6);
            assertEquals(2_000, cp.connections());
            assertTrue(cp.wallMillis() >= lastPrinted.get(), "restored " + cp.wallMillis() + " < " + lastPrinted.get());
            if (round > 0)
            {
                // Round 0 pays Chronicle's first use in this JVM (class loading: 1 to 4 s on a loaded
                // 2-core machine), which a daemon spends beside its start; a dead writer is not waited out.
                assertTrue(nanos < TimeUnit.SECONDS.toNanos(1), "open and read took " + nanos / 1e6 + " ms");
            }
        }
    }

    private Process start() throws IOException
    {
        final List<String> command = dev.junction.control.ChildJvm.command(ConntrackJournalCrashChild.class.getName(), stateDir.toString());
        return new ProcessBuilder(command)
            .redirectError(ProcessBuilder.Redirect.to(new File(stateDir.toFile(), "child.err")))
            .start();
    }

    private static void readLines(final Process child, final AtomicLong lastPrinted)
    {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8)))
        {
            String line;
            while ((line = in.readLine()) != null)
            {
                try
                {
                    lastPrinted.set(Long.parseLong(line));
                }
                catch (final NumberFormatException ex)
                {
                    // a line cut by the kill
                }
            }
        }
        catch (final IOException ex)
        {
            // the pipe closes with the child
        }
    }
}
