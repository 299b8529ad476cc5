package dev.junction.control.flows;

import dev.junction.control.k8s.Cidr;
import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.Node;
import dev.junction.control.k8s.Pod;
import dev.junction.control.topology.OvnNames;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What the compiled bridge is made of: one logical switch per node (its pod subnets, the cluster
 * router's port on it: gateway addresses and MAC) and one OpenFlow port per pod that has a
 * logical switch port (not host-network, not completed, with an address).
 *
 * <p>This is the cluster-in-one-bridge layout: every pod of the cluster is a port of this bridge,
 * each on its node's switch, and the cluster router between the switches is the flows' routing
 * stage. It is what {@code junction probe} and {@code replay --manifests} run, so that every pod
 * pair meets real conntrack and real ACLs in one datapath.
 *
 * <p>Port numbers: the bridge's pods sorted by namespace/name get 1, 2, 3, ... The logical port
 * key (reg14 / reg15, as OVN keeps the logical inport and outport) numbers all pods of the
 * cluster in that order (in the cluster layout key and port number are the same); the port's
 * conntrack zone is its key and its load-balancer zone {@code key | 0x8000}.
 *
 * <p>Gateway routers ({@link GatewayPort}): every node with an IPv4 address has {@code GR_<node>}
 * with an external port: {@link #EXTERNAL_OFPORT} on a node bridge; {@code EXTERNAL_OFPORT + switch
 * key} in the cluster layout (one per node). Both lie above the tunnel port 0x4000 and below
 * OpenFlow's reserved ports, so no pod port (at most {@link #MAX_PORTS}) and no tunnel can take them.
 */
public final class BridgeLayout
{
    /** Pod ports of one bridge, all below the tunnel port. */
    public static final int MAX_PORTS = 0x3fff;
    /** Zones are 16 bits: a port's zone is its key (below 0x8000), its LB zone {@code 0x8000 | key}. */
    public static final int LB_ZONE_BIT = 0x8000;
    /** The Geneve tunnel port of a node bridge (above every pod port). */
    public static final int TUNNEL_OFPORT = 0x4000;
    /** Logical port keys travel in 15 bits of OVN's Geneve option. */
    public static final int MAX_KEYS = 0x7fff;
    /** A node bridge's external port (its gateway router's side of br-ex); in the cluster layout plus the switch key. */
    public static final int EXTERNAL_OFPORT = 0x5000;
    /** The VNI that says "to the gateway router of the node whose switch key is in the low bits" (EgressIP reroute). */
    public static final int GATEWAY_VNI = 0x100000;
    /**
     * The gateway routers' SNAT zone: key 0's LB zone, which no port has. One zone serves every
     * router of a bridge: pod addresses are unique, and each router SNATs to its own addresses.
     */
    public static final int GATEWAY_ZONE = LB_ZONE_BIT;

    /** A node's logical switch: {@code key} goes in the metadata register of its packets. */
    public record Switch(int key, String node, List<Cidr> subnets, List<InetAddress> gatewayIps, String gatewayMac,
        List<InetAddress> nodeIps)
    {
        public Switch
        {
            subnets = List.copyOf(subnets);
            gatewayIps = List.copyOf(gatewayIps);
            nodeIps = List.copyOf(nodeIps);
        }

        public Optional<InetAddress> gateway(final boolean ipv6)
        {
            return gatewayIps.stream().filter(ip -> Ip.isIpv6(ip) == ipv6).findFirst();
        }
    }

    /**
     * A pod's logical port: OpenFlow number on this bridge (0 for a pod of another node, reached
     * through the tunnel), logical key (unique in the cluster: it travels in OVN's Geneve option),
     * MAC (OVN-K's, from its first address), addresses.
     */
    public record PodPort(int ofport, int key, Pod pod, String mac, List<InetAddress> ips, Switch sw)
    {
        public PodPort
        {
            ips = List.copyOf(ips);
        }

        public boolean local()
        {
            return ofport != 0;
        }

        public int zone()
        {
            return key;
        }

        public int lbZone()
        {
            return key | LB_ZONE_BIT;
        }

        public String name()
        {
            return pod.key();
        }

        public Optional<InetAddress> ip(final boolean ipv6)
        {
            return ips.stream().filter(ip -> Ip.isIpv6(ip) == ipv6).findFirst();
        }
    }

    private final List<Switch> switches;
    private final List<PodPort> ports;
    private final List<PodPort> remote;
    private final Switch local;
    private final Map<String, PodPort> byPod = new LinkedHashMap<>();
    private final List<String> notes;
    private final List<GatewayPort> gateways;

    private BridgeLayout(final List<Switch> switches, final List<PodPort> all, final Switch local, final List<String> notes,
        final List<GatewayPort> gateways)
    {
        this.gateways = List.copyOf(gateways);
        this.switches = List.copyOf(switches);
        this.ports = all.stream().filter(PodPort::local).toList();
        this.remote = all.stream().filter(p -> !p.local()).toList();
        this.local = local;
        this.notes = List.copyOf(notes);
        for (final PodPort p : all)
        {
            byPod.put(p.pod().key(), p);
        }
    }

    /** Every pod of the cluster on one bridge: each on its node's switch, the router between them. */
    public static BridgeLayout cluster(final ClusterModel model)
    {
        return build(model, null, null);
    }

    /**
     * One node's bridge, as OVN-K runs it: the node's pods are ports; the other nodes' pods are
     * reached through the Geneve tunnel port ({@link #TUNNEL_OFPORT}), with the destination
     * switch's key as VNI and the logical ports in OVN's option (tun_metadata0).
     */
    public static BridgeLayout node(final ClusterModel model, final String node)
    {
        if (model.node(node).isEmpty() && model.pods().stream().noneMatch(p -> node.equals(p.nodeName())))
        {
            throw new IllegalArgumentException("no node " + node + " in the manifests (and no pod on it)");
        }
        return build(model, node, null);
    }

    /**
     * The layout of {@code model} keeping {@code previous}'s numbers: pods and switches that are
     * still there keep their port number, key (and so their zones) and switch key; new ones take
     * the lowest free numbers. This is what lets one pod's change touch only its own flows.
     */
    public static BridgeLayout next(final ClusterModel model, final BridgeLayout previous)
    {
        return build(model, previous.local == null ? null : previous.local.node(), previous);
    }

    /**
     * Every pod of the model on one bridge. A node without OVN-K's subnets annotation (or a pod
     * outside its node's subnets, or on no node at all) gets the /24 (IPv4) or /64 (IPv6) around
     * each of its pods' addresses: enough for a manifests directory that lists only pods.
     */
    private static BridgeLayout build(final ClusterModel model, final String localNode, final BridgeLayout previous)
    {
        final List<String> notes = new ArrayList<>();
        final List<Pod> pods = new ArrayList<>();
        for (final Pod p : model.pods())
        {
            if (p.hostNetwork() || p.isCompleted())
            {
                continue;
            }
            pods.add(p);
        }
        sortByKey(pods);
        if (pods.size() > (localNode == null ? MAX_PORTS : MAX_KEYS))
        {
            throw new IllegalArgumentException(pods.size() + " pods: at most " + (localNode == null ? MAX_PORTS : MAX_KEYS)
                + (localNode == null ? " on one bridge" : " logical ports in a cluster"));
        }
        // Switches: nodes by name; pods on no node share the switch of the empty name.
        final TreeMap<String, List<Pod>> byNode = new TreeMap<>();
        if (localNode != null)
        {
            byNode.put(localNode, new ArrayList<>());
        }
        for (final Pod p : pods)
        {
            byNode.computeIfAbsent(p.nodeName() == null ? "" : p.nodeName(), k -> new ArrayList<>()).add(p);
        }
        final Map<String, Switch> switchOf = new LinkedHashMap<>();
        final Numbers switchKeys = new Numbers();
        final Map<String, Switch> previousSwitches = new java.util.HashMap<>();
        if (previous != null)
        {
            for (final Switch sw : previous.switches)
            {
                if (byNode.containsKey(sw.node()))
                {
                    switchKeys.take(sw.key());
                    previousSwitches.put(sw.node(), sw);
                }
            }
        }
        final List<Cidr> usedSubnets = new ArrayList<>();
        for (final Map.Entry<String, List<Pod>> e : byNode.entrySet())
        {
            final List<Cidr> subnets = new ArrayList<>(model.node(e.getKey()).map(Node::subnets).orElse(List.of()));
            for (final Pod p : e.getValue())
            {
                for (final InetAddress ip : p.ips())
                {
                    if (subnets.stream().noneMatch(s -> s.contains(ip)))
                    {
                        subnets.add(Cidr.of(ip, Ip.isIpv6(ip) ? 64 : 24));
                    }
                }
            }
            if (subnets.stream().noneMatch(c -> !c.isIpv6()) && e.getValue().stream().anyMatch(p -> p.ips().isEmpty()))
            {
                subnets.add(freeSubnet(model, usedSubnets));
            }
            usedSubnets.addAll(subnets);
            subnets.sort(Comparator.comparing(Cidr::isIpv6));
            final List<InetAddress> gateways = new ArrayList<>();
            for (final Cidr s : subnets)
            {
                gateways.add(OvnNames.gatewayIp(s));
            }
            if (gateways.isEmpty())
            {
                notes.add("node " + e.getKey() + " has no subnet and no pod: its switch is empty");
            }
            final Switch before = previousSwitches.get(e.getKey());
            switchOf.put(e.getKey(), new Switch(before != null ? before.key() : switchKeys.next(), e.getKey(), subnets, gateways,
                gateways.isEmpty() ? "0a:58:00:00:00:00" : OvnNames.mac(gateways.get(0)),
                model.node(e.getKey()).map(Node::internalIps).orElse(List.of())));
        }
        final List<PodPort> ports = new ArrayList<>();
        final java.util.Set<InetAddress> usedIps = new java.util.HashSet<>();
        for (final Pod p : pods)
        {
            usedIps.addAll(p.ips());
        }
        if (previous != null)
        {
            for (final PodPort kept0 : previous.allPods())
            {
                if (kept0.pod().ips().isEmpty())
                {
                    usedIps.addAll(kept0.ips());
                }
            }
        }
        final Numbers ofports = new Numbers();
        final Numbers keys = new Numbers();
        final Map<String, PodPort> kept = new java.util.HashMap<>();
        if (previous != null)
        {
            for (final Pod p : pods)
            {
                final PodPort old = previous.byPod.get(p.key());
                final String node = p.nodeName() == null ? "" : p.nodeName();
                if (old != null && old.sw().node().equals(node))
                {
                    kept.put(p.key(), old);
                    keys.take(old.key());
                    if (old.local())
                    {
                        ofports.take(old.ofport());
                    }
                }
            }
        }
        for (final Pod p : pods)
        {
            final Switch sw = switchOf.get(p.nodeName() == null ? "" : p.nodeName());
            final boolean isLocal = localNode == null || localNode.equals(sw.node());
            final PodPort old = kept.get(p.key());
            final List<InetAddress> ips;
            if (!p.ips().isEmpty())
            {
                ips = p.ips();
            }
            else if (old != null && old.pod().ips().isEmpty())
            {
                ips = old.ips();
            }
            else
            {
                // No status IPs (manifests written by hand, a pod not started yet): an address of
                // the node's subnet, as the cluster's IPAM would give it, so the pod still gets a port.
                ips = List.of(freeHost(sw, usedIps));
                notes.add("pod " + p.key() + " has no address: given " + Ip.text(ips.get(0)));
            }
            usedIps.addAll(ips);
            for (final InetAddress ip : ips)
            {
                if (sw.gatewayIps().contains(ip))
                {
                    notes.add("pod " + p.key() + " holds its switch's gateway address " + Ip.text(ip));
                }
            }
            final int ofport = !isLocal ? 0 : old != null ? old.ofport() : ofports.next();
            if (ofport > MAX_PORTS)
            {
                throw new IllegalArgumentException("more than " + MAX_PORTS + " pods on node " + sw.node());
            }
            // The MAC is a SHA-256 for IPv6: reuse the old one while the addresses stay.
            final String mac = old != null && old.ips().equals(ips) ? old.mac() : OvnNames.mac(ips.get(0));
            ports.add(new PodPort(ofport, old != null ? old.key() : keys.next(), p, mac, ips, sw));
        }
        ports.sort(Comparator.comparingInt(PodPort::ofport).thenComparingInt(PodPort::key));
        final Switch local = localNode == null ? null : switchOf.get(localNode);
        if (local != null && local.nodeIps().isEmpty())
        {
            notes.add("node " + localNode + " has no InternalIP: nothing can reach its tunnel");
        }
        final List<GatewayPort> gateways = new ArrayList<>();
        for (final Switch sw : switchOf.values())
        {
            final boolean here = localNode == null || localNode.equals(sw.node());
            model.node(sw.node()).flatMap(n -> GatewayPort.of(n, sw.key(),
                !here ? 0 : localNode == null ? EXTERNAL_OFPORT + sw.key() : EXTERNAL_OFPORT, notes)).ifPresent(gateways::add);
        }
        return new BridgeLayout(new ArrayList<>(switchOf.values()), ports, local, notes, gateways);
    }

    /** The first 10.244.N.0/24 that no node annotation and no switch so far uses. */
    private static Cidr freeSubnet(final ClusterModel model, final List<Cidr> used)
    {
        final List<Cidr> taken = new ArrayList<>(used);
        model.nodes().forEach(n -> taken.addAll(n.subnets()));
        for (int n = 0; n < 256; n++)
        {
            final Cidr c = Cidr.parse("10.244." + n + ".0/24");
            if (taken.stream().noneMatch(t -> t.contains(c) || c.contains(t)))
            {
                return c;
            }
        }
        throw new IllegalArgumentException("no free /24 in 10.244.0.0/16 for pods without addresses");
    }

    /** The lowest host of the switch's IPv4 subnet after the gateway (.1) and management port (.2) that nobody holds. */
    private static InetAddress freeHost(final Switch sw, final java.util.Set<InetAddress> used)
    {
        for (final Cidr c : sw.subnets())
        {
            if (c.isIpv6())
            {
                continue;
            }
            final long size = 1L << (32 - c.prefix());
            for (long h = 3; h < size - 1; h++)
            {
                final InetAddress ip = c.host(h);
                if (!used.contains(ip))
                {
                    return ip;
                }
            }
        }
        throw new IllegalArgumentException("switch " + sw.node() + ": no free address for a pod without one");
    }

    /** Sorts by namespace/name, each key built once (a comparator building them would allocate per comparison). */
    private static void sortByKey(final List<Pod> pods)
    {
        final Object[][] keyed = new Object[pods.size()][];
        for (int i = 0; i < keyed.length; i++)
        {
            keyed[i] = new Object[] {pods.get(i).key(), pods.get(i)};
        }
        Arrays.sort(keyed, (a, b) -> ((String)a[0]).compareTo((String)b[0]));
        for (int i = 0; i < keyed.length; i++)
        {
            pods.set(i, (Pod)keyed[i][1]);
        }
    }

    /** Numbers 1, 2, 3, ... handed out lowest free first. */
    private static final class Numbers
    {
        private final java.util.BitSet used = new java.util.BitSet();

        void take(final int n)
        {
            used.set(n);
        }

        int next()
        {
            final int n = used.nextClearBit(1);
            used.set(n);
            return n;
        }
    }

    public List<Switch> switches()
    {
        return switches;
    }

    public List<PodPort> ports()
    {
        return ports;
    }

    /** Pods of other nodes (node layout only): reached through the tunnel. */
    public List<PodPort> remotePods()
    {
        return remote;
    }

    /** Every pod with a logical port, local or not. */
    public List<PodPort> allPods()
    {
        final List<PodPort> all = new ArrayList<>(ports);
        all.addAll(remote);
        return all;
    }

    /** The node this bridge is, or empty for the cluster-in-one-bridge layout. */
    public Optional<Switch> localSwitch()
    {
        return Optional.ofNullable(local);
    }

    /** Local pod ports (all pods in the cluster layout). */
    public Optional<PodPort> port(final String podKey)
    {
        final PodPort p = byPod.get(podKey);
        return p != null && p.local() ? Optional.of(p) : Optional.empty();
    }

    /** The port holding {@code ip}, if a pod of this bridge has it. */
    public Optional<PodPort> portOf(final InetAddress ip)
    {
        for (final PodPort p : ports)
        {
            if (p.ips().contains(ip))
            {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** Every port of the bridge: pods, then the gateway routers' external ports. */
    public int[] ofports()
    {
        return java.util.stream.IntStream.concat(ports.stream().mapToInt(PodPort::ofport),
            gateways.stream().filter(GatewayPort::local).mapToInt(GatewayPort::ofport)).toArray();
    }

    /** The gateway routers: this bridge's (with their external port) and, in the node layout, the other nodes'. */
    public List<GatewayPort> gateways()
    {
        return gateways;
    }

    /** The gateway router of {@code node}, if it has one. */
    public Optional<GatewayPort> gateway(final String node)
    {
        return gateways.stream().filter(g -> g.node().equals(node)).findFirst();
    }

    /** What the layout left out or made up, for the report. */
    public List<String> notes()
    {
        return Collections.unmodifiableList(notes);
    }
}
