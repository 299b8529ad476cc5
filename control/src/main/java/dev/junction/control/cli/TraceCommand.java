package dev.junction.control.cli;

import dev.junction.datapath.Datapath;
import dev.junction.flowtable.xlate.BridgePorts;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.ofp.FlowParseException;
import dev.junction.flowtable.ofp.FlowParser;
import dev.junction.flowtable.ofp.FlowPrinter;
import dev.junction.flowtable.ofp.FlowRule;
import dev.junction.flowtable.ofp.FlowTables;
import dev.junction.flowtable.xlate.OdpActions;
import dev.junction.flowtable.xlate.TraceSink;
import dev.junction.flowtable.xlate.Translator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.Callable;

/**
 * {@code junction trace}: one packet's way through the tables, as {@code ofproto/trace} explains it;
 * with {@code --manifests}, a pod's first packet to a pod or service through the compiled flows,
 * each table named by its logical stage ({@link ManifestTrace}).
 */
@Command(name = "trace", description = "Explain one packet: tables and rules met, datapath actions, outputs.")
final class TraceCommand implements Callable<Integer>
{
    @Option(names = "--flows", description = "Flows in ovs-ofctl add-flows syntax (or --manifests).")
    Path flows;

    @Option(names = "--manifests", paramLabel = "DIR", description = "Kubernetes manifests, compiled; with --from and --to or --to-service.")
    Path manifests;

    @Option(names = "--from", paramLabel = "NS/POD", description = "With --manifests: the client pod.")
    String from;

    @Option(names = "--to", paramLabel = "NS/POD", description = "With --manifests: the server pod.")
    String to;

    @Option(names = "--to-service", paramLabel = "NS/NAME", description = "With --manifests: the service (its first cluster IP).")
    String toService;

    @Option(names = "--port", description = "With --manifests: the destination port (the service port for --to-service).")
    Integer port;

    @Option(names = "--protocol", defaultValue = "TCP", description = "With --manifests: TCP or UDP (default ${DEFAULT-VALUE}).")
    String protocol;

    @Option(names = "--ipv6", description = "With --manifests: IPv6 addresses (default IPv4).")
    boolean ipv6;

    @Option(names = "--groups", description = "Groups in ovs-ofctl add-groups syntax, loaded before the flows.")
    Path groups;

    @Option(names = "--in-port", description = "The input port (with --flows).")
    Integer inPort;

    @Option(names = "--packet", description = "The packet as hex bytes (Ethernet frame).")
    String packetHex;

    @Option(names = "--ports", defaultValue = "1,2,3,4")
    String ports;

    @Option(names = "--tunnels", paramLabel = "FILE", description = "Tunnel ports and underlay (YAML, as replay --tunnels).")
    Path tunnelsFile;

    @Parameters(arity = "0..1", description = "The flow in ofproto/trace syntax, e.g. tcp,nw_dst=10.0.0.2,tp_dst=80.")
    String flow;

    @Option(names = "--ct-next", paramLabel = "FLAGS",
        description = "ct_state for the next recirculation after ct (repeatable, in order), e.g. trk|est;"
            + " default trk|new, as ofproto/trace.")
    java.util.List<String> ctNext = new java.util.ArrayList<>();

