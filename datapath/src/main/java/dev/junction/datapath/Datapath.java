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
    private final int[] ports;
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

    /** The packet's key per recirculation depth (index 0: as received). */
    private final FlowKey[] keys = new FlowKey[MAX_RECIRC_DEPTH + 1];
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
    private final long[] txPackets;
    private final long[] txBytes;
    private int outputsThisPacket;
    /** Bound once: a method reference per packet would be an allocation on the packet path. */
    private final ActionExecutor.OutputSink sink = this::send;
    private final CacheConfig cacheConfig;
    private final ExactMatchCache emc;
    private final MegaflowCache megaflows;
    private final OdpActions revalidateActions = new OdpActions();
    private final java.util.function.LongSupplier nanoClock;
    private FlowTables revalidatedFor;
    private long now;
    private long lastHousekeeping;
    private int clockCountdown;
    private long emcHits;
    private long megaflowHits;
    private long upcalls;
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
        this.ports = Arrays.stream(ports).distinct().sorted().toArray();
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
        this.translator = new Translator(new BridgePorts(bridgePorts(this.ports, tunnels)), bridge.frozenStates(),
            bridge.macLearning());
        if (tunnels != null)
        {
            translator.tunnels(tunnels);
        }
        this.macVersion = bridge.macLearning().version();
        final int maxPort = this.ports.length == 0 ? 0 : this.ports[this.ports.length - 1];
        txPackets = new long[maxPort + 1];
        txBytes = new long[maxPort + 1];
    }

    /**
     * The OpenFlow bridge's ports: the datapath's ports and the tunnel ports, without the underlay
     * port, which belongs to the tunnels (as OVS's br-phy is another bridge).
     */
    private static int[] bridgePorts(final int[] ports, final dev.junction.geneve.Tunnels tunnels)
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
        parser.parse(p, keys[0]);
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
        // Neighbour changes make tunnel headers stale as MAC changes make NORMAL's outputs stale.
        final long macs = bridge.macLearning().version() + (tunnels == null ? 0 : tunnels.underlay().version());
        if (t != revalidatedFor || macs != macVersion)
        {
            // A new table version, or the MAC table changed under NORMAL's megaflows (OVS's
            // REV_MAC_LEARNING): translate every megaflow again before the next lookup.
            macVersion = macs;
            revalidate(t);
        }
        outputsThisPacket = 0;
        final long controllerBefore = executor.controllerPackets();
        final long dropsBefore = conntrackDrops();
        process(p, 0, t, trace);
        resolveNeighbours();
        if (executor.controllerPackets() != controllerBefore)
        {
            drops[DropReason.CONTROLLER.ordinal()]++;
        }
        else if (outputsThisPacket == 0 && conntrackDrops() == dropsBefore)
        {
            drops[DropReason.NO_OUTPUT.ordinal()]++;
        }
    }

    private boolean tunnelReceived;

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

    private long conntrackDrops()
    {
        return drops[DropReason.CONNTRACK.ordinal()] + drops[DropReason.RECIRC_DEPTH.ordinal()]
            + drops[DropReason.XLATE_ERROR.ordinal()];
    }

    /** One datapath pass: cache lookup or upcall, then execution; recirculations come back here. */
    private void process(final Packet p, final int depth, final FlowTables t, final TraceSink trace)
    {
        final FlowKey key = keys[depth];
        Megaflow mf = null;
        long hash = 0;
        final boolean cached = cacheConfig.enabled && trace == null;
        if (cached)
        {
            hash = ExactMatchCache.hash(key.words);
            mf = emc.lookup(key.words, hash);
            if (mf != null)
            {
                emcHits++;
            }
            else
            {
                mf = megaflows.lookup(key.words);
                if (mf != null)
                {
                    megaflowHits++;
                    emc.maybeInsert(key.words, hash, mf);
                }
            }
        }
        final OdpActions toRun;
        if (mf != null && !mf.slow())
        {
            mf.hit(p.length, tcpFlags(key), now);
            toRun = mf.actions();
        }
        else
        {
            if (mf != null)
            {
                mf.hit(p.length, tcpFlags(key), now);
                slowPathPackets++;
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
                    emc.maybeInsert(key.words, hash, installed);
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
        final int n = acts.size();
        int i = 0;
        while ((i = executor.execute(p, acts, i, sink)) < n)
        {
            final int op = (int)acts.get(i);
            switch (op)
            {
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
        if (now - lastHousekeeping >= 1_000_000_000L)
        {
            lastHousekeeping = now;
            housekeeping();
        }
    }

    /** Once a second: expire idle megaflows (pushing their statistics first) and re-rank subtables. */
    private void housekeeping()
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
                // A failed translation is a drop flow, kept as OVS keeps it when its mask still holds.
                final boolean ok = translator.translate(next, mf.upcallKey(), 0, revalidateActions, null);
                if ((ok && translator.slow()) != mf.slow()
                    || !Arrays.equals(translator.wildcards().words, mf.mask()))
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
        // As OVS's netdev-dummy: frames over MTU + Ethernet (+4 for an 802.1Q tag) are refused.
        int max = mtu + 14;
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
