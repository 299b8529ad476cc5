package dev.junction.control.node;

import dev.junction.afxdp.port.DevicePort;
import dev.junction.afxdp.port.PortPoller;
import dev.junction.afxdp.port.TapPort;
import dev.junction.afxdp.port.XdpPort;
import dev.junction.afxdp.xdp.AfXdpPort;
import dev.junction.afxdp.xdp.XdpConfig;
import dev.junction.afxdp.xdp.XdpCounters;
import dev.junction.afxdp.xdp.XdpQueue;
import dev.junction.control.agent.ControlLoop;
import dev.junction.control.agent.ManifestDirectoryWatcher;
import dev.junction.control.cli.FlowsFile;
import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.journal.FlowJournal;
import dev.junction.control.k8s.ManifestLoader;
import dev.junction.control.k8s.live.ApiServerSource;
import dev.junction.control.pinctrl.Pinctrl;
import dev.junction.datapath.Bridge;
import dev.junction.datapath.Datapath;
import dev.junction.datapath.DropReason;
import dev.junction.datapath.UpcallLimiter;
import dev.junction.datapath.cache.CacheConfig;
import dev.junction.datapath.cache.MegaflowPrinter;
import dev.junction.datapath.pipeline.Pipeline;
import dev.junction.datapath.pipeline.PipelineConfig;
import dev.junction.flowtable.ofp.FlowParseException;
import dev.junction.flowtable.ofp.FlowParser;
import dev.junction.flowtable.ofp.FlowPrinter;
import dev.junction.flowtable.ofp.FlowRule;
import dev.junction.flowtable.ofp.FlowTables;
import dev.junction.flowtable.ofp.GroupParser;
import dev.junction.flowtable.ofp.GroupTable;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A node's datapath as a long-running process: the configured TAP ports, the Disruptor pipeline
 * with its workers, the tunnel ports, one RX poller thread and the control socket. Startup is
 * all or nothing: the configuration, flows and groups are checked first, then the devices are
 * opened, and any failure closes what was opened. {@link #close()} (also from the SIGTERM
 * shutdown hook) stops RX, drains the workers, closes the devices and removes the socket.
 */
public final class NodeDaemon implements AutoCloseable
{
    private final NodeConfig config;
    private final JsonLog log;
    private final Bridge bridge;
    /**
     * The ports open now, pod ports numbered by the control module's layout: replaced whole when
     * a pod's port comes or goes (under {@link #portsLock}), read by anyone.
     */
    private volatile List<NodeConfig.Port> ports;
    /** The OpenFlow bridge's ports, shared by every worker's translators; changed with {@link #ports}. */
    private dev.junction.flowtable.xlate.BridgePorts bridgePorts;
    /** Held while pods' ports are added or removed, and by readers that must see devices and pipeline agree. */
    private final Object portsLock = new Object();
    private ControlLoop controlLoop;
    /** Pods' ports plugged through the control socket (control mode only), beside node.yaml's. */
    private PluggedPorts plugged;
    private java.util.concurrent.ScheduledExecutorService conntrackSweeper;
    /** EgressFirewall dnsName rules' names, looked up on {@link #dnsRefresher} (control mode). */
    private final dev.junction.control.agent.DnsNames dnsNames = dev.junction.control.agent.DnsNames.system();
    private java.util.concurrent.ScheduledExecutorService dnsRefresher;
    private java.util.concurrent.CompletableFuture<ConntrackCheckpointer> checkpointerLoading;
    private ConntrackCheckpointer checkpointer;
    /** Rejects and ACL logs of the flows' controller actions, shared by the workers (thread-safe). */
    private final Pinctrl pinctrl;
    private AutoCloseable controlSource;
    private final List<DevicePort> taps = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<dev.junction.datapath.pipeline.PcapPort> pcaps = new ArrayList<>();
    /** Pods on a trace whose pod came after the start (logged once each). */
    private final java.util.Set<String> pcapWaiting = new java.util.HashSet<>();
    private final List<Thread> feeders = new ArrayList<>();
    private Pipeline pipeline;
    private PortPoller poller;
    private Thread pollerThread;
    private ControlServer control;
    private NodeMetrics metrics;
    private Thread controlThread;
    private volatile boolean closed;

    private NodeDaemon(final NodeConfig config, final JsonLog log, final FlowTables tables)
    {
        this.config = config;
        this.log = log;
        // With control the pods' ports are numbered by the first compiled layout (startControl).
        this.ports = config.control == null ? config.ports : null;
        this.pinctrl = new Pinctrl(line -> log.info("acl_log", "line", line), config.aclLogRate);
        this.bridge = new Bridge(tables).tunnels(config.tunnels);
    }

    /** The tun_metadata fields flows may name: the TLV map's, none without tunnels (as OVS with an empty map). */
    private static dev.junction.flowtable.TunMetadataSlots tunMetadata(final NodeConfig config)
    {
        return config.tunnels == null ? dev.junction.flowtable.TunMetadataSlots.of() : config.tunnels.tlvMap().slots();
    }

