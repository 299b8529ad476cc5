package dev.junction.datapath;

import dev.junction.datapath.cache.CacheConfig;
import dev.junction.datapath.cache.ExactMatchCache;
import dev.junction.datapath.cache.Megaflow;
import dev.junction.datapath.cache.MegaflowCache;
import dev.junction.datapath.exec.ActionExecutor;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.PacketParser;
import dev.junction.flowtable.ofp.FlowTables;
import dev.junction.conntrack.Conntrack;
import dev.junction.flowtable.ct.CtAction;
import dev.junction.flowtable.xlate.BridgePorts;
import dev.junction.flowtable.xlate.OdpActions;
import dev.junction.flowtable.xlate.TraceSink;
import dev.junction.flowtable.xlate.Translator;

import java.util.Arrays;

/**
 * The per-packet path of one worker: parse, exact-match cache, megaflow cache, and on a miss an
 * upcall that translates through the current flow-table version and installs a megaflow; then
 * execute and hand outputs to ports. One instance per worker thread, owning its caches as an OVS
 * PMD thread does. The table version is read through an atomic reference so a new version can be
 * published without locks; the worker revalidates its megaflows against it before the next packet.
 */
public final class Datapath
{
    /** Port MTU, as OVS's default for dummy and most ports. */
    public static final int DEFAULT_MTU = 1500;

    /** Receives each packet a port sends. */
    public interface Transmitter
    {
        void transmit(int port, Packet packet);
    }

    private final Bridge bridge;
    /** The OpenFlow bridge's ports (tunnel ports included), shared by this worker's translators. */
    private final BridgePorts ports;
    private final PacketParser parser;
    private final Translator translator;
    private final ActionExecutor executor;
    /** The underlay port (-1 without tunnels) and what decapsulates the tunnel packets arriving on it. */
    private final int underlayPort;
    private final dev.junction.geneve.Decapsulator decapsulator;
    private final dev.junction.geneve.UnderlayArp underlayArp;
    private final dev.junction.geneve.UnderlayNd underlayNd;
    private final dev.junction.geneve.Tunnels tunnels;
    /** Set while the packet being processed came out of a tunnel: its upcalls snoop the outer source. */
    private boolean fromTunnel;
    /** The outer frame of a tunnel push: pushes work on a copy, the inner packet stays for later actions. */
    private final Packet tunnelPacket = new Packet(2048);
    /** OVS's MAX_RECIRC_DEPTH: a packet recirculates at most this many times. */
    public static final int MAX_RECIRC_DEPTH = 6;
    /** check_pkt_len branches inside branches that are not last (each needs its own packet copy). */
    public static final int MAX_CHECK_PKT_LEN_NESTING = 8;
    /** Packet-outs a packet-in handler may queue while one packet is processed; more are counted drops. */
    public static final int PACKET_OUT_QUEUE = 16;

    /** The packet's key per recirculation depth (index 0: as received). */
    private final FlowKey[] keys = new FlowKey[MAX_RECIRC_DEPTH + 1];
    /** Each depth's key gathered as the EMC stores it (its miniflow). */
    private final long[][] minis = new long[MAX_RECIRC_DEPTH + 1][ExactMatchCache.STRIDE];
    private final OdpActions[] upcallActions = new OdpActions[MAX_RECIRC_DEPTH + 1];
    private final Packet[] recircPackets = new Packet[MAX_RECIRC_DEPTH + 1];
    private final CtAction ctAction = new CtAction();
    private final Conntrack conntrack;
    private long lastCtSweep;
    private boolean packetTime;
    private long macVersion;
    private long expiredRules;
    private long learnedRules;
    private final Transmitter transmitter;
    private final int mtu;
    private final long[] drops = new long[DropReason.values().length];
    private long packetsIn;
    private long bytesIn;
    /** Per port number; grown by this worker when a port above them is added while it runs. */
    private long[] txPackets;
    private long[] txBytes;
    private int outputsThisPacket;
    /** Bound once: a method reference per packet would be an allocation on the packet path. */
    private final ActionExecutor.OutputSink sink = this::send;
    /** Null: controller actions are only counted, as OVS without a controller. */
    private PacketInHandler packetInHandler;
    private PacketOutQueue packetOuts;
    private long packetIns;
    private long packetInErrors;
    private final CacheConfig cacheConfig;
    private final ExactMatchCache emc;
    private final MegaflowCache megaflows;
    private final OdpActions revalidateActions = new OdpActions();
    private final java.util.function.LongSupplier nanoClock;
    private FlowTables revalidatedFor;
    /**
     * Set while the table (or MAC) version moved on and the megaflows are not revalidated for it
     * yet: only with a revalidator thread, whose work arrives in batches while packets flow.
     */
    private boolean stale;
    /** The revalidator thread's link, or null when this worker revalidates itself (a replay). */
    private RevalidatorLink revalidator;
    private long staleHits;
    private long now;
    private long lastHousekeeping;
    private int clockCountdown;
    private long emcHits;
    private long megaflowHits;
    private long upcalls;
    private UpcallLimiter upcallLimiter = UpcallLimiter.UNLIMITED;
    private long slowPathPackets;
    private long expired;
    private long revalidatedAway;

