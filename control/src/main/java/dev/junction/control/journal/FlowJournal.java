package dev.junction.control.journal;

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
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A Chronicle Queue journal of flow-table versions, in {@code stateDir/journal}, so a restarted
 * node can put back the last flow table (forwarding resumes) before its source resyncs.
 * <p>
 * Each version is one Chronicle document, written whole or not at all (a writer killed mid-way
 * leaves a document that was never marked complete, which no reader sees): either a
 * <em>delta</em> (the flow lines removed and added since the version before, and the complete
 * group lines) or a <em>snapshot</em> (every flow line and every group line). The first version,
 * every {@code snapshotEvery}-th after a snapshot, and any whose delta is bigger than the table
 * it leaves, are written as snapshots, so {@link #restore()} reads one snapshot and fewer than
 * {@code snapshotEvery} deltas. Flows are keyed by their text line: a delta removes lines, then
 * adds lines.
 * <p>
 * What is kept on disk: after each snapshot, every roll-cycle file older than the snapshot's own
 * cycle is deleted; what remains is the snapshot's cycle (which may hold older versions too) and
 * any later ones. With the default {@link RollCycles#FAST_HOURLY} that is at most the current
 * hour's file and the one holding the last snapshot.
 * <p>
 * Not thread-safe: one thread at a time appends and restores. Callers may hand the journal from
 * one thread to another (a node compiles its first snapshot on the main thread and the next ones
 * on the source's thread) provided they synchronize the hand-over; Chronicle's appender, which
 * checks that one thread uses it, is then told of the new owner.
 */
public final class FlowJournal implements AutoCloseable
{
    /** Default number of versions from one snapshot to the next. */
    public static final int DEFAULT_SNAPSHOT_EVERY = 100;

    /** 'JFJ1': the first four bytes of every journal document. */
    static final int MAGIC = 0x4A464A31;
    static final byte KIND_DELTA = 1;
    static final byte KIND_SNAPSHOT = 2;

    /**
     * One flow-table version: what changed since the version before and where it came from.
     *
     * @param version strictly greater than the version before it.
     * @param source  what produced it, e.g. {@code manifests} or {@code apiserver}.
     * @param removed flow lines (ovs-ofctl text) no longer in the table.
     * @param added   flow lines new in the table.
     * @param groups  every group line of the table (groups are few: stored whole).
     * @param ports   the OpenFlow port number of each local pod (pod key to ofport), stored whole:
     *                what a restarted node opens its pods' devices under before its source speaks.
     */
    public record Version(long version, String source, List<String> removed, List<String> added, List<String> groups,
        Map<String, Integer> ports)
    {
        public Version
        {
            Objects.requireNonNull(source, "source");
            removed = List.copyOf(removed);
            added = List.copyOf(added);
            groups = List.copyOf(groups);
            ports = Map.copyOf(ports);
        }

        /** A version of a bridge without pods' ports to remember. */
        public Version(final long version, final String source, final List<String> removed, final List<String> added,
            final List<String> groups)
        {
            this(version, source, removed, added, groups, Map.of());
        }
    }

    /**
     * The table as of the journal's last version, and that version's pod ports (empty in
     * documents written before ports were journaled).
     */
    public record Restored(long version, List<String> flows, List<String> groups, Map<String, Integer> ports)
    {
    }

    private final Path dir;
    private final int snapshotEvery;
    private final SingleChronicleQueue queue;
    private final RollCycleFiles cycles;
    private ExcerptAppender appender;
    private Thread appenderThread;

    private boolean loaded;
    private boolean hasVersion;
    private long lastVersion;
    private int deltasSinceSnapshot;
    private final LinkedHashSet<String> flows = new LinkedHashSet<>();
    private List<String> groups = List.of();
    private Map<String, Integer> ports = Map.of();

    private FlowJournal(final Path dir, final int snapshotEvery, final SingleChronicleQueue queue)
    {
        this.dir = dir;
        this.snapshotEvery = snapshotEvery;
        this.queue = queue;
        this.cycles = new RollCycleFiles(dir, queue);
    }

    /** Opens (creating when missing) the journal in {@code stateDir/journal}, a snapshot every 100 versions. */
    public static FlowJournal open(final Path stateDir) throws IOException
    {
        return open(stateDir, DEFAULT_SNAPSHOT_EVERY);
    }

    public static FlowJournal open(final Path stateDir, final int snapshotEvery) throws IOException
    {
        return open(stateDir, snapshotEvery, RollCycles.FAST_HOURLY, SystemTimeProvider.INSTANCE);
    }

    /** With a roll cycle and a clock of the caller's: tests move the clock to roll cycles. */
    static FlowJournal open(
        final Path stateDir, final int snapshotEvery, final RollCycle rollCycle, final TimeProvider clock)
        throws IOException
    {
        if (snapshotEvery < 1)
        {
            throw new IllegalArgumentException("snapshotEvery must be >= 1: " + snapshotEvery);
        }
        final Path dir = stateDir.resolve("journal");
        if (Files.exists(dir) && !Files.isDirectory(dir))
        {
            throw new IOException("flow journal " + dir + " is not a directory");
        }
        Files.createDirectories(dir);
        final SingleChronicleQueue queue;
        try
        {
            queue = SingleChronicleQueueBuilder.binary(dir)
                .rollCycle(rollCycle)
                .timeProvider(clock)
                .build();
        }
        catch (final RuntimeException | Error ex)
        {
            throw new IOException("flow journal " + dir + " cannot be opened as a Chronicle queue: " + ex, ex);
        }
        return new FlowJournal(dir, snapshotEvery, queue);
    }

    public Path directory()
    {
        return dir;
    }

    /**
     * Writes {@code v} as one document: a delta, or a snapshot when one is due. The journal
     * checks the delta against the table it holds (restored first when not yet read): a removed
     * line must be in the table and an added one must not.
     */
    public void append(final Version v) throws IOException
    {
        load();
        if (hasVersion && v.version() <= lastVersion)
        {
            throw new IllegalArgumentException("version " + v.version() + " after " + lastVersion);
        }
        final HashSet<String> removed = new HashSet<>(v.removed());
        for (final String line : v.removed())
        {
            if (!flows.contains(line) || removed.size() != v.removed().size())
            {
                throw new IllegalArgumentException("version " + v.version() + " removes a flow not in the table: " + line);
            }
        }
        final HashSet<String> added = new HashSet<>(v.added());
        for (final String line : v.added())
        {
            if ((flows.contains(line) && !removed.contains(line)) || added.size() != v.added().size())
            {
                throw new IllegalArgumentException("version " + v.version() + " adds a flow already in the table: " + line);
            }
        }
        final int nextSize = flows.size() - v.removed().size() + v.added().size();
        final boolean snapshot = !hasVersion ||
            deltasSinceSnapshot + 1 >= snapshotEvery ||
            v.removed().size() + v.added().size() > nextSize;

        // The table moves first (a snapshot writes it); should the write fail, it is read back from disk.
        flows.removeAll(removed);
        flows.addAll(v.added());
        loaded = false;
        if (appender == null)
        {
            appender = queue.createAppender();
            appenderThread = Thread.currentThread();
        }
        else if (appenderThread != Thread.currentThread())
        {
            appender.singleThreadedCheckReset();
            appenderThread = Thread.currentThread();
        }
        final long index;
        try (DocumentContext dc = appender.writingDocument())
        {
            try
            {
                final Bytes<?> bytes = dc.wire().bytes();
                bytes.writeInt(MAGIC);
                bytes.writeByte(snapshot ? KIND_SNAPSHOT : KIND_DELTA);
                bytes.writeLong(v.version());
                bytes.writeUtf8(v.source());
                if (snapshot)
                {
                    writeLines(bytes, flows);
                }
                else
                {
                    writeLines(bytes, v.removed());
                    writeLines(bytes, v.added());
                }
                writeLines(bytes, v.groups());
                bytes.writeInt(v.ports().size());
                for (final Map.Entry<String, Integer> e : v.ports().entrySet())
                {
                    bytes.writeUtf8(e.getKey());
                    bytes.writeInt(e.getValue());
                }
            }
            catch (final RuntimeException | Error ex)
            {
                dc.rollbackOnClose();
                throw ex;
            }
            index = dc.index();
        }

        loaded = true;
        groups = v.groups();
        ports = v.ports();
        hasVersion = true;
        lastVersion = v.version();
        deltasSinceSnapshot = snapshot ? 0 : deltasSinceSnapshot + 1;
        if (snapshot)
        {
            cycles.deleteBefore(index);
        }
    }

    /**
     * The table as of the last version whole in the journal, or empty when it has none. Reads the
     * last snapshot and the deltas after it.
     *
     * @throws IOException when the directory holds documents that are not this journal's, or
     *                     deltas that do not fit the table before them.
     */
    public Optional<Restored> restore() throws IOException
    {
        loaded = false;
        load();
        return hasVersion ?
            Optional.of(new Restored(lastVersion, List.copyOf(flows), groups, ports)) :
            Optional.empty();
    }

    /** The last version appended or restored, or -1 when there is none. */
    public long lastVersion()
    {
        return hasVersion ? lastVersion : -1;
    }

    public void close()
    {
        queue.close();
    }

    private void load() throws IOException
    {
        if (loaded)
        {
            return;
        }
        flows.clear();
        groups = List.of();
        ports = Map.of();
        hasVersion = false;
        lastVersion = 0;
        deltasSinceSnapshot = 0;
        try
        {
            final long snapshotIndex = findLastSnapshot();
            if (snapshotIndex != Long.MIN_VALUE)
            {
                replayFrom(snapshotIndex);
            }
        }
        catch (final IOException ex)
        {
            flows.clear();
            hasVersion = false;
            throw ex;
        }
        catch (final RuntimeException ex)
        {
            flows.clear();
            hasVersion = false;
            throw new IOException("flow journal " + dir + " cannot be read: " + ex, ex);
        }
        loaded = true;
    }

    /** Walks back from the end to the last snapshot: its index, or MIN_VALUE for an empty journal. */
    private long findLastSnapshot() throws IOException
    {
        try (ExcerptTailer tailer = queue.createTailer())
        {
            tailer.direction(TailerDirection.BACKWARD).toEnd();
            boolean any = false;
            while (true)
            {
                try (DocumentContext dc = tailer.readingDocument())
                {
                    if (!dc.isPresent())
                    {
                        if (any)
                        {
                            throw new IOException("flow journal " + dir + " has versions but no snapshot before them");
                        }
                        return Long.MIN_VALUE;
                    }
                    any = true;
                    final Bytes<?> bytes = dc.wire().bytes();
                    if (readKind(bytes, dc.index()) == KIND_SNAPSHOT)
                    {
                        return dc.index();
                    }
                }
            }
        }
    }

    private void replayFrom(final long snapshotIndex) throws IOException
    {
        try (ExcerptTailer tailer = queue.createTailer())
        {
            if (!tailer.moveToIndex(snapshotIndex))
            {
                throw new IOException("flow journal " + dir + " lost its snapshot at index " + Long.toHexString(snapshotIndex));
            }
            boolean first = true;
            while (true)
            {
                try (DocumentContext dc = tailer.readingDocument())
                {
                    if (!dc.isPresent())
                    {
                        return;
                    }
                    final Bytes<?> bytes = dc.wire().bytes();
                    final byte kind = readKind(bytes, dc.index());
                    final long version = bytes.readLong();
                    bytes.readUtf8();
                    if (!first && version <= lastVersion)
                    {
                        throw new IOException("flow journal " + dir + ": version " + version + " after " + lastVersion);
                    }
                    if (kind == KIND_SNAPSHOT)
                    {
                        flows.clear();
                        readLinesInto(bytes, flows);
                        deltasSinceSnapshot = 0;
                    }
                    else if (first)
                    {
                        throw new IOException("flow journal " + dir + ": replay does not start at a snapshot");
                    }
                    else
                    {
                        applyDelta(bytes, version);
                        deltasSinceSnapshot++;
                    }
                    final ArrayList<String> g = new ArrayList<>();
                    readLinesInto(bytes, g);
                    groups = List.copyOf(g);
                    ports = readPorts(bytes);
                    lastVersion = version;
                    hasVersion = true;
                    first = false;
                }
            }
        }
    }

    /** The pod ports after the groups; none in a document written before they were journaled. */
    private static Map<String, Integer> readPorts(final Bytes<?> bytes)
    {
        if (bytes.readRemaining() == 0)
        {
            return Map.of();
        }
        final java.util.HashMap<String, Integer> p = new java.util.HashMap<>();
        for (int i = 0, n = bytes.readInt(); i < n; i++)
        {
            p.put(bytes.readUtf8(), bytes.readInt());
        }
        return Map.copyOf(p);
    }

    private void applyDelta(final Bytes<?> bytes, final long version) throws IOException
    {
        for (int i = 0, n = bytes.readInt(); i < n; i++)
        {
            final String line = bytes.readUtf8();
            if (!flows.remove(line))
            {
                throw new IOException("flow journal " + dir + ": version " + version + " removes a flow not in the table: " + line);
            }
        }
        for (int i = 0, n = bytes.readInt(); i < n; i++)
        {
            final String line = bytes.readUtf8();
            if (!flows.add(line))
            {
                throw new IOException("flow journal " + dir + ": version " + version + " adds a flow already in the table: " + line);
            }
        }
    }

    private byte readKind(final Bytes<?> bytes, final long index) throws IOException
    {
        if (bytes.readRemaining() < 13 || bytes.readInt() != MAGIC)
        {
            throw new IOException("flow journal " + dir + ": document " + Long.toHexString(index) + " is not a flow journal version");
        }
        final byte kind = bytes.readByte();
        if (kind != KIND_DELTA && kind != KIND_SNAPSHOT)
        {
            throw new IOException("flow journal " + dir + ": document " + Long.toHexString(index) + " has unknown kind " + kind);
        }
        return kind;
    }

    private static void writeLines(final Bytes<?> bytes, final Collection<String> lines)
    {
        bytes.writeInt(lines.size());
        for (final String line : lines)
        {
            bytes.writeUtf8(line);
        }
    }

    private static void readLinesInto(final Bytes<?> bytes, final Collection<String> into)
    {
        for (int i = 0, n = bytes.readInt(); i < n; i++)
        {
            into.add(bytes.readUtf8());
        }
    }
}