    /** Starts a daemon, or throws with the reason and leaves nothing behind. */
    public static NodeDaemon start(final NodeConfig config, final JsonLog log) throws IOException, FlowParseException
    {
        final FlowTables tables;
        if (config.control == null)
        {
            final GroupTable groups = config.groups == null ? GroupTable.EMPTY
                : new GroupParser(config.groups.toString()).parseAll(Files.readAllLines(config.groups));
            tables = FlowsFile.load(config.flows, groups, tunMetadata(config));
        }
        else
        {
            // Nothing forwards until the journal or the first snapshot gives flows (fail closed).
            tables = new FlowTables(List.of());
        }
        prepareStateDir(config.stateDir);
        final NodeDaemon d = new NodeDaemon(config, log, tables);
        try
        {
            if (config.conntrackCheckpointMs > 0)
            {
                d.checkpointerLoading = ConntrackCheckpointer.load(config.stateDir, config.conntrackCheckpointMs,
                    config.conntrackCheckpointDiskMb, log);
            }
            if (config.control != null)
            {
                d.startControl();
            }
            d.open();
            // A change that came while the devices were opened was published without them.
            if (d.controlLoop != null && d.controlLoop.layout().map(d::followPods).orElse(false))
            {
                d.bridge.update(t -> new FlowTables(t.rules(), t.groups()));
            }
            if (d.checkpointer != null)
            {
                d.checkpointer.start();
            }
            return d;
        }
        catch (final RuntimeException | IOException | FlowParseException ex)
        {
            d.close();
            throw ex;
        }
    }

    private static void prepareStateDir(final Path dir) throws IOException
    {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        final Path socket = dir.resolve(ControlServer.SOCKET);
        if (Files.exists(socket))
        {
            try
            {
                ControlServer.request(dir, "stats");
                throw new IllegalStateException("another junction daemon is running with state directory " + dir);
            }
            catch (final IOException stale)
            {
                // nobody answers: a crashed daemon's socket, replaced when the server binds
            }
        }
    }

    /**
     * A Kubernetes change's way on a node: the journal's last version is published first (what the
     * node forwarded with before a restart). On a restart its pod ports number the devices and
     * the source is opened in the background ({@link RetryingSource}: retried while it is away,
     * the journal's version enforcing meanwhile); on a first start (an empty journal) the
     * source's first snapshot is compiled on this thread, which numbers the pods' ports before
     * any device is opened. Later snapshots (file changes, API server events) become new table
     * versions while traffic flows.
     */
    private void startControl() throws IOException, FlowParseException
    {
        final NodeConfig.Control c = config.control;
        final String source = c.manifests() != null ? "manifests:" + c.manifests() : ApiServerSource.SOURCE_NAME;
        final List<String> skipped = new ArrayList<>();
        plugged = PluggedPorts.load(config.stateDir, config.ports, skipped);
        skipped.forEach(why -> log.warn("plugged port skipped", "reason", why));
        // Each version's pods get their devices before the version is published: its flows never
        // output to a port the workers do not have yet.
        controlLoop = new ControlLoop(c.node(), FlowJournal.open(config.stateDir), source, c.gatewayMtu(), tables ->
        {
            try
            {
                controlLoop.layout().ifPresent(this::followPods);
            }
            catch (final RuntimeException ex)
            {
                // The version is journaled already: it is published all the same, the devices follow next time.
                log.error("pods' ports not followed", "error", String.valueOf(ex));
            }
            bridge.publish(tables);
        }, dnsNames);
        startDnsRefresh();
        final long restoring = System.nanoTime();
        final java.util.Optional<FlowJournal.Restored> restored = controlLoop.restore();
        restored.ifPresent(r -> log.info("flows restored", "version", r.version(), "rules", r.flows().size(),
            "pods", r.ports().size(),
            "restore_ms", String.format(java.util.Locale.ROOT, "%.3f", (System.nanoTime() - restoring) / 1e6),
            "since_jvm_start_ms", System.currentTimeMillis() - java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime()));
        final java.util.function.Consumer<ManifestLoader.Result> onSnapshot = this::compileSnapshot;
        final RetryingSource.Opener opener = () -> c.manifests() != null
            ? ManifestDirectoryWatcher.start(c.manifests(), ManifestDirectoryWatcher.DEFAULT_DEBOUNCE,
                ManifestDirectoryWatcher.DEFAULT_POLL, onSnapshot)
            : ApiServerSource.connect(c.kubeconfig().equals("in-cluster") ? null : Path.of(c.kubeconfig()),
                ApiServerSource.DEFAULT_DEBOUNCE, onSnapshot);
        if (restored.isPresent())
        {
            // A restart: the pods' devices open under the journal's numbers and forwarding resumes
            // with its version now; the source is opened (and retried) beside it, and its first
            // snapshot moves whatever changed meanwhile (followPods).
            ports = journalNumbered(restored.get().ports());
            controlSource = new RetryingSource(source, opener, log);
            return;
        }
        try
        {
            controlSource = opener.open();
        }
        catch (final IOException | RuntimeException ex)
        {
            throw ex;
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException("control: " + ex.getMessage(), ex);
        }
        final BridgeLayout layout = controlLoop.layout().orElseThrow(() -> new IllegalStateException(
            "control: the first snapshot could not be compiled: " + controlLoop.lastFailure()));
        final List<NodeConfig.Port> numbered = new ArrayList<>();
        for (final NodeConfig.Port p : declared())
        {
            if (p.pod() == null)
            {
                if (p.number() == BridgeLayout.MANAGEMENT_OFPORT)
                {
                    managementPort(layout, c.node());
                }
                numbered.add(p);
                continue;
            }
            final java.util.Optional<BridgeLayout.PodPort> pp = layout.port(p.pod());
            if (layout.remotePods().stream().anyMatch(r -> r.name().equals(p.pod())) && config.ports.contains(p))
            {
                // A configuration error, not a pod still to come: pods do not change nodes.
                throw new IllegalArgumentException("pod " + p.pod() + " has no logical port on node " + c.node()
                    + " (it is on another node)");
            }
            if (pp.isEmpty())
            {
                // As a CNI: the pod's device is made when the pod appears with an address (followPods).
                log.info("pod port waiting: the pod has no logical port yet", "pod", p.pod());
                continue;
            }
            numbered.add(p.numbered(pp.get().ofport()));
            log.info("pod port", "pod", p.pod(), "port", pp.get().ofport(), "mac", pp.get().mac());
        }
        ports = List.copyOf(numbered);
    }

