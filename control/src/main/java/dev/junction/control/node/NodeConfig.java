package dev.junction.control.node;

import dev.junction.afxdp.xdp.XdpConfig;
import dev.junction.control.cli.TunnelsFile;
import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.yaml.SafeYaml;
import dev.junction.geneve.TunnelPort;
import dev.junction.geneve.Tunnels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A node's datapath configuration, {@code junction run --config node.yaml}:
 *
 * <pre>
 * state_dir: /run/junction        # control socket (junction.sock, mode 0600) and pid file
 * workers: 2                      # default: the number of cores
 * metrics: 127.0.0.1:9100         # optional Prometheus endpoint (HOST:PORT; loopback unless you say otherwise)
 * wait: blocking                  # idle workers: blocking (sleep, default), yielding or busy-spin (dedicated cores)
 * conntrack_checkpoint_ms: 1000   # connections checkpointed to state_dir/conntrack and restored at start (default 1000); 0: off
 * conntrack_checkpoint_disk_mb: 128 # bound of that journal on disk: big tables are checkpointed less often (default 128)
 * upcall_limit: 10000             # upcalls per second per port and worker (burst a tenth of it); 0: unlimited
 * acl_log_rate: 20                # NetworkPolicy log lines per second (OVN-K's acl-logging rate limit)
 * flows: flows.txt                # ovs-ofctl add-flows syntax; paths are relative to this file
 * groups: groups.txt              # optional, ovs-ofctl add-groups syntax
 * control:                        # instead of flows/groups: the control module derives them
 *   node: worker-1                #   the node this bridge is (its pods are ports, the rest is behind the tunnel)
 *   manifests: cluster/           #   a watched directory of Kubernetes manifests, or
 *   kubeconfig: ~/.kube/config    #   an API server ("in-cluster" for the pod's service account)
 *   mtu: 1400                     #   the gateway routers' MTU (OVN-K's gateway_mtu; default 1400, OVN-K's); 0: not checked
 * tunnels: tunnels.yaml           # optional: underlay, tunnel ports, neighbours, routes, TLV map
 *                                 #   (the underlay's MTU: its port's mtu below, or underlay.mtu there)
 * ports:
 *   - {port: 1, type: tap, name: jt-pod-a, mtu: 1500}
 *   - {pod: shop/web-1, type: tap, name: jt-web-1}              # with control: the pod's port, numbered by the layout
 *   - {management: true, type: tap, name: ovn-k8s-mp0}         # with control: the host's management port k8s-NODE (0x6000)
 *   - {port: 9, type: tap, name: jt-underlay, mtu: 1500}       # the underlay: encapsulations over its MTU are dropped
 *   - {port: 3, type: afxdp, interface: veth-pod-c, mode: native, queue: 0}
 *   - {port: 4, type: afxdp, interface: eth1, queues: 4}        # queues 0 to 3, one AF_XDP socket each
 *   - {port: 5, type: pcap, in: trace.pcap, out: port5.pcap}   # replay through the pipeline
 * </pre>
 *
 * Everything is checked before anything is created: an unknown key or port type, a port number
 * used twice, a tunnel port that is also a device port, a missing file or a flow OVS would refuse
 * is a {@link IllegalArgumentException} that names it, so a daemon is never half-started.
 */
public final class NodeConfig
{
    private static final Set<String> TOP = Set.of("state_dir", "workers", "wait", "flows", "groups", "tunnels", "ports", "metrics",
        "control", "upcall_limit", "acl_log_rate", "conntrack_checkpoint_ms",
        "conntrack_checkpoint_disk_mb", "dns_refresh_ms");
    /** Upcalls per second a port may make on each worker, unless configured: at ~10 us each, a tenth of a core. */
    public static final int DEFAULT_UPCALL_LIMIT = 10_000;
    /**
     * On by default: a restart (an upgrade, a crash) keeps the node's connections, as no restart
     * of OVS's userspace datapath does. A second of connections can be lost with a kill -9.
     */
    public static final int DEFAULT_CHECKPOINT_MS = 1000;
    public static final int DEFAULT_CHECKPOINT_DISK_MB = 128;
    /** How often EgressFirewall dnsName rules' names are looked up again (OVN-K follows the records' TTLs; 30 s is a common one). */
    public static final int DEFAULT_DNS_REFRESH_MS = 30_000;
    private static final Set<String> PORT_KEYS = Set.of("port", "type", "name", "mtu", "interface", "mode", "queue", "queues",
        "in", "out", "pod", "management");
    private static final Set<String> CONTROL_KEYS = Set.of("node", "manifests", "kubeconfig", "mtu");
    /** A port whose number the control module's layout gives (a pod's port) has this number until then. */
    public static final int LAYOUT_NUMBERED = 0;