    public Datapath(final FlowTables tables, final int[] ports, final Transmitter transmitter)
    {
        this(tables, ports, transmitter, DEFAULT_MTU, 1);
    }

    public Datapath(final FlowTables tables, final int[] ports, final Transmitter transmitter, final int mtu,
        final int vlanLimit)
    {
        this(tables, ports, transmitter, mtu, vlanLimit, CacheConfig.DEFAULTS, System::nanoTime);
    }

    public Datapath(final FlowTables tables, final int[] ports, final Transmitter transmitter, final int mtu,
        final int vlanLimit, final CacheConfig cacheConfig, final java.util.function.LongSupplier nanoClock)
    {
        this(new Bridge(tables), ports, transmitter, mtu, vlanLimit, cacheConfig, nanoClock);
    }

    /**
     * A worker of {@code bridge}: workers built on one bridge share its flow tables, connection
     * tracker and recirculation states, and keep their own caches and counters.
     */
    public Datapath(final Bridge bridge, final int[] ports, final Transmitter transmitter, final int mtu,
        final int vlanLimit, final CacheConfig cacheConfig, final java.util.function.LongSupplier nanoClock)
    {
        this(bridge, new BridgePorts(bridgePorts(ports, bridge.tunnels())), transmitter, mtu, vlanLimit, cacheConfig,
            nanoClock);
    }

    /**
     * A worker of {@code bridge} whose port set may change while it runs (a node's pods coming
     * and going): {@code ports} is the OpenFlow bridge's whole set, tunnel ports included, and
     * may be shared by every worker. Whoever changes it must then make the megaflows revalidate
     * (a new table version does), as their outputs and floods were translated for the old set.
     */
    public Datapath(final Bridge bridge, final BridgePorts ports, final Transmitter transmitter, final int mtu,
        final int vlanLimit, final CacheConfig cacheConfig, final java.util.function.LongSupplier nanoClock)
    {
        for (int i = 0; i < MegaflowCache.MAX_BATCH; i++)
        {
            batchKeys[i] = new FlowKey();
        }
        for (int i = 0; i <= MAX_RECIRC_DEPTH; i++)
        {
            keys[i] = new FlowKey();
            upcallActions[i] = new OdpActions();
            recircPackets[i] = new Packet(2048);
        }
        this.bridge = bridge;
        this.conntrack = bridge.conntrack();
        this.cacheConfig = cacheConfig;
        this.nanoClock = nanoClock;
        this.emc = new ExactMatchCache(cacheConfig.enabled ? cacheConfig.emcEntries : 0, cacheConfig.emcInsertInvProb);
        this.megaflows = new MegaflowCache(cacheConfig.megaflowLimit);
        this.revalidatedFor = bridge.tables();
        this.now = nanoClock.getAsLong();
        this.lastHousekeeping = now;
        this.ports = ports;
        this.transmitter = transmitter;
        this.mtu = mtu;
        this.parser = new PacketParser(vlanLimit);
        this.executor = new ActionExecutor(new PacketParser(vlanLimit));
        final dev.junction.geneve.Tunnels tunnels = bridge.tunnels();
        this.underlayPort = tunnels == null ? -1 : tunnels.underlay().port;
        this.decapsulator = tunnels == null ? null : new dev.junction.geneve.Decapsulator(tunnels);
        this.underlayArp = tunnels == null ? null : new dev.junction.geneve.UnderlayArp(tunnels.underlay());
        this.underlayNd = tunnels == null ? null : new dev.junction.geneve.UnderlayNd(tunnels.underlay());
        this.tunnels = tunnels;
        this.translator = newTranslator();
        this.macVersion = bridge.macLearning().version();
        final int[] all = ports.all();
        final int maxPort = all.length == 0 ? 0 : all[all.length - 1];
        txPackets = new long[maxPort + 1];
        txBytes = new long[maxPort + 1];
    }

    /** A translator of this datapath's bridge and ports: the worker's own, or a revalidator's. */
    private Translator newTranslator()
    {
        final Translator t = new Translator(ports, bridge.frozenStates(),
            bridge.macLearning());
        if (tunnels != null)
        {
            t.tunnels(tunnels);
        }
        return t;
    }

    /**
     * Gives controller actions' packets to {@code handler} (null: none, controller actions are
     * only counted), which may answer with packet-outs; see {@link PacketInHandler} for the
     * threading contract. Call before the first packet, on the thread that built the datapath.
     */
    public Datapath packetInHandler(final PacketInHandler handler)
    {
        packetInHandler = handler;
        if (handler == null)
        {
            executor.controllerSink(null);
            packetOuts = null;
            return this;
        }
        packetOuts = new PacketOutQueue(PACKET_OUT_QUEUE, drops);
        executor.controllerSink(this::packetIn);
        return this;
    }