    /**
     * Looks the dnsName rules' names up on a thread of its own, never on the compile path: names
     * a compile has just asked for within a second, all of them every {@code dns_refresh_ms}; the
     * rules of a name whose addresses changed are compiled again into a new version.
     */
    private void startDnsRefresh()
    {
        dnsRefresher = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r ->
        {
            final Thread t = new Thread(r, "junction-dns");
            t.setDaemon(true);
            return t;
        });
        final long[] lastFull = {System.nanoTime()};
        dnsRefresher.scheduleWithFixedDelay(() ->
        {
            try
            {
                final boolean all = System.nanoTime() - lastFull[0] >= config.dnsRefreshMs * 1_000_000L;
                if (all)
                {
                    lastFull[0] = System.nanoTime();
                }
                final java.util.Set<String> changed = dnsNames.refresh(all);
                if (!changed.isEmpty())
                {
                    log.info("dns names resolved", "changed", changed.size(), "names", String.valueOf(changed.stream().limit(10).toList()),
                        "lookup_failures", dnsNames.failures());
                    controlLoop.namesResolved(changed);
                }
            }
            catch (final RuntimeException ex)
            {
                log.error("dns refresh failed", "error", String.valueOf(ex));
            }
        }, 1, 1, TimeUnit.SECONDS);
    }

    /**
     * The management port a {@code management: true} entry serves: logged with what the host's
     * interface needs (OVN-K sets the same MAC and .2 addresses on ovn-k8s-mp0); a node without
     * one (no subnets annotation) refuses the start, as a pod port that is not on the node does.
     */
    private void managementPort(final BridgeLayout layout, final String node)
    {
        final BridgeLayout.ManagementPort mp = layout.localSwitch().flatMap(layout::managementPort).orElseThrow(
            () -> new IllegalArgumentException("node " + node + " has no management port (no k8s.ovn.org/node-subnets annotation)"));
        log.info("management port", "name", mp.name(), "port", mp.ofport(), "mac", mp.mac(), "ips",
            mp.ips().stream().map(dev.junction.control.k8s.Ip::text).toList().toString());
    }

    /** The configured ports, declared pods numbered as the journal's last version had them; the others wait for the source. */
    private List<NodeConfig.Port> journalNumbered(final java.util.Map<String, Integer> journaled)
    {
        final List<NodeConfig.Port> numbered = new ArrayList<>();
        for (final NodeConfig.Port p : declared())
        {
            final Integer ofport = p.pod() == null ? null : journaled.get(p.pod());
            if (p.pod() == null)
            {
                numbered.add(p);
            }
            else if (ofport == null)
            {
                log.info("pod port waiting: the pod had no logical port in the journal's version", "pod", p.pod());
            }
            else
            {
                numbered.add(p.numbered(ofport));
                log.info("pod port", "pod", p.pod(), "port", ofport, "from", "journal");
            }
        }
        return List.copyOf(numbered);
    }

    /** One snapshot of the source: problems logged by object, compiled, journaled and published. */
    private void compileSnapshot(final ManifestLoader.Result snapshot)
    {
        for (final dev.junction.control.k8s.LoadReport.Problem p : snapshot.report().problems())
        {
            log.warn("object skipped", "problem", p.toString());
        }
        final long failures = controlLoop.failures();
        controlLoop.accept(snapshot);
        if (controlLoop.failures() != failures)
        {
            log.error("snapshot not compiled: the last good flows stay", "reason", controlLoop.lastFailure());
            return;
        }
        log.info("flows compiled", "version", controlLoop.version(), "objects", snapshot.report().objects());
    }

    /**
     * What a CNI and ovn-controller do together when pods come and go: each declared pod whose
     * logical port on this node is gone or renumbered in {@code layout} has its port removed from
     * the datapath and its device closed (a TAP we made goes with it); each one that has a port
     * and no device (new, or renumbered) gets its device opened and added under the layout's
     * number. Other ports keep forwarding throughout. Nothing before the devices are first opened.
     *
     * @return whether a port came or went (the megaflows then need a new version to revalidate)
     */
    private boolean followPods(final BridgeLayout layout)
    {
        synchronized (portsLock)
        {
            if (pipeline == null || closed)
            {
                return false;
            }
            final List<NodeConfig.Port> before = ports;
            final List<NodeConfig.Port> after = new ArrayList<>();
            final List<NodeConfig.Port> wanted = new ArrayList<>();
            final List<NodeConfig.Port> declared = declared();
            for (final NodeConfig.Port p : before)
            {
                if (p.type().equals("pcap"))
                {
                    // A trace is read once from the start: its port stays whatever becomes of its pod.
                    after.add(p);
                    continue;
                }
                final boolean unplugged = p.pod() != null && declared.stream().noneMatch(d -> p.pod().equals(d.pod()));
                final int ofport = p.pod() == null ? p.number() : unplugged ? -1 : layout.port(p.pod())
                    .filter(BridgeLayout.PodPort::local).map(BridgeLayout.PodPort::ofport).orElse(-1);
                if (ofport == p.number())
                {
                    after.add(p);
                }
                else if (!removePod(p, unplugged ? "unplugged" : ofport < 0 ? "pod gone" : "renumbered to " + ofport))
                {
                    after.add(p); // its device could not be closed safely: it stays, and so does its number
                }
            }
            for (final NodeConfig.Port p : declared)
            {
                if (p.pod() != null && p.type().equals("pcap") && after.stream().noneMatch(o -> p.pod().equals(o.pod())))
                {
                    if (layout.port(p.pod()).filter(BridgeLayout.PodPort::local).isPresent() && pcapWaiting.add(p.pod()))
                    {
                        log.warn("pcap port not opened: a trace is read from the start, so its pod must be there at start",
                            "pod", p.pod());
                    }
                    continue;
                }
                if (p.pod() != null && after.stream().noneMatch(o -> p.pod().equals(o.pod())))
                {
                    layout.port(p.pod()).filter(BridgeLayout.PodPort::local).ifPresent(pp -> wanted.add(p.numbered(pp.ofport())));
                }
            }
            for (final NodeConfig.Port p : wanted)
            {
                if (addPod(p))
                {
                    after.add(p);
                }
            }
            if (after.size() == before.size() && after.containsAll(before))
            {
                return false;
            }
            ports = List.copyOf(after);
            return true;
        }
    }

    /** Opens a pod's device and adds it to the running datapath; false (logged) when it cannot be opened. */
    private boolean addPod(final NodeConfig.Port p)
    {
        if (pipeline.hasPort(p.number()))
        {
            // Its number still belongs to a port whose device could not be let go of (logged then).
            log.error("port_add_failed", "pod", p.pod(), "port", p.number(), "error", "port number in use");
            return false;
        }
        final DevicePort device;
        try
        {
            device = openDevice(p);
        }
        catch (final RuntimeException ex)
        {
            // Retried with the next version (an AF_XDP interface the CNI has not made yet, say).
            log.error("port_add_failed", "pod", p.pod(), "port", p.number(), "type", p.type(), "name", p.name(),
                "error", String.valueOf(ex.getMessage()));
            return false;
        }
        // TX first, then the translators, then RX: a frame it sends finds the port in the pipeline.
        pipeline.addPort(p.number(), device);
        bridgePorts.set(bridgePortNumbers(pipeline.ports()));
        taps.add(device);
        poller.add(device);
        log.info("port_added", "pod", p.pod(), "port", p.number(), "type", p.type(), "name", p.name());
        return true;
    }

    /**
     * Takes a pod's port out of the running datapath and closes its device: RX first (the RX
     * thread stops reading it), then the pipeline (workers stop sending to it), then the device.
     */
    private boolean removePod(final NodeConfig.Port p, final String reason)
    {
        final DevicePort device = taps.stream().filter(t -> t.port() == p.number()).findFirst().orElseThrow();
        try
        {
            if (!poller.remove(device, 5_000))
            {
                log.error("port_remove_failed: the RX thread did not let go of it", "pod", p.pod(), "port", p.number());
                return false;
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return false;
        }
        final boolean quiet = pipeline.removePort(p.number(), Duration.ofSeconds(5));
        bridgePorts.set(bridgePortNumbers(pipeline.ports()));
        taps.remove(device);
        if (!quiet)
        {
            // A worker stuck in a send may still hold it: leaking the device beats closing it under the worker.
            log.error("port_removed without closing its device: a worker did not pass the removal", "pod", p.pod(),
                "port", p.number());
            return true;
        }
        device.close();
        log.info("port_removed", "pod", p.pod(), "port", p.number(), "type", p.type(), "name", p.name(), "reason", reason);
        return true;
    }

    /** The OpenFlow bridge's ports for the pipeline's device ports: with the tunnel ports, without the underlay. */
    private int[] bridgePortNumbers(final int[] devicePorts)
    {
        return Datapath.bridgePorts(devicePorts, config.tunnels);
    }

    private DevicePort openDevice(final NodeConfig.Port p)
    {
        if (p.type().equals("afxdp"))
        {
            final DevicePort x = XdpPort.open(p.number(), p.name(), p.mode().equals("native") ? XdpConfig.Mode.NATIVE
                : XdpConfig.Mode.GENERIC, p.queue(), p.queues(), config.workers);
            log.info("port opened", "port", p.number(), "type", p.type(), "interface", p.name(), "mode", p.mode(),
                "queue", p.queue(), "queues", p.queues());
            return x;
        }
        final DevicePort t = TapPort.open(p.number(), p.name(), p.mtu());
        log.info("port opened", "port", p.number(), "type", p.type(), "name", p.name(), "mtu", p.mtu());
        return t;
    }

    private void open() throws IOException
    {
        for (final NodeConfig.Port p : ports)
        {
            if (p.type().equals("pcap"))
            {
                pcaps.add(new dev.junction.datapath.pipeline.PcapPort(p.number(), p.in(), p.out()));
                log.info("port opened", "port", p.number(), "type", p.type(), "in", String.valueOf(p.in()),
                    "out", String.valueOf(p.out()));
            }
            else
            {
                taps.add(openDevice(p));
            }
        }
        // Revalidation on its own thread, as OVS's revalidators: workers keep forwarding through flow changes.
        final PipelineConfig pc = new PipelineConfig().workers(config.workers).revalidator(true).waitStrategy(
            config.wait.equals("busy-spin") ? com.lmax.disruptor.BusySpinWaitStrategy::new
                : config.wait.equals("yielding") ? com.lmax.disruptor.YieldingWaitStrategy::new
                : com.lmax.disruptor.BlockingWaitStrategy::new);
        for (final DevicePort t : taps)
        {
            pc.port(t.port(), t);
        }
        for (final dev.junction.datapath.pipeline.PcapPort p : pcaps)
        {
            pc.port(p.port(), p);
        }
        if (checkpointerLoading != null)
        {
            // The devices are open but nothing reads them yet: the first packet of a restored
            // connection must find it.
            checkpointer = ConntrackCheckpointer.await(checkpointerLoading);
            checkpointer.restoreInto(bridge.conntrack());
        }
        bridgePorts = new dev.junction.flowtable.xlate.BridgePorts(
            bridgePortNumbers(ports.stream().mapToInt(NodeConfig.Port::number).toArray()));
        pipeline = new Pipeline(pc, (worker, tx) -> new Datapath(bridge, bridgePorts, tx, Datapath.DEFAULT_MTU, 1,
            CacheConfig.DEFAULTS, System::nanoTime).upcallLimiter(new UpcallLimiter(config.upcallLimit,
                Math.max(1, config.upcallLimit / 10))).packetInHandler(pinctrl));
        pipeline.start();
        // As OVS's ct_clean thread: expired connections are reclaimed on the clock, also when no
        // packet comes (workers sweep only as packet time passes).
        conntrackSweeper = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r ->
        {
            final Thread t = new Thread(r, "junction-ct-sweep");
            t.setDaemon(true);
            return t;
        });
        conntrackSweeper.scheduleWithFixedDelay(() -> bridge.conntrack().sweep(System.nanoTime()), 1, 1, TimeUnit.SECONDS);
        if (!taps.isEmpty() || controlLoop != null)
        {
            // With control also without a device yet: pods' devices join it as they come.
            poller = new PortPoller(taps, pipeline, PipelineConfig.DEFAULT_MAX_FRAME);
            pollerThread = new Thread(poller, "junction-rx");
            pollerThread.setDaemon(true);
            pollerThread.start();
        }
        for (final dev.junction.datapath.pipeline.PcapPort p : pcaps)
        {
            final Thread feeder = new Thread(() ->
            {
                p.feed(pipeline);
                log.info("pcap input read", "port", p.port(), "frames", p.framesRead(),
                    "error", String.valueOf(p.error()));
            }, "junction-pcap-" + p.port());
            feeder.setDaemon(true);
            feeders.add(feeder);
            feeder.start();
        }
        if (config.metrics != null)
        {
            metrics = new NodeMetrics(config.metrics, pipeline, bridge.conntrack(),
                () -> taps.stream().filter(XdpPort.class::isInstance).map(XdpPort.class::cast).toList());
            controlMetrics(metrics);
            log.info("metrics", "address", config.metrics, "port", metrics.port());
        }
        control = new ControlServer(config.stateDir, this::handle, log);
        controlThread = new Thread(control, "junction-control");
        controlThread.setDaemon(true);
        controlThread.start();
        Files.writeString(config.stateDir.resolve("junction.pid"), ProcessHandle.current().pid() + "\n");
        log.info("started", "since_jvm_start_ms", System.currentTimeMillis()
            - java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime(), "workers", config.workers, "ports", taps.size(), "rules", bridge.tables().rules().size(),
            "tunnels", config.tunnels == null ? 0 : config.tunnels.ports().size(), "socket", control.socket());
    }

    /** What the control plane's threads count, beside the packet path's metrics: pinctrl, the control loop, checkpoints. */
    private void controlMetrics(final NodeMetrics m)
    {
        m.counter("junction_pinctrl_rejected", "Packets answered with a TCP RST or ICMP unreachable (LB reject)", pinctrl::rejected);
        m.counter("junction_pinctrl_unanswered", "Rejected packets that got no answer", pinctrl::unanswered);
        m.counter("junction_pinctrl_unknown", "Packet-ins without a known or readable controller op", pinctrl::unknown);
        m.counter("junction_acl_log_lines", "ACL log lines written (k8s.ovn.org/acl-logging)", pinctrl::logged);
        m.counter("junction_acl_log_suppressed", "ACL log events the rate limit suppressed", pinctrl::suppressed);
        if (controlLoop != null)
        {
            m.gauge("junction_control_version", "The flow table version the control module last published", controlLoop::version);
            m.counter("junction_control_failed_snapshots", "Source snapshots not compiled (the last good version stayed)",
                controlLoop::failures);
        }
        if (checkpointer != null)
        {
            final ConntrackCheckpointer c = checkpointer;
            m.counter("junction_conntrack_checkpoints", "Conntrack checkpoints written", c::written);
            m.gauge("junction_conntrack_checkpoint_bytes", "The last conntrack checkpoint's size", c::lastBytes);
            m.gauge("junction_conntrack_checkpoint_age_seconds", "Since the last checkpoint (-1: none yet)", c::ageSeconds);
            m.gauge("junction_conntrack_checkpoint_spacing_seconds", "The spacing checkpoints are written at now",
                c::spacingSeconds);
        }
    }

    public Path stateDir()
    {
        return config.stateDir;
    }

    public Pipeline pipeline()
    {
        return pipeline;
    }

    /** The metrics endpoint's port, or -1 without one. */
    public int metricsPort()
    {
        return metrics == null ? -1 : metrics.port();
    }

    /** Whether every pcap input has been read to its end (true when there are none). */
    public boolean inputsDone()
    {
        return pcaps.stream().allMatch(dev.junction.datapath.pipeline.PcapPort::inputDone);
    }

    /** One control request: {@code dump-flows | add-flows FILE | del-flows | dump-megaflows | ct dump [--zone N] | stats}. */
    ControlServer.Reply handle(final String request)
    {
        final String[] w = request.trim().split("\\s+");
        switch (w[0])
        {
            case "dump-flows":
                return dumpFlows();
            case "add-flows":
                return w.length == 2 ? addFlows(Path.of(w[1])) : ControlServer.Reply.error("usage: add-flows FILE");
            case "del-flows":
                bridge.update(t -> new FlowTables(List.of(), t.groups()));
                log.info("flows deleted");
                return ControlServer.Reply.ok("");
            case "dump-megaflows":
                return dumpMegaflows();
            case "ct":
                return conntrack(w);
            case "stats":
                return ControlServer.Reply.ok(stats());
            case "trace":
                return trace(w);
            case "neigh":
                return neighbours(w);
            case "add-port":
                return plug(request.trim().substring("add-port".length()).trim());
            case "del-port":
                return w.length == 2 ? unplug(w[1]) : ControlServer.Reply.error("usage: del-port NAMESPACE/POD");
            default:
                return ControlServer.Reply.error("unknown request " + w[0]
                    + " (dump-flows, add-flows FILE, del-flows, dump-megaflows, ct dump [--zone N], ct flush, stats,"
                    + " trace IN_PORT [FLOW], neigh show, neigh set IP MAC, add-port {pod: NS/NAME, type: tap|afxdp, ...},"
                    + " del-port NS/NAME)");
        }
    }

    /** node.yaml's ports with the ones plugged through the control socket. */
    private List<NodeConfig.Port> declared()
    {
        if (plugged == null)
        {
            return config.ports;
        }
        final List<NodeConfig.Port> all = new ArrayList<>(config.ports);
        all.addAll(plugged.ports());
        return all;
    }

    /**
     * {@code add-port ENTRY}: a CNI plugs a pod's device in (one node.yaml port entry naming the
     * pod); it is opened under the layout's number now, or when the pod appears with an address.
     */
    private ControlServer.Reply plug(final String entry)
    {
        synchronized (portsLock)
        {
            if (plugged == null)
            {
                return ControlServer.Reply.error("add-port: pods' ports need control (node.yaml's control)");
            }
            if (closed)
            {
                return ControlServer.Reply.error("add-port: the daemon is stopping");
            }
            final NodeConfig.Port p;
            try
            {
                final Object parsed = PluggedPorts.parse(entry);
                final String pod = NodeConfig.podPort(parsed, config.stateDir, declared()).pod();
                if (controlLoop.layout().map(l -> l.remotePods().stream().anyMatch(r -> r.name().equals(pod))).orElse(false))
                {
                    // A CNI plugs a pod on the pod's node: this one is scheduled elsewhere.
                    return ControlServer.Reply.error("add-port: pod " + pod + " is on another node");
                }
                p = plugged.plug(parsed, config.stateDir, config.ports);
            }
            catch (final IllegalArgumentException ex)
            {
                return ControlServer.Reply.error("add-port: " + ex.getMessage());
            }
            catch (final IOException ex)
            {
                return ControlServer.Reply.error("add-port: cannot write " + PluggedPorts.FILE + ": " + ex.getMessage());
            }
            log.info("port plugged", "pod", p.pod(), "type", p.type(), "name", p.name());
            followAndRevalidate();
            final int number = ports.stream().filter(q -> p.pod().equals(q.pod())).mapToInt(NodeConfig.Port::number).findFirst()
                .orElse(-1);
            return ControlServer.Reply.ok(number > 0 ? "port " + number + "\n"
                : "waiting: pod " + p.pod() + " has no logical port on this node yet, or its device did not open (see the log)\n");
        }
    }

    /** {@code del-port POD}: the CNI unplugs a pod: its port leaves the datapath and its device is closed. */
    private ControlServer.Reply unplug(final String pod)
    {
        synchronized (portsLock)
        {
            if (plugged == null)
            {
                return ControlServer.Reply.error("del-port: pods' ports need control (node.yaml's control)");
            }
            try
            {
                if (!plugged.unplug(pod))
                {
                    return ControlServer.Reply.error("del-port: " + pod + " was not plugged through add-port"
                        + (config.ports.stream().anyMatch(p -> pod.equals(p.pod())) ? " (node.yaml declares it)" : ""));
                }
            }
            catch (final IOException ex)
            {
                return ControlServer.Reply.error("del-port: cannot write " + PluggedPorts.FILE + ": " + ex.getMessage());
            }
            log.info("port unplugged", "pod", pod);
            followAndRevalidate();
            return ControlServer.Reply.ok("");
        }
    }

    /** Follows the layout's pods now; when a port came or went, the megaflows revalidate against a new version. */
    private void followAndRevalidate()
    {
        if (controlLoop.layout().map(this::followPods).orElse(false))
        {
            bridge.update(t -> new FlowTables(t.rules(), t.groups()));
        }
    }

    private ControlServer.Reply dumpFlows()
    {
        // Counters come from the megaflows: have every worker push its statistics first.
        forEachWorker(dp ->
        {
            dp.pushStats();
            return null;
        });
        final StringBuilder sb = new StringBuilder();
        for (final FlowRule r : bridge.tables().rules())
        {
            sb.append(FlowPrinter.dumpLine(r)).append('\n');
        }
        return ControlServer.Reply.ok(sb.toString());
    }

    private ControlServer.Reply addFlows(final Path file)
    {
        final List<FlowRule> rules;
        try
        {
            rules = new FlowParser(file.toString()).groups(bridge.tables().groups()).tunMetadata(tunMetadata(config))
                .parseAll(Files.readAllLines(file));
        }
        catch (final IOException ex)
        {
            return ControlServer.Reply.error("cannot read " + file + ": " + ex.getMessage());
        }
        catch (final FlowParseException ex)
        {
            return ControlServer.Reply.error("flows refused: " + ex.getMessage());
        }
        // A new table version: the revalidator thread retranslates the megaflows while workers keep forwarding.
        bridge.update(t -> t.withChanges(rules, List.of(), System.nanoTime()));
        log.info("flows added", "file", file, "rules", rules.size());
        return ControlServer.Reply.ok("");
    }

    private ControlServer.Reply dumpMegaflows()
    {
        final List<String> lines = new ArrayList<>();
        for (final List<String> l : forEachWorker(dp ->
        {
            final long now = System.nanoTime();
            final List<String> out = new ArrayList<>();
            dp.megaflows().forEach(mf -> out.add(MegaflowPrinter.format(mf, now)));
            return out;
        }))
        {
            lines.addAll(l);
        }
        Collections.sort(lines);
        return ControlServer.Reply.ok(lines.isEmpty() ? "" : String.join("\n", lines) + "\n");
    }

    private ControlServer.Reply conntrack(final String[] w)
    {
        if (w.length >= 2 && w[1].equals("flush"))
        {
            bridge.conntrack().flush(-1);
            return ControlServer.Reply.ok("");
        }
        if (w.length < 2 || !w[1].equals("dump"))
        {
            return ControlServer.Reply.error("usage: ct dump [--zone N] | ct flush");
        }
        int zone = -1;
        if (w.length == 4 && w[2].equals("--zone"))
        {
            zone = Integer.parseInt(w[3]);
        }
        // As OVS's conntrack_dump: connections expired but not yet swept are not listed.
        final List<String> lines = new ArrayList<>(bridge.conntrack().dump(zone, System.nanoTime()));
        Collections.sort(lines);
        return ControlServer.Reply.ok(lines.isEmpty() ? "" : String.join("\n", lines) + "\n");
    }

    /**
     * {@code trace IN_PORT [FLOW]}: as ofproto/trace against the running tables: the tables and
     * rules met, the megaflow the packet would install and its datapath actions (tunnel pushes
     * included). FLOW is in ofproto/trace syntax, e.g. {@code tcp,nw_dst=10.0.0.2,tp_dst=80}.
     */
    private ControlServer.Reply trace(final String[] w)
    {
        if (w.length < 2 || w.length > 3)
        {
            return ControlServer.Reply.error("usage: trace IN_PORT [FLOW]");
        }
        final int inPort;
        final FlowRule probe;
        try
        {
            inPort = Integer.parseInt(w[1]);
            probe = new FlowParser("flow").tunMetadata(tunMetadata(config)).parseLine((w.length == 3 ? w[2] + "," : "") + "actions=drop", 1);
        }
        catch (final NumberFormatException ex)
        {
            return ControlServer.Reply.error("trace: " + w[1] + " is not a port number");
        }
        catch (final FlowParseException ex)
        {
            return ControlServer.Reply.error("trace: bad flow: " + ex.reason);
        }
        final dev.junction.flowtable.FlowKey key = new dev.junction.flowtable.FlowKey();
        key.copyFrom(probe.match.value);
        key.inPort(inPort);
        final int[] ports = java.util.stream.IntStream.concat(this.ports.stream().mapToInt(NodeConfig.Port::number),
            config.tunnels == null ? java.util.stream.IntStream.empty()
                : config.tunnels.ports().stream().mapToInt(t -> t.port)).toArray();
        // A translator of its own (learned flows and MAC learning left untouched: a trace is no packet).
        final dev.junction.flowtable.xlate.Translator t = new dev.junction.flowtable.xlate.Translator(
            new dev.junction.flowtable.xlate.BridgePorts(ports));
        if (config.tunnels != null)
        {
            t.tunnels(config.tunnels);
        }
        final dev.junction.control.cli.TraceText text = new dev.junction.control.cli.TraceText();
        final dev.junction.flowtable.xlate.OdpActions acts = new dev.junction.flowtable.xlate.OdpActions();
        t.translate(bridge.tables(), key, 0, acts, text);
        return ControlServer.Reply.ok("Flow: in_port=" + inPort + (w.length == 3 ? "," + w[2] : "") + "\n\n" + text.text()
            + "\nMegaflow: " + MegaflowPrinter.formatMatch(key.words, t.wildcards().words)
            + "\nDatapath actions: " + acts.describe() + "\n");
    }

    /**
     * {@code neigh show} lists the underlay's neighbour table (static, ARP/ND-learned, snooped);
     * {@code neigh set IP MAC} adds or changes an entry (megaflows using it are revalidated), as
     * OVS's {@code tnl/neigh/show} and {@code tnl/neigh/set}.
     */
    private ControlServer.Reply neighbours(final String[] w)
    {
        if (config.tunnels == null)
        {
            return ControlServer.Reply.error("no tunnels configured");
        }
        final dev.junction.geneve.Underlay u = config.tunnels.underlay();
        if (w.length == 2 && w[1].equals("show"))
        {
            final List<String> lines = u.neighbourLines();
            return ControlServer.Reply.ok(lines.isEmpty() ? "" : String.join("\n", lines) + "\n");
        }
        if (w.length == 4 && w[1].equals("set"))
        {
            final long mac = dev.junction.flowtable.ofp.Values.mac(w[3]);
            if (mac < 0)
            {
                return ControlServer.Reply.error("neigh set: " + w[3] + " is not a MAC address");
            }
            try
            {
                u.neighbour(dev.junction.geneve.IpPrefix.address(w[2]), mac);
            }
            catch (final IllegalArgumentException ex)
            {
                return ControlServer.Reply.error("neigh set: " + ex.getMessage());
            }
            log.info("neighbour set", "ip", w[2], "mac", w[3]);
            return ControlServer.Reply.ok("");
        }
        return ControlServer.Reply.error("usage: neigh show | neigh set IP MAC");
    }

    /** As {@code ovs-appctl dpif-netdev/pmd-stats-show}: per worker, packets, hits per tier, upcalls, time per packet. */
    String stats()
    {
        synchronized (portsLock)
        {
            return portStats();
        }
    }

    /** {@link #stats()} with the port set held still: a pod's port cannot go between its listing and its counters. */
    private String portStats()
    {
        final StringBuilder sb = new StringBuilder();
        final List<long[]> perWorker = forEachWorker(dp -> new long[] {dp.packetsIn(), dp.emcHits(), dp.megaflowHits(),
            dp.upcalls(), dp.drops(DropReason.XLATE_ERROR), dp.megaflows().size(), dp.drops(DropReason.UPCALL_LIMIT)});
        for (int i = 0; i < perWorker.size(); i++)
        {
            final long[] s = perWorker.get(i);
            final long busy = pipeline.busyNanos(i);
            sb.append("worker ").append(i).append(":\n")
                .append("  packets received: ").append(s[0]).append('\n')
                .append("  emc hits: ").append(s[1]).append('\n')
                .append("  megaflow hits: ").append(s[2]).append('\n')
                .append("  miss with success upcall: ").append(s[3] - s[4]).append('\n')
                .append("  miss with failed upcall: ").append(s[4]).append('\n')
                .append("  miss refused by upcall limit: ").append(s[6]).append('\n')
                .append("  megaflows: ").append(s[5]).append('\n')
                .append(String.format(Locale.ROOT, "  processing ns/packet: %.1f%n", s[0] == 0 ? 0.0 : (double)busy / s[0]));
        }
        for (final dev.junction.datapath.pipeline.PcapPort p : pcaps)
        {
            sb.append("port ").append(p.port()).append(" (pcap): read ").append(p.framesRead())
                .append(p.inputDone() ? " (done)" : "").append(", tx ").append(pipeline.txPackets(p.port())).append('\n');
        }
        for (final DevicePort t : taps)
        {
            sb.append("port ").append(t.port()).append(" (").append(t.name()).append("): rx ")
                .append(pipeline.rxPackets(t.port())).append(", rx ring-full drops ").append(pipeline.rxDrops(t.port()))
                .append(", tx ").append(pipeline.txPackets(t.port())).append(", tx drops ")
                .append(pipeline.txDrops(t.port())).append('\n');
            if (t instanceof XdpPort x)
            {
                appendQueues(sb, x);
            }
        }
        sb.append(pinctrl.summary()).append('\n');
        if (controlLoop != null)
        {
            sb.append("control (node ").append(config.control.node()).append("): version ").append(controlLoop.version())
                .append(", failed snapshots ").append(controlLoop.failures())
                .append(controlLoop.failures() == 0 ? "" : " (last: " + controlLoop.lastFailure() + ")").append('\n');
        }
        return sb.toString();
    }

    /** An AF_XDP port's queues: what each socket received and sent, and what the kernel dropped on it. */
    private static void appendQueues(final StringBuilder sb, final XdpPort port)
    {
        final AfXdpPort xdp = port.xdp();
        xdp.refreshKernelStatistics();
        for (int i = 0; i < xdp.queueCount(); i++)
        {
            final XdpQueue q = xdp.queue(i);
            final XdpCounters c = q.counters();
            sb.append("  queue ").append(q.queueId()).append(": rx ").append(c.rxPackets()).append(", rx drops ")
                .append(c.rxDrops()).append(", tx ").append(c.txPackets()).append(", tx drops ").append(c.txDrops())
                .append('\n');
        }
    }

    /** Runs {@code request} on every worker's thread and collects the results in worker order. */
    private <T> List<T> forEachWorker(final java.util.function.Function<Datapath, T> request)
    {
        final List<T> out = new ArrayList<>();
        for (int i = 0; i < pipeline.workers(); i++)
        {
            try
            {
                out.add(pipeline.control(i, request).get(5, TimeUnit.SECONDS));
            }
            catch (final Exception ex)
            {
                throw new IllegalStateException("worker " + i + " did not answer: " + ex, ex);
            }
        }
        return out;
    }

    @Override
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        if (dnsRefresher != null)
        {
            dnsRefresher.shutdownNow(); // before the control loop closes: a refresh publishes through it
        }
        if (controlSource != null)
        {
            try
            {
                controlSource.close();
            }
            catch (final Exception ex)
            {
                log.warn("closing the control source", "error", String.valueOf(ex));
            }
        }
        if (controlLoop != null)
        {
            controlLoop.close();
        }
        synchronized (portsLock)
        {
            // A pod's port being added or removed finishes first; none is after this.
            stop();
        }
    }

    /** Everything after the control source: metrics, socket, RX, workers, checkpoint, devices. */
    private void stop()
    {
        if (metrics != null)
        {
            metrics.close();
        }
        if (control != null)
        {
            try
            {
                control.close();
            }
            catch (final IOException ex)
            {
                log.warn("closing the control socket", "error", String.valueOf(ex));
            }
        }
        if (poller != null)
        {
            poller.stop();
            try
            {
                pollerThread.join(1000);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
        if (conntrackSweeper != null)
        {
            conntrackSweeper.shutdownNow();
        }

        if (pipeline != null)
        {
            pipeline.awaitIdle(Duration.ofSeconds(1));
            pipeline.close();
        }
        if (checkpointer != null)
        {
            checkpointer.close(); // after the workers: the last checkpoint holds every connection
        }
        else if (checkpointerLoading != null)
        {
            // A start that failed before the restore: the journal is closed, not written.
            checkpointerLoading.thenAccept(ConntrackCheckpointer::closeJournal);
        }
        for (final dev.junction.datapath.pipeline.PcapPort p : pcaps)
        {
            try
            {
                p.close();
            }
            catch (final IOException ex)
            {
                log.warn("closing a pcap output", "port", p.port(), "error", String.valueOf(ex));
            }
        }
        // After the poller and workers stopped: an AF_XDP port unmaps memory they read.
        for (final DevicePort t : taps)
        {
            t.close();
        }
        try
        {
            Files.deleteIfExists(config.stateDir.resolve("junction.pid"));
        }
        catch (final IOException ex)
        {
            log.warn("removing the pid file", "error", String.valueOf(ex));
        }
        log.info("stopped");
    }
}
