package dev.junction.datapath;

import dev.junction.datapath.cache.CacheConfig;
import dev.junction.datapath.pcap.PcapInput;
import dev.junction.datapath.pcap.PcapMerger;
import dev.junction.datapath.pcap.PcapWriter;
import dev.junction.datapath.pipeline.OrderedOutputs;
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
    /** 0: one datapath on this thread; else the Disruptor pipeline with this many workers. */
    private int workers;
    private List<Datapath> datapaths = List.of();
    /**
     * Largest frame the pipeline path takes (jumbo frames included); a ring slot holds one, so
     * the ring is smaller than a daemon's.
     */
    static final int PIPELINE_MAX_FRAME = 16384 - Packet.HEADROOM;
    private static final int PIPELINE_RING = 512;
    /** Packets fed between two drains of the ordered outputs. */
    private static final int DRAIN_EVERY = 1024;

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

    /**
     * Sends the packets through the Disruptor pipeline with {@code n} workers (flows pinned to
     * workers by RSS hash) instead of one datapath on the calling thread; 0 for the latter. Each
     * port's output is put back in the order the packets were received, so it is what one thread
     * gives whenever the flows' results do not depend on which worker got there first (state shared
     * across flows: conntrack NAT ports, learned flows, the MAC table, table swaps are fenced).
     */
    public Replay workers(final int n)
    {
        if (n < 0)
        {
            throw new IllegalArgumentException("workers must be >= 0: " + n);
        }
        this.workers = n;
        return this;
    }

    /** The datapaths of the last run: one, or one per pipeline worker. */
    public List<Datapath> datapaths()
    {
        return datapaths;
    }

    /**
     * Gives controller actions' packets to {@code handler} (none by default: packet-ins are
     * dropped, as by OVS without a controller, which the oracle is); its packet-outs go to the
     * output captures like any output. Through the pipeline every worker calls it.
     */
    public Replay packetInHandler(final PacketInHandler handler)
    {
        this.packetInHandler = handler;
        return this;
    }

    private PacketInHandler packetInHandler;

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
        if (workers > 0)
        {
            return runPipeline(progress);
        }
        // Time in a replay is the pcap's: megaflow idle expiry, learned-flow timeouts and conntrack
        // all run on packet timestamps, so a trace decides them, not the machine's speed.
        final Datapath dp = new Datapath(new Bridge(tables).tunnels(tunnels), ports, this::write, Datapath.DEFAULT_MTU,
            1, cacheConfig, () -> currentTs).packetTime(true).packetInHandler(packetInHandler);
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
        datapaths = List.of(dp);
        finalTables = dp.tables();
        writeFlowStats();
        writeMegaflows(datapaths);
        writeConntrack(dp);
        return dp;
    }

    /**
     * The same replay through the pipeline: this thread feeds the ring in merged order (waiting
     * for slots, as a pcap port does), fences each table swap (the packets before it are done
     * before the new version is published, so it lands just before its packet as in the
     * single-thread run), and writes the outputs in receive order as the workers pass them.
     * Workers revalidate themselves before their next packet: a revalidator thread would make the
     * version a packet meets depend on timing.
     */
    private Datapath runPipeline(final LongConsumer progress) throws IOException
    {
        final Bridge bridge = new Bridge(tables).tunnels(tunnels);
        final int[] portSet = java.util.Arrays.stream(ports).distinct().toArray();
        final OrderedOutputs outputs =
            new OrderedOutputs(portSet, workers);
        final dev.junction.datapath.pipeline.PipelineConfig config = new dev.junction.datapath.pipeline.PipelineConfig()
            .workers(workers).ringSize(PIPELINE_RING).maxFrame(PIPELINE_MAX_FRAME)
            .drainTimeout(java.time.Duration.ofSeconds(60));
        for (final int port : portSet)
        {
            config.port(port, outputs.port(port));
        }
        final Datapath[] dps = new Datapath[workers];
        final dev.junction.datapath.pipeline.Pipeline pipeline = new dev.junction.datapath.pipeline.Pipeline(config,
            (w, tx) -> dps[w] = new Datapath(bridge, ports, tx, Datapath.DEFAULT_MTU, 1, cacheConfig, () -> 0L)
                .packetTime(true).packetInHandler(packetInHandler));
        conntrackSetup.accept(bridge.conntrack());
        final OrderedOutputs.Sink sink = this::write;
        final long[] count = {0};
        try
        {
            try (pipeline)
            {
                pipeline.start();
                new PcapMerger(inputs).forEach((port, ts, frame, len) ->
                {
                    final FlowTables next = swaps.get(count[0]);
                    if (next != null)
                    {
                        awaitIdle(pipeline);
                        pipeline.publish(next);
                    }
                    if (len > PIPELINE_MAX_FRAME)
                    {
                        throw new UncheckedIOException(new IOException("packet " + count[0] + " is " + len
                            + " bytes; replay through the pipeline takes at most " + PIPELINE_MAX_FRAME));
                    }
                    pipeline.receiveWaiting(port, frame, 0, len, ts);
                    if (++count[0] % DRAIN_EVERY == 0)
                    {
                        outputs.drain(pipeline.processedThrough(), sink);
                    }
                    if (count[0] % 100_000 == 0 && progress != null)
                    {
                        progress.accept(count[0]);
                    }
                });
                awaitIdle(pipeline);
            }
            // Closed: the workers are joined, their datapaths and every output are ours to read.
            outputs.drain(Long.MAX_VALUE, sink);
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
        for (final Datapath dp : dps)
        {
            dp.pushStats();
        }
        datapaths = List.of(dps);
        finalTables = bridge.tables();
        writeFlowStats();
        writeMegaflows(datapaths);
        writeConntrack(dps[0]);
        return dps[0];
    }

    private static void awaitIdle(final dev.junction.datapath.pipeline.Pipeline pipeline)
    {
        if (!pipeline.awaitIdle(java.time.Duration.ofMinutes(10)))
        {
            throw new IllegalStateException("the pipeline's workers did not finish the replay's packets");
        }
    }

    /** {@code DIR/megaflows.txt}: the datapath's megaflows in dpctl/dump-flows form, sorted as the oracle sorts them. */
    private void writeMegaflows(final List<Datapath> dps) throws IOException
    {
        final long now = System.nanoTime();
        final java.util.List<String> lines = new java.util.ArrayList<>();
        for (final Datapath dp : dps)
        {
            // Workers keep their own caches, as PMD threads do: dpctl/dump-flows lists each one's.
            dp.megaflows().forEach(mf -> lines.add(dev.junction.datapath.cache.MegaflowPrinter.format(mf, now)));
        }
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
        write(port, currentTs, p.buf, p.start, p.length);
    }

    private void write(final int port, final long ts, final byte[] frame, final int length)
    {
        write(port, ts, frame, 0, length);
    }

    private void write(final int port, final long ts, final byte[] frame, final int offset, final int length)
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
            w.write(ts, frame, offset, length);
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