    @Override
    public Integer call() throws Exception
    {
        if ((flows == null) == (manifests == null))
        {
            System.err.println("junction trace: give exactly one of --flows FILE, --manifests DIR");
            return JunctionCli.EXIT_BAD_INPUT;
        }
        if (manifests != null)
        {
            if (port == null)
            {
                System.err.println("junction trace: --manifests needs --port P");
                return JunctionCli.EXIT_BAD_INPUT;
            }
            return ManifestTrace.run(manifests, from, to, toService, port, protocol, ipv6);
        }
        if (inPort == null)
        {
            System.err.println("junction trace: --flows needs --in-port N");
            return JunctionCli.EXIT_BAD_INPUT;
        }
        final dev.junction.flowtable.ofp.GroupTable groupTable = groups == null
            ? dev.junction.flowtable.ofp.GroupTable.EMPTY : FlowsFile.loadGroupsOrReport(groups, "junction trace");
        final dev.junction.geneve.Tunnels tunnels;
        try
        {
            tunnels = tunnelsFile == null ? null : TunnelsFile.load(tunnelsFile);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("junction trace: " + ex.getMessage());
            return JunctionCli.EXIT_BAD_INPUT;
        }
        final dev.junction.flowtable.TunMetadataSlots tunMetadata = tunnels == null
            ? dev.junction.flowtable.TunMetadataSlots.of() : tunnels.tlvMap().slots();
        final FlowTables tables = groupTable == null ? null
            : FlowsFile.loadOrReport(flows, groupTable, tunMetadata, "junction trace");
        if (tables == null)
        {
            return JunctionCli.EXIT_BAD_INPUT;
        }
        int[] portList = java.util.Arrays.stream(ports.split(",")).mapToInt(s -> Integer.parseInt(s.strip())).toArray();
        if (tunnels != null)
        {
            portList = java.util.stream.IntStream.concat(java.util.Arrays.stream(portList),
                tunnels.ports().stream().mapToInt(tp -> tp.port)).distinct().toArray();
        }
        final TraceText sink = new TraceText();
        final StringBuilder text = sink.text();
        if (packetHex != null)
        {
            final byte[] frame = HexFormat.of().parseHex(packetHex.replaceAll("\\s", ""));
            final Packet p = new Packet(frame.length);
            p.wrap(frame, 0, frame.length);
            p.inPort = inPort;
            final StringBuilder outputs = new StringBuilder();
            final Datapath dp = new Datapath(new dev.junction.datapath.Bridge(tables).tunnels(tunnels), withIn(portList),
                (port, pkt) -> outputs.append("  port ").append(port).append(": ")
                    .append(HexFormat.of().formatHex(pkt.buf, pkt.start, pkt.end())).append('\n'), Datapath.DEFAULT_MTU, 1,
                dev.junction.datapath.cache.CacheConfig.DEFAULTS, System::nanoTime);
            dp.receive(p, sink);
            System.out.print(text);
            System.out.println();
            System.out.println("Datapath actions: " + dp.lastActions().describe());
            System.out.print(outputs.length() == 0 ? "No output.\n" : "Output:\n" + outputs);
            return 0;
        }
        if (flow == null)
        {
            System.err.println("junction trace: give a flow or --packet HEX");
            return JunctionCli.EXIT_BAD_INPUT;
        }
        final FlowRule probe;
        try
        {
            probe = new FlowParser("flow").tunMetadata(tunMetadata).parseLine(flow + " actions=drop", 1);
        }
        catch (final FlowParseException ex)
        {
            System.err.println("junction trace: bad flow: " + ex.reason);
            return JunctionCli.EXIT_BAD_INPUT;
        }
        final FlowKey key = new FlowKey();
        key.copyFrom(probe.match.value);
        key.inPort(inPort);
        if ((key.vlanTci(0) & FlowKey.VLAN_CFI) != 0 && key.vlanTpid(0) == 0)
        {
            // A flow's tag has no TPID field: 0x8100, as OVS's flow_fix_vlan_tpid gives it.
            key.words[FlowKey.W_VLAN] |= 0x8100L << 48;
        }
        final Translator t = new Translator(new BridgePorts(withIn(portList)));
        if (tunnels != null)
        {
            t.tunnels(tunnels);
        }
        final OdpActions acts = new OdpActions();
        t.translate(tables, key, 0, acts, sink);
        System.out.println("Flow: in_port=" + inPort + (flow.isBlank() ? "" : "," + flow));
        System.out.println();
        System.out.print(text);
        System.out.println();
        System.out.println("Megaflow: " + dev.junction.datapath.cache.MegaflowPrinter.formatMatch(key.words,
            t.wildcards().words) + (t.slow() ? " (slow path: every packet is translated)" : ""));
        System.out.println("Datapath actions: " + acts.describe());
        return traceRecirculations(tables, t, acts, text, sink);
    }

