package dev.junction.control.flows;

import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.EgressIp;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.Pod;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

import static dev.junction.control.flows.SwitchFlows.hex;
import static dev.junction.control.flows.Stage.EGRESS_REROUTE;
import static dev.junction.control.flows.Stage.GATEWAY_DISPATCH;
import static dev.junction.control.flows.Stage.GATEWAY_SNAT;

/**
 * EgressIP: a selected pod's traffic to outside the cluster leaves from its egress node with the
 * egress IP as source. On the pod's node ovn_cluster_router's policy (OVN-K's reroute, priority
 * 100 in {@code lr_in_policy}) sends it to that node's gateway router instead of its own (through
 * the tunnel when the egress node is another node's bridge); the egress node's router SNATs the
 * pod's address to the egress IP, above its node-address SNAT. The EgressFirewall stage runs
 * before the reroute, on the pod's node.
 *
 * <p>Which: the first EgressIP of the model (sorted by name) whose namespace and pod selectors
 * match the pod; per address family, of its status items the first whose node has a gateway
 * router with an address of that family and an egress IP of it: an IPv6 egress IP moves the
 * pod's IPv6 traffic, an IPv4 one its IPv4 traffic (a dual-stack EgressIP both). OVN-K balances a pod over all assigned egress IPs (ECMP); one is taken here. An
 * EgressIP with no usable assignment leaves its pods on their node's SNAT.
 */
final class EgressIpFlows
{
    static final int REROUTE_PRIORITY = 100;
    static final int SNAT_PRIORITY = 100;

    /** Where a pod's traffic leaves and with which address. */
    record Choice(EgressIp egressIp, GatewayPort gateway, InetAddress address)
    {
    }

    private EgressIpFlows()
    {
    }

    static String owner(final BridgeLayout.PodPort p)
    {
        return EgressFlows.EGRESS_IP_OWNER + p.name();
    }

    /** The pod's reroute (when it sends on this bridge) and its SNAT (when its egress router is on this bridge), per family. */
    static void forPod(final FlowSet f, final ClusterModel model, final BridgeLayout layout, final BridgeLayout.PodPort p)
    {
        f.owner(owner(p));
        for (final boolean v6 : new boolean[] {false, true})
        {
            final Choice c = choose(model, layout, p, v6).orElse(null);
            final InetAddress podIp = p.ip(v6).orElse(null);
            if (c == null || podIp == null)
            {
                continue;
            }
            final String ip = Matches.ipToken(v6);
            if (p.local())
            {
                f.add(EGRESS_REROUTE, REROUTE_PRIORITY, ip + ",reg14=" + hex(p.key()),
                    "load:" + hex(c.gateway().key()) + "->NXM_NX_REG9[]," + GATEWAY_DISPATCH.gotoHere());
            }
            if (c.gateway().local())
            {
                f.add(GATEWAY_SNAT, SNAT_PRIORITY, ip + ",reg9=" + hex(c.gateway().key()) + "," + Matches.address(true, podIp),
                    GatewayFlows.snat(c.address()));
            }
        }
    }

    /** The EgressIP and assignment that take the pod's traffic of a family out, if any. */
    static Optional<Choice> choose(final ClusterModel model, final BridgeLayout layout, final BridgeLayout.PodPort p,
        final boolean ipv6)
    {
        final EgressIp e = matching(model, p.pod());
        if (e == null)
        {
            return Optional.empty();
        }
        for (final EgressIp.Assignment a : e.assignments())
        {
            final Optional<GatewayPort> gw = usable(layout, a, ipv6);
            if (gw.isPresent())
            {
                return Optional.of(new Choice(e, gw.get(), a.egressIp()));
            }
        }
        return Optional.empty();
    }

    /** The gateway router that can send {@code a}'s egress IP, when it is of the family and its node's router has that family. */
    private static Optional<GatewayPort> usable(final BridgeLayout layout, final EgressIp.Assignment a, final boolean ipv6)
    {
        if (Ip.isIpv6(a.egressIp()) != ipv6)
        {
            return Optional.empty();
        }
        return layout.gateway(a.node()).filter(g -> g.ip(ipv6) != null);
    }

    static EgressIp matching(final ClusterModel model, final Pod pod)
    {
        for (final EgressIp e : model.egressIps())
        {
            if (e.namespaceSelector().matches(model.namespaceLabels(pod.namespace())) && e.podSelector().matches(pod.labels()))
            {
                return e;
            }
        }
        return null;
    }

    /** EgressIPs that select pods but cannot move them. */
    static void notes(final ClusterModel model, final BridgeLayout layout, final List<String> notes)
    {
        for (final EgressIp e : model.egressIps())
        {
            if (e.assignments().stream().noneMatch(a -> usable(layout, a, Ip.isIpv6(a.egressIp())).isPresent()))
            {
                notes.add("EgressIP " + e.name() + ": no status item names an egress IP on a node whose gateway router, "
                    + "known to this bridge, has that address family: its pods leave with their node's address");
            }
        }
    }
}