    /**
     * Where the flows come from when the control module derives them: the node's name and either a
     * watched manifests directory or an API server ({@code kubeconfig} a file, or "in-cluster"),
     * and the gateway routers' MTU (OVN-K's {@code gateway_mtu}; 0: not checked).
     */
    public record Control(String node, Path manifests, String kubeconfig, int gatewayMtu)
    {
    }

    /**
     * One device port: a TAP the daemon creates ({@code name}), or AF_XDP sockets on an existing
     * interface ({@code interface}, XDP {@code mode} native or generic): one on queue
     * {@code queue} (default 0), or one on each of queues 0 to {@code queues - 1}; here
     * {@code queue} is the first queue and {@code queues} how many.
     */
    public record Port(int number, String type, String name, int mtu, String mode, int queue, int queues, Path in, Path out,
        String pod)
    {
        /** This port with the number the layout gave its pod. */
        public Port numbered(final int ofport)
        {
            return new Port(ofport, type, name, mtu, mode, queue, queues, in, out, pod);
        }
    }

    public final Path stateDir;
    public final int workers;
    /** How idle workers wait: blocking, yielding or busy-spin. */
    public final String wait;
    /** Upcalls per second per port and worker (0: unlimited). */
    public final int upcallLimit;
    /** ACL log lines per second, at most. */
    public final int aclLogRate;
    /** Prometheus endpoint HOST:PORT, or null for none. */
    public final String metrics;
    /** The flows file, or null when {@link #control} derives the flows. */
    public final Path flows;
    public final Path groups;
    public final Control control;
    /** How often conntrack is checkpointed (and whether it is restored at start): 0 for never. */
    public final int conntrackCheckpointMs;
    /** The conntrack journal's bound on disk, in MiB: checkpoints are spaced so that it holds. */
    public final int conntrackCheckpointDiskMb;
    /** How often dnsName rules' names are looked up again (control mode). */
    public final int dnsRefreshMs;
    public final Tunnels tunnels;
    public final List<Port> ports;

    private NodeConfig(final Path stateDir, final int workers, final String wait, final int upcallLimit, final int aclLogRate,
        final String metrics, final Path flows, final Path groups, final Control control, final int conntrackCheckpointMs,
        final int conntrackCheckpointDiskMb, final int dnsRefreshMs,
        final Tunnels tunnels,
        final List<Port> ports)
    {
        this.dnsRefreshMs = dnsRefreshMs;
        this.aclLogRate = aclLogRate;
        this.upcallLimit = upcallLimit;
        this.control = control;
        this.conntrackCheckpointMs = conntrackCheckpointMs;
        this.conntrackCheckpointDiskMb = conntrackCheckpointDiskMb;
        this.metrics = metrics;
        this.stateDir = stateDir;
        this.workers = workers;
        this.wait = wait;
        this.flows = flows;
        this.groups = groups;
        this.tunnels = tunnels;
        this.ports = List.copyOf(ports);
    }

    public static NodeConfig load(final Path file) throws IOException
    {
        final Path base = file.toAbsolutePath().getParent();
        return TunnelsFile.loadYaml(file, doc ->
        {
            try
            {
                return parse(doc, base);
            }
            catch (final IOException ex)
            {
                throw new IllegalArgumentException("cannot read: " + ex.getMessage(), ex);
            }
        });
    }

