package dev.junction.control.cli;

import dev.junction.datapath.Datapath;
import dev.junction.datapath.DropReason;
import dev.junction.datapath.Replay;
import dev.junction.datapath.cache.CacheConfig;
import dev.junction.datapath.pcap.PcapInput;
import dev.junction.flowtable.ofp.FlowTables;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/** {@code junction replay}: the contract of DESIGN.md, byte-identical to the OVS oracle. */
@Command(name = "replay", description = "Replay pcap traces through the datapath; write what each port sends.")
final class ReplayCommand implements Callable<Integer>
{
    @Option(names = "--flows", description = "Flows in ovs-ofctl add-flows syntax (OpenFlow 1.5).")
    Path flows;

    @Option(names = "--manifests", description = "Kubernetes manifests directory: replay through the flows derived from it "
        + "(ports numbered as `junction flows` prints them).")
    Path manifests;

    @Option(names = "--groups", description = "Groups in ovs-ofctl add-groups syntax (OpenFlow 1.5), loaded before the flows.")
    Path groups;

    @Option(names = "--tunnels", paramLabel = "FILE",
        description = "Tunnel ports, underlay, neighbours, routes and TLV map (YAML; see docs/geneve.md).")
    Path tunnelsFile;

    @Option(names = "--mtu", paramLabel = "BYTES", defaultValue = "1400",
        description = "With --manifests: the gateway routers' MTU (OVN-K's gateway_mtu on rtoj-GR_<node>): larger packets "
            + "they send into the cluster get ICMP fragmentation needed / packet too big by pinctrl; 0: not checked "
            + "(default ${DEFAULT-VALUE}, OVN-K's).")
    int mtu;

    @Option(names = "--in", required = true, description = "N=FILE.pcap: packets received on port N.")
    List<String> ins;

    @Option(names = "--out", required = true, description = "Directory for N.pcap per sending port.")
    Path out;

    @Option(names = "--ports", defaultValue = "1,2,3,4",
        description = "Ports of the bridge besides the --in ones (default: ${DEFAULT-VALUE}), as the oracle's.")
    String ports;

    @Option(names = "--flows-at", paramLabel = "N=FILE",
        description = "Replace the flow table with FILE just before packet N (0-based, merged order); repeatable.")
    List<String> flowsAt = new ArrayList<>();

    @Option(names = "--megaflow-limit", defaultValue = "200000",
        description = "Most megaflows the datapath holds; installs beyond are refused and counted (default ${DEFAULT-VALUE}).")
    int megaflowLimit;

    @Option(names = "--emc-entries", defaultValue = "8192",
        description = "Exact-match cache entries, a power of two; 0 disables it (default ${DEFAULT-VALUE}).")
    int emcEntries;

    @Option(names = "--emc-insert-inv-prob", defaultValue = "100",
        description = "Insert into the EMC one time in N (OVS's emc-insert-inv-prob; 0 never; default ${DEFAULT-VALUE}).")
    int emcInsertInvProb;

    @Option(names = "--max-idle", defaultValue = "10000",
        description = "Milliseconds after which an unused megaflow expires (default ${DEFAULT-VALUE}).")
    long maxIdleMillis;

    @Option(names = "--no-cache", description = "Translate every packet (no EMC, no megaflows): for comparisons.")
    boolean noCache;

    @Option(names = "--ct-max-conns", paramLabel = "N",
        description = "Most connections conntrack holds, all zones (OVS dpctl/ct-set-maxconns; default 3000000).")
    Long ctMaxConns;

    @Option(names = "--ct-zone-limit", paramLabel = "Z=N",
        description = "Most connections in zone Z, or default=N for zones without their own limit "
            + "(OVS dpctl/ct-set-limits); repeatable.")
    List<String> ctZoneLimits = new ArrayList<>();

    @Option(names = "--ct-timeout", paramLabel = "[zone=Z,]ATTR=SECONDS",
        description = "Conntrack timeout policy attribute(s) as ovs-vsctl add-zone-tp names them (tcp_syn_sent, "
            + "tcp_syn_recv, tcp_established, tcp_fin_wait, tcp_time_wait, tcp_close, udp_first, udp_single, "
            + "udp_multiple, icmp_first, icmp_reply), comma-separated; without zone= for every zone; repeatable.")
    List<String> ctTimeouts = new ArrayList<>();

    @Option(names = "--workers", paramLabel = "N", defaultValue = "0",
        description = "Replay through the Disruptor pipeline with N workers (flows pinned by RSS hash; each port's "
            + "output in receive order); 0, the default, is one datapath on one thread (DESIGN.md's contract).")
    int workers;

    @Option(names = "--pinctrl", description = "Answer packet-ins as ovn-controller's pinctrl: a new connection to a VIP "
        + "without endpoints gets a TCP RST or ICMP unreachable (in the output captures), ACL logging writes to --acl-log. "
        + "Off by default: OVS without a controller (the oracle) drops packet-ins.")
    boolean pinctrl;