    /**
     * A controller action ran: the handler gets a copy of the packet as it is now (truncated to
     * the action's max_len) with the table and userdata frozen under the action's recirc id.
     * This is the slow path; a handler that throws costs only its packet-in (counted).
     */
    private void packetIn(final Packet p, final OdpActions acts, final int at)
    {
        final int recircId = (int)acts.get(at + 2);
        final dev.junction.flowtable.xlate.FrozenStates.State state = bridge.frozenStates().get(recircId);
        final int len = Math.min(p.length, (int)acts.get(at + 5));
        final PacketIn pin = new PacketIn(Arrays.copyOfRange(p.buf, p.start, p.start + len), p.length, p.inPort,
            (int)acts.get(at + 1), acts.get(at + 3), state == null ? -1 : state.table, (int)acts.get(at + 4),
            state == null ? new byte[0] : state.userdata(), p.timestampNanos);
        packetIns++;
        try
        {
            packetInHandler.packetIn(pin, packetOuts);
        }
        catch (final RuntimeException ex)
        {
            packetInErrors++;
        }
    }

    /** Packets handed to the packet-in handler. */
    public long packetIns()
    {
        return packetIns;
    }

    /** Packet-ins whose handler threw. */
    public long packetInErrors()
    {
        return packetInErrors;
    }

    /**
     * Hands revalidation and idle expiry to a revalidator thread, as OVS's PMD threads leave them
     * to its revalidator threads: on a new version this worker only dumps its megaflows into the
     * returned link and, until the revalidator's batches are applied, translates the packets that
     * hit a megaflow instead of trusting its actions, so no packet takes an old version's path.
     * Call before the first packet, on the thread that built the datapath.
     */
    public RevalidatorLink offloadRevalidation()
    {
        final Translator t = newTranslator();
        t.accounting(false); // it only ever revalidates: never a packet hitting the rules
        revalidator = new RevalidatorLink(t);
        return revalidator;
    }

    /**
     * The OpenFlow bridge's ports: the datapath's ports and the tunnel ports, without the underlay
     * port, which belongs to the tunnels (as OVS's br-phy is another bridge).
     */
    public static int[] bridgePorts(final int[] ports, final dev.junction.geneve.Tunnels tunnels)
    {
        if (tunnels == null)
        {
            return ports;
        }
        return java.util.stream.IntStream.concat(Arrays.stream(ports),
            tunnels.ports().stream().mapToInt(t -> t.port)).filter(p -> p != tunnels.underlay().port).toArray();
    }

    /** Publishes a new flow-table version; packets already in translation finish on the old one. */
    public void publish(final FlowTables next)
    {
        bridge.publish(next);
    }

    public FlowTables tables()
    {
        return bridge.tables();
    }

    public Bridge bridge()
    {
        return bridge;
    }

    /** Processes one received packet to completion. */
    public void receive(final Packet p, final TraceSink trace)
    {
        receive(p, trace, -1);
    }

    /**
     * Looks up a burst before it is processed, as dpif-netdev does: each packet is parsed and
     * tried in the EMC, and the misses go to the megaflow cache together
     * ({@link MegaflowCache#lookupBatch}), so their cache misses overlap. Then call
     * {@link #receivePrepared} for each packet, in order; the lookup results are used only if
     * still valid then (the megaflow not removed meanwhile), a miss is looked up again (an earlier
     * packet's upcall may have installed its megaflow), and everything else a packet does is what
     * {@link #receive} does. Packets of the underlay port, short frames and packets beyond
     * {@link MegaflowCache#MAX_BATCH} are simply not prepared.
     */
    public void prepare(final Packet[] packets, final int n)
    {
        final int m = Math.min(n, MegaflowCache.MAX_BATCH);
        prepared = 0;
        if (!cacheConfig.enabled)
        {
            return;
        }
        int misses = 0;
        for (int i = 0; i < m; i++)
        {
            final Packet p = packets[i];
            batchFound[i] = null;
            batchParsed[i] = false;
            if (p.length < 14 || p.inPort == underlayPort)
            {
                continue;
            }
            parser.parse(p, batchKeys[i]);
            batchParsed[i] = true;
            final long[] mini = batchMinis[i];
            batchHashes[i] = emc.gather(batchKeys[i].words, mini);
            batchLengths[i] = emc.gathered();
            final Megaflow mf = emc.lookup(mini, batchLengths[i], batchHashes[i]);
            batchFromEmc[i] = mf != null;
            if (mf != null)
            {
                batchFound[i] = mf;
            }
            else
            {
                missIndex[misses] = i;
                missWords[misses] = batchKeys[i].words;
                misses++;
            }
        }
        if (misses > 0)
        {
            megaflows.lookupBatch(missWords, misses, missFound);
            for (int j = 0; j < misses; j++)
            {
                batchFound[missIndex[j]] = missFound[j];
                missWords[j] = null;
            }
        }
        prepared = m;
    }

    /** Processes packet {@code i} of the burst last given to {@link #prepare}, to completion. */
    public void receivePrepared(final Packet p, final int i)
    {
        receive(p, null, i < prepared && batchParsed[i] ? i : -1);
    }

