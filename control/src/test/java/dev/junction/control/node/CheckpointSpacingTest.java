package dev.junction.control.node;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The spacing of conntrack checkpoints ({@link ConntrackCheckpointer#spacing}) on seeded random
 * tables: never shorter than the configured interval, never more than a tenth of a core spent
 * writing, the journal's two roll cycles within the disk bound, and a bigger table never
 * checkpointed more often than a smaller one.
 */
class CheckpointSpacingTest
{
    private static final long CYCLE_MS = TimeUnit.MINUTES.toMillis(5);

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void spacingKeepsTheCpuAndDiskBounds(final long seed)
    {
        final SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < 10_000; i++)
        {
            final long interval = TimeUnit.MILLISECONDS.toNanos(random.nextLong(10, 60_000));
            final long disk = (1L + random.nextInt(4096)) << 20;
            final long connections = random.nextLong(0, 2_000_000);
            final long bytes = 28 + 140 * connections;
            final long took = 660 * connections + random.nextLong(0, 50_000_000); // ~66 ms per 100k, plus a slow disk

            final long spacing = ConntrackCheckpointer.spacing(interval, took, bytes, disk, CYCLE_MS);

            assertTrue(spacing >= interval, "never more often than asked");
            assertTrue(spacing % interval == 0, "a multiple of the interval");
            assertTrue(took <= spacing / 10, "at most a tenth of a core: took " + took + " spacing " + spacing);
            final double checkpointsPerTwoCycles = 2.0 * TimeUnit.MILLISECONDS.toNanos(CYCLE_MS) / spacing;
            assertTrue(bytes * checkpointsPerTwoCycles <= disk * 1.0001, "two cycles within the disk bound: "
                + bytes * checkpointsPerTwoCycles + " > " + disk);
            final long bigger = ConntrackCheckpointer.spacing(interval, took, bytes * 2, disk, CYCLE_MS);
            assertTrue(bigger >= spacing, "a bigger table is not checkpointed more often");
        }
    }
}
