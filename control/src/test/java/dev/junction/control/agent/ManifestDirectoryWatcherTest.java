package dev.junction.control.agent;

import dev.junction.control.k8s.ManifestLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The watched manifests directory: every change, in the top level or below, gives one new snapshot; nothing new gives none. */
class ManifestDirectoryWatcherTest
{
    private static final Duration WAIT = Duration.ofSeconds(10);

    private static String namespace(final String name)
    {
        return "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + name + "}\n";
    }

    private static void await(final List<ManifestLoader.Result> seen, final int count) throws InterruptedException
    {
        final long end = System.nanoTime() + WAIT.toNanos();
        while (seen.size() < count)
        {
            if (System.nanoTime() > end)
            {
                fail("expected " + count + " snapshots, got " + seen.size());
            }
            Thread.sleep(20);
        }
    }

    @Test
    void changesBecomeSnapshotsOfTheWholeDirectory(@TempDir final Path dir) throws Exception
    {
        Files.writeString(dir.resolve("a.yaml"), namespace("a"));
        final List<ManifestLoader.Result> seen = new CopyOnWriteArrayList<>();
        try (ManifestDirectoryWatcher w = ManifestDirectoryWatcher.start(dir, Duration.ofMillis(50), Duration.ofMillis(300),
            seen::add))
        {
            assertEquals(1, seen.size(), "the first snapshot is delivered before start returns");
            assertTrue(seen.get(0).model().namespace("a").isPresent());

            Files.writeString(dir.resolve("b.yaml"), namespace("b"));
            await(seen, 2);
            assertTrue(seen.get(1).model().namespace("b").isPresent());

            // Below the top level inotify does not see it: the poll does.
            Files.createDirectories(dir.resolve("sub"));
            Files.writeString(dir.resolve("sub/c.yaml"), namespace("c"));
            await(seen, 3);
            assertTrue(seen.get(seen.size() - 1).model().namespace("c").isPresent(), "a file in a subdirectory is read");

            Files.delete(dir.resolve("a.yaml"));
            await(seen, seen.size() + 1);
            assertTrue(seen.get(seen.size() - 1).model().namespace("a").isEmpty(), "a removed file's objects are gone");

            final int before = seen.size();
            Thread.sleep(1_000);
            assertEquals(before, seen.size(), "no change, no snapshot");
            assertEquals(before, w.snapshots());
        }
    }

    @Test
    void aMissingDirectoryIsRefused(@TempDir final Path dir)
    {
        assertThrows(IllegalArgumentException.class, () -> ManifestDirectoryWatcher.start(dir.resolve("none"), Duration.ZERO,
            Duration.ofSeconds(1), r -> { }));
    }
}
