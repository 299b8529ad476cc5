package dev.junction.datapath;

import dev.junction.datapath.exec.ActionExecutor;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.PacketParser;
import dev.junction.flowtable.ofp.FlowTables;
import dev.junction.flowtable.xlate.OdpActions;
import dev.junction.flowtable.xlate.TraceSink;
import dev.junction.flowtable.xlate.Translator;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The per-packet path of the foundation: parse, translate through the current flow-table
 * version, execute, hand outputs to ports. One instance per worker thread; the table version is
 * read through an atomic reference so a new version can be published without locks.
 */
public final class Datapath implements Translator.Ports
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

    public Datapath(final FlowTables tables, final int[] ports, final Transmitter transmitter)
    {
        this(tables, ports, transmitter, DEFAULT_MTU, 1);
    }

    public Datapath(final FlowTables tables, final int[] ports, final Transmitter transmitter, final int mtu,
        final int vlanLimit)
    {
        this.tables = new AtomicReference<>(tables);
        this.ports = Arrays.stream(ports).distinct().sorted().toArray();
        this.transmitter = transmitter;
        this.mtu = mtu;
        this.parser = new PacketParser(vlanLimit);
        this.executor = new ActionExecutor(new PacketParser(vlanLimit));
        this.translator = new Translator(this);
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
        if (!translator.translate(tables.get(), key, p.length, actions, trace))
        {
            drops[DropReason.XLATE_ERROR.ordinal()]++;
            return;
        }
        outputsThisPacket = 0;
        final long controllerBefore = executor.controllerPackets();
        executor.execute(p, actions, sink);
        if (executor.controllerPackets() != controllerBefore)
        {
            drops[DropReason.CONTROLLER.ordinal()]++;
        }
        else if (outputsThisPacket == 0)
        {
            drops[DropReason.NO_OUTPUT.ordinal()]++;
        }
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

    @Override
    public boolean exists(final int port)
    {
        return Arrays.binarySearch(ports, port) >= 0;
    }

    @Override
    public int[] all()
    {
        return ports;
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
