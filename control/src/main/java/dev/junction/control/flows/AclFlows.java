package dev.junction.control.flows;

import dev.junction.control.k8s.Cidr;
import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.ContainerPort;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.NetworkPolicy;
import dev.junction.control.k8s.Pod;
import dev.junction.control.k8s.Protocol;
import dev.junction.control.pinctrl.ControllerOps;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static dev.junction.control.flows.SwitchFlows.hex;

/**
 * NetworkPolicy as ACL flows, per pod port and direction, the way OVN-K's port groups and ACLs
 * come out of ovn-controller once expanded: a pod isolated for a direction gets one allow flow
 * per (peer address or network) x (protocol and port) of every rule of every policy selecting
 * it, and a default drop below them; a pod no policy isolates gets nothing here (the stage's
 * default passes). Egress ACLs run after load balancing (OVN-K's {@code apply-after-lb}), so
 * they see the backend, not the VIP.
 *
 * <p>The semantics are {@link dev.junction.control.policy.PolicyEngine}'s, which the probe
 * tests hold these flows to: selectors match only pods that have a logical port; an ipBlock
 * matches any address in it (pods too) minus its excepts, expanded into disjoint networks so
 * that another rule may still allow an excepted address; a named port is the destination pod's
 * container port of that name and protocol (in egress that is the peer pod's, so an egress
 * named port matches only pods, each by its own number).
 *
 * <p>Each flow's cookie names where it came from ({@link AclCookies}): an allow flow the policy
 * rule it expands ({@code 0xa...}, one per policy, direction and rule), a default drop the
 * policies isolating the pod ({@code 0xd...}), so a trace can say which policy decided.
 *
 * <p>ACL logging, as OVN-K's {@code k8s.ovn.org/acl-logging} namespace annotation sets
 * {@code log=true} on the namespace's ACLs: the allow flows also send the packet to the
 * controller (only new connections reach them, so a connection is logged once, as OVN logs an
 * allow-related ACL), the default drop sends it there instead of dropping it (every denied
 * packet), each with the policy, rule, verdict and severity in the userdata
 * ({@link ControllerOps#logAction}).
 */
final class AclFlows
{
    static final int ALLOW = 1000;
    static final int DEFAULT_DENY = 900;
    /** OVN-K's DefaultAllowPriority: the allow-from-node ACL wins over every policy's allow and deny. */
    static final int NODE_ALLOW = ALLOW + 1;
    static final long ALLOW_COOKIE = 0xa0000000L;
    static final long DENY_COOKIE = 0xd0000000L;

    private final ClusterModel model;
    private final BridgeLayout layout;
    /** Policies by namespace: a pod is selected only by its namespace's. */
    private final java.util.Map<String, List<NetworkPolicy>> policiesByNamespace;

    private final AclCookies cookies;

    AclFlows(final ClusterModel model, final BridgeLayout layout, final AclCookies cookies)
    {
        this(model, layout, cookies, byNamespace(model.networkPolicies()));
    }

    /** With the model's policies already by namespace (an incremental update keeps them while no policy changes). */
    AclFlows(final ClusterModel model, final BridgeLayout layout, final AclCookies cookies,
        final java.util.Map<String, List<NetworkPolicy>> policiesByNamespace)
    {
        this.model = model;
        this.layout = layout;
        this.cookies = cookies;
        this.policiesByNamespace = policiesByNamespace;
    }

    static java.util.Map<String, List<NetworkPolicy>> byNamespace(final List<NetworkPolicy> policies)
    {
        final java.util.Map<String, List<NetworkPolicy>> m = new java.util.HashMap<>();
        for (final NetworkPolicy p : policies)
        {
            m.computeIfAbsent(p.namespace(), k -> new ArrayList<>()).add(p);
        }
        return m;
    }

    /** The ACLs of one pod's port, both directions. */
    void forPort(final FlowSet f, final BridgeLayout.PodPort port)
    {
        f.owner("acl:" + port.name());
        direction(f, port, NetworkPolicy.Type.Egress);
        direction(f, port, NetworkPolicy.Type.Ingress);
    }