    private final FlowKey[] batchKeys = new FlowKey[MegaflowCache.MAX_BATCH];
    private final long[][] batchMinis = new long[MegaflowCache.MAX_BATCH][ExactMatchCache.STRIDE];
    private final long[] batchHashes = new long[MegaflowCache.MAX_BATCH];
    private final int[] batchLengths = new int[MegaflowCache.MAX_BATCH];
    private final boolean[] batchParsed = new boolean[MegaflowCache.MAX_BATCH];
    private final boolean[] batchFromEmc = new boolean[MegaflowCache.MAX_BATCH];
    private final Megaflow[] batchFound = new Megaflow[MegaflowCache.MAX_BATCH];
    private final int[] missIndex = new int[MegaflowCache.MAX_BATCH];
    private final long[][] missWords = new long[MegaflowCache.MAX_BATCH][];
    private final Megaflow[] missFound = new Megaflow[MegaflowCache.MAX_BATCH];
    private int prepared;
    /** The prepared slot of the packet being received, or -1. */
    private int preparedSlot = -1;

    private void receive(final Packet p, final TraceSink trace, final int slot)
    {
        preparedSlot = slot;
        if (p.length < 14)
        {
            drops[DropReason.SHORT_FRAME.ordinal()]++;
            return;
        }
        packetsIn++;
        bytesIn += p.length;
        fromTunnel = false;
        if (p.inPort == underlayPort && !decapsulate(p))
        {
            resolveNeighbours();
            return;
        }
        if (slot >= 0)
        {
            // Parsed by prepare(): the same key, and the packet's layer offsets are still set.
            keys[0].copyFrom(batchKeys[slot]);
        }
        else
        {
            parser.parse(p, keys[0]);
        }
        if (tunnelReceived)
        {
            decapsulator.copyTunnel(keys[0]);
            tunnelReceived = false;
            fromTunnel = true;
        }
        tick(p.timestampNanos);
        if (p.timestampNanos - lastCtSweep >= 1_000_000_000L || p.timestampNanos < lastCtSweep)
        {
            // Conntrack lives on packet time (pcap time in a replay): sweep once a second of it.
            lastCtSweep = p.timestampNanos;
            conntrack.sweep(p.timestampNanos);
        }
        final FlowTables t = bridge.tables();
        final long macs = macVersion();
        stale = t != revalidatedFor || macs != macVersion;
        if (stale)
        {
            // A new table version, or the MAC table changed under NORMAL's megaflows (OVS's
            // REV_MAC_LEARNING): every megaflow must be translated again before it is trusted.
            if (revalidator == null)
            {
                macVersion = macs;
                revalidate(t);
                stale = false;
            }
            else
            {
                // Does nothing while the last dump is still out: its batches come first.
                revalidator.post(megaflows, t, macs, now, cacheConfig.maxIdleMillis * 1_000_000L);
            }
        }
        outputsThisPacket = 0;
        final long controllerBefore = executor.controllerPackets();
        final long dropsBefore = dropsCountedElsewhere();
        process(p, 0, t, trace);
        resolveNeighbours();
        final int outputs = outputsThisPacket;
        if (packetOuts != null)
        {
            // Answers of the packet-in handler leave after the packet's own outputs, never inside its actions.
            packetOuts.drain(p.timestampNanos, sink);
        }
        // Sent to the controller and output too is no drop; a packet a handler took was delivered.
        if (executor.controllerPackets() != controllerBefore)
        {
            if (outputs == 0 && packetInHandler == null)
            {
                drops[DropReason.CONTROLLER.ordinal()]++;
            }
        }
        else if (outputs == 0 && dropsCountedElsewhere() == dropsBefore)
        {
            drops[DropReason.NO_OUTPUT.ordinal()]++;
        }
    }

    private boolean tunnelReceived;

    /** Neighbour changes make tunnel headers stale as MAC changes make NORMAL's outputs stale. */
    private long macVersion()
    {
        return bridge.macLearning().version() + (tunnels == null ? 0 : tunnels.underlay().version());
    }

    /** A packet on the underlay port: decapsulated into its tunnel port, or a counted drop. */
    private boolean decapsulate(final Packet p)
    {
        final int r = decapsulator.decap(p);
        if (r > 0)
        {
            tunnelReceived = true;
            return true;
        }
        final DropReason why;
        switch (r)
        {
            case dev.junction.geneve.Decapsulator.MALFORMED: why = DropReason.TUNNEL_MALFORMED; break;
            case dev.junction.geneve.Decapsulator.NO_PORT:
                decapsulator.snoopOuterSource();
                why = DropReason.TUNNEL_NO_PORT;
                break;
            case dev.junction.geneve.Decapsulator.CRITICAL_OPTION: why = DropReason.TUNNEL_CRITICAL_OPTION; break;
            default:
                if (underlayArp.receive(p, tunnelPacket) || underlayNd.receive(p, tunnelPacket))
                {
                    send(underlayPort, tunnelPacket); // an ARP reply or neighbour advertisement for our endpoint
                    return false;
                }
                why = DropReason.UNDERLAY_OTHER;
                break;
        }
        drops[why.ordinal()]++;
        return false;
    }