    @SuppressWarnings("unchecked")
    static NodeConfig parse(final Object doc, final Path base) throws IOException
    {
        if (!(doc instanceof Map))
        {
            throw new IllegalArgumentException("expected a mapping with " + TOP);
        }
        final Map<String, Object> top = (Map<String, Object>)doc;
        for (final Object k : top.keySet())
        {
            if (!SafeYaml.isKeyIn(k, TOP))
            {
                throw new IllegalArgumentException("unknown key " + k + " (expected one of " + TOP + ")");
            }
        }
        final Object sd = top.get("state_dir");
        if (sd == null)
        {
            throw new IllegalArgumentException("state_dir is required (it holds the control socket)");
        }
        final int workers = top.containsKey("workers") ? integer(top.get("workers"), "workers")
            : Runtime.getRuntime().availableProcessors();
        if (workers < 1 || workers > 64)
        {
            throw new IllegalArgumentException("workers must be 1 to 64, not " + workers);
        }
        final String wait = String.valueOf(top.getOrDefault("wait", "blocking"));
        if (!Set.of("blocking", "yielding", "busy-spin").contains(wait))
        {
            throw new IllegalArgumentException("wait must be blocking, yielding or busy-spin, not " + wait);
        }
        final int upcallLimit = top.containsKey("upcall_limit") ? integer(top.get("upcall_limit"), "upcall_limit")
            : DEFAULT_UPCALL_LIMIT;
        if (upcallLimit < 0 || upcallLimit > 10_000_000)
        {
            throw new IllegalArgumentException("upcall_limit must be 0 (unlimited) to 10000000 per second, not " + upcallLimit);
        }
        final int aclLogRate = top.containsKey("acl_log_rate") ? integer(top.get("acl_log_rate"), "acl_log_rate") : 20;
        if (aclLogRate < 1 || aclLogRate > 1_000_000)
        {
            throw new IllegalArgumentException("acl_log_rate must be 1 to 1000000 lines per second, not " + aclLogRate);
        }
        final String metrics = top.get("metrics") == null ? null : String.valueOf(top.get("metrics"));
        if (metrics != null && !metrics.matches("[A-Za-z0-9.:\\[\\]-]+:\\d{1,5}"))
        {
            throw new IllegalArgumentException("metrics must be HOST:PORT, e.g. 127.0.0.1:9100, not " + metrics);
        }
        final Control control = control(top.get("control"), base);
        final int checkpointMs = top.containsKey("conntrack_checkpoint_ms")
            ? integer(top.get("conntrack_checkpoint_ms"), "conntrack_checkpoint_ms") : DEFAULT_CHECKPOINT_MS;
        if (checkpointMs != 0 && (checkpointMs < 10 || checkpointMs > 3_600_000))
        {
            throw new IllegalArgumentException("conntrack_checkpoint_ms must be 0 (off) or 10 to 3600000, not " + checkpointMs);
        }
        final int checkpointDiskMb = top.containsKey("conntrack_checkpoint_disk_mb")
            ? integer(top.get("conntrack_checkpoint_disk_mb"), "conntrack_checkpoint_disk_mb") : DEFAULT_CHECKPOINT_DISK_MB;
        if (checkpointDiskMb < 1 || checkpointDiskMb > 1_048_576)
        {
            throw new IllegalArgumentException("conntrack_checkpoint_disk_mb must be 1 to 1048576, not " + checkpointDiskMb);
        }
        final int dnsRefreshMs = top.containsKey("dns_refresh_ms") ? integer(top.get("dns_refresh_ms"), "dns_refresh_ms")
            : DEFAULT_DNS_REFRESH_MS;
        if (dnsRefreshMs < 1000 || dnsRefreshMs > 86_400_000)
        {
            throw new IllegalArgumentException("dns_refresh_ms must be 1000 to 86400000, not " + dnsRefreshMs);
        }
        if (control != null && (top.containsKey("flows") || top.containsKey("groups")))
        {
            throw new IllegalArgumentException("control derives the flows and groups: give control or flows, not both");
        }
        final Path flows = control != null ? null : file(base, top.get("flows"), "flows (or control)", true);
        final Path groups = file(base, top.get("groups"), "groups", false);
        final Object t = top.get("tunnels");
        final Tunnels tunnels = t == null ? null : t instanceof Map ? TunnelsFile.parse(t)
            : TunnelsFile.load(file(base, t, "tunnels", true));
        final Object ps = top.get("ports");
        if (!(ps instanceof List) || ((List<Object>)ps).isEmpty())
        {
            throw new IllegalArgumentException("ports: expected a non-empty list of {port, type, name}");
        }
        final List<Port> ports = new ArrayList<>();
        final Declared declared = new Declared();
        for (final Object o : (List<Object>)ps)
        {
            ports.add(port(o, base, control != null, declared));
        }
        if (tunnels != null)
        {
            if (!declared.numbers.contains(tunnels.underlay().port))
            {
                throw new IllegalArgumentException("tunnels: underlay port " + tunnels.underlay().port
                    + " is not one of the ports");
            }
            for (final TunnelPort tp : tunnels.ports())
            {
                if (declared.numbers.contains(tp.port))
                {
                    throw new IllegalArgumentException("tunnels: tunnel port " + tp.port + " clashes with a device port");
                }
            }
            // The underlay's MTU is its device port's (OVS: the underlay netdev's), unless the tunnels say otherwise.
            for (final Port p : ports)
            {
                if (p.number() == tunnels.underlay().port && tunnels.underlay().mtu() == 0)
                {
                    tunnels.underlay().mtu(p.mtu());
                }
            }
        }
        return new NodeConfig(base.resolve(String.valueOf(sd)).normalize(), workers, wait, upcallLimit, aclLogRate, metrics, flows, groups, control,
            checkpointMs, checkpointDiskMb, dnsRefreshMs, tunnels, ports);
    }

