package dev.junction.control.flows;

import dev.junction.control.k8s.Cidr;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.Node;
import dev.junction.control.topology.OvnNames;
import dev.junction.control.yaml.SafeYaml;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A node's gateway router {@code GR_<node>} as the bridge sees it (OVN-K shared gateway mode):
 * its external port (the node's br-ex side) with the node's address and MAC, and the next hop
 * (the node's default gateway) whose MAC the router writes on what leaves.
 *
 * <p>Where the values come from: OVN-K's {@code k8s.ovn.org/l3-gateway-config} annotation
 * ({@code {"default":{"mode":"shared","mac-address":...,"ip-addresses":["172.18.0.2/16"],
 * "next-hops":["172.18.0.1"]}}}) when the node has it; else the node's first IPv4 InternalIP,
 * OVN-K's MAC of that address ({@code 0a:58:} + address) and the first host of the address's
 * /24 as next hop. The next hop's MAC is not in the annotation (OVN learns it by ARP, which
 * needs a packet-in handler we do not have): {@link #NEXT_HOP_MAC} names it, else OVN-K's MAC
 * of the next hop's address.
 *
 * <p>{@code ofport} is the external port on this bridge; 0 for another node's router in the node
 * layout (reached through the tunnel). {@code key} is the node switch's key: it names the router
 * in {@code reg9} and, or'ed with {@link BridgeLayout#GATEWAY_VNI}, in the tunnel's VNI.
 */
public record GatewayPort(String node, int key, int ofport, InetAddress ip, String mac, InetAddress nextHop,
    String nextHopMac)
{
    public static final String L3_GATEWAY_CONFIG = "k8s.ovn.org/l3-gateway-config";
    /** Junction's own: the next hop's MAC (OVN resolves it by ARP). */
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
     * The router of {@code node} on switch {@code key}, or empty when the node has no IPv4
     * address (no InternalIP, no annotation). A malformed annotation is reported in {@code notes}
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
            final InetAddress ip = first(config, "ip-addresses", "ip-address")
                .map(a -> Cidr.parse(a.contains("/") ? a : a + "/32").address())
                .filter(a -> !Ip.isIpv6(a))
                .or(() -> node.internalIps().stream().filter(a -> !Ip.isIpv6(a)).findFirst())
                .orElse(null);
            if (ip == null)
            {
                notes.add("node " + node.name() + " has no IPv4 address: no gateway router, its pods do not reach outside");
                return Optional.empty();
            }
            final InetAddress nextHop = first(config, "next-hops", "next-hop").map(Ip::parse)
                .orElseGet(() -> Cidr.of(ip, 24).host(1));
            final String mac = config.get("mac-address") instanceof String m ? m.toLowerCase(java.util.Locale.ROOT) : OvnNames.mac(ip);
            final String nextHopMac = node.annotations().getOrDefault(NEXT_HOP_MAC, OvnNames.mac(nextHop))
                .toLowerCase(java.util.Locale.ROOT);
            return Optional.of(new GatewayPort(node.name(), key, ofport, ip, mac, nextHop, nextHopMac));
        }
        catch (final RuntimeException e)
        {
            notes.add("node " + node.name() + ": bad gateway address (" + e.getMessage() + "): no gateway router");
            return Optional.empty();
        }
    }

    /** The first IPv4 entry of a list field, else the single field. */
    private static Optional<String> first(final Map<?, ?> config, final String list, final String single)
    {
        if (config.get(list) instanceof List<?> l)
        {
            for (final Object o : l)
            {
                if (o instanceof String s && !s.contains(":"))
                {
                    return Optional.of(s);
                }
            }
        }
        return config.get(single) instanceof String s && !s.isEmpty() && !s.contains(":") ? Optional.of(s) : Optional.empty();
    }
}
