package dev.junction.control.flows;

import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.EndpointSlice;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.Node;
import dev.junction.control.k8s.Service;
import dev.junction.control.k8s.ServicePort;
import dev.junction.control.pinctrl.ControllerOps;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.junction.control.flows.Stage.*;
import static dev.junction.control.flows.SwitchFlows.hex;

/**
 * Services as load balancers on the node switches, as OVN-K configures OVN's: every VIP (cluster
 * IPs, external IPs, load-balancer ingress IPs, each node's address with the node port) and
 * port gets the ready endpoints of the service's EndpointSlices (or, when none is ready, the
 * serving ones that are terminating); a new connection to it picks one through a select group
 * and is DNATed and committed in the client port's LB zone; its replies get the VIP back when
 * they reach the client ({@link Stage#UN_DNAT}). {@code internalTrafficPolicy: Local} gives each
 * switch only its node's endpoints for the cluster IPs. {@code sessionAffinity: ClientIP}
 * remembers each client's backend in a learned flow that expires after {@code timeoutSeconds}
 * without a packet from the client to the service: every forward packet of an affine
 * connection looks the learned flow up again, so its idle timer counts from the client's last
 * packet. A VIP without endpoints rejects new connections, as OVN-K's load balancers with the
 * {@code reject} option: the packet goes to the controller, whose packet-in handler
 * ({@link dev.junction.control.pinctrl.Pinctrl}) answers with a TCP RST or ICMP unreachable.
 */
final class LoadBalancerFlows
{
    private static final String ZONE_LB = "zone=NXM_NX_REG12[0..15]";
    /** ct_mark bits: 0x2 load-balanced (un-DNAT replies), 0x4 with ClientIP affinity. */
    private static final int MARK_LB = 0x2;
    private static final int MARK_AFFINITY = 0x4;
    private static final int FIRST_GROUP = 1;

    private ClusterModel model;
    private BridgeLayout layout;
    /** The groups each service's flows name: a group goes when no service names it any more. */
    private final SelectGroups groups = new SelectGroups(FIRST_GROUP);
    private final List<String> notes = new ArrayList<>();
    private String service;

    LoadBalancerFlows(final ClusterModel model, final BridgeLayout layout)
    {
        this.model = model;
        this.layout = layout;
    }

    /** The next model and layout: services compiled from now on see them; group ids stay. */
    void update(final ClusterModel model, final BridgeLayout layout)
    {
        this.model = model;
        this.layout = layout;
    }

    /** A service is gone: its groups go unless another service names the same buckets. */
    void remove(final String serviceKey)
    {
        groups.release(serviceKey);
    }

    /** Flows every affinity service shares: established affine connections refresh their learned flow. */
    static void fixed(final FlowSet f)
    {
        f.owner("bridge");
        for (final boolean v6 : new boolean[] {false, true})
        {
            f.add(LB, 60, "ct_state=-new+est+trk,ct_mark=0x4/0x4," + Matches.ipToken(v6),
                AffinityStages.SWITCH.refresh(AffinityRegisters.of(v6)) + ",load:0x1->NXM_NX_REG0[1]," + PRE_STATEFUL.gotoHere());
        }
        AffinityStages.SWITCH.defaults(f);
    }

    /** The groups the current services name, by id. */
    List<String> groups()
    {
        return groups.lines();
    }

    List<String> notes()
    {
        return notes;
    }

    void forService(final FlowSet f, final Service svc)
    {
        f.owner("service:" + svc.key());
        service = svc.key();
        groups.restart(service);
        if (svc.headless())
        {
            return;
        }
        final List<EndpointSlice.Endpoint> endpoints = usableEndpoints(svc);
        for (final ServicePort sp : svc.ports())
        {
            for (final InetAddress vip : svc.clusterIps())
            {
                if ("Local".equals(svc.internalTrafficPolicy()))
                {
                    for (final BridgeLayout.Switch sw : layout.switches())
                    {
                        vip(f, svc, sp, vip, sp.port(), backends(svc, sp, endpoints, vip, sw.node()), "metadata=" + sw.key() + ",");
                    }
                    continue;
                }
                vip(f, svc, sp, vip, sp.port(), backends(svc, sp, endpoints, vip, null), "");
            }
            final List<InetAddress> external = new ArrayList<>(svc.externalIps());
            external.addAll(svc.loadBalancerIngress());
            for (final InetAddress vip : external)
            {
                vip(f, svc, sp, vip, sp.port(), backends(svc, sp, endpoints, vip, null), "");
            }
            if (sp.nodePort() > 0 && ("NodePort".equals(svc.type()) || "LoadBalancer".equals(svc.type())))
            {
                for (final Node node : model.nodes())
                {
                    for (final InetAddress vip : node.internalIps())
                    {
                        vip(f, svc, sp, vip, sp.nodePort(), backends(svc, sp, endpoints, vip, null), "");
                    }
                }
            }
        }
        // The same VIPs from outside, on the gateway routers.
        GatewayLoadBalancerFlows.forService(f, svc, layout.gateways(), (sp, vip, node) -> backends(svc, sp, endpoints, vip, node),
            body -> groups.name(service, body));
    }