    private void direction(final FlowSet f, final BridgeLayout.PodPort port, final NetworkPolicy.Type type)
    {
        final boolean egress = type == NetworkPolicy.Type.Egress;
        final Stage stage = egress ? Stage.ACL_EGRESS : Stage.ACL_INGRESS;
        // Ingress rules carry no ct_state: a packet back to its own port reaches them after the
        // egress commit, and a ct action without recirculation leaves the state cleared (-trk),
        // as OVS's translation does; every other packet arrives here tracked and not established.
        final String self = (egress ? "ct_state=+new+trk,reg14=" : "reg15=") + hex(port.key());
        final String next = (egress ? Stage.STATEFUL_EGRESS : Stage.STATEFUL_INGRESS).gotoHere();
        final List<String> isolatedBy = new ArrayList<>();
        final String dir = egress ? "egress" : "ingress";
        final AclLogging logging = AclLogging.of(model.namespace(port.pod().namespace()).orElse(null));
        // One flow per match: the first rule that allows it names it (and logs it).
        final Set<String> matched = new java.util.HashSet<>();
        for (final NetworkPolicy p : policiesByNamespace.getOrDefault(port.pod().namespace(), List.of()))
        {
            if (!p.affects(type) || !p.podSelector().matches(port.pod().labels()))
            {
                continue;
            }
            isolatedBy.add(p.key());
            final List<NetworkPolicy.Rule> rules = egress ? p.egress() : p.ingress();
            for (int i = 0; i < rules.size(); i++)
            {
                final long cookie = cookies.of(ALLOW_COOKIE, "policy " + p.key() + " " + dir + " rule " + (i + 1));
                final String actions = logging.allow() == null ? next
                    : ControllerOps.logAction(ControllerOps.VERDICT_ALLOW, logging.allow(), p.key() + ":" + (i + 1)) + "," + next;
                for (final String m : ruleMatches(p, rules.get(i), port, egress))
                {
                    if (matched.add(m))
                    {
                        f.add(stage, ALLOW, cookie, self + "," + m, actions);
                    }
                }
            }
        }
        if (!isolatedBy.isEmpty() && !egress)
        {
            allowFromNode(f, port);
        }
        if (!isolatedBy.isEmpty())
        {
            f.add(stage, DEFAULT_DENY, cookies.of(DENY_COOKIE, "default deny " + dir + ": isolated by " + String.join(", ", isolatedBy)),
                self, logging.deny() == null ? "drop"
                    : ControllerOps.logAction(ControllerOps.VERDICT_DROP, logging.deny(), String.join(",", isolatedBy) + ":default-deny"));
        }
    }

    /**
     * OVN-K's allow-from-node ACL ({@code addAllowACLFromNode}): on each node switch, to-lport,
     * {@code ip4.src == <management port IP>} allow-related at its DefaultAllowPriority, above
     * every policy, so that the kubelet's probes from the host reach pods whatever isolates them.
     * It is the destination's node only: another node's host is a peer like any other. Written
     * for isolated pods only (a pod no policy selects lets everything in anyway); no cookie, as
     * it belongs to no policy (like the hairpin ACL).
     */
    private void allowFromNode(final FlowSet f, final BridgeLayout.PodPort port)
    {
        layout.managementPort(port.sw()).ifPresent(mp ->
        {
            for (final InetAddress ip : mp.ips())
            {
                final boolean v6 = Ip.isIpv6(ip);
                f.add(Stage.ACL_INGRESS, NODE_ALLOW, "reg15=" + hex(port.key()) + "," + Matches.ipToken(v6) + ","
                    + Matches.address(true, ip), Stage.STATEFUL_INGRESS.gotoHere());
            }
        });
    }

    /** One rule's matches: (peer L3) x (port L4), each a complete fragment with its ethertype. */
    private List<String> ruleMatches(final NetworkPolicy p, final NetworkPolicy.Rule rule, final BridgeLayout.PodPort port,
        final boolean egress)
    {
        final Set<String> out = new LinkedHashSet<>();
        final List<Target> targets = peers(p, rule, egress);
        for (final Target t : targets)
        {
            // The pod whose container ports give named ports their numbers: the destination.
            final Pod destination = egress ? t.pod : port.pod();
            for (final L4 l4 : ports(rule.ports(), destination))
            {
                for (final boolean v6 : new boolean[] {false, true})
                {
                    if (t.cidr != null && t.cidr.isIpv6() != v6)
                    {
                        continue;
                    }
                    final String l3 = t.cidr == null ? "" : Matches.network(!egress, t.cidr);
                    final String head = l4.protocol == null ? Matches.ipToken(v6) : Matches.protoToken(l4.protocol, v6);
                    final StringBuilder m = new StringBuilder(head);
                    if (!l3.isEmpty())
                    {
                        m.append(',').append(l3);
                    }
                    if (l4.tpDst != null)
                    {
                        m.append(',').append(l4.tpDst);
                    }
                    out.add(m.toString());
                }
            }
        }
        return new ArrayList<>(out);
    }

