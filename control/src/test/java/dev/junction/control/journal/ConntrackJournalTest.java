package dev.junction.control.journal;

import dev.junction.conntrack.Checkpoint;
import dev.junction.conntrack.Conntrack;
import dev.junction.conntrack.ConntrackConfig;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.PacketParser;
import dev.junction.flowtable.ct.CtAction;
import dev.junction.flowtable.xlate.OdpActions;
import net.openhft.chronicle.core.time.SetTimeProvider;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The conntrack checkpoint journal: the newest whole checkpoint comes back, a damaged one is skipped, old cycles go. */
class ConntrackJournalTest
{
    private static final long SEC = 1_000_000_000L;

    @TempDir
    Path stateDir;

    /** A Conntrack holding {@code n} committed UDP connections 10.0.0.1:(1000+i) -> 10.0.0.2:53. */
    static Conntrack withConnections(final int n)
    {
        final Conntrack ct = new Conntrack(ConntrackConfig.defaults());
        final OdpActions acts = new OdpActions();
        CtAction.append(acts, CtAction.F_COMMIT, 5, 0, 0, new long[2], new long[2], new long[2], new long[2], 0, 0);
        final CtAction commit = new CtAction().wrap(acts, 0);
        final PacketParser parser = new PacketParser();
        final FlowKey key = new FlowKey();
        final Packet p = new Packet(2048);
        for (int i = 0; i < n; i++)
        {
            final byte[] f = udp(0x0a000001, 0x0a000002, 1000 + i, 53);
            p.wrap(f, 0, f.length);
            parser.parse(p, key);
            ct.execute(p, key, commit, SEC);
        }
        return ct;
    }

    static byte[] udp(final int src, final int dst, final int sp, final int dp)
    {
        final ByteBuffer b = ByteBuffer.allocate(14 + 20 + 8 + 4);
        b.putLong(0x0200000000020200L).putInt(0x00000001).putShort((short)0x0800);
        b.put((byte)0x45).put((byte)0).putShort((short)(20 + 8 + 4)).putInt(0).put((byte)64).put((byte)17).putShort((short)0)
            .putInt(src).putInt(dst);
        int sum = 0;
        for (int i = 14; i < 34; i += 2)
        {
            sum += b.getShort(i) & 0xffff;
        }
        sum = (sum & 0xffff) + (sum >>> 16);
        sum = (sum & 0xffff) + (sum >>> 16);
        b.putShort(24, (short)~sum);
        b.putShort((short)sp).putShort((short)dp).putShort((short)12).putShort((short)0).putInt(0x01020304);
        return b.array();
    }

    @Test
    void newestWholeCheckpointComesBack()
    {
        final Checkpoint[] written = new Checkpoint[3];
        try (ConntrackJournal journal = ConntrackJournal.open(stateDir))
        {
            assertTrue(journal.last().isEmpty());
            for (int i = 0; i < 3; i++)
            {
                written[i] = withConnections(10 * (i + 1)).checkpoint(2 * SEC, 1_000_000L + i);
                journal.append(written[i]);
            }
        }
        catch (final IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
        assertEquals(30, written[2].connections());
        try (ConntrackJournal journal = ConntrackJournal.open(stateDir))
        {
            final Checkpoint last = journal.last().orElseThrow();
            assertEquals(written[2], last);
            assertEquals(0, journal.skipped());
            final Conntrack fresh = new Conntrack(ConntrackConfig.defaults());
            assertEquals(30, fresh.restore(last, 5 * SEC, 1_000_002L + 1000).restored());
            assertEquals(30, fresh.connections(5));
        }
        catch (final IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
    }

    @Test
    void damagedLastDocumentIsSkipped() throws IOException
    {
        final Checkpoint good = withConnections(4).checkpoint(2 * SEC, 5_000L);
        try (ConntrackJournal journal = ConntrackJournal.open(stateDir))
        {
            journal.append(good);
        }
        // A last document whose bytes are cut short: the magic and length of a checkpoint, half of it.
        final byte[] bytes = withConnections(8).checkpoint(2 * SEC, 6_000L).encode();
        try (SingleChronicleQueue q = SingleChronicleQueueBuilder.binary(stateDir.resolve("conntrack"))
            .rollCycle(RollCycles.FIVE_MINUTELY).build(); DocumentContext dc = q.createAppender().writingDocument())
        {
            dc.wire().bytes().writeInt(ConntrackJournal.MAGIC).writeInt(bytes.length / 2).write(bytes, 0, bytes.length / 2);
        }
        try (ConntrackJournal journal = ConntrackJournal.open(stateDir))
        {
            assertEquals(good, journal.last().orElseThrow());
            assertEquals(1, journal.skipped());
        }
    }

    @Test
    void oldCyclesAreDeleted() throws IOException
    {
        final SetTimeProvider clock = new SetTimeProvider("2026-01-01T00:00:00");
        final Checkpoint cp = withConnections(3).checkpoint(2 * SEC, 7_000L);
        try (ConntrackJournal journal = ConntrackJournal.open(stateDir, RollCycles.FIVE_MINUTELY, clock))
        {
            for (int i = 0; i < 12; i++)
            {
                journal.append(cp);
                clock.advanceMillis(TimeUnit.MINUTES.toMillis(2));
                assertTrue(FlowJournalTest.cycleFiles(journal.directory()) <= 2,
                    () -> "cycle files: " + FlowJournalTest.cycleFiles(journal.directory()));
            }
            assertEquals(cp, journal.last().orElseThrow());
        }
    }
}
