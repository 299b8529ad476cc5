package dev.junction.datapath;

import dev.junction.datapath.cache.CacheConfig;
import dev.junction.datapath.pcap.PcapInput;
import dev.junction.datapath.pcap.PcapMerger;
import dev.junction.datapath.pcap.PcapWriter;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.ofp.FlowTables;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;
import java.util.function.LongConsumer;
import java.util.regex.Pattern;

/**
 * {@code junction replay}: packets of the input captures go through the datapath one at a time
 * in timestamp order; each port that sends anything gets {@code DIR/N.pcap}, in order, with the
 * input packet's timestamp. Output files of an earlier run are removed first, as the oracle does.
 */
public final class Replay
{
    private static final Pattern STALE = Pattern.compile("\\d+\\.pcap|flow-stats\\.txt|megaflows\\.txt|conntrack\\.txt");

    private final FlowTables tables;
    private final List<PcapInput> inputs;
    private final int[] ports;
    private final Path outDir;
    private final TreeMap<Integer, PcapWriter> writers = new TreeMap<>();
    private final TreeMap<Integer, Long> sent = new TreeMap<>();
    private long currentTs;
    /** Table versions to publish before the packet of the given index (0-based, merged order). */
    private final TreeMap<Long, FlowTables> swaps = new TreeMap<>();
    private FlowTables finalTables;
    private CacheConfig cacheConfig = CacheConfig.DEFAULTS;
    private java.util.function.Consumer<dev.junction.conntrack.Conntrack> conntrackSetup = ct -> { };

    public Replay(final FlowTables tables, final List<PcapInput> inputs, final int[] ports, final Path outDir)
    {
        this.tables = tables;
        this.inputs = inputs;
        this.ports = ports;
        this.outDir = outDir;
        this.finalTables = tables;
    }

    /** The caches' limits (default: OVS's defaults). */
    public Replay cacheConfig(final CacheConfig config)
    {
        this.cacheConfig = config;
        return this;
    }

    /**
     * Configures the datapath's connection tracker before the first packet (limits, timeout
     * policies: as {@code dpctl/ct-set-maxconns}, {@code ct-set-limits}, a zone's timeout policy).
     */
    public Replay conntrackSetup(final java.util.function.Consumer<dev.junction.conntrack.Conntrack> setup)
    {
        this.conntrackSetup = setup;
        return this;
    }

    /** Tunnel ports and their underlay (none by default); the underlay port should be among the ports. */
    public Replay tunnels(final dev.junction.geneve.Tunnels t)
    {
        this.tunnels = t;
        return this;
    }

    private dev.junction.geneve.Tunnels tunnels;

    /**
     * Publishes {@code next} just before packet number {@code packetIndex} (0-based, in merged
     * order), as a controller replacing the flow table mid-trace would; the datapath revalidates
     * its megaflows against it.
     */
    public Replay swapAt(final long packetIndex, final FlowTables next)
    {
        if (packetIndex < 0)
        {
            throw new IllegalArgumentException("packet index must be >= 0: " + packetIndex);
        }
        swaps.put(packetIndex, next);
        return this;
    }

    /** Runs the replay; {@code progress} (may be null) is told the packet count every 100,000. */
    public Datapath run(final LongConsumer progress) throws IOException
    {
        Files.createDirectories(outDir);
        try (var stale = Files.list(outDir))
        {
            for (final Path f : (Iterable<Path>)stale::iterator)
            {
                if (STALE.matcher(f.getFileName().toString()).matches())
                {
                    Files.delete(f);
                }
            }
        }
        // Time in a replay is the pcap's: megaflow idle expiry, learned-flow timeouts and conntrack
        // all run on packet timestamps, so a trace decides them, not the machine's speed.
        final Datapath dp = new Datapath(new Bridge(tables).tunnels(tunnels), ports, this::write, Datapath.DEFAULT_MTU,
            1, cacheConfig, () -> currentTs).packetTime(true);
        conntrackSetup.accept(dp.conntrack());
        final Packet packet = new Packet(2048);
        final long[] count = {0};
        try
        {
            new PcapMerger(inputs).forEach((port, ts, frame, len) ->
            {
                final FlowTables next = swaps.get(count[0]);
                if (next != null)
                {
                    dp.publish(next);
                }
                currentTs = ts;
                packet.wrap(frame, 0, len);
                packet.inPort = port;
                packet.timestampNanos = ts;
                dp.receive(packet, null);
                if (++count[0] % 100_000 == 0 && progress != null)
                {
                    progress.accept(count[0]);
                }
            });
        }
        catch (final UncheckedIOException ex)
        {
            throw ex.getCause();
        }
        finally
        {
            for (final PcapWriter w : writers.values())
            {
                w.close();
            }
        }
        dp.pushStats();
        finalTables = dp.tables();
        writeFlowStats();
        writeMegaflows(dp);
        writeConntrack(dp);
        return dp;
    }

    /** {@code DIR/megaflows.txt}: the datapath's megaflows in dpctl/dump-flows form, sorted as the oracle sorts them. */
    private void writeMegaflows(final Datapath dp) throws IOException
    {
        final long now = System.nanoTime();
        final java.util.List<String> lines = new java.util.ArrayList<>();
        dp.megaflows().forEach(mf -> lines.add(dev.junction.datapath.cache.MegaflowPrinter.format(mf, now)));
        java.util.Collections.sort(lines);
        Files.writeString(outDir.resolve("megaflows.txt"), lines.isEmpty() ? "" : String.join("\n", lines) + "\n");
    }

    /** {@code DIR/conntrack.txt}: connections in dpctl/dump-conntrack form, sorted as the oracle sorts them. */
    private void writeConntrack(final Datapath dp) throws IOException
    {
        final java.util.List<String> lines = new java.util.ArrayList<>(dp.conntrack().dump(-1));
        java.util.Collections.sort(lines);
        Files.writeString(outDir.resolve("conntrack.txt"), lines.isEmpty() ? "" : String.join("\n", lines) + "\n");
    }

    /** {@code DIR/flow-stats.txt}: per-rule counters in {@code dump-flows} form, as the oracle writes. */
    private void writeFlowStats() throws IOException
    {
        final StringBuilder sb = new StringBuilder();
        for (final dev.junction.flowtable.ofp.FlowRule r : finalTables.rules())
        {
            sb.append(dev.junction.flowtable.ofp.FlowPrinter.dumpLine(r)).append('\n');
        }
        Files.writeString(outDir.resolve("flow-stats.txt"), sb.toString());
    }

    private void write(final int port, final Packet p)
    {
        try
        {
            PcapWriter w = writers.get(port);
            if (w == null)
            {
                if (port == dev.junction.flowtable.ofp.Action.OFPP_LOCAL)
                {
                    return; // the bridge's own port: no capture, as with OVS's br0
                }
                w = new PcapWriter(outDir.resolve(port + ".pcap"));
                writers.put(port, w);
            }
            w.write(currentTs, p.buf, p.start, p.length);
            sent.merge(port, 1L, Long::sum);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /** Packets sent per port, ascending by port. */
    public TreeMap<Integer, Long> sent()
    {
        return sent;
    }
}
