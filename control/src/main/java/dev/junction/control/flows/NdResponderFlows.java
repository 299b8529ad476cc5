package dev.junction.control.flows;

import dev.junction.control.k8s.Ip;
import dev.junction.control.topology.OvnNames;

import java.net.InetAddress;

import static dev.junction.control.flows.Stage.*;

/**
 * IPv6 neighbour discovery answered in the flows, as OVN's ls_in_arp_rsp answers it with
 * {@code nd_na} / {@code nd_na_router}: a pod's neighbour solicitation for the switch's gateway
 * or another of its pods becomes, in place, the neighbour advertisement (router flag for the
 * gateway; solicited and override; the target's link-layer address option) and goes back out of
 * the port it came from. OVN composes it in pinctrl; here it is set fields only, OVS's ND
 * extensions included ({@code nd_reserved} for the flags, {@code nd_options_type} to turn the
 * source link-layer address option into a target one, the checksum recomputed by the datapath).
 *
 * <p>Two tables, because OVS checks a set-field's prerequisites against the flow's match: the
 * solicitation's flow (type 135) may rewrite the type, but only a flow matching an advertisement
 * (type 136) may write {@code nd_tll}; by then the Ethernet source is the target's MAC.
 *
 * <p>Link-local addresses, as OVN has them: the cluster router's port answers for its
 * {@code fe80::} address (EUI-64 of its MAC, OVN's {@code in6_generate_lla}; northd lists it
 * among the router port's addresses, so ls_in_arp_rsp answers it with {@code nd_na_router}).
 * A port's own link-local address passes its port security (ls_in_port_sec_ip allows it next to
 * the port's addresses), and so does duplicate address detection: a solicitation from {@code ::}
 * to a multicast group ({@code ip6.src == :: && ip6.dst == ff02::/16}). The flows never answer
 * DAD (an advertisement back to {@code ::} means nothing): it is flooded ({@link FloodFlows}), so
 * the holder of the address answers it to all-nodes as RFC 4861 has it, as is every solicitation
 * the responder does not answer. Router solicitations get no answer: OVN sends router
 * advertisements only for a router port with {@code ipv6_ra_configs}, which OVN-K does not set;
 * they pass port security (from the link-local address) and are flooded to the switch's ports.
 */
final class NdResponderFlows
{
    /** ND reserved word flags: router, solicited, override (RFC 4861 4.4). */
    private static final long ROUTER = 0x80000000L;
    private static final long SOLICITED = 0x40000000L;
    private static final long OVERRIDE = 0x20000000L;
    static final String SOLICITATION = "icmp6,icmpv6_type=135,icmpv6_code=0";
    /** Duplicate address detection: a solicitation from the unspecified address to a link-scope group. */
    private static final String DAD = SOLICITATION + ",ipv6_src=::,ipv6_dst=ff02::/16";

    private NdResponderFlows()
    {
    }

    static void fixed(final FlowSet f)
    {
        f.owner("bridge");
        f.add(ND_ADVERT, 100, "icmp6,icmpv6_type=136,icmpv6_code=0", "move:NXM_OF_ETH_SRC[]->NXM_NX_ND_TLL[],in_port");
        f.add(ND_ADVERT, 0, "", "drop");
        f.add(ND_PORT_SECURITY, 0, "", "drop");
        // DAD is never answered, whoever holds the target (see the class comment); above every advertisement.
        f.add(ARP_RESPONDER, 105, SOLICITATION + ",ipv6_src=::", FloodFlows.UNANSWERED);
    }

    /** The gateway's IPv6 addresses and its link-local one answer as a router. */
    static void forSwitch(final FlowSet f, final BridgeLayout.Switch sw)
    {
        f.owner("switch:" + sw.node());
        boolean v6 = false;
        for (final InetAddress gw : sw.gatewayIps())
        {
            if (Ip.isIpv6(gw))
            {
                advertise(f, sw, gw, sw.gatewayMac(), ROUTER | SOLICITED | OVERRIDE);
                v6 = true;
            }
        }
        // Only an IPv6 port asks (an IPv4-only one sends no IPv6 through its port security).
        if (v6)
        {
            advertise(f, sw, OvnNames.linkLocal(sw.gatewayMac()), sw.gatewayMac(), ROUTER | SOLICITED | OVERRIDE);
        }
    }

