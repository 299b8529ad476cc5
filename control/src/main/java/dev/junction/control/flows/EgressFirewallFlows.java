package dev.junction.control.flows;

import dev.junction.control.k8s.EgressFirewall;
import dev.junction.control.k8s.Ip;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static dev.junction.control.flows.SwitchFlows.hex;
import static dev.junction.control.flows.Stage.EGRESS_FIREWALL;
import static dev.junction.control.flows.Stage.EGRESS_REROUTE;

/**
 * A namespace's EgressFirewall on each of its pods' traffic to outside the cluster (it only sees
 * what the cluster router's default route sent towards a gateway router). Rule {@code i} gets
 * priority {@link #START_PRIORITY} {@code - i}, as OVN-K numbers its ACLs, so the first rule that
 * matches decides; no match lets the packet through. Every packet is judged, not only a
 * connection's first: a rule change takes effect on open connections too, as OVN-K's ACLs do.
 *
 * <p>Destinations: {@code cidrSelector} of either family (a pod's IPv6 traffic leaves through
 * IPv6 gateway routers, so {@code ::/0} denies all of it), {@code dnsName} through the
 * {@link DnsResolver}, each resolved address in its family (a name that does not resolve matches
 * nothing), a rule's ports in the destination's family (tcp / tcp6),
 * {@code nodeSelector}: nothing (node addresses never take the gateway route, see
 * {@link GatewayFlows#clusterAddresses}).
 */
final class EgressFirewallFlows
{
    /** OVN-K's {@code types.EgressFirewallStartPriority}. */
    static final int START_PRIORITY = 10000;
    /** OVN-K refuses rules past this many ({@code MinimumReservedEgressFirewallPriority} is 2000). */
    static final int MAX_RULES = 8000;

    private EgressFirewallFlows()
    {
    }

    static String owner(final BridgeLayout.PodPort p)
    {
        return EgressFlows.FIREWALL_OWNER + p.name();
    }

    /** The rules of {@code firewall} (null: none) for one local pod. */
    static void forPort(final FlowSet f, final BridgeLayout.PodPort p, final EgressFirewall firewall, final DnsResolver dns)
    {
        f.owner(owner(p));
        if (firewall == null || p.ips().isEmpty())
        {
            return;
        }
        final String pod = "reg14=" + hex(p.key()) + ",";
        final List<EgressFirewall.Rule> rules = firewall.rules();
        for (int i = 0; i < Math.min(rules.size(), MAX_RULES); i++)
        {
            final EgressFirewall.Rule r = rules.get(i);
            final String action = r.action() == EgressFirewall.Action.Allow ? EGRESS_REROUTE.gotoHere() : "drop";
            for (final Destination to : destinations(r, dns))
            {
                if (p.ip(to.ipv6()).isEmpty())
                {
                    continue;
                }
                for (final String proto : protocols(r, to.ipv6()))
                {
                    f.add(EGRESS_FIREWALL, START_PRIORITY - i, pod + proto + (to.match().isEmpty() ? "" : "," + to.match()), action);
                }
            }
        }
    }

    /** One destination match of a rule ({@code ""}: anywhere) in its address family. */
    record Destination(boolean ipv6, String match)
    {
    }

    /** The destination matches of a rule, none when it names nothing reachable. */
    static List<Destination> destinations(final EgressFirewall.Rule r, final DnsResolver dns)
    {
        final Set<Destination> out = new LinkedHashSet<>();
        if (r.cidrSelector() != null)
        {
            out.add(new Destination(r.cidrSelector().isIpv6(), Matches.network(false, r.cidrSelector())));
        }
        else if (r.dnsName() != null)
        {
            for (final InetAddress ip : dns.resolve(r.dnsName()))
            {
                out.add(new Destination(Ip.isIpv6(ip), Matches.address(false, ip)));
            }
        }
        return new ArrayList<>(out);
    }

    private static List<String> protocols(final EgressFirewall.Rule r, final boolean ipv6)
    {
        if (r.ports().isEmpty())
        {
            return List.of(Matches.ipToken(ipv6));
        }
        final Set<String> out = new LinkedHashSet<>();
        for (final EgressFirewall.Port port : r.ports())
        {
            out.add(Matches.protoToken(port.protocol(), ipv6) + (port.port() == 0 ? "" : ",tp_dst=" + port.port()));
        }
        return new ArrayList<>(out);
    }

    /** What the firewalls could not express: unresolved names, node selectors. */
    static void notes(final List<EgressFirewall> firewalls, final DnsResolver dns, final List<String> notes)
    {
        for (final EgressFirewall fw : firewalls)
        {
            for (int i = 0; i < fw.rules().size(); i++)
            {
                final EgressFirewall.Rule r = fw.rules().get(i);
                final String where = "EgressFirewall " + fw.namespace() + "/" + fw.name() + " rule " + i + ": ";
                if (i >= MAX_RULES)
                {
                    notes.add(where + "past OVN-K's " + MAX_RULES + " rules, ignored");
                }
                else if (r.dnsName() != null && destinations(r, dns).isEmpty())
                {
                    notes.add(where + "dnsName " + r.dnsName() + " resolves to no address: it matches nothing");
                }
                else if (r.nodeSelector() != null)
                {
                    notes.add(where + "nodeSelector: node addresses never leave through a gateway router here, it matches nothing");
                }
            }
        }
    }
}
