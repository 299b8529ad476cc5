package dev.junction.control.journal;

import dev.junction.conntrack.Checkpoint;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.core.time.SystemTimeProvider;
import net.openhft.chronicle.core.time.TimeProvider;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.TailerDirection;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A Chronicle Queue journal of conntrack checkpoints, in {@code stateDir/conntrack}, so that a
 * node killed under traffic puts its connections back at the next start (as conntrackd does for
 * Linux) and established connections go on instead of meeting a policy's drop of +inv/+new.
 * <p>
 * Every document is one whole {@link Checkpoint} (there are no deltas: a checkpoint is small
 * beside the flows and every one is complete in itself), so the newest whole document is all a
 * restore reads. A writer killed mid-document leaves one Chronicle never marks complete, which
 * no reader sees; one whose bytes are not a whole checkpoint (the checkpoint's own CRC) is
 * skipped and the one before it restored, counted in {@link #skipped()}.
 * <p>
 * Bounded on disk as {@link FlowJournal} is: after each append, the roll-cycle files before the
 * append's own cycle are deleted, so what remains is the current cycle's file (five minutes with
 * {@link RollCycles#FIVE_MINUTELY}) and, until its first checkpoint is whole, the one before:
 * at most about {@code 2 * 300 s / interval} checkpoints of {@code 20 + 140 * connections} bytes.
 * <p>
 * Not thread-safe: one thread at a time appends (the node's checkpoint thread, then the thread
 * that stops the node, once the first has ended); {@link #last()} is read once at start, before.
 */
public final class ConntrackJournal implements AutoCloseable
{
    /** 'JCJ1': the first four bytes of every document. */
    static final int MAGIC = 0x4A434A31;

    private final Path dir;
    private final SingleChronicleQueue queue;
    private final RollCycleFiles cycles;
    private ExcerptAppender appender;
    private Thread appenderThread;
    private int skipped;

    private ConntrackJournal(final Path dir, final SingleChronicleQueue queue)
    {
        this.dir = dir;
        this.queue = queue;
        this.cycles = new RollCycleFiles(dir, queue);
    }

    /** Opens (creating when missing) the journal in {@code stateDir/conntrack}. */
    public static ConntrackJournal open(final Path stateDir) throws IOException
    {
        return open(stateDir, RollCycles.FIVE_MINUTELY, SystemTimeProvider.INSTANCE);
    }

    /** With a roll cycle and a clock of the caller's: tests move the clock to roll cycles. */
    static ConntrackJournal open(final Path stateDir, final RollCycle rollCycle, final TimeProvider clock) throws IOException
    {
        final Path dir = stateDir.resolve("conntrack");
        if (Files.exists(dir) && !Files.isDirectory(dir))
        {
            throw new IOException("conntrack journal " + dir + " is not a directory");
        }
        Files.createDirectories(dir);
        try
        {
            return new ConntrackJournal(dir, SingleChronicleQueueBuilder.binary(dir).rollCycle(rollCycle).timeProvider(clock)
                .build());
        }
        catch (final RuntimeException | Error ex)
        {
            throw new IOException("conntrack journal " + dir + " cannot be opened as a Chronicle queue: " + ex, ex);
        }
    }

    public Path directory()
    {
        return dir;
    }

    /** The length of one roll cycle: a checkpointer spaces checkpoints so that two cycles fit its disk bound. */
    public long cycleMillis()
    {
        return queue.rollCycle().lengthInMillis();
    }

    /** Writes {@code cp} as one document, then deletes the cycles before it; returns the bytes written. */
    public int append(final Checkpoint cp)
    {
        final byte[] bytes = cp.encode();
        if (appender == null)
        {
            appender = queue.createAppender();
            appenderThread = Thread.currentThread();
        }
        else if (appenderThread != Thread.currentThread())
        {
            appender.singleThreadedCheckReset(); // handed over (the last checkpoint at a stop): the caller synchronized
            appenderThread = Thread.currentThread();
        }
        final long index;
        try (DocumentContext dc = appender.writingDocument())
        {
            try
            {
                final Bytes<?> b = dc.wire().bytes();
                b.writeInt(MAGIC);
                b.writeInt(bytes.length);
                b.write(bytes);
            }
            catch (final RuntimeException | Error ex)
            {
                dc.rollbackOnClose();
                throw ex;
            }
            index = dc.index();
        }
        cycles.deleteBefore(index);
        return 8 + bytes.length;
    }

    /**
     * The newest whole checkpoint, or empty when there is none: reads back from the end, skipping
     * documents that are not a whole checkpoint.
     */
    public Optional<Checkpoint> last()
    {
        try (ExcerptTailer tailer = queue.createTailer())
        {
            tailer.direction(TailerDirection.BACKWARD).toEnd();
            while (true)
            {
                try (DocumentContext dc = tailer.readingDocument())
                {
                    if (!dc.isPresent())
                    {
                        return Optional.empty();
                    }
                    final Optional<Checkpoint> cp = decode(dc.wire().bytes());
                    if (cp.isPresent())
                    {
                        return cp;
                    }
                    skipped++;
                }
            }
        }
    }

    private static Optional<Checkpoint> decode(final Bytes<?> b)
    {
        if (b.readRemaining() < 8 || b.readInt() != MAGIC)
        {
            return Optional.empty();
        }
        final int length = b.readInt();
        if (length < 0 || length > b.readRemaining())
        {
            return Optional.empty();
        }
        final byte[] bytes = new byte[length];
        b.read(bytes);
        try
        {
            return Optional.of(Checkpoint.decode(bytes));
        }
        catch (final IllegalArgumentException damaged)
        {
            return Optional.empty();
        }
    }

    /** Documents {@link #last()} passed over because they were not a whole checkpoint. */
    public int skipped()
    {
        return skipped;
    }

    @Override
    public void close()
    {
        queue.close();
    }
}
