package dev.junction.control.flows;

import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.Ip;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Kubernetes network state to OpenFlow: the cluster model, laid out on one bridge
 * ({@link BridgeLayout}), becomes the flows of each logical stage ({@link Stage}) and the select
 * groups of the load balancers. The output is plain {@code ovs-ofctl} text, so the same flows
 * run in Junction and, loaded with {@code add-groups}/{@code add-flows}, in a real Open vSwitch.
 */
public final class FlowCompiler
{
    /** What a compilation gives: flows and groups in ovs-ofctl syntax, and the port layout they assume. */
    public record Compiled(BridgeLayout layout, FlowSet flows, List<String> groups, List<String> notes,
        java.util.Map<Long, String> aclCookies)
    {
        /** The flows as an add-flows file, its header naming each port's pod, MAC and addresses. */
        public String flowsText()
        {
            final StringBuilder sb = new StringBuilder();
            sb.append("# Flows derived by junction from Kubernetes manifests (ovs-ofctl add-flows syntax, OpenFlow 1.5).\n");
            sb.append("# Load the groups first: ovs-ofctl -O OpenFlow15 add-groups BRIDGE GROUPS; then add-flows.\n");
            layout.localSwitch().ifPresent(sw -> sb.append("# node ").append(sw.node()).append(": pods of other nodes through "
                + "the Geneve port ").append(BridgeLayout.TUNNEL_OFPORT).append(" (TLV map {class=0x102,type=0x80,len=4}->tun_metadata0)\n"));
            for (final BridgeLayout.Switch sw : layout.switches())
            {
                sb.append("# switch ").append(sw.key()).append(" (node ").append(sw.node().isEmpty() ? "-" : sw.node())
                    .append("): ").append(sw.subnets()).append(", gateway ")
                    .append(sw.gatewayIps().stream().map(Ip::text).collect(Collectors.joining(" "))).append(' ')
                    .append(sw.gatewayMac()).append('\n');
            }
            for (final GatewayPort g : layout.gateways())
            {
                sb.append("# gateway ").append(g.router()).append(g.local() ? ": port " + g.ofport() : ": through the tunnel, VNI "
                    + SwitchFlows.hex(BridgeLayout.GATEWAY_VNI | g.key())).append(g.ip() == null ? "" : " " + Ip.text(g.ip()))
                    .append(' ').append(g.mac()).append(g.ip6() == null ? "" : " " + Ip.text(g.ip6())).append(", next hop ")
                    .append(g.ip() == null ? nextHop(g, true) : nextHop(g, false) + (g.ip6() == null ? "" : ", " + nextHop(g, true)))
                    .append('\n');
            }
            for (final BridgeLayout.PodPort p : layout.ports())
            {
                sb.append("# port ").append(p.ofport()).append(": ").append(p.name()).append(' ').append(p.mac()).append(' ')
                    .append(p.ips().stream().map(Ip::text).collect(Collectors.joining(" "))).append(" (switch ")
                    .append(p.sw().key()).append(")\n");
            }
            for (final BridgeLayout.ManagementPort m : layout.managementPorts())
            {
                sb.append("# management port ").append(m.name()).append(m.local() ? ": port " + m.ofport() : ": through the tunnel")
                    .append(", key ").append(SwitchFlows.hex(m.key())).append(' ').append(m.mac()).append(' ')
                    .append(m.ips().stream().map(Ip::text).collect(Collectors.joining(" "))).append(" (switch ")
                    .append(m.sw().key()).append(")\n");
            }
            for (final String l : flows.lines())
            {
                sb.append(l).append('\n');
            }
            return sb.toString();
        }

        /** The flows and groups as tables a datapath runs (a parse failure is a compiler bug). */
        public dev.junction.flowtable.ofp.FlowTables tables() throws dev.junction.flowtable.ofp.FlowParseException
        {
            return FlowCompiler.tables(flows.lines(), groups);
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

    /**
     * Parses derived flow and group lines (as compiled, or as a journal restores them) into tables,
     * with the TLV map a node bridge's tunnel flows need (tun_metadata0: OVN's option).
     */
    public static dev.junction.flowtable.ofp.FlowTables tables(final List<String> flows, final List<String> groups)
        throws dev.junction.flowtable.ofp.FlowParseException
    {
        final dev.junction.flowtable.ofp.GroupTable g = new dev.junction.flowtable.ofp.GroupParser("groups").parseAll(groups);
        return new dev.junction.flowtable.ofp.FlowTables(new dev.junction.flowtable.ofp.FlowParser("flows").groups(g)
            .tunMetadata(dev.junction.flowtable.TunMetadataSlots.of(0)).parseAll(flows), g);
    }

    /** Every pod of the cluster on one bridge: what {@code probe} and {@code replay --manifests} run. */
    public static Compiled cluster(final ClusterModel model)
    {
        return cluster(model, DnsResolver.NONE);
    }

    /** As {@link #cluster(ClusterModel)}, EgressFirewall {@code dnsName} rules resolved by {@code dns}. */
    public static Compiled cluster(final ClusterModel model, final DnsResolver dns)
    {
        return cluster(model, dns, GatewayMtuFlows.DEFAULT_MTU);
    }

    /** As {@link #cluster(ClusterModel, DnsResolver)}, the gateway routers' MTU {@code gatewayMtu} (0: not checked). */
    public static Compiled cluster(final ClusterModel model, final DnsResolver dns, final int gatewayMtu)
    {
        return new IncrementalCompiler(model, BridgeLayout.cluster(model), dns, gatewayMtu).current();
    }

    /**
     * One node's bridge, as it runs under OVN-K: its pods are ports, the rest of the cluster is
     * behind the Geneve tunnel port (needs the TLV map {@code {class=0x102,type=0x80,len=4}->tun_metadata0}).
     */
    public static Compiled node(final ClusterModel model, final String node)
    {
        return node(model, node, DnsResolver.NONE);
    }

    /** As {@link #node(ClusterModel, String)}, EgressFirewall {@code dnsName} rules resolved by {@code dns}. */
    public static Compiled node(final ClusterModel model, final String node, final DnsResolver dns)
    {
        return node(model, node, dns, GatewayMtuFlows.DEFAULT_MTU);
    }

    /** As {@link #node(ClusterModel, String, DnsResolver)}, the gateway routers' MTU {@code gatewayMtu} (0: not checked). */
    public static Compiled node(final ClusterModel model, final String node, final DnsResolver dns, final int gatewayMtu)
    {
        return new IncrementalCompiler(model, BridgeLayout.node(model, node), dns, gatewayMtu).current();
    }

    /** {@code mtu} when it is a gateway MTU (0: not checked, else 68 to 65535); else IllegalArgumentException naming it. */
    public static int checkedGatewayMtu(final int mtu)
    {
        return GatewayMtuFlows.checked(mtu);
    }

    /** OVN-K's default MTU, the gateway routers' unless configured. */
    public static int defaultGatewayMtu()
    {
        return GatewayMtuFlows.DEFAULT_MTU;
    }

    /** The next hop of a family with its static MAC, or "resolved" (by ARP / ND). */
    private static String nextHop(final GatewayPort g, final boolean ipv6)
    {
        final String mac = g.nextHopMac(ipv6);
        return Ip.text(g.nextHop(ipv6)) + ' ' + (mac == null ? "resolved by " + (ipv6 ? "ND" : "ARP") : mac);
    }
}