    /** What the ports read so far hold: numbers, interface names, pods, and whether the management port is among them. */
    private static final class Declared
    {
        final Set<Integer> numbers = new HashSet<>();
        final Set<String> names = new HashSet<>();
        final Set<String> pods = new HashSet<>();
        boolean management;

        Declared(final List<Port> ports)
        {
            for (final Port p : ports)
            {
                if (p.pod() != null)
                {
                    pods.add(p.pod());
                }
                else
                {
                    numbers.add(p.number());
                }
                names.add(p.name());
                management |= p.number() == BridgeLayout.MANAGEMENT_OFPORT;
            }
        }

        Declared()
        {
            this(List.of());
        }
    }

    /**
     * A pod's port plugged in while the daemon runs ({@code junction ctl add-port}, as a CNI runs
     * {@code ovs-vsctl add-port}): one entry of node.yaml's {@code ports} naming a pod, checked as
     * node.yaml's are and against the ports already there (no pod, interface or name twice).
     */
    public static Port podPort(final Object entry, final Path base, final List<Port> existing)
    {
        if (!(entry instanceof Map) || !((Map<?, ?>)entry).containsKey("pod"))
        {
            throw new IllegalArgumentException("expected a pod port {pod: NAMESPACE/NAME, type: tap, name: N}"
                + " or {pod: NAMESPACE/NAME, type: afxdp, interface: I}");
        }
        if ("pcap".equals(((Map<?, ?>)entry).get("type")))
        {
            throw new IllegalArgumentException("pod " + ((Map<?, ?>)entry).get("pod") + ": a plugged port is a device (tap or afxdp),"
                + " not a trace");
        }
        return port(entry, base, true, new Declared(existing));
    }