    /** Sends ARP requests (IPv4) or neighbour solicitations (IPv6) for the next hops translation could not resolve. */
    private void resolveNeighbours()
    {
        if (tunnels == null)
        {
            return;
        }
        byte[][] r;
        while ((r = tunnels.pollResolution()) != null)
        {
            if (r[1].length == 4)
            {
                underlayArp.request(tunnelPacket, r[0], r[1]);
            }
            else
            {
                underlayNd.request(tunnelPacket, r[0], r[1]);
            }
            send(underlayPort, tunnelPacket);
        }
    }

    /** Drops counted under their own reason while a packet ran, so a packet without outputs is not a NO_OUTPUT too. */
    private long dropsCountedElsewhere()
    {
        return drops[DropReason.CONNTRACK.ordinal()] + drops[DropReason.RECIRC_DEPTH.ordinal()]
            + drops[DropReason.XLATE_ERROR.ordinal()] + drops[DropReason.UPCALL_LIMIT.ordinal()];
    }

    /** One datapath pass: cache lookup or upcall, then execution; recirculations come back here. */
    private void process(final Packet p, final int depth, final FlowTables t, final TraceSink trace)
    {
        final FlowKey key = keys[depth];
        Megaflow mf = null;
        long hash = 0;
        int n = 0;
        final long[] mini = minis[depth];
        final boolean cached = cacheConfig.enabled && trace == null;
        final int slot = depth == 0 ? preparedSlot : -1;
        if (cached)
        {
            Megaflow pre = null;
            if (slot >= 0)
            {
                // Gathered and looked up by prepare(); its result counts only if still installed.
                n = batchLengths[slot];
                hash = batchHashes[slot];
                System.arraycopy(batchMinis[slot], 0, mini, 0, n);
                pre = batchFound[slot] != null && !batchFound[slot].isDead() ? batchFound[slot] : null;
            }
            else
            {
                hash = emc.gather(key.words, mini);
                n = emc.gathered();
            }
            if (pre != null && batchFromEmc[slot])
            {
                mf = pre;
                emcHits++;
            }
            else if (pre != null)
            {
                mf = pre;
                megaflowHits++;
                emc.maybeInsert(mini, n, hash, mf);
            }
            else if ((mf = emc.lookup(mini, n, hash)) != null)
            {
                emcHits++;
            }
            else
            {
                mf = megaflows.lookup(key.words);
                if (mf != null)
                {
                    megaflowHits++;
                    emc.maybeInsert(mini, n, hash, mf);
                }
            }
        }
        final OdpActions toRun;
        if (mf != null && !mf.slow() && !stale)
        {
            mf.hit(p.length, tcpFlags(key), now);
            toRun = mf.actions();
        }
        else
        {
            if (mf != null && !mf.slow())
            {
                // Its actions may be the old version's: translated, and counted on the rules by
                // the translation, as a slow-path packet is.
                staleHits++;
            }
            else if (mf != null)
            {
                mf.hit(p.length, tcpFlags(key), now);
                slowPathPackets++;
            }
            else if (cached && depth == 0 && !upcallLimiter.tryAcquire(key.inPort(), now))
            {
                // The port spent its upcall budget: a counted drop, and no megaflow, so that its
                // next packet is weighed again.
                drops[DropReason.UPCALL_LIMIT.ordinal()]++;
                return;
            }
            else
            {
                upcalls++;
            }
            final OdpActions actions = upcallActions[depth];
            if (fromTunnel && depth == 0)
            {
                decapsulator.snoopOuterSource();
            }
            translator.now(now);
            final boolean translated = translator.translate(t, key, p.length, actions, trace);
            if (translated)
            {
                applyLearned();
            }
            if (cached && mf == null)
            {
                // The upcall's own packet was counted by translation, as OVS counts it. A failed
                // translation still installs its megaflow, a drop under the bits examined so far, as
                // OVS installs the "drop flow" xlate_actions returns on an error: packets like it
                // are not translated again (and again) until revalidation.
                final Megaflow installed = megaflows.install(key, translator.wildcards().words, actions,
                    translated && translator.slow(), translator.visitedRules(), now);
                if (installed != null)
                {
                    installed.normalSource(translator.normalSource(), translator.normalPort());
                    emc.maybeInsert(mini, n, hash, installed);
                }
            }
            if (!translated)
            {
                drops[DropReason.XLATE_ERROR.ordinal()]++;
                return;
            }
            toRun = actions;
        }
        execute(p, depth, t, toRun, trace);
    }

    /** Runs datapath actions; conntrack and recirculation are done here, the rest by the executor. */
    private void execute(final Packet p, final int depth, final FlowTables t, final OdpActions acts,
        final TraceSink trace)
    {
        execute(p, depth, t, acts, 0, acts.size(), trace);
    }

