package dev.junction.control.flows;

import dev.junction.control.k8s.Cidr;
import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.Node;
import dev.junction.control.k8s.Pod;
import dev.junction.control.topology.OvnNames;

import java.net.InetAddress;
import java.util.ArrayList;
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
 * <p>Port numbers: pods sorted by namespace/name get 1, 2, 3, ... The logical port key (reg14 /
 * reg15, as OVN keeps the logical inport and outport) is the port number; the port's conntrack
 * zone is its key and its load-balancer zone is {@code key | 0x4000}, so at most
 * {@link #MAX_PORTS} ports.
 */
public final class BridgeLayout
{
    /** Zones are 16 bits: keys below 0x4000 leave the LB zone space {@code 0x4000 | key} free. */
    public static final int MAX_PORTS = 0x3fff;
    /** The bit that turns a port's zone into its load-balancer (DNAT) zone. */
    public static final int LB_ZONE_BIT = 0x4000;

    /** A node's logical switch: {@code key} goes in the metadata register of its packets. */
    public record Switch(int key, String node, List<Cidr> subnets, List<InetAddress> gatewayIps, String gatewayMac)
    {
        public Switch
        {
            subnets = List.copyOf(subnets);
            gatewayIps = List.copyOf(gatewayIps);
        }

        public Optional<InetAddress> gateway(final boolean ipv6)
        {
            return gatewayIps.stream().filter(ip -> Ip.isIpv6(ip) == ipv6).findFirst();
        }
    }

    /** A pod's port: OpenFlow number, logical key, MAC (OVN-K's, from its first address), addresses. */
    public record PodPort(int ofport, Pod pod, String mac, List<InetAddress> ips, Switch sw)
    {
        public PodPort
        {
            ips = List.copyOf(ips);
        }

        public int key()
        {
            return ofport;
        }

        public int zone()
        {
            return ofport;
        }

        public int lbZone()
        {
            return ofport | LB_ZONE_BIT;
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
    private final Map<String, PodPort> byPod = new LinkedHashMap<>();
    private final List<String> notes;

    private BridgeLayout(final List<Switch> switches, final List<PodPort> ports, final List<String> notes)
    {
        this.switches = List.copyOf(switches);
        this.ports = List.copyOf(ports);
        this.notes = List.copyOf(notes);
        for (final PodPort p : ports)
        {
            byPod.put(p.pod().key(), p);
        }
    }

    /**
     * Every pod of the model on one bridge. A node without OVN-K's subnets annotation (or a pod
     * outside its node's subnets, or on no node at all) gets the /24 (IPv4) or /64 (IPv6) around
     * each of its pods' addresses: enough for a manifests directory that lists only pods.
     */
    public static BridgeLayout cluster(final ClusterModel model)
    {
        final List<String> notes = new ArrayList<>();
        final List<Pod> pods = new ArrayList<>();
        for (final Pod p : model.pods())
        {
            if (p.hostNetwork() || p.isCompleted())
            {
                continue;
            }
            if (p.ips().isEmpty())
            {
                notes.add("pod " + p.key() + " has no address yet: no port");
                continue;
            }
            pods.add(p);
        }
        pods.sort(Comparator.comparing(Pod::key));
        if (pods.size() > MAX_PORTS)
        {
            throw new IllegalArgumentException(pods.size() + " pods: one bridge holds at most " + MAX_PORTS + " ports");
        }
        // Switches: nodes by name; pods on no node share the switch of the empty name.
        final TreeMap<String, List<Pod>> byNode = new TreeMap<>();
        for (final Pod p : pods)
        {
            byNode.computeIfAbsent(p.nodeName() == null ? "" : p.nodeName(), k -> new ArrayList<>()).add(p);
        }
        final Map<String, Switch> switchOf = new LinkedHashMap<>();
        int key = 1;
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
            subnets.sort(Comparator.comparing(Cidr::isIpv6));
            final List<InetAddress> gateways = new ArrayList<>();
            for (final Cidr s : subnets)
            {
                gateways.add(OvnNames.gatewayIp(s));
            }
            switchOf.put(e.getKey(), new Switch(key++, e.getKey(), subnets, gateways, OvnNames.mac(gateways.get(0))));
        }
        final List<PodPort> ports = new ArrayList<>();
        int ofport = 1;
        for (final Pod p : pods)
        {
            final Switch sw = switchOf.get(p.nodeName() == null ? "" : p.nodeName());
            for (final InetAddress ip : p.ips())
            {
                if (sw.gatewayIps().contains(ip))
                {
                    notes.add("pod " + p.key() + " holds its switch's gateway address " + Ip.text(ip));
                }
            }
            ports.add(new PodPort(ofport++, p, OvnNames.mac(p.ips().get(0)), p.ips(), sw));
        }
        return new BridgeLayout(new ArrayList<>(switchOf.values()), ports, notes);
    }

    public List<Switch> switches()
    {
        return switches;
    }

    public List<PodPort> ports()
    {
        return ports;
    }

    public Optional<PodPort> port(final String podKey)
    {
        return Optional.ofNullable(byPod.get(podKey));
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

    public int[] ofports()
    {
        return ports.stream().mapToInt(PodPort::ofport).toArray();
    }

    /** What the layout left out or made up, for the report. */
    public List<String> notes()
    {
        return Collections.unmodifiableList(notes);
    }
}
