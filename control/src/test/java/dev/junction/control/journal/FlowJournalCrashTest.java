package dev.junction.control.journal;

import dev.junction.control.journal.FlowJournal.Restored;
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
 * kill -9 of a JVM appending to the journal: the version restored afterwards is exactly one the
 * child had appended, no older than the last it reported, and never a partial one. Three rounds
 * on one journal, each child resuming where the restore left it.
 */
class FlowJournalCrashTest
{
    static final int SNAPSHOT_EVERY = 10;

    @TempDir
    Path stateDir;

    /** 3,000 flows, 150 rewritten a version: each tenth version is a snapshot of ~300 KB. */
    static FlowJournalTest.Model model()
    {
        return new FlowJournalTest.Model(3_000, 150);
    }

    @Test
    void killNineWhileAppendingLeavesAWholeVersion() throws Exception
    {
        long previous = 0;
        for (int round = 0; round < 3; round++)
        {
            final AtomicLong lastPrinted = new AtomicLong(-1);
            final AtomicLong restoredByChild = new AtomicLong(-1);
            final Process child = start();
            final Thread reader = new Thread(() -> readLines(child, lastPrinted, restoredByChild), "crash-child-stdout");
            reader.start();
            try
            {
                final long wantAtLeast = previous + 50 + ThreadLocalRandom.current().nextInt(200);
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (lastPrinted.get() < wantAtLeast && child.isAlive() && System.nanoTime() < deadline)
                {
                    Thread.sleep(1);
                }
                assertTrue(child.isAlive(), "the child died by itself");
                assertTrue(lastPrinted.get() >= wantAtLeast, "the child appended too little in 60 s");
                child.destroyForcibly();
                child.waitFor(30, TimeUnit.SECONDS);
            }
            finally
            {
                child.destroyForcibly();
            }
            reader.join(TimeUnit.SECONDS.toMillis(30));
            assertEquals(previous, restoredByChild.get(), "the child restored the version the test restored");

            final Restored restored;
            try (FlowJournal journal = FlowJournal.open(stateDir, SNAPSHOT_EVERY))
            {
                restored = journal.restore().orElseThrow();
            }
            System.out.printf("FlowJournalCrash: round %d, last printed %d, restored %d%n",
                round, lastPrinted.get(), restored.version());
            assertTrue(restored.version() >= lastPrinted.get(),
                "restored " + restored.version() + " < last printed " + lastPrinted.get());
            final FlowJournalTest.Model expected = model();
            expected.initial();
            while (expected.version < restored.version())
            {
                expected.next();
            }
            FlowJournalTest.assertTable(expected, restored);
            previous = restored.version();
        }
    }

    private Process start() throws IOException
    {
        final List<String> command = dev.junction.control.ChildJvm.command(FlowJournalCrashChild.class.getName(), stateDir.toString());
        return new ProcessBuilder(command)
            .redirectError(ProcessBuilder.Redirect.to(new File(stateDir.toFile(), "child.err")))
            .start();
    }

    private static void readLines(final Process child, final AtomicLong lastPrinted, final AtomicLong restored)
    {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8)))
        {
            String line;
            while ((line = in.readLine()) != null)
            {
                if (line.startsWith("restored "))
                {
                    restored.set(Long.parseLong(line.substring("restored ".length())));
                }
                else if (!line.isEmpty() && Character.isDigit(line.charAt(0)))
                {
                    try
                    {
                        lastPrinted.set(Long.parseLong(line));
                    }
                    catch (final NumberFormatException ex)
                    {
                        // a line cut by the kill: not a version the child finished printing
                    }
                }
            }
        }
        catch (final IOException ex)
        {
            // the pipe closes with the child
        }
    }
}