    /** Runs the actions in [from, end): the whole list, or one branch of a check_pkt_len. */
    private void execute(final Packet p, final int depth, final FlowTables t, final OdpActions acts, final int from,
        final int end, final TraceSink trace)
    {
        final int n = end;
        int i = from;
        while ((i = executor.execute(p, acts, i, n, sink)) < n)
        {
            final int op = (int)acts.get(i);
            switch (op)
            {
                case OdpActions.CHECK_PKT_LEN:
                    checkPktLen(p, depth, t, acts, i, n, trace);
                    i = acts.next(i);
                    continue;
                case OdpActions.CT:
                    if (!conntrack.execute(p, keys[depth], ctAction.wrap(acts, i), p.timestampNanos))
                    {
                        drops[DropReason.CONNTRACK.ordinal()]++;
                        return;
                    }
                    break;
                case OdpActions.CT_CLEAR:
                    keys[depth].clearConntrack();
                    break;
                case OdpActions.RECIRC:
                    recirculate(p, depth, t, (int)acts.get(i + 1), i + 2 == n, trace);
                    break;
                case OdpActions.HASH:
                    dpHash(p, depth, (int)acts.get(i + 1), (int)acts.get(i + 2));
                    break;
                case OdpActions.TNL_PUSH:
                    // The entropy port comes from the RSS hash dpif-netdev computed at receive.
                    dev.junction.geneve.Encapsulator.push(p, tunnelPacket, acts, i,
                        dev.junction.flowtable.xlate.OvsHash.fiveTuple(keys[0], 0));
                    send((int)acts.get(i + 2), tunnelPacket);
                    break;
                default:
                    throw new IllegalStateException("unexpected datapath action " + op);
            }
            i += 1 + OdpActions.operands(op);
        }
    }

    /** Copies for check_pkt_len branches that are not the last action, one per nesting level, made on first use. */
    private final Packet[] branchPackets = new Packet[MAX_CHECK_PKT_LEN_NESTING];
    private int branchNesting;

    /**
     * OVS's check_pkt_len (odp_execute_check_pkt_len): the frame's length without Ethernet
     * padding (dp_packet_get_send_len minus the L2 pad) above {@code size} runs the {@code gt}
     * branch, else {@code le}. A branch that is not the last action works on a copy, so the
     * actions after it see the packet unchanged, as OVS clones it.
     */
    private void checkPktLen(final Packet p, final int depth, final FlowTables t, final OdpActions acts, final int at,
        final int end, final TraceSink trace)
    {
        final int gt = at + 1 + OdpActions.operands(OdpActions.CHECK_PKT_LEN);
        final int le = gt + (int)acts.get(at + 2);
        final int next = le + (int)acts.get(at + 3);
        final boolean larger = p.length - p.l2Pad > acts.get(at + 1);
        final int from = larger ? gt : le;
        final int to = larger ? le : next;
        if (next == end)
        {
            execute(p, depth, t, acts, from, to, trace);
            return;
        }
        if (branchNesting == MAX_CHECK_PKT_LEN_NESTING)
        {
            drops[DropReason.RECIRC_DEPTH.ordinal()]++;
            return;
        }
        Packet q = branchPackets[branchNesting];
        if (q == null)
        {
            q = new Packet(p.buf.length);
            branchPackets[branchNesting] = q;
        }
        q.copyFrom(p);
        branchNesting++;
        try
        {
            execute(q, depth, t, acts, from, to, trace);
        }
        finally
        {
            branchNesting--;
        }
    }

    /**
     * Looks the packet up again as it is now, keeping its datapath metadata (input port,
     * conntrack results) under a new recirc_id. A recirculation that is not the last action
     * works on a copy, so the actions after it see the packet unchanged, as in OVS.
     */
    private void recirculate(final Packet p, final int depth, final FlowTables t, final int recircId,
        final boolean last, final TraceSink trace)
    {
        if (depth + 1 > MAX_RECIRC_DEPTH)
        {
            drops[DropReason.RECIRC_DEPTH.ordinal()]++;
            return;
        }
        Packet q = p;
        if (!last)
        {
            q = recircPackets[depth + 1];
            q.copyFrom(p);
        }
        final FlowKey next = keys[depth + 1];
        parser.parse(q, next);
        next.copyDatapathMetadata(keys[depth]);
        next.recircId(recircId);
        if (trace != null)
        {
            trace.note(0, "recirculation: recirc_id 0x" + Integer.toHexString(recircId)
                + ", ct_state 0x" + Integer.toHexString(next.ctState()));
        }
        process(q, depth + 1, t, trace);
    }

    private final FlowKey hashKey = new FlowKey();

    /**
     * The datapath hash action, as dpif-netdev computes it: the symmetric L4 algorithm hashes the
     * packet as it is now; the L4 algorithm mixes the basis into the packet's RSS hash, which
     * dpif-netdev computed (miniflow_hash_5tuple) when the packet was received. The result goes
     * into the key's dp_hash, which recirculation carries over.
     */
    private void dpHash(final Packet p, final int depth, final int alg, final int basis)
    {
        final int hash;
        if (alg == dev.junction.flowtable.ofp.Group.HASH_ALG_SYM_L4)
        {
            parser.parse(p, hashKey);
            hash = dev.junction.flowtable.xlate.OvsHash.symmetricL3L4(hashKey, basis, false);
        }
        else
        {
            hash = dev.junction.flowtable.xlate.OvsHash.hashInt(dev.junction.flowtable.xlate.OvsHash.fiveTuple(keys[0], 0), basis);
        }
        final long[] w = keys[depth].words;
        w[FlowKey.W_DP_HASH] = hash & 0xffff_ffffL;
    }