    /**
     * As ofproto/trace: a translation that recirculates after ct goes on with the frozen flow,
     * ct_state from --ct-next (trk|new by default) and, for NAT, the first address and port of
     * the range put in place; each pass prints its tables, megaflow and datapath actions.
     */
    private int traceRecirculations(final FlowTables tables, final Translator t, final OdpActions first,
        final StringBuilder text, final TraceSink sink)
    {
        final java.util.ArrayDeque<Integer> states = new java.util.ArrayDeque<>();
        for (final String flags : ctNext)
        {
            int st = 0;
            for (final String name : flags.toLowerCase(java.util.Locale.ROOT).split("[|,+]"))
            {
                final int bit = dev.junction.flowtable.ct.CtState.bit(name.strip());
                if (bit == 0 && !name.isBlank())
                {
                    System.err.println("junction trace: --ct-next " + flags + ": unknown flag " + name);
                    return JunctionCli.EXIT_BAD_INPUT;
                }
                st |= bit;
            }
            states.add(st);
        }
        OdpActions acts = first;
        for (int pass = 0; pass < Datapath.MAX_RECIRC_DEPTH; pass++)
        {
            int recirc = -1;
            int ct = -1;
            for (int i = 0; i < acts.size(); i = acts.next(i))
            {
                final int op = (int)acts.get(i);
                if (op == OdpActions.CT)
                {
                    ct = i;
                }
                else if (op == OdpActions.RECIRC)
                {
                    recirc = i;
                    break;
                }
            }
            if (recirc < 0)
            {
                return 0;
            }
            final FlowKey next = new FlowKey();
            next.copyFrom(t.finalFlow());
            for (int w = FlowKey.W_XREG0; w <= FlowKey.W_METADATA; w++)
            {
                next.words[w] = 0;
            }
            next.inPort(inPort);
            next.recircId((int)acts.get(recirc + 1));
            System.out.println();
            System.out.println("=".repeat(79));
            final StringBuilder head = new StringBuilder("recirc(0x").append(Long.toHexString(acts.get(recirc + 1)))
                .append(')');
            if (ct >= 0)
            {
                final int st = states.isEmpty() ? (dev.junction.flowtable.ct.CtState.TRK | dev.junction.flowtable.ct.CtState.NEW)
                    : states.poll();
                final dev.junction.flowtable.ct.CtAction ca = new dev.junction.flowtable.ct.CtAction().wrap(acts, ct);
                dev.junction.flowtable.Field.CT_STATE.set(next.words, st);
                dev.junction.flowtable.Field.CT_ZONE.set(next.words, ca.zone());
                head.append(states.isEmpty() && ctNext.isEmpty() ? " - resume conntrack with default ct_state=trk|new"
                    + " (use --ct-next to customize)" : " - resume conntrack with ct_state=0x" + Integer.toHexString(st));
                simulateNat(ca, next, head);
            }
            System.out.println(head);
            text.setLength(0);
            final OdpActions out = new OdpActions();
            t.translate(tables, next, 0, out, sink);
            System.out.print(text);
            System.out.println();
            System.out.println("Megaflow: " + dev.junction.datapath.cache.MegaflowPrinter.formatMatch(next.words,
                t.wildcards().words) + (t.slow() ? " (slow path: every packet is translated)" : ""));
            System.out.println("Datapath actions: " + out.describe());
            acts = out;
        }
        return 0;
    }

    /** As ofproto/trace: NAT is assumed to pick the first address and port of its range. */
    private static void simulateNat(final dev.junction.flowtable.ct.CtAction ca, final FlowKey f, final StringBuilder head)
    {
        if (!ca.has(dev.junction.flowtable.ct.CtAction.F_NAT_ADDR))
        {
            return;
        }
        final boolean src = ca.has(dev.junction.flowtable.ct.CtAction.F_NAT_SRC);
        if (ca.has(dev.junction.flowtable.ct.CtAction.F_NAT_V6))
        {
            final int w = src ? FlowKey.W_IPV6_SRC : FlowKey.W_IPV6_DST;
            f.words[w] = ca.natMinAddrHi();
            f.words[w + 1] = ca.natMinAddrLo();
        }
        else
        {
            (src ? dev.junction.flowtable.Field.NW_SRC : dev.junction.flowtable.Field.NW_DST).set(f.words, ca.natMinAddrLo());
        }
        if (ca.has(dev.junction.flowtable.ct.CtAction.F_NAT_PORTS))
        {
            (src ? dev.junction.flowtable.Field.TP_SRC : dev.junction.flowtable.Field.TP_DST).set(f.words, ca.natMinPort());
        }
        head.append("\nReplacing ").append(src ? "src" : "dst").append(" IP/port to simulate NAT");
    }

    private int[] withIn(final int[] list)
    {
        final int[] r = java.util.Arrays.copyOf(list, list.length + 1);
        r[list.length] = inPort;
        return r;
    }
}