    /** An address or network the rule allows; {@code pod} set when it is one pod's address. */
    private record Target(Cidr cidr, Pod pod)
    {
    }

    private List<Target> peers(final NetworkPolicy p, final NetworkPolicy.Rule rule, final boolean egress)
    {
        final List<Target> out = new ArrayList<>();
        final boolean named = rule.ports().stream().anyMatch(x -> x.port() != null && x.port().isNamed());
        if (rule.peers().isEmpty())
        {
            if (named && egress)
            {
                // Any destination, but a named port has a number only at a pod: every pod, one by one.
                for (final BridgeLayout.PodPort q : layout.allPods())
                {
                    hosts(q, out);
                }
                out.add(new Target(null, null));
            }
            else
            {
                out.add(new Target(null, null));
            }
            return out;
        }
        for (final NetworkPolicy.Peer peer : rule.peers())
        {
            if (peer.ipBlock() != null)
            {
                final List<Cidr> nets = Matches.subtract(peer.ipBlock().cidr(), peer.ipBlock().except());
                if (named && egress)
                {
                    // Each pod inside the block, by its own named-port number.
                    for (final BridgeLayout.PodPort q : layout.allPods())
                    {
                        for (final InetAddress ip : q.ips())
                        {
                            if (nets.stream().anyMatch(n -> n.contains(ip)))
                            {
                                out.add(new Target(host(ip), q.pod()));
                            }
                        }
                    }
                }
                for (final Cidr n : nets)
                {
                    out.add(new Target(n, null));
                }
                continue;
            }
            for (final BridgeLayout.PodPort q : peer.namespaceSelector() == null
                ? layout.podsIn(p.namespace()) : layout.allPods())
            {
                final Pod pod = q.pod();
                final boolean nsMatches = peer.namespaceSelector() == null
                    ? pod.namespace().equals(p.namespace())
                    : peer.namespaceSelector().matches(model.namespaceLabels(pod.namespace()));
                if (nsMatches && (peer.podSelector() == null || peer.podSelector().matches(pod.labels())))
                {
                    hosts(q, out);
                }
            }
        }
        return out;
    }

    /** The port's addresses (a pod without status IPs has the one the layout gave it). */
    private static void hosts(final BridgeLayout.PodPort port, final List<Target> out)
    {
        for (final InetAddress ip : port.ips())
        {
            out.add(new Target(host(ip), port.pod()));
        }
    }

    private static Cidr host(final InetAddress ip)
    {
        return Cidr.of(ip, Ip.isIpv6(ip) ? 128 : 32);
    }

    /** A protocol (null: any IP) and a {@code tp_dst} match (null: any port). */
    private record L4(Protocol protocol, String tpDst)
    {
    }

    /**
     * The rule's ports as L4 matches. A named port needs the destination pod; without one (an
     * address that is no pod) it matches nothing, so it contributes no match at all.
     */
    private static List<L4> ports(final List<NetworkPolicy.Port> ports, final Pod destination)
    {
        final List<L4> out = new ArrayList<>();
        if (ports.isEmpty())
        {
            out.add(new L4(null, null));
            return out;
        }
        for (final NetworkPolicy.Port port : ports)
        {
            if (port.port() == null)
            {
                out.add(new L4(port.protocol(), null));
            }
            else if (port.port().isNamed())
            {
                if (destination == null)
                {
                    continue;
                }
                for (final ContainerPort cp : destination.ports())
                {
                    if (cp.name().equals(port.port().name()) && cp.protocol() == port.protocol())
                    {
                        out.add(new L4(port.protocol(), "tp_dst=" + cp.port()));
                    }
                }
            }
            else
            {
                final int first = port.port().number();
                final int last = port.endPort() == null ? first : port.endPort();
                for (final String m : Matches.portRange(first, last))
                {
                    out.add(new L4(port.protocol(), m));
                }
            }
        }
        return out;
    }
}
