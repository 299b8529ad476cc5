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
import java.util.BitSet;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import org.pcollections.HashTreePMap;
import org.pcollections.PMap;
import org.pcollections.PSortedMap;
import org.pcollections.TreePMap;

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
 *
 * <p>Management ports ({@link ManagementPort}, OVN-K's {@code k8s-<node>}, the host's
 * {@code ovn-k8s-mp0}): every node with OVN-K's subnets annotation has one on its switch, .2 of
 * each subnet. Its OpenFlow port is {@link #MANAGEMENT_OFPORT} on a node bridge and
 * {@code MANAGEMENT_OFPORT + switch key} in the cluster layout: above every external port (a
 * cluster has fewer than 0x1000 node switches), below the reserved ports. Its logical key is
 * {@code MAX_KEYS - switch key}, from the top of the key space pods are numbered up into: fixed
 * by the switch alone, so a pod's change never moves it, and the same on every node's bridge.
 */
public final class BridgeLayout
{
    /** Pod ports of one bridge, all below the tunnel port. */
    public static final int MAX_PORTS = 0x3fff;
    /** Zones are 16 bits: a port's zone is its key (below 0x8000), its LB zone {@code 0x8000 | key}. */
    public static final int LB_ZONE_BIT = 0x8000;
    /** Remote pods come after every local port in a namespace's order: above any port number. */
    private static final int REMOTE_ORDER = 0x10000;
    /** The Geneve tunnel port of a node bridge (above every pod port). */
    public static final int TUNNEL_OFPORT = 0x4000;
    /** Logical port keys travel in 15 bits of OVN's Geneve option. */
    public static final int MAX_KEYS = 0x7fff;
    /** A node bridge's external port (its gateway router's side of br-ex); in the cluster layout plus the switch key. */
    public static final int EXTERNAL_OFPORT = 0x5000;
    /** A node bridge's management port (the host's ovn-k8s-mp0); in the cluster layout plus the switch key. */
    public static final int MANAGEMENT_OFPORT = 0x6000;
    /** The VNI that says "to the gateway router of the node whose switch key is in the low bits" (EgressIP reroute). */
    public static final int GATEWAY_VNI = 0x100000;
    /**
     * The gateway routers' SNAT zone: key 0's LB zone, which no port has. One zone serves every
     * router of a bridge: pod addresses are unique, and each router SNATs to its own addresses.
     */
    public static final int GATEWAY_ZONE = LB_ZONE_BIT;

    /** A node's logical switch: {@code key} goes in the metadata register of its packets. */
    public record Switch(int key, String node, List<Cidr> subnets, List<InetAddress> gatewayIps, String gatewayMac,
        List<InetAddress> nodeIps, List<InetAddress> managementIps)
    {
        public Switch
        {
            subnets = List.copyOf(subnets);
            gatewayIps = List.copyOf(gatewayIps);
            nodeIps = List.copyOf(nodeIps);
            managementIps = List.copyOf(managementIps);
        }

        /** The management port's logical key, when the switch has one. */
        public int managementKey()
        {
            return MAX_KEYS - key;
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
    public record PodPort(int ofport, int key, Pod pod, String mac, List<InetAddress> ips, Switch sw) implements LogicalPort
    {
        public PodPort
        {
            ips = List.copyOf(ips);
        }

        @Override
        public String name()
        {
            return pod.key();
        }

        @Override
        public String owner()
        {
            return "pod:" + pod.key();
        }
    }

    /**
     * A node's management port {@code k8s-<node>}: the host stack on the node switch, with .2 of
     * each of the node's subnets and OVN-K's MAC of the first. Its flows belong to its switch:
     * they change when the switch does, never with a pod.
     */
    public record ManagementPort(int ofport, int key, String mac, List<InetAddress> ips, Switch sw) implements LogicalPort
    {
        public ManagementPort
        {
            ips = List.copyOf(ips);
        }

        @Override
        public String name()
        {
            return OvnNames.managementPort(sw.node());
        }

        @Override
        public String owner()
        {
            return "switch:" + sw.node();
        }
    }

    private final List<Switch> switches;
    private final Map<String, Switch> switchOf;
    private final Switch local;
    /** Local ports by OpenFlow port number, pods of other nodes by key: the orders ports() and remotePods() give. */
    private final PSortedMap<Integer, PodPort> localPorts;
    private final PSortedMap<Integer, PodPort> remotePorts;
    private final PMap<String, PodPort> byPod;
    /** Each namespace's pods in allPods() order (local by port number, then remote by key). */
    private final PMap<String, PSortedMap<Integer, PodPort>> byNamespace;
    /** Each switch's pods by namespace/name: what its subnets are computed from. */
    private final PMap<String, PSortedMap<String, PodPort>> byNode;
    /** Keys and port numbers in use; never changed once the layout is built (the next one copies). */
    private final BitSet keys;
    private final BitSet ofports;
    /** Notes of switches, of pods holding their gateway's address (by pod), and all of them in report order. */
    private final List<String> switchNotes;
    private final PSortedMap<String, List<String>> podNotes;
    private final List<String> notes;
    /** The gateway routers; they depend on the nodes and switches only, so a pod-by-pod edit keeps them. */
    private final List<GatewayPort> gateways;
    /** What making the gateway routers noted: after the other notes, in both kinds of build. */
    private final List<String> gatewayNotes;
    /** The switches' management ports, in switch order; made from the switches, so a pod-by-pod edit keeps them. */
    private final List<ManagementPort> managementPorts;
    private List<PodPort> portList;
    private List<PodPort> remoteList;
    private List<PodPort> allList;

    private BridgeLayout(final List<Switch> switches, final Map<String, Switch> switchOf, final Switch local,
        final PSortedMap<Integer, PodPort> localPorts, final PSortedMap<Integer, PodPort> remotePorts,
        final PMap<String, PodPort> byPod, final PMap<String, PSortedMap<Integer, PodPort>> byNamespace,
        final PMap<String, PSortedMap<String, PodPort>> byNode, final BitSet keys, final BitSet ofports,
        final List<String> switchNotes, final PSortedMap<String, List<String>> podNotes, final List<String> notes,
        final List<GatewayPort> gateways, final List<String> gatewayNotes)
    {
        this.gateways = List.copyOf(gateways);
        this.gatewayNotes = List.copyOf(gatewayNotes);
        this.switches = switches;
        this.switchOf = switchOf;
        this.local = local;
        this.localPorts = localPorts;
        this.remotePorts = remotePorts;
        this.byPod = byPod;
        this.byNamespace = byNamespace;
        this.byNode = byNode;
        this.keys = keys;
        this.ofports = ofports;
        this.switchNotes = switchNotes;
        this.podNotes = podNotes;
        final List<String> all = new ArrayList<>(notes);
        all.addAll(gatewayNotes);
        this.notes = List.copyOf(all);
        this.managementPorts = managementPorts(switches, local);
    }

    private static List<ManagementPort> managementPorts(final List<Switch> switches, final Switch local)
    {
        final List<ManagementPort> out = new ArrayList<>();
        for (final Switch sw : switches)
        {
            if (sw.managementIps().isEmpty())
            {
                continue;
            }
            final int ofport = local == null ? MANAGEMENT_OFPORT + sw.key() : local.key() == sw.key() ? MANAGEMENT_OFPORT : 0;
            out.add(new ManagementPort(ofport, sw.managementKey(), OvnNames.mac(sw.managementIps().get(0)), sw.managementIps(), sw));
        }
        return List.copyOf(out);
    }

    /** The layout of whole-build results: indexes made from the ports. */
    private static BridgeLayout of(final List<Switch> switches, final List<PodPort> all, final Switch local,
        final BitSet keys, final BitSet ofports, final List<String> switchNotes, final PSortedMap<String, List<String>> podNotes,
        final List<String> notes, final List<GatewayPort> gateways, final List<String> gatewayNotes)
    {
        final Map<String, Switch> switchOf = new HashMap<>();
        for (final Switch sw : switches)
        {
            switchOf.put(sw.node(), sw);
        }
        final Map<Integer, PodPort> localPorts = new HashMap<>();
        final Map<Integer, PodPort> remotePorts = new HashMap<>();
        final Map<String, PodPort> byPod = new HashMap<>();
        final Map<String, Map<Integer, PodPort>> byNamespace = new HashMap<>();
        final Map<String, Map<String, PodPort>> byNode = new HashMap<>();
        for (final PodPort p : all)
        {
            if (p.local())
            {
                localPorts.put(p.ofport(), p);
            }
            else
            {
                remotePorts.put(p.key(), p);
            }
            byPod.put(p.name(), p);
            byNamespace.computeIfAbsent(p.pod().namespace(), k -> new HashMap<>()).put(order(p), p);
            byNode.computeIfAbsent(p.sw().node(), k -> new HashMap<>()).put(p.name(), p);
        }
        PMap<String, PSortedMap<Integer, PodPort>> namespaces = HashTreePMap.empty();
        for (final Map.Entry<String, Map<Integer, PodPort>> e : byNamespace.entrySet())
        {
            namespaces = namespaces.plus(e.getKey(), TreePMap.from(e.getValue()));
        }
        PMap<String, PSortedMap<String, PodPort>> nodes = HashTreePMap.empty();
        for (final Map.Entry<String, Map<String, PodPort>> e : byNode.entrySet())
        {
            nodes = nodes.plus(e.getKey(), TreePMap.from(e.getValue()));
        }
        return new BridgeLayout(List.copyOf(switches), switchOf, local, TreePMap.from(localPorts), TreePMap.from(remotePorts),
            HashTreePMap.from(byPod), namespaces, nodes, keys, ofports, List.copyOf(switchNotes), podNotes, notes, gateways,
            gatewayNotes);
    }

    /** A pod's place in allPods(): local ports by number first, then remote pods by key. */
    private static int order(final PodPort p)
    {
        return p.local() ? p.ofport() : REMOTE_ORDER + p.key();
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
     * {@link #next(ClusterModel, BridgeLayout)} when {@code change} is what makes {@code model} of
     * the previous layout's model: the changed pods only are renumbered, in O(change), the rest
     * shared with {@code previous}. The result is the same layout a whole build gives; when the
     * change could move more than its pods (nodes changed, a switch appears, goes or changes its
     * subnets, a pod needs an address made up) it is a whole build. A layout built by this path
     * has the very same {@link #switches()} list as {@code previous}.
     */
    static BridgeLayout next(final ClusterModel model, final BridgeLayout previous, final ModelChange change)
    {
        if (change.nodes())
        {
            return next(model, previous);
        }
        final BridgeLayout incremental = withPods(model, previous, change.pods());
        return incremental != null ? incremental : next(model, previous);
    }

    /** The previous layout with the changed pods laid out again, or null when only a whole build can say. */
    private static BridgeLayout withPods(final ClusterModel model, final BridgeLayout previous,
        final List<ModelChange.PodChange> changes)
    {
        final String localNode = previous.local == null ? null : previous.local.node();
        final BitSet keys = (BitSet)previous.keys.clone();
        final BitSet ofports = (BitSet)previous.ofports.clone();
        final Edit edit = new Edit(previous);
        final List<Pod> added = new ArrayList<>();
        final java.util.Set<String> touched = new java.util.TreeSet<>();
        for (final ModelChange.PodChange c : changes)
        {
            final Pod p = c.after();
            final boolean present = p != null && !p.hostNetwork() && !p.isCompleted();
            final String node = present ? nodeOf(p) : null;
            final PodPort old = previous.byPod.get(c.key());
            if (old != null && !old.sw().node().equals(node))
            {
                // Gone, or moved to another switch: its numbers are free for this very build.
                keys.clear(old.key());
                if (old.local())
                {
                    ofports.clear(old.ofport());
                }
                edit.remove(old);
                touched.add(old.sw().node());
            }
            if (!present)
            {
                continue;
            }
            final Switch sw = previous.switchOf.get(node);
            if (sw == null || (p.ips().isEmpty() && (old == null || !old.pod().ips().isEmpty() || !old.sw().node().equals(node))))
            {
                return null;
            }
            touched.add(node);
            if (old != null && old.sw().node().equals(node))
            {
                final List<InetAddress> ips = p.ips().isEmpty() ? old.ips() : p.ips();
                edit.put(new PodPort(old.ofport(), old.key(), p, macOf(old, ips), ips, sw));
            }
            else
            {
                added.add(p);
            }
        }
        // New pods in namespace/name order take the lowest free numbers, as a whole build gives them.
        for (final Pod p : added)
        {
            final Switch sw = previous.switchOf.get(nodeOf(p));
            final boolean isLocal = localNode == null || localNode.equals(sw.node());
            final int key = next(keys);
            final int ofport = isLocal ? next(ofports) : 0;
            if (ofport > MAX_PORTS || key > (localNode == null ? MAX_PORTS : MAX_KEYS))
            {
                return null;
            }
            edit.put(new PodPort(ofport, key, p, OvnNames.mac(p.ips().get(0)), p.ips(), sw));
        }
        for (final String node : touched)
        {
            final PSortedMap<String, PodPort> pods = edit.byNode.get(node);
            if ((pods == null || pods.isEmpty()) && !node.equals(localNode))
            {
                return null;
            }
            final List<Pod> on = new ArrayList<>();
            if (pods != null)
            {
                pods.values().forEach(q -> on.add(q.pod()));
            }
            final List<Cidr> subnets = subnets(model, node, on);
            final Switch was = previous.switchOf.get(node);
            if (needsFreeSubnet(subnets, on) || !was.subnets().equals(sorted(subnets)))
            {
                return null;
            }
        }
        final List<String> notes = new ArrayList<>(previous.switchNotes);
        edit.podNotes.values().forEach(notes::addAll);
        localNote(previous.local, notes);
        return new BridgeLayout(previous.switches, previous.switchOf, previous.local, edit.localPorts, edit.remotePorts,
            edit.byPod, edit.byNamespace, edit.byNode, keys, ofports, previous.switchNotes, edit.podNotes, notes,
            previous.gateways, previous.gatewayNotes);
    }

    /** The persistent indexes of a layout being edited pod by pod. */
    private static final class Edit
    {
        PSortedMap<Integer, PodPort> localPorts;
        PSortedMap<Integer, PodPort> remotePorts;
        PMap<String, PodPort> byPod;
        PMap<String, PSortedMap<Integer, PodPort>> byNamespace;
        PMap<String, PSortedMap<String, PodPort>> byNode;
        PSortedMap<String, List<String>> podNotes;

        Edit(final BridgeLayout from)
        {
            localPorts = from.localPorts;
            remotePorts = from.remotePorts;
            byPod = from.byPod;
            byNamespace = from.byNamespace;
            byNode = from.byNode;
            podNotes = from.podNotes;
        }

        void remove(final PodPort p)
        {
            if (p.local())
            {
                localPorts = localPorts.minus(p.ofport());
            }
            else
            {
                remotePorts = remotePorts.minus(p.key());
            }
            byPod = byPod.minus(p.name());
            final PSortedMap<Integer, PodPort> ns = byNamespace.get(p.pod().namespace()).minus(order(p));
            byNamespace = ns.isEmpty() ? byNamespace.minus(p.pod().namespace()) : byNamespace.plus(p.pod().namespace(), ns);
            final PSortedMap<String, PodPort> node = byNode.get(p.sw().node()).minus(p.name());
            byNode = node.isEmpty() ? byNode.minus(p.sw().node()) : byNode.plus(p.sw().node(), node);
            podNotes = podNotes.minus(p.name());
        }

        /** Adds or replaces (same key, port number and switch) a pod's port. */
        void put(final PodPort p)
        {
            if (p.local())
            {
                localPorts = localPorts.plus(p.ofport(), p);
            }
            else
            {
                remotePorts = remotePorts.plus(p.key(), p);
            }
            byPod = byPod.plus(p.name(), p);
            byNamespace = byNamespace.plus(p.pod().namespace(),
                byNamespace.getOrDefault(p.pod().namespace(), TreePMap.empty()).plus(order(p), p));
            byNode = byNode.plus(p.sw().node(), byNode.getOrDefault(p.sw().node(), TreePMap.empty()).plus(p.name(), p));
            final List<String> notes = gatewayNotes(p.pod(), p.ips(), p.sw());
            podNotes = notes.isEmpty() ? podNotes.minus(p.name()) : podNotes.plus(p.name(), notes);
        }
    }

    private static int next(final BitSet used)
    {
        final int n = used.nextClearBit(1);
        used.set(n);
        return n;
    }

    private static String nodeOf(final Pod p)
    {
        return p.nodeName() == null ? "" : p.nodeName();
    }

    /** The MAC is a SHA-256 for IPv6: reuse the old one while the addresses stay. */
    private static String macOf(final PodPort old, final List<InetAddress> ips)
    {
        return old != null && old.ips().equals(ips) ? old.mac() : OvnNames.mac(ips.get(0));
    }

    /**
     * A switch's subnets before ordering: its node's annotation, then the /24 or /64 around each
     * of its pods' addresses that none holds yet (pods in namespace/name order).
     */
    private static List<Cidr> subnets(final ClusterModel model, final String node, final List<Pod> pods)
    {
        final List<Cidr> subnets = new ArrayList<>(model.node(node).map(Node::subnets).orElse(List.of()));
        for (final Pod p : pods)
        {
            for (final InetAddress ip : p.ips())
            {
                if (subnets.stream().noneMatch(s -> s.contains(ip)))
                {
                    subnets.add(Cidr.of(ip, Ip.isIpv6(ip) ? 64 : 24));
                }
            }
        }
        return subnets;
    }

    /**
     * The management port's addresses: .2 of each subnet of OVN-K's annotation (IPv4 first, as the
     * switch orders them); none when the node has no annotation, as OVN-K makes no port for it.
     */
    private static List<InetAddress> managementIps(final ClusterModel model, final String node)
    {
        final List<InetAddress> ips = new ArrayList<>();
        for (final Cidr s : sorted(model.node(node).map(Node::subnets).orElse(List.of())))
        {
            ips.add(OvnNames.managementIp(s));
        }
        return ips;
    }

    /** No IPv4 subnet but a pod without an address: the switch needs a made-up one. */
    private static boolean needsFreeSubnet(final List<Cidr> subnets, final List<Pod> pods)
    {
        return subnets.stream().noneMatch(c -> !c.isIpv6()) && pods.stream().anyMatch(p -> p.ips().isEmpty());
    }

    private static List<Cidr> sorted(final List<Cidr> subnets)
    {
        final List<Cidr> out = new ArrayList<>(subnets);
        out.sort(Comparator.comparing(Cidr::isIpv6));
        return out;
    }

    private static List<String> gatewayNotes(final Pod p, final List<InetAddress> ips, final Switch sw)
    {
        List<String> notes = List.of();
        for (final InetAddress ip : ips)
        {
            if (sw.gatewayIps().contains(ip))
            {
                notes = new ArrayList<>(notes);
                notes.add("pod " + p.key() + " holds its switch's gateway address " + Ip.text(ip));
            }
        }
        return notes;
    }

    private static void localNote(final Switch local, final List<String> notes)
    {
        if (local != null && local.nodeIps().isEmpty())
        {
            notes.add("node " + local.node() + " has no InternalIP: nothing can reach its tunnel");
        }
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
            byNode.computeIfAbsent(nodeOf(p), k -> new ArrayList<>()).add(p);
        }
        final Map<String, Switch> switchOf = new LinkedHashMap<>();
        final Numbers switchKeys = new Numbers();
        final Map<String, Switch> previousSwitches = new HashMap<>();
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
            final List<Cidr> subnets = subnets(model, e.getKey(), e.getValue());
            if (needsFreeSubnet(subnets, e.getValue()))
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
                model.node(e.getKey()).map(Node::internalIps).orElse(List.of()), managementIps(model, e.getKey())));
        }
        final List<String> switchNotes = List.copyOf(notes);
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
        for (final Switch sw : switchOf.values())
        {
            if (!sw.managementIps().isEmpty())
            {
                keys.take(sw.managementKey());
            }
        }
        final Map<String, PodPort> kept = new HashMap<>();
        if (previous != null)
        {
            for (final Pod p : pods)
            {
                final PodPort old = previous.byPod.get(p.key());
                if (old != null && old.sw().node().equals(nodeOf(p)))
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
        final Map<String, List<String>> podNotes = new HashMap<>();
        for (final Pod p : pods)
        {
            final Switch sw = switchOf.get(nodeOf(p));
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
            final List<String> gatewayNotes = gatewayNotes(p, ips, sw);
            if (!gatewayNotes.isEmpty())
            {
                notes.addAll(gatewayNotes);
                podNotes.put(p.key(), gatewayNotes);
            }
            final int ofport = !isLocal ? 0 : old != null ? old.ofport() : ofports.next();
            if (ofport > MAX_PORTS)
            {
                throw new IllegalArgumentException("more than " + MAX_PORTS + " pods on node " + sw.node());
            }
            ports.add(new PodPort(ofport, old != null ? old.key() : keys.next(), p, macOf(old, ips), ips, sw));
        }
        final Switch local = localNode == null ? null : switchOf.get(localNode);
        localNote(local, notes);
        final List<GatewayPort> gateways = new ArrayList<>();
        final List<String> gatewayNotes = new ArrayList<>();
        for (final Switch sw : switchOf.values())
        {
            final boolean here = localNode == null || localNode.equals(sw.node());
            model.node(sw.node()).flatMap(n -> GatewayPort.of(n, sw.key(),
                !here ? 0 : localNode == null ? EXTERNAL_OFPORT + sw.key() : EXTERNAL_OFPORT, gatewayNotes))
                .ifPresent(gateways::add);
        }
        return of(new ArrayList<>(switchOf.values()), ports, local, keys.used, ofports.used, switchNotes,
            TreePMap.from(podNotes), notes, gateways, gatewayNotes);
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
        private final BitSet used = new BitSet();

        void take(final int n)
        {
            used.set(n);
        }

        int next()
        {
            return BridgeLayout.next(used);
        }
    }

    public List<Switch> switches()
    {
        return switches;
    }

    /** Local ports by port number. */
    public List<PodPort> ports()
    {
        // Lists made on first use: an incremental update reads the indexes, never a whole list.
        if (portList == null)
        {
            portList = List.copyOf(localPorts.values());
        }
        return portList;
    }

    /** Pods of other nodes (node layout only), by key: reached through the tunnel. */
    public List<PodPort> remotePods()
    {
        if (remoteList == null)
        {
            remoteList = List.copyOf(remotePorts.values());
        }
        return remoteList;
    }

    /** Every pod with a logical port, local or not: {@link #ports()}, then {@link #remotePods()}. */
    public List<PodPort> allPods()
    {
        if (allList == null)
        {
            final List<PodPort> all = new ArrayList<>(ports());
            all.addAll(remotePods());
            allList = Collections.unmodifiableList(all);
        }
        return allList;
    }

    /** A namespace's pods with a logical port, in {@link #allPods()} order. */
    public Collection<PodPort> podsIn(final String namespace)
    {
        final PSortedMap<Integer, PodPort> pods = byNamespace.get(namespace);
        return pods == null ? List.of() : pods.values();
    }

    /** The logical port of a pod (local or not), or null when it has none. */
    PodPort pod(final String podKey)
    {
        return byPod.get(podKey);
    }

    /** The pods of {@code sw} with a port on this bridge, by namespace/name: its flood set's pods ({@link FloodFlows}). */
    List<PodPort> localPodsOn(final Switch sw)
    {
        final PSortedMap<String, PodPort> pods = byNode.get(sw.node());
        if (pods == null)
        {
            return List.of();
        }
        final List<PodPort> out = new ArrayList<>(pods.size());
        for (final PodPort p : pods.values())
        {
            if (p.local())
            {
                out.add(p);
            }
        }
        return out;
    }

    /** Keys (namespace/name) of the pods with a logical port. */
    java.util.Set<String> podKeys()
    {
        return byPod.keySet();
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
        for (final PodPort p : localPorts.values())
        {
            if (p.ips().contains(ip))
            {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** Every port of the bridge: pods, then the gateway routers' external ports, then the management ports. */
    public int[] ofports()
    {
        return java.util.stream.IntStream.concat(java.util.stream.IntStream.concat(localPorts.values().stream().mapToInt(PodPort::ofport),
            gateways.stream().filter(GatewayPort::local).mapToInt(GatewayPort::ofport)),
            managementPorts.stream().filter(ManagementPort::local).mapToInt(ManagementPort::ofport)).toArray();
    }

    /** The management ports: this bridge's (with an OpenFlow port) and, in the node layout, the other nodes' (reached through the tunnel). */
    public List<ManagementPort> managementPorts()
    {
        return managementPorts;
    }

    /** The management port of {@code sw}, if its node has one. */
    public Optional<ManagementPort> managementPort(final Switch sw)
    {
        return managementPorts.stream().filter(m -> m.sw().key() == sw.key()).findFirst();
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
        return notes;
    }
}
