package dev.junction.datapath;

import dev.junction.datapath.cache.Megaflow;
import dev.junction.datapath.cache.MegaflowCache;
import dev.junction.flowtable.ofp.FlowTables;
import dev.junction.flowtable.xlate.Translator;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One worker's side of an off-thread revalidator, as OVS's udpif between its revalidator threads
 * and a PMD thread: the worker dumps its megaflows here (references, the table version it sees,
 * its clock) and goes on forwarding; the revalidator translates the dump on its own thread with
 * its own {@link Translator} and sends back {@link RevalidationBatch}es for the worker to apply.
 *
 * <p>One dump is out at a time, and each state change has one writer: the worker posts (FREE to
 * POSTED), the revalidator takes it (POSTED to TAKEN), the worker frees it when the dump's last
 * batch is applied (TAKEN to FREE). The volatile write of the state publishes the dump's plain
 * fields. What the revalidator reads of a dumped megaflow is fixed while the dump is out (its
 * upcall key, mask, slow flag; its actions change only by this dump's own batches), except its
 * last use, which it reads racily and the worker checks again.
 */
public final class RevalidatorLink
{
    private static final int FREE = 0;
    private static final int POSTED = 1;
    private static final int TAKEN = 2;

    private final Translator translator;
    private volatile int state = FREE;
    private Megaflow[] dump = new Megaflow[1024];
    private int size;
    private FlowTables version;
    private long macVersion;
    private long nowNanos;
    private long maxIdleNanos;
    private final AtomicLong completed = new AtomicLong();
    /** Bound once, so a dump allocates nothing while the array is big enough. */
    private final Consumer<Megaflow> collect = this::collect;

    RevalidatorLink(final Translator translator)
    {
        this.translator = translator;
    }

    /** Worker: dumps {@code cache} unless a dump is still out; true when posted. */
    boolean post(final MegaflowCache cache, final FlowTables tables, final long macs, final long now,
        final long maxIdle)
    {
        if (state != FREE)
        {
            return false;
        }
        size = 0;
        cache.forEach(collect);
        version = tables;
        macVersion = macs;
        nowNanos = now;
        maxIdleNanos = maxIdle;
        state = POSTED;
        return true;
    }

    private void collect(final Megaflow mf)
    {
        if (size == dump.length)
        {
            dump = java.util.Arrays.copyOf(dump, size * 2);
        }
        dump[size++] = mf;
    }

    /** Worker: the dump's last batch is applied; forgets the references so dead megaflows can go. */
    void free()
    {
        java.util.Arrays.fill(dump, 0, size, null);
        size = 0;
        completed.lazySet(completed.get() + 1);
        state = FREE;
    }

    /** Revalidator: takes a posted dump; false when there is none. */
    public boolean take()
    {
        if (state != POSTED)
        {
            return false;
        }
        state = TAKEN;
        return true;
    }

    /** Whether the worker may dump again (nothing is out). */
    public boolean isFree()
    {
        return state == FREE;
    }

    /** Dumps fully applied so far. */
    public long completed()
    {
        return completed.get();
    }

    /** The revalidator's own translator, built as the worker's. */
    public Translator translator()
    {
        return translator;
    }

    public int size()
    {
        return size;
    }

    public Megaflow megaflow(final int i)
    {
        return dump[i];
    }

    /** The table version the worker saw when it dumped: the one to revalidate against. */
    public FlowTables version()
    {
        return version;
    }

    public long macVersion()
    {
        return macVersion;
    }

    /** The worker's clock at the dump, for idle expiry. */
    public long nowNanos()
    {
        return nowNanos;
    }

    public long maxIdleNanos()
    {
        return maxIdleNanos;
    }
}