    @Option(names = "--acl-log", paramLabel = "FILE", description = "With --pinctrl: ACL log lines to FILE (default: stderr).")
    Path aclLog;

    @Option(names = "--acl-log-rate", paramLabel = "N", defaultValue = "20",
        description = "With --pinctrl: most ACL log lines a second of packet time; the rest are counted (default ${DEFAULT-VALUE}).")
    int aclLogRate;

    @Option(names = "--json", description = "Print a JSON summary on stdout.")
    boolean json;

    @Option(names = "--expect", description = "Golden directory (e.g. written by ovs-oracle): exit 1 on any difference.")
    Path expect;

    @Override
    public Integer call() throws IOException
    {
        if ((manifests == null) == (flows == null))
        {
            System.err.println("junction replay: give --flows or --manifests (one of them)");
            return JunctionCli.EXIT_BAD_INPUT;
        }
        ManifestFlows.Loaded derived = null;
        if (manifests != null)
        {
            if (groups != null || tunnelsFile != null || !flowsAt.isEmpty())
            {
                System.err.println("junction replay: --manifests derives flows and groups; --groups, --tunnels and --flows-at go with --flows");
                return JunctionCli.EXIT_BAD_INPUT;
            }
            derived = ManifestFlows.load(manifests, null, mtu, "junction replay", System.err);
            if (derived == null)
            {
                return JunctionCli.EXIT_BAD_INPUT;
            }
        }
        final List<PcapInput> inputs = new ArrayList<>();
        final TreeSet<Integer> portSet = new TreeSet<>();
        try
        {
            for (final String s : ins)
            {
                final PcapInput in = PcapInput.parse(s);
                inputs.add(in);
                portSet.add(in.port());
            }
            if (derived != null)
            {
                // The bridge has one port per pod (numbers as `junction flows` prints them).
                for (final int n : derived.compiled().layout().ofports())
                {
                    portSet.add(n);
                }
            }
            for (final String p : ports.split(","))
            {
                if (!p.isBlank())
                {
                    portSet.add(Integer.parseInt(p.strip()));
                }
            }
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("junction replay: " + ex.getMessage());
            return JunctionCli.EXIT_BAD_INPUT;
        }
        dev.junction.geneve.Tunnels tunnels = null;
        if (tunnelsFile != null)
        {
            try
            {
                tunnels = TunnelsFile.load(tunnelsFile);
            }
            catch (final IllegalArgumentException | IOException ex)
            {
                System.err.println("junction replay: " + ex.getMessage());
                return JunctionCli.EXIT_BAD_INPUT;
            }
            portSet.add(tunnels.underlay().port);
            for (final dev.junction.geneve.TunnelPort t : tunnels.ports())
            {
                portSet.remove(t.port);
            }
        }
        final dev.junction.flowtable.ofp.GroupTable groupTable = groups == null
            ? dev.junction.flowtable.ofp.GroupTable.EMPTY : FlowsFile.loadGroupsOrReport(groups, "junction replay");
        if (groupTable == null)
        {
            return JunctionCli.EXIT_BAD_INPUT;
        }
        final dev.junction.flowtable.TunMetadataSlots tunMetadata = tunnels == null
            ? dev.junction.flowtable.TunMetadataSlots.of() : tunnels.tlvMap().slots();
        final FlowTables tables = derived != null ? derived.tables()
            : FlowsFile.loadOrReport(flows, groupTable, tunMetadata, "junction replay");
        if (tables == null)
        {
            return JunctionCli.EXIT_BAD_INPUT;
        }
        final CacheConfig caches;
        final CtOptions ct;
        try
        {
            ct = CtOptions.parse(ctMaxConns, ctZoneLimits, ctTimeouts);
            if (workers < 0)
            {
                throw new IllegalArgumentException("--workers must be >= 0: " + workers);
            }
            caches = noCache ? CacheConfig.DISABLED
                : new CacheConfig(true, emcEntries, emcInsertInvProb, megaflowLimit, maxIdleMillis);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("junction replay: " + ex.getMessage());
            return JunctionCli.EXIT_BAD_INPUT;
        }
        final Replay replay = new Replay(tables, inputs, portSet.stream().mapToInt(Integer::intValue).toArray(), out)
            .cacheConfig(caches).conntrackSetup(ct::apply).tunnels(tunnels).workers(workers);
        for (final String at : flowsAt)
        {
            final int eq = at.indexOf('=');
            final long index;
            try
            {
                index = eq > 0 ? Long.parseLong(at.substring(0, eq)) : -1;
            }
            catch (final NumberFormatException ex)
            {
                System.err.println("junction replay: --flows-at " + at + ": N must be a packet number");
                return JunctionCli.EXIT_BAD_INPUT;
            }
            if (index < 0)
            {
                System.err.println("junction replay: --flows-at " + at + ": expected N=FILE with N >= 0");
                return JunctionCli.EXIT_BAD_INPUT;
            }
            final FlowTables next = FlowsFile.loadOrReport(Path.of(at.substring(eq + 1)), groupTable, tunMetadata,
                "junction replay");
            if (next == null)
            {
                return JunctionCli.EXIT_BAD_INPUT;
            }
            replay.swapAt(index, next);
        }
        final PinctrlOutput handler;
        try
        {
            handler = pinctrl ? PinctrlOutput.open(aclLog, aclLogRate) : null;
        }
        catch (final IllegalArgumentException | IOException ex)
        {
            System.err.println("junction replay: " + ex.getMessage());
            return JunctionCli.EXIT_BAD_INPUT;
        }
        if (handler != null)
        {
            replay.packetInHandler(handler.pinctrl());
        }
        final boolean tty = System.console() != null;
        try (handler)
        {
            replay.run(tty ? n -> System.err.print("\rjunction replay: " + n + " packets") : null);
        }
        catch (final IOException ex)
        {
            System.err.println("junction replay: " + ex.getMessage());
            return JunctionCli.EXIT_BAD_INPUT;
        }
        final List<Datapath> dps = replay.datapaths();
        if (tty && sum(dps, Datapath::packetsIn) >= 100_000)
        {
            System.err.println();
        }
        if (json)
        {
            System.out.println(summary(dps, replay, handler == null ? null : handler.pinctrl()));
        }
        else
        {
            System.err.println("junction replay: " + sum(dps, Datapath::packetsIn) + " packets in, " + total(replay.sent())
                + " out " + replay.sent() + " -> " + out);
        }
        if (handler != null)
        {
            System.err.println("junction replay: " + handler.pinctrl().summary());
        }
        if (expect != null)
        {
            return Expect.compare(out, expect, System.out) ? 0 : 1;
        }
        return 0;
    }