    /** One entry of {@code ports}; {@code controlled}: the control module numbers pods' ports. */
    @SuppressWarnings("unchecked")
    private static Port port(final Object o, final Path base, final boolean controlled, final Declared declared)
    {
        if (!(o instanceof Map))
        {
            throw new IllegalArgumentException("ports: each entry is a mapping {port, type, name}");
        }
        final Map<String, Object> e = (Map<String, Object>)o;
        for (final Object k : e.keySet())
        {
            if (!SafeYaml.isKeyIn(k, PORT_KEYS))
            {
                throw new IllegalArgumentException("ports: unknown key " + k + " (expected " + PORT_KEYS + ")");
            }
        }
        final String pod = e.containsKey("pod") ? String.valueOf(e.get("pod")) : null;
        final int n;
        final String where;
        if (e.containsKey("management"))
        {
            // The node layout numbers the management port itself (BridgeLayout.MANAGEMENT_OFPORT): no wait for a snapshot.
            where = "management port: ";
            if (!Boolean.TRUE.equals(e.get("management")))
            {
                throw new IllegalArgumentException(where + "management takes true (leave it out for another port)");
            }
            if (!controlled)
            {
                throw new IllegalArgumentException(where + "needs control (the flows that serve it come from the layout)");
            }
            if (pod != null || e.containsKey("port"))
            {
                throw new IllegalArgumentException(where + "numbered by the layout (" + BridgeLayout.MANAGEMENT_OFPORT
                    + "): leave port and pod out");
            }
            if (declared.management)
            {
                throw new IllegalArgumentException(where + "a node has one");
            }
            declared.management = true;
            n = BridgeLayout.MANAGEMENT_OFPORT;
            declared.numbers.add(n);
        }
        else if (pod != null)
        {
            where = "pod " + pod + ": ";
            if (!controlled)
            {
                throw new IllegalArgumentException(where + "a pod port needs control (its number comes from the layout)");
            }
            if (!pod.matches("[a-z0-9.-]{1,253}/[a-z0-9.-]{1,253}"))
            {
                throw new IllegalArgumentException(where + "pod must be NAMESPACE/NAME");
            }
            if (e.containsKey("port"))
            {
                throw new IllegalArgumentException(where + "a pod port is numbered by the layout: leave port out");
            }
            if (!declared.pods.add(pod))
            {
                throw new IllegalArgumentException(where + "pod given two ports");
            }
            n = LAYOUT_NUMBERED;
        }
        else
        {
            n = integer(e.get("port"), "ports.port");
            where = "port " + n + ": ";
            if (n <= 0 || n >= 0xff00)
            {
                throw new IllegalArgumentException(where + "port numbers are 1 to 65279");
            }
            if (controlled && n <= BridgeLayout.TUNNEL_OFPORT)
            {
                throw new IllegalArgumentException(where + "with control, ports 1 to " + BridgeLayout.TUNNEL_OFPORT
                    + " belong to the layout (pods, tunnel): number other ports above it");
            }
            if (controlled && n == BridgeLayout.MANAGEMENT_OFPORT)
            {
                throw new IllegalArgumentException(where + "with control, this is the management port: say management: true");
            }
            if (!declared.numbers.add(n))
            {
                throw new IllegalArgumentException(where + "port number used twice");
            }
        }
        final String type = String.valueOf(e.get("type"));
        if (type.equals("pcap"))
        {
            for (final Object k : e.keySet())
            {
                // A pod's port may be a trace too: CI replays a pod's traffic through the derived flows.
                if (!SafeYaml.isKeyIn(k, Set.of("port", "type", "in", "out", "pod")) || e.containsKey("management"))
                {
                    throw new IllegalArgumentException(where + "a pcap port takes in and out, not " + k);
                }
            }
            if (!e.containsKey("in") && !e.containsKey("out"))
            {
                throw new IllegalArgumentException(where + "a pcap port needs in, out or both");
            }
            final Path in = file(base, e.get("in"), where + "in", false);
            final Path out = e.containsKey("out") ? base.resolve(String.valueOf(e.get("out"))).normalize() : null;
            return new Port(n, type, pod == null ? "pcap" + n : "pcap-" + pod, 1500, "", 0, 1, in, out, pod);
        }
        if (!type.equals("tap") && !type.equals("afxdp"))
        {
            throw new IllegalArgumentException(where + "type " + type + " is not supported by the daemon"
                + " (tap, afxdp or pcap; geneve ports are declared under tunnels)");
        }
        final boolean xdp = type.equals("afxdp");
        final Object nameObj = xdp ? e.get("interface") : e.get("name");
        final String name = String.valueOf(nameObj);
        if (nameObj == null || name.isEmpty() || name.length() > 15 || !name.matches("[A-Za-z0-9_.-]+"))
        {
            throw new IllegalArgumentException(where + (xdp ? "interface" : "name")
                + " must be an interface name of 1 to 15 characters");
        }
        if (e.containsKey("in") || e.containsKey("out"))
        {
            throw new IllegalArgumentException(where + "in and out are pcap port options");
        }
        if (xdp && e.containsKey("name") || !xdp && (e.containsKey("interface") || e.containsKey("mode")
            || e.containsKey("queue") || e.containsKey("queues")))
        {
            throw new IllegalArgumentException(where + (xdp ? "an afxdp port names its interface, not name"
                : "interface, mode, queue and queues are afxdp options"));
        }
        if (!declared.names.add(name))
        {
            throw new IllegalArgumentException(where + "interface " + name + " used twice");
        }
        final int mtu = e.containsKey("mtu") ? integer(e.get("mtu"), where + "mtu") : 1500;
        if (mtu < 68 || mtu > 1500)
        {
            throw new IllegalArgumentException(where + "mtu must be 68 to 1500 (frames live in fixed ring slots)");
        }
        final String mode = String.valueOf(e.getOrDefault("mode", "native"));
        if (!mode.equals("native") && !mode.equals("generic"))
        {
            throw new IllegalArgumentException(where + "mode must be native or generic");
        }
        if (e.containsKey("queue") && e.containsKey("queues"))
        {
            throw new IllegalArgumentException(where + "queue (one queue) and queues (queues 0 to N-1) exclude each other");
        }
        final int queue = e.containsKey("queue") ? integer(e.get("queue"), where + "queue") : 0;
        if (queue < 0 || queue >= XdpConfig.MAX_QUEUE_ID)
        {
            throw new IllegalArgumentException(where + "queue must be 0 to " + (XdpConfig.MAX_QUEUE_ID - 1));
        }
        final int queues = e.containsKey("queues") ? integer(e.get("queues"), where + "queues") : 1;
        if (queues < 1 || queues > XdpConfig.MAX_QUEUES)
        {
            throw new IllegalArgumentException(where + "queues must be 1 to " + XdpConfig.MAX_QUEUES
                + " (an AF_XDP socket and an 8 MiB UMEM each), not " + queues);
        }
        return new Port(n, type, name, mtu, mode, queue, queues, null, null, pod);
    }

