package dev.junction.control.flows;

import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.Service;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Kubernetes network state to OpenFlow: the cluster model, laid out on one bridge
 * ({@link BridgeLayout}), becomes the flows of each logical stage ({@link Stage}) and the select
 * groups of the load balancers. The output is plain {@code ovs-ofctl} text, so the same flows
 * run in Junction and, loaded with {@code add-groups}/{@code add-flows}, in a real Open vSwitch.
 */
public final class FlowCompiler
{
    /**
     * What a compilation gives: flows and groups in ovs-ofctl syntax, the port layout they assume,
     * and what each ACL flow's cookie stands for (a policy's rule, or a default deny).
     */
    public record Compiled(BridgeLayout layout, FlowSet flows, List<String> groups, List<String> notes,
        Map<Long, String> aclCookies)
    {
        /** The flows as an add-flows file, its header naming each port's pod, MAC and addresses. */
        public String flowsText()
        {
            final StringBuilder sb = new StringBuilder();
            sb.append("# Flows derived by junction from Kubernetes manifests (ovs-ofctl add-flows syntax, OpenFlow 1.5).\n");
            sb.append("# Load the groups first: ovs-ofctl -O OpenFlow15 add-groups BRIDGE GROUPS; then add-flows.\n");
            for (final BridgeLayout.Switch sw : layout.switches())
            {
                sb.append("# switch ").append(sw.key()).append(" (node ").append(sw.node().isEmpty() ? "-" : sw.node())
                    .append("): ").append(sw.subnets()).append(", gateway ")
                    .append(sw.gatewayIps().stream().map(Ip::text).collect(Collectors.joining(" "))).append(' ')
                    .append(sw.gatewayMac()).append('\n');
            }
            for (final BridgeLayout.PodPort p : layout.ports())
            {
                sb.append("# port ").append(p.ofport()).append(": ").append(p.name()).append(' ').append(p.mac()).append(' ')
                    .append(p.ips().stream().map(Ip::text).collect(Collectors.joining(" "))).append(" (switch ")
                    .append(p.sw().key()).append(")\n");
            }
            for (final String l : flows.lines())
            {
                sb.append(l).append('\n');
            }
            return sb.toString();
        }

        public String groupsText()
        {
            final StringBuilder sb = new StringBuilder();
            for (final String g : groups)
            {
                sb.append(g).append('\n');
            }
            return sb.toString();
        }
    }

    private FlowCompiler()
    {
    }

    /** Every pod of the cluster on one bridge: what {@code probe} and {@code replay --manifests} run. */
    public static Compiled cluster(final ClusterModel model)
    {
        final BridgeLayout layout = BridgeLayout.cluster(model);
        final FlowSet f = new FlowSet();
        SwitchFlows.fixed(f);
        LoadBalancerFlows.fixed(f);
        for (final BridgeLayout.Switch sw : layout.switches())
        {
            SwitchFlows.forSwitch(f, sw);
        }
        for (final BridgeLayout.PodPort p : layout.ports())
        {
            SwitchFlows.forPort(f, p);
        }
        final AclFlows acls = new AclFlows(model, layout);
        for (final BridgeLayout.PodPort p : layout.ports())
        {
            acls.forPort(f, p);
        }
        final LoadBalancerFlows lbs = new LoadBalancerFlows(model, layout);
        for (final Service s : model.services())
        {
            lbs.forService(f, s);
        }
        final List<String> notes = new ArrayList<>(layout.notes());
        notes.addAll(lbs.notes());
        return new Compiled(layout, f, lbs.groups(), notes, Map.copyOf(acls.cookies()));
    }
}