    private static int tcpFlags(final FlowKey key)
    {
        return key.nwProto() == 6 ? (int)(key.words[FlowKey.W_TP] >>> 16) & 0xfff : 0;
    }

    /** Reads the clock every 32 packets (a clock read per packet would cost more than an EMC hit). */
    private void tick(final long packetNanos)
    {
        if (packetTime)
        {
            now = packetNanos;
        }
        else
        {
            if (--clockCountdown > 0)
            {
                return;
            }
            clockCountdown = 32;
            now = nanoClock.getAsLong();
        }
        // Time behind the last housekeeping (packet time that starts below the clock the
        // datapath was built at) counts as a new start, or housekeeping would never run.
        if (now - lastHousekeeping >= 1_000_000_000L || now < lastHousekeeping)
        {
            lastHousekeeping = now;
            housekeeping();
        }
    }

    /** Once a second: expire idle megaflows (pushing their statistics first) and re-rank subtables. */
    private void housekeeping()
    {
        if (revalidator == null)
        {
            final long maxIdle = cacheConfig.maxIdleMillis * 1_000_000L;
            for (final Megaflow mf : megaflows.snapshot())
            {
                if (now - mf.usedNanos() >= maxIdle)
                {
                    mf.pushStats();
                    megaflows.remove(mf);
                    expired++;
                }
            }
        }
        megaflows.rank();
        final dev.junction.flowtable.xlate.MacLearning macs = bridge.macLearning();
        megaflows.forEach(mf -> mf.refreshMac(macs));
        macs.expire(now);
        expireRules();
    }

    /**
     * Removes rules whose idle or hard timeout ran out (learned flows above all), as OVS's
     * ofproto expiry does once a second: statistics are pushed first, so a rule a megaflow kept
     * busy counts as used; the removal is a new table version like any other change.
     */
    private void expireRules()
    {
        final FlowTables t = bridge.tables();
        final java.util.List<dev.junction.flowtable.ofp.FlowRule> timed = t.rulesWithTimeouts();
        if (timed.isEmpty())
        {
            return;
        }
        megaflows.forEach(Megaflow::pushStats);
        final java.util.List<dev.junction.flowtable.ofp.FlowRule> gone = new java.util.ArrayList<>();
        for (final dev.junction.flowtable.ofp.FlowRule r : timed)
        {
            if (r.expired(now))
            {
                gone.add(r);
            }
        }
        if (!gone.isEmpty())
        {
            bridge.update(current -> current.withChanges(java.util.List.of(), gone, now));
            expiredRules += gone.size();
        }
    }

    /** Adds what the last translation's learn actions learned, as a new table version. */
    private void applyLearned()
    {
        final java.util.List<dev.junction.flowtable.ofp.FlowRule> learned = translator.learned();
        if (learned.isEmpty())
        {
            return;
        }
        final FlowTables before = bridge.tables();
        if (bridge.update(current -> current.withChanges(learned, java.util.List.of(), now)) != before)
        {
            learnedRules += learned.size();
        }
    }

    /**
     * Time from the packets' timestamps instead of the clock (a replay: timeouts of megaflows and
     * learned flows then run on pcap time, deterministically).
     */
    public Datapath packetTime(final boolean on)
    {
        packetTime = on;
        return this;
    }

    /** Rules removed by their idle or hard timeout. */
    public long expiredRules()
    {
        return expiredRules;
    }

    /** Flows added or changed by learn actions. */
    public long learnedRules()
    {
        return learnedRules;
    }

    /**
     * Brings every megaflow in line with a new table version, as OVS's revalidators do after a
     * flow-table change: statistics go to the rules of the old version, then each megaflow is
     * translated again from the packet that created it; an unchanged mask keeps the megaflow
     * (with possibly new actions), anything else removes it.
     */
    private void revalidate(final FlowTables next)
    {
        revalidatedFor = next;
        translator.accounting(false);
        try
        {
            for (final Megaflow mf : megaflows.snapshot())
            {
                mf.pushStats();
                if (!stillValid(translator, next, mf, revalidateActions))
                {
                    megaflows.remove(mf);
                    revalidatedAway++;
                }
                else
                {
                    mf.retarget(revalidateActions, translator.visitedRules());
                    mf.normalSource(translator.normalSource(), translator.normalPort());
                }
            }
        }
        finally
        {
            translator.accounting(true);
        }
    }

    /**
     * Dumps the megaflows to the revalidator thread (its periodic request, for idle expiry; also
     * revalidates if the version moved on meanwhile); nothing when a dump is out or there is no
     * revalidator thread.
     */
    public void dumpForRevalidator()
    {
        if (revalidator != null)
        {
            if (!packetTime)
            {
                now = nanoClock.getAsLong(); // an idle worker's clock stands still, its megaflows age
            }
            revalidator.post(megaflows, bridge.tables(), macVersion(), now, cacheConfig.maxIdleMillis * 1_000_000L);
        }
    }