    /**
     * A port's solicitations (from its own MAC and address, its link-local address or, for DAD,
     * {@code ::}; the source link-layer option absent or its MAC, as OVN's port_sec_nd) go to the
     * responder; its addresses answer for it, except to itself. Its other link-local traffic
     * passes port security like that of its addresses.
     * The option is checked in a table of its own that only solicitations reach: a match on
     * nd_sll where every ICMPv6 packet of the port is looked up makes OVS un-wildcard it for all
     * of them, which their datapath keys cannot hold, and its revalidator deletes those megaflows.
     */
    static void forPort(final FlowSet f, final LogicalPort p)
    {
        if (p.ip(true).isEmpty())
        {
            return;
        }
        f.owner(p.owner());
        final String toNdSecurity = SwitchFlows.classify(p) + ND_PORT_SECURITY.gotoHere();
        final String in = "in_port=" + p.ofport() + ",dl_src=" + p.mac();
        for (final String sll : new String[] {"00:00:00:00:00:00", p.mac()})
        {
            f.add(ND_PORT_SECURITY, 100, "reg14=" + SwitchFlows.hex(p.key()) + "," + SOLICITATION + ",nd_sll=" + sll,
                ARP_RESPONDER.gotoHere());
        }
        final InetAddress linkLocal = OvnNames.linkLocal(p.mac());
        f.add(PORT_SECURITY, 110, in + "," + SOLICITATION + "," + Matches.address(true, linkLocal), toNdSecurity);
        f.add(PORT_SECURITY, 110, in + "," + DAD, toNdSecurity);
        f.add(PORT_SECURITY, 100, in + ",ipv6," + Matches.address(true, linkLocal), SwitchFlows.classify(p) + PRE_LB.gotoHere());
        for (final InetAddress ip : p.ips())
        {
            if (!Ip.isIpv6(ip))
            {
                continue;
            }
            f.add(PORT_SECURITY, 110, in + "," + SOLICITATION + "," + Matches.address(true, ip), toNdSecurity);
            advertise(f, p.sw(), ip, p.mac(), SOLICITED | OVERRIDE);
            // A pod asking for its own address hears no answer from the flows; the others hear it (FloodFlows).
            f.add(ARP_RESPONDER, 110, "reg14=" + SwitchFlows.hex(p.key()) + "," + SOLICITATION + ",nd_target=" + Ip.text(ip),
                FloodFlows.UNANSWERED);
        }
    }

    private static void advertise(final FlowSet f, final BridgeLayout.Switch sw, final InetAddress target, final String mac,
        final long flags)
    {
        f.add(ARP_RESPONDER, 100, "metadata=" + sw.key() + "," + SOLICITATION + ",nd_target=" + Ip.text(target),
            advertiseActions(target, mac, flags));
    }

    /** A router's advertisement: as {@link #forSwitch}'s gateway answers (router, solicited, override). */
    static String routerAdvertiseActions(final InetAddress target, final String mac)
    {
        return advertiseActions(target, mac, ROUTER | SOLICITED | OVERRIDE);
    }

    /** The solicitation turned into the advertisement that {@code target} is at {@code mac}; {@link Stage#ND_ADVERT} sends it back. */
    private static String advertiseActions(final InetAddress target, final String mac, final long flags)
    {
        return "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:" + mac + "->eth_src,"
            + "move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[],set_field:" + Ip.text(target) + "->ipv6_src,"
            + "set_field:136->icmpv6_type,set_field:" + flags + "->nd_reserved,set_field:2->nd_options_type,"
            + ND_ADVERT.resubmitHere();
    }
}