    @SuppressWarnings("unchecked")
    private static Control control(final Object o, final Path base)
    {
        if (o == null)
        {
            return null;
        }
        if (!(o instanceof Map))
        {
            throw new IllegalArgumentException("control: expected a mapping with " + CONTROL_KEYS);
        }
        final Map<String, Object> c = (Map<String, Object>)o;
        for (final Object k : c.keySet())
        {
            if (!SafeYaml.isKeyIn(k, CONTROL_KEYS))
            {
                throw new IllegalArgumentException("control: unknown key " + k + " (expected one of " + CONTROL_KEYS + ")");
            }
        }
        final Object node = c.get("node");
        if (node == null || String.valueOf(node).isBlank())
        {
            throw new IllegalArgumentException("control: node is required (the node whose bridge this is)");
        }
        if (c.containsKey("manifests") == c.containsKey("kubeconfig"))
        {
            throw new IllegalArgumentException("control: give manifests (a directory) or kubeconfig (a file or in-cluster), one of them");
        }
        Path manifests = null;
        String kubeconfig = null;
        if (c.containsKey("manifests"))
        {
            manifests = base.resolve(String.valueOf(c.get("manifests"))).normalize();
            // A directory not there yet (a mount, say) is the source's to wait for: a restart then
            // forwards with the journal's version meanwhile; a first start refuses (NodeDaemon).
            if (Files.exists(manifests) && !Files.isDirectory(manifests))
            {
                throw new IllegalArgumentException("control: manifests " + manifests + " is not a directory");
            }
        }
        else
        {
            kubeconfig = String.valueOf(c.get("kubeconfig"));
            if (!kubeconfig.equals("in-cluster"))
            {
                kubeconfig = file(base, kubeconfig, "control: kubeconfig", true).toString();
            }
        }
        final int mtu = c.containsKey("mtu") ? FlowCompiler.checkedGatewayMtu(integer(c.get("mtu"), "control: mtu"))
            : FlowCompiler.defaultGatewayMtu();
        return new Control(String.valueOf(node), manifests, kubeconfig, mtu);
    }

    private static Path file(final Path base, final Object o, final String what, final boolean required)
    {
        if (o == null)
        {
            if (required)
            {
                throw new IllegalArgumentException(what + " is required");
            }
            return null;
        }
        final Path p = base.resolve(String.valueOf(o)).normalize();
        // A regular file only: a directory fails later with an IOException, and a FIFO or
        // /dev/stdin would block the start for ever.
        if (!Files.isRegularFile(p) || !Files.isReadable(p))
        {
            throw new IllegalArgumentException(what + ": " + p + " is not a readable file");
        }
        return p;
    }

    private static int integer(final Object o, final String what)
    {
        try
        {
            return Integer.parseInt(String.valueOf(o).trim());
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(what + ": " + o + " is not a number");
        }
    }
}