    /**
     * Applies a revalidator's batch, on this worker's thread between packets. Statistics go to the
     * old rules before a megaflow is retargeted or removed; an idle candidate is removed only if
     * it is still idle by this worker's clock (a packet may have used it since the dump).
     */
    public void apply(final RevalidationBatch batch)
    {
        if (!packetTime)
        {
            now = nanoClock.getAsLong();
        }
        final long maxIdle = cacheConfig.maxIdleMillis * 1_000_000L;
        for (int i = 0; i < batch.size; i++)
        {
            final Megaflow mf = batch.megaflows[i];
            switch (batch.ops[i])
            {
                case RevalidationBatch.RETARGET:
                    mf.pushStats();
                    final OdpActions actions = batch.actions[i];
                    mf.retarget(actions == null ? mf.actions() : actions, batch.rules[i]);
                    mf.normalSource(batch.normalSources[i], batch.normalPorts[i]);
                    break;
                case RevalidationBatch.REMOVE:
                    if (removeMegaflow(mf))
                    {
                        revalidatedAway++;
                    }
                    break;
                default:
                    if (now - mf.usedNanos() >= maxIdle && removeMegaflow(mf))
                    {
                        expired++;
                    }
                    break;
            }
        }
        if (batch.last)
        {
            revalidatedFor = batch.version;
            macVersion = batch.macVersion;
            revalidator.free();
        }
    }

    /** Pushes {@code mf}'s statistics and removes it; false when it was gone already. */
    private boolean removeMegaflow(final Megaflow mf)
    {
        mf.pushStats();
        final int before = megaflows.size();
        megaflows.remove(mf);
        return megaflows.size() < before;
    }

    /** Packets that hit a megaflow not yet revalidated for the current version, and were translated. */
    public long staleHits()
    {
        return staleHits;
    }

    /**
     * Translates {@code mf} again under {@code next} from the packet that created it, into
     * {@code actions}; true when the megaflow may stay (same mask, same fast or slow path) with
     * those actions, as OVS's revalidate_ukey decides. {@code translator} must have accounting off.
     */
    public static boolean stillValid(final Translator translator, final FlowTables next, final Megaflow mf,
        final OdpActions actions)
    {
        // A failed translation is a drop flow (no actions), kept as OVS keeps it while its mask holds.
        final boolean ok = translator.translate(next, mf.upcallKey(), 0, actions, null);
        return (ok && translator.slow()) == mf.slow() && Arrays.equals(translator.wildcards().words, mf.mask());
    }

    /** Pushes every megaflow's statistics to its rules (before dump-flows). */
    public void pushStats()
    {
        megaflows.forEach(Megaflow::pushStats);
    }

    public MegaflowCache megaflows()
    {
        return megaflows;
    }

    public long emcHits()
    {
        return emcHits;
    }

    public long megaflowHits()
    {
        return megaflowHits;
    }

    /**
     * Limits this worker's upcalls per input port (see {@link UpcallLimiter}; give each worker its
     * own). Unlimited by default, as OVS.
     */
    public Datapath upcallLimiter(final UpcallLimiter limiter)
    {
        this.upcallLimiter = limiter;
        return this;
    }

    public UpcallLimiter upcallLimiter()
    {
        return upcallLimiter;
    }

    public long upcalls()
    {
        return upcalls;
    }

    public long slowPathPackets()
    {
        return slowPathPackets;
    }

    public long expiredMegaflows()
    {
        return expired;
    }

    public long revalidatedAway()
    {
        return revalidatedAway;
    }

    private void send(final int port, final Packet p)
    {
        // As OVS's netdev-dummy: frames over MTU + Ethernet (+4 for an 802.1Q tag) are refused; the
        // underlay port has its own MTU when configured.
        final int underlayMtu = tunnels != null && port == underlayPort ? tunnels.underlay().mtu() : 0;
        int max = (underlayMtu > 0 ? underlayMtu : mtu) + 14;
        if (p.length >= 14 && p.u16(p.start + 12) == 0x8100)
        {
            max += 4;
        }
        if (p.length > max)
        {
            drops[DropReason.MTU_EXCEEDED.ordinal()]++;
            return;
        }
        outputsThisPacket++;
        if (port >= txPackets.length && (ports.exists(port) || port == underlayPort))
        {
            txPackets = Arrays.copyOf(txPackets, port + 1);
            txBytes = Arrays.copyOf(txBytes, port + 1);
        }
        if (port >= 0 && port < txPackets.length)
        {
            txPackets[port]++;
            txBytes[port] += p.length;
        }
        transmitter.transmit(port, p);
    }

    /** The key of the last packet as received (before any recirculation). */
    public FlowKey lastKey()
    {
        return keys[0];
    }

    /** The actions of the last upcall of a packet as received. */
    public OdpActions lastActions()
    {
        return upcallActions[0];
    }

    public Conntrack conntrack()
    {
        return conntrack;
    }

    public Translator translator()
    {
        return translator;
    }

    public long packetsIn()
    {
        return packetsIn;
    }

    public long bytesIn()
    {
        return bytesIn;
    }

    public long drops(final DropReason r)
    {
        return drops[r.ordinal()];
    }

    public long txPackets(final int port)
    {
        return port >= 0 && port < txPackets.length ? txPackets[port] : 0;
    }

    public long txBytes(final int port)
    {
        return port >= 0 && port < txBytes.length ? txBytes[port] : 0;
    }
}
