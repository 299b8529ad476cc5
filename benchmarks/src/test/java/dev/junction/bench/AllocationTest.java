package dev.junction.bench;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Counts the bytes the test thread allocates while it calls the benchmark methods directly.
 * The per-thread counter has no harness overhead to divide out, so it can check the upcall,
 * whose few thousand ops per JMH iteration leave the GC profiler's figure dominated by JMH.
 *
 * <p>The JVM allocates a few kilobytes on the thread once while it warms the code up (seen with
 * escape analysis off too, so not objects the JIT would later remove), at a point that varies
 * from run to run. So the check is: among up to {@link #WINDOWS} consecutive windows, one whole
 * window of ops allocates exactly nothing. An allocation in the code under test, even one byte
 * per op, makes every window non-zero and fails the test.
 */
final class AllocationTest
{
    private static final int WINDOWS = 30;
    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();

    @Test
    void upcallTranslationAllocatesNothing() throws Exception
    {
        final UpcallBenchmark b = new UpcallBenchmark();
        b.rules = 10_000;
        b.seed = 1;
        b.setUp();
        // Each window walks every prebuilt key once: all paths, not only the common ones.
        assertSomeWindowAllocatesNothing("translations", 4096, b::translate);
    }

    @Test
    void datapathReceiveAllocatesNothing() throws Exception
    {
        for (final int size : new int[] {64, 1500})
        {
            final DatapathBenchmark b = new DatapathBenchmark();
            b.frameBytes = size;
            b.setUp();
            assertSomeWindowAllocatesNothing(size + "-byte bursts of " + DatapathBenchmark.BURST + " packets", 1000, b::burst);
        }
    }

    @Test
    void geneveEncapDecapAllocateNothing()
    {
        for (final int size : new int[] {64, 1400})
        {
            for (final boolean csum : new boolean[] {false, true})
            {
                final GeneveBenchmark b = new GeneveBenchmark();
                b.frameBytes = size;
                b.csum = csum;
                b.setUp();
                assertSomeWindowAllocatesNothing(size + "-byte encaps, csum " + csum, 10_000, b::encap);
                assertSomeWindowAllocatesNothing(size + "-byte decaps, csum " + csum, 10_000, b::decap);
            }
        }
    }

    @Test
    void overlayAllocatesNothing() throws Exception
    {
        for (final boolean csum : new boolean[] {false, true})
        {
            final OverlayBenchmark b = new OverlayBenchmark();
            b.frameBytes = 64;
            b.csum = csum;
            b.setUp();
            assertSomeWindowAllocatesNothing("overlay bursts, csum " + csum, 1000, b::burst);
            b.noUpcalls();
        }
    }

    @Test
    void parseAllocatesNothing()
    {
        for (final ParseBenchmark.Kind kind : ParseBenchmark.Kind.values())
        {
            final ParseBenchmark b = new ParseBenchmark();
            b.kind = kind;
            b.setUp();
            assertSomeWindowAllocatesNothing(kind + " parses", 100_000, b::parse);
        }
    }

    @Test
    void counterSeesAnAllocation()
    {
        // The negative control: if the counter did not work, the tests above could not fail.
        final long before = THREADS.getCurrentThreadAllocatedBytes();
        final Object[] sink = new Object[1000];
        sink[0] = sink;
        assertTrue(THREADS.getCurrentThreadAllocatedBytes() - before >= 4000, "allocation counter works");
    }

    private static void assertSomeWindowAllocatesNothing(final String what, final int opsPerWindow, final Runnable op)
    {
        final long[] perWindow = new long[WINDOWS];
        for (int w = 0; w < WINDOWS; w++)
        {
            final long before = THREADS.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < opsPerWindow; i++)
            {
                op.run();
            }
            perWindow[w] = THREADS.getCurrentThreadAllocatedBytes() - before;
            if (perWindow[w] == 0)
            {
                return;
            }
        }
        assertEquals(0, perWindow[WINDOWS - 1], what + ": bytes allocated per window of " + opsPerWindow + " ops: "
            + java.util.Arrays.toString(perWindow));
    }
}