    private static long total(final Map<Integer, Long> sent)
    {
        return sent.values().stream().mapToLong(Long::longValue).sum();
    }

    /** A counter summed over the replay's datapaths (one per worker through the pipeline). */
    private static long sum(final List<Datapath> dps, final java.util.function.ToLongFunction<Datapath> counter)
    {
        return dps.stream().mapToLong(counter).sum();
    }

    private static String summary(final List<Datapath> dps, final Replay replay, final dev.junction.control.pinctrl.Pinctrl pinctrl)
    {
        final StringBuilder sb = new StringBuilder("{\"packets_in\": ").append(sum(dps, Datapath::packetsIn))
            .append(", \"bytes_in\": ").append(sum(dps, Datapath::bytesIn))
            .append(", \"megaflows\": ").append(sum(dps, dp -> dp.megaflows().size()))
            .append(", \"emc_hits\": ").append(sum(dps, Datapath::emcHits))
            .append(", \"megaflow_hits\": ").append(sum(dps, Datapath::megaflowHits))
            .append(", \"upcalls\": ").append(sum(dps, Datapath::upcalls))
            .append(", \"slow_path_packets\": ").append(sum(dps, Datapath::slowPathPackets))
            .append(", \"megaflows_refused\": ").append(sum(dps, dp -> dp.megaflows().refused()))
            .append(", \"learned_flows\": ").append(sum(dps, Datapath::learnedRules))
            .append(", \"expired_flows\": ").append(sum(dps, Datapath::expiredRules))
            .append(", \"packet_ins\": ").append(sum(dps, Datapath::packetIns));
        if (pinctrl != null)
        {
            sb.append(", \"pinctrl\": {\"rejected\": ").append(pinctrl.rejected()).append(", \"unanswered\": ")
                .append(pinctrl.unanswered()).append(", \"acl_log_lines\": ").append(pinctrl.logged())
                .append(", \"acl_log_suppressed\": ").append(pinctrl.suppressed())
                .append(", \"neighbour_requests\": ").append(pinctrl.neighbourAsked())
                .append(", \"neighbour_requests_suppressed\": ").append(pinctrl.neighbourSuppressed())
                .append(", \"too_big\": ").append(pinctrl.tooBig()).append('}');
        }
        sb.append(", \"conntrack\": ").append(CtOptions.json(dps.get(0).conntrack()))
            .append(", \"output_per_port\": {");
        String sep = "";
        for (final Map.Entry<Integer, Long> e : replay.sent().entrySet())
        {
            sb.append(sep).append('"').append(e.getKey()).append("\": ").append(e.getValue());
            sep = ", ";
        }
        sb.append("}, \"output_total\": ").append(total(replay.sent())).append(", \"drops\": {");
        sep = "";
        for (final DropReason r : DropReason.values())
        {
            sb.append(sep).append('"').append(r.name().toLowerCase(Locale.ROOT)).append("\": ").append(sum(dps, dp -> dp.drops(r)));
            sep = ", ";
        }
        return sb.append("}}").toString();
    }
}