    /** One VIP and port: its pre-LB conntrack pass and the LB decision. */
    private void vip(final FlowSet f, final Service svc, final ServicePort sp, final InetAddress vip, final int port,
        final List<String> backends, final String scope)
    {
        final boolean v6 = Ip.isIpv6(vip);
        final String match = Matches.protoToken(sp.protocol(), v6) + "," + Matches.address(false, vip) + ",tp_dst=" + port;
        f.add(PRE_LB, 100, match, "ct(table=" + LB.table + "," + ZONE_LB + ",nat)");
        final int priority = scope.isEmpty() ? 100 : 110;
        if (backends.isEmpty())
        {
            // OVN-K sets the LB's reject option: pinctrl answers a new connection with a RST or
            // ICMP unreachable (without a packet-in handler the packet is dropped, as before).
            f.add(LB, priority, "ct_state=+new+trk," + scope + match, ControllerOps.rejectAction());
            return;
        }
        final boolean affinity = svc.hasClientIpAffinity();
        final AffinityRegisters regs = AffinityRegisters.of(v6);
        final long key = AffinityStages.key(sp.protocol(), port);
        final String bucketHead = affinity ? "" : "ct(commit," + ZONE_LB + ",nat(dst=";
        final StringBuilder buckets = new StringBuilder();
        for (int i = 0; i < backends.size(); i++)
        {
            final String b = backends.get(i);
            buckets.append(",bucket=bucket_id=").append(i).append(",weight:100,actions=");
            if (affinity)
            {
                buckets.append(AffinityStages.SWITCH.bucket(regs, b));
            }
            else
            {
                buckets.append(bucketHead).append(b).append("),exec(set_field:").append(hex(MARK_LB)).append('/')
                    .append(hex(MARK_LB)).append("->ct_mark),table=").append(PRE_STATEFUL.table).append(')');
            }
        }
        final String hashFields = (v6 ? "ipv6_src,ipv6_dst," : "ip_src,ip_dst,") + sp.protocol().name().toLowerCase() + "_src,"
            + sp.protocol().name().toLowerCase() + "_dst";
        final String groupBody = "type=select,selection_method=hash,fields(" + hashFields + ")" + buckets;
        final int gid = groups.name(service, groupBody);
        if (!affinity)
        {
            f.add(LB, priority, "ct_state=+new+trk," + scope + match, "load:0x1->NXM_NX_REG0[1],group:" + gid);
            return;
        }
        // ClientIP affinity: the VIP and port registers are matched in every affinity table, so
        // an established connection (whose packets carry the backend by now) finds its learned
        // flow by conntrack's original destination.
        final String vipRegs = regs.matchVip(vip, key);
        f.add(LB, priority, "ct_state=+new+trk," + scope + match,
            regs.loadVip(vip, key) + "load:0x1->NXM_NX_REG0[1]," + AffinityStages.SWITCH.lookup());
        for (final String b : backends)
        {
            f.add(LB_AFFINITY, 110, AffinityStages.SWITCH.hit(regs, "", vipRegs, b),
                "ct(commit," + ZONE_LB + ",nat(dst=" + b + "),exec(set_field:" + hex(MARK_LB | MARK_AFFINITY) + '/'
                    + hex(MARK_LB | MARK_AFFINITY) + "->ct_mark),table=" + PRE_STATEFUL.table + ")");
        }
        f.add(LB_AFFINITY, 100, scope + vipRegs, "group:" + gid);
        f.add(LB_AFFINITY_LEARN, 100, vipRegs, AffinityStages.SWITCH.remember(regs, svc.affinityTimeoutSeconds(), ""));
    }

    /**
     * Ready endpoints; when a service has none, its serving endpoints that are terminating, so
     * connections drain to pods on their way out (what OVN-K and kube-proxy do).
     */
    private List<EndpointSlice.Endpoint> usableEndpoints(final Service svc)
    {
        final List<EndpointSlice.Endpoint> ready = new ArrayList<>();
        final List<EndpointSlice.Endpoint> terminating = new ArrayList<>();
        for (final EndpointSlice s : model.endpointSlicesOf(svc))
        {
            for (final EndpointSlice.Endpoint e : s.endpoints())
            {
                if (e.ready())
                {
                    ready.add(e);
                }
                else if (e.serving() && e.terminating())
                {
                    terminating.add(e);
                }
            }
        }
        return ready.isEmpty() ? terminating : ready;
    }

    /** {@code ADDR:PORT} of each backend of the VIP's family, optionally only those on {@code node}. */
    private List<String> backends(final Service svc, final ServicePort sp, final List<EndpointSlice.Endpoint> usable,
        final InetAddress vip, final String node)
    {
        final Set<String> out = new LinkedHashSet<>();
        for (final EndpointSlice s : model.endpointSlicesOf(svc))
        {
            Integer number = null;
            for (final EndpointSlice.Port p : s.ports())
            {
                if (p.protocol() == sp.protocol() && p.port() != null && nameOf(p.name()).equals(nameOf(sp.name())))
                {
                    number = p.port();
                }
            }
            if (number == null)
            {
                continue;
            }
            for (final EndpointSlice.Endpoint e : s.endpoints())
            {
                if (!usable.contains(e) || (node != null && !node.equals(e.nodeName())))
                {
                    continue;
                }
                for (final InetAddress a : e.addresses())
                {
                    if (Ip.isIpv6(a) == Ip.isIpv6(vip))
                    {
                        out.add(Ip.isIpv6(a) ? "[" + Ip.text(a) + "]:" + number : Ip.text(a) + ":" + number);
                    }
                }
            }
        }
        return new ArrayList<>(out);
    }

    private static String nameOf(final String name)
    {
        return name == null ? "" : name;
    }
}
