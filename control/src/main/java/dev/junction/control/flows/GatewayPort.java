package dev.junction.control.flows;

import dev.junction.control.k8s.Cidr;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.Node;
import dev.junction.control.topology.OvnNames;
import dev.junction.control.yaml.SafeYaml;

import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A node's gateway router {@code GR_<node>} as the bridge sees it (OVN-K shared gateway mode):
 * its external port (the node's br-ex side) with the node's addresses and MAC, and the next hop
 * (the node's default gateway) per address family.
 *
 * <p>Where the values come from: OVN-K's {@code k8s.ovn.org/l3-gateway-config} annotation
 * ({@code {"default":{"mode":"shared","mac-address":...,"ip-addresses":["172.18.0.2/16","fc00:f853::2/64"],
 * "next-hops":["172.18.0.1","fc00:f853::1"]}}}) when the node has it; else the node's first
 * InternalIP of each family, OVN-K's MAC of the IPv4 address ({@code 0a:58:} + address) and the
 * first host of the address's /24 (/64) as next hop. Either family may be missing: an IPv4-only
 * node, a dual-stack one, or an IPv6-only one (OVN-K's GR then has only IPv6 addresses). Without
 * IPv4, what came from the IPv4 address comes from the IPv6 one: the default MAC is OVN-K's
 * {@code util.IPAddrToHWAddr} of it ({@code 0a:58:} + SHA-256 bytes, {@link OvnNames#mac}), as
 * OVN-K derives a router port's MAC from its first address whatever its family; the tunnel to
 * another node's router goes to it ({@link #underlay}). The router's name, {@code reg9} and the
 * tunnel's VNI come from the node switch's key, not from an address, so they need no change.
 *
 * <p>The next hop's MAC, per family, is a static binding (OVN's Static_MAC_Binding) or, when
 * null, resolved on the external port by ARP / neighbour discovery and learned into
 * {@link Stage#GATEWAY_MAC_BINDING} (OVN's MAC_Binding). Static: {@link #NEXT_HOP_MAC} when the
 * node has it; else, for a node without l3-gateway-config (manifests written by hand), OVN-K's
 * MAC of the next hop's address. A node with l3-gateway-config and no {@link #NEXT_HOP_MAC} is a
 * real OVN-K node: its next hop is resolved, as OVN does.
 *
 * <p>{@code ofport} is the external port on this bridge; 0 for another node's router in the node
 * layout (reached through the tunnel). {@code key} is the node switch's key: it names the router
 * in {@code reg9} and, or'ed with {@link BridgeLayout#GATEWAY_VNI}, in the tunnel's VNI.
 */
public record GatewayPort(String node, int key, int ofport, InetAddress ip, String mac, InetAddress nextHop,
    String nextHopMac, InetAddress ip6, InetAddress nextHop6, String nextHopMac6)
{
    public static final String L3_GATEWAY_CONFIG = "k8s.ovn.org/l3-gateway-config";
    /** Junction's own: the next hop's MAC, a static binding for both families (else OVN resolves it by ARP / ND). */
    public static final String NEXT_HOP_MAC = "junction.dev/next-hop-mac";

    public boolean local()
    {
        return ofport != 0;
    }

    public String router()
    {
        return OvnNames.gatewayRouter(node);
    }

    /**
     * The address the Geneve tunnel reaches this router's node at: its IPv4 address when it has
     * one (as the pods' tunnel does), else its IPv6 address ({@code tun_ipv6_dst}).
     */
    public InetAddress underlay()
    {
        return ip != null ? ip : ip6;
    }

    /** The router's address of a family, or null (IPv6 on an IPv4-only node, IPv4 on an IPv6-only one). */
    public InetAddress ip(final boolean ipv6)
    {
        return ipv6 ? ip6 : ip;
    }

    public InetAddress nextHop(final boolean ipv6)
    {
        return ipv6 ? nextHop6 : nextHop;
    }

    /** The next hop's static MAC of a family; null when it is resolved by ARP / ND. */
    public String nextHopMac(final boolean ipv6)
    {
        return ipv6 ? nextHopMac6 : nextHopMac;
    }

    /**
     * The router of {@code node} on switch {@code key}, or empty when the node has no address of
     * either family (no InternalIP, no annotation). A malformed annotation is reported in {@code notes}
     * and the defaults are used.
     */
    public static Optional<GatewayPort> of(final Node node, final int key, final int ofport, final List<String> notes)
    {
        Map<?, ?> config = Map.of();
        final String text = node.annotations().get(L3_GATEWAY_CONFIG);
        if (text != null)
        {
            try
            {
                final Object doc = SafeYaml.yaml().load(text);
                final Object inner = doc instanceof Map<?, ?> m && m.get("default") instanceof Map<?, ?> d ? d : doc;
                if (!(inner instanceof Map<?, ?> c))
                {
                    throw new IllegalArgumentException("not an object");
                }
                config = c;
            }
            catch (final RuntimeException e)
            {
                notes.add("node " + node.name() + ": " + L3_GATEWAY_CONFIG + " unreadable (" + e.getMessage() + "): defaults used");
            }
        }
        try
        {
            final InetAddress ip = address(config, node, false);
            final InetAddress ip6 = address(config, node, true);
            if (ip == null && ip6 == null)
            {
                notes.add("node " + node.name() + " has no address: no gateway router, its pods do not reach outside");
                return Optional.empty();
            }
            final InetAddress nextHop = ip == null ? null : nextHop(config, ip, false);
            final InetAddress nextHop6 = ip6 == null ? null : nextHop(config, ip6, true);
            final String mac = config.get("mac-address") instanceof String m ? m.toLowerCase(Locale.ROOT)
                : OvnNames.mac(ip != null ? ip : ip6);
            final String given = node.annotations().get(NEXT_HOP_MAC);
            final boolean resolved = given == null && text != null;
            final String nextHopMac = resolved || nextHop == null ? null
                : given != null ? given.toLowerCase(Locale.ROOT) : OvnNames.mac(nextHop);
            final String nextHopMac6 = resolved || nextHop6 == null ? null
                : given != null ? given.toLowerCase(Locale.ROOT) : OvnNames.mac(nextHop6);
            return Optional.of(new GatewayPort(node.name(), key, ofport, ip, mac, nextHop, nextHopMac, ip6, nextHop6, nextHopMac6));
        }
        catch (final RuntimeException e)
        {
            notes.add("node " + node.name() + ": bad gateway address (" + e.getMessage() + "): no gateway router");
            return Optional.empty();
        }
    }

    /** The router's address of a family: the annotation's, else the node's first InternalIP of it; null when none. */
    private static InetAddress address(final Map<?, ?> config, final Node node, final boolean ipv6)
    {
        return first(config, "ip-addresses", "ip-address", ipv6)
            .map(a -> Cidr.parse(a.contains("/") ? a : a + (ipv6 ? "/128" : "/32")).address())
            .or(() -> node.internalIps().stream().filter(a -> Ip.isIpv6(a) == ipv6).findFirst())
            .orElse(null);
    }

    /** The annotation's next hop of the address's family, else the first host of its /24 (/64). */
    private static InetAddress nextHop(final Map<?, ?> config, final InetAddress ip, final boolean ipv6)
    {
        return first(config, "next-hops", "next-hop", ipv6).map(Ip::parse).orElseGet(() -> Cidr.of(ip, ipv6 ? 64 : 24).host(1));
    }

    /** The first entry of a family in a list field, else the single field when it is of that family. */
    private static Optional<String> first(final Map<?, ?> config, final String list, final String single, final boolean ipv6)
    {
        if (config.get(list) instanceof List<?> l)
        {
            for (final Object o : l)
            {
                if (o instanceof String s && s.contains(":") == ipv6)
                {
                    return Optional.of(s);
                }
            }
        }
        return config.get(single) instanceof String s && !s.isEmpty() && s.contains(":") == ipv6 ? Optional.of(s) : Optional.empty();
    }
}
