package dev.junction.datapath.pipeline;

import dev.junction.datapath.RevalidationBatch;
import dev.junction.datapath.RevalidatorLink;
import dev.junction.datapath.cache.Megaflow;
import dev.junction.flowtable.ofp.FlowTables;
import dev.junction.flowtable.xlate.OdpActions;
import dev.junction.flowtable.xlate.Translator;
import org.agrona.concurrent.Agent;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The pipeline's revalidator thread, as OVS's revalidators beside its PMD threads: it takes the
 * megaflow dumps workers post when the table version moves on (and asks each worker for one every
 * second for idle expiry), translates each dumped megaflow again against the dump's version with
 * its own translator, and sends the worker batches of changes through the ring, which the worker
 * applies between packets. A worker thus pays for a dump (copying references) and for applying
 * changes, never for translating its megaflows.
 *
 * <p>Each duty cycle does at most one batch per worker, so workers share the thread fairly and a
 * long dump reaches its worker as a stream of small batches.
 */
final class Revalidator implements Agent
{
    static final int BATCH = 256;
    private static final long EXPIRY_INTERVAL_NANOS = 1_000_000_000L;

    private final Pipeline pipeline;
    private final RevalidatorLink[] links;
    private final LongSupplier clock;
    /** Per worker: the dump being worked through, where, and whether it needs translating. */
    private final boolean[] working;
    private final int[] cursors;
    private final boolean[] translating;
    /** Per worker: the versions its last completed dump was revalidated against. */
    private final FlowTables[] doneVersions;
    private final long[] doneMacs;
    private final OdpActions scratch = new OdpActions();
    private final AtomicLong translated = new AtomicLong();
    private long nextExpiry;

    Revalidator(final Pipeline pipeline, final RevalidatorLink[] links, final LongSupplier clock)
    {
        this.pipeline = pipeline;
        this.links = links;
        this.clock = clock;
        working = new boolean[links.length];
        cursors = new int[links.length];
        translating = new boolean[links.length];
        doneVersions = new FlowTables[links.length];
        doneMacs = new long[links.length];
        nextExpiry = clock.getAsLong() + EXPIRY_INTERVAL_NANOS;
    }

    @Override
    public String roleName()
    {
        return "junction-revalidator";
    }

    @Override
    public int doWork()
    {
        int work = 0;
        final long now = clock.getAsLong();
        if (now - nextExpiry >= 0)
        {
            nextExpiry = now + EXPIRY_INTERVAL_NANOS;
            for (int w = 0; w < links.length; w++)
            {
                if (links[w].isFree())
                {
                    pipeline.control(w, dp ->
                    {
                        dp.dumpForRevalidator();
                        return null;
                    });
                    work++;
                }
            }
        }
        for (int w = 0; w < links.length; w++)
        {
            work += step(w);
        }
        return work;
    }

    /** One batch of worker {@code w}'s dump, if it has one out. */
    private int step(final int w)
    {
        final RevalidatorLink link = links[w];
        if (!working[w])
        {
            if (!link.take())
            {
                return 0;
            }
            working[w] = true;
            cursors[w] = 0;
            // A dump for expiry under the version already revalidated needs no translation.
            translating[w] = link.version() != doneVersions[w] || link.macVersion() != doneMacs[w];
        }
        final RevalidationBatch batch = new RevalidationBatch(BATCH);
        final int size = link.size();
        final long now = link.nowNanos();
        final long maxIdle = link.maxIdleNanos();
        int i = cursors[w];
        // A megaflow may take two entries: revalidated, then offered for expiry.
        for (; i < size && batch.size() <= BATCH - 2; i++)
        {
            final Megaflow mf = link.megaflow(i);
            if (translating[w])
            {
                revalidate(link, mf, batch);
            }
            // Its last use is read racily (the worker writes it per packet): the worker decides.
            if (now - mf.usedNanos() >= maxIdle)
            {
                batch.expire(mf);
            }
        }
        cursors[w] = i;
        if (i == size)
        {
            final FlowTables version = link.version();
            final long macs = link.macVersion();
            batch.last(version, macs);
            doneVersions[w] = version;
            doneMacs[w] = macs;
            working[w] = false;
            // The link is the worker's again once this batch is applied: nothing of it is read after.
        }
        if (batch.size() > 0 || i == size)
        {
            pipeline.control(w, dp ->
            {
                dp.apply(batch);
                return null;
            });
        }
        return 1;
    }

    /**
     * As the worker's own revalidation ({@code Datapath.stillValid}): a megaflow kept is sent with
     * its new rules, and with new actions only when they changed; one that may not stay is removed,
     * as is one whose translation throws, rather than leave the worker waiting for its dump.
     */
    private void revalidate(final RevalidatorLink link, final Megaflow mf, final RevalidationBatch batch)
    {
        final Translator tr = link.translator();
        boolean keep;
        try
        {
            keep = dev.junction.datapath.Datapath.stillValid(tr, link.version(), mf, scratch);
        }
        catch (final RuntimeException ex)
        {
            keep = false;
        }
        translated.lazySet(translated.get() + 1);
        if (!keep)
        {
            batch.remove(mf);
            return;
        }
        OdpActions changed = null;
        if (!mf.actions().sameAs(scratch))
        {
            changed = new OdpActions();
            changed.copyFrom(scratch);
        }
        batch.retarget(mf, changed, tr.visitedRules(), tr.normalSource(), tr.normalPort());
    }

    /** Megaflows translated again so far, over all workers. */
    long translated()
    {
        return translated.get();
    }
}
