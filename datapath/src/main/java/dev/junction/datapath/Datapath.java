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
import dev.junction.flowtable.xlate.BridgePorts;
import dev.junction.flowtable.xlate.OdpActions;
import dev.junction.flowtable.xlate.TraceSink;
import dev.junction.flowtable.xlate.Translator;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;

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

    private final AtomicReference<FlowTables> tables;
    private final int[] ports;
    private final PacketParser parser;
    private final Translator translator;
    private final ActionExecutor executor;
    private final FlowKey key = new FlowKey();
    private final OdpActions actions = new OdpActions();
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
        this.cacheConfig = cacheConfig;
        this.nanoClock = nanoClock;
        this.emc = new ExactMatchCache(cacheConfig.enabled ? cacheConfig.emcEntries : 0, cacheConfig.emcInsertInvProb);
        this.megaflows = new MegaflowCache(cacheConfig.megaflowLimit);
        this.revalidatedFor = tables;
        this.now = nanoClock.getAsLong();
        this.lastHousekeeping = now;
        this.tables = new AtomicReference<>(tables);
        this.ports = Arrays.stream(ports).distinct().sorted().toArray();
        this.transmitter = transmitter;
        this.mtu = mtu;
        this.parser = new PacketParser(vlanLimit);
        this.executor = new ActionExecutor(new PacketParser(vlanLimit));
        this.translator = new Translator(new BridgePorts(this.ports));
        final int maxPort = this.ports.length == 0 ? 0 : this.ports[this.ports.length - 1];
        txPackets = new long[maxPort + 1];
        txBytes = new long[maxPort + 1];
    }

    /** Publishes a new flow-table version; packets already in translation finish on the old one. */
    public void publish(final FlowTables next)
    {
        tables.set(next);
    }

    public FlowTables tables()
    {
        return tables.get();
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
        parser.parse(p, key);
        tick();
        final FlowTables t = tables.get();
        if (t != revalidatedFor)
        {
            revalidate(t);
        }
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
            mf.hit(p.length, tcpFlags(), now);
            toRun = mf.actions();
        }
        else
        {
            if (mf != null)
            {
                mf.hit(p.length, tcpFlags(), now);
                slowPathPackets++;
            }
            else
            {
                upcalls++;
            }
            if (!translator.translate(t, key, p.length, actions, trace))
            {
                drops[DropReason.XLATE_ERROR.ordinal()]++;
                return;
            }
            if (cached && mf == null)
            {
                // The upcall's own packet was counted by translation, as OVS counts it.
                final Megaflow installed = megaflows.install(key, translator.wildcards().words, actions,
                    translator.slow(), translator.visitedRules(), now);
                if (installed != null)
                {
                    emc.maybeInsert(key.words, hash, installed);
                }
            }
            toRun = actions;
        }
        outputsThisPacket = 0;
        final long controllerBefore = executor.controllerPackets();
        executor.execute(p, toRun, sink);
        if (executor.controllerPackets() != controllerBefore)
        {
            drops[DropReason.CONTROLLER.ordinal()]++;
        }
        else if (outputsThisPacket == 0)
        {
            drops[DropReason.NO_OUTPUT.ordinal()]++;
        }
    }

    private int tcpFlags()
    {
        return key.nwProto() == 6 ? (int)(key.words[FlowKey.W_TP] >>> 16) & 0xfff : 0;
    }

    /** Reads the clock every 32 packets (a clock read per packet would cost more than an EMC hit). */
    private void tick()
    {
        if (--clockCountdown > 0)
        {
            return;
        }
        clockCountdown = 32;
        now = nanoClock.getAsLong();
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
                final boolean ok = translator.translate(next, mf.upcallKey(), 0, revalidateActions, null);
                if (!ok || translator.slow() != mf.slow()
                    || !Arrays.equals(translator.wildcards().words, mf.mask()))
                {
                    megaflows.remove(mf);
                    revalidatedAway++;
                }
                else
                {
                    mf.retarget(revalidateActions, translator.visitedRules());
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

    public FlowKey lastKey()
    {
        return key;
    }

    public OdpActions lastActions()
    {
        return actions;
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
