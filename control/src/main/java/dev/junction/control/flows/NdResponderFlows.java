package dev.junction.control.flows;

import dev.junction.control.k8s.Ip;

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
 */
final class NdResponderFlows
{
    /** ND reserved word flags: router, solicited, override (RFC 4861 4.4). */
    private static final long ROUTER = 0x80000000L;
    private static final long SOLICITED = 0x40000000L;
    private static final long OVERRIDE = 0x20000000L;
    static final String SOLICITATION = "icmp6,icmpv6_type=135,icmpv6_code=0";

    private NdResponderFlows()
    {
    }

    static void fixed(final FlowSet f)
    {
        f.owner("bridge");
        f.add(ND_ADVERT, 100, "icmp6,icmpv6_type=136,icmpv6_code=0", "move:NXM_OF_ETH_SRC[]->NXM_NX_ND_TLL[],in_port");
        f.add(ND_ADVERT, 0, "", "drop");
        f.add(ND_PORT_SECURITY, 0, "", "drop");
    }

    /** The gateway's IPv6 addresses answer as a router. */
    static void forSwitch(final FlowSet f, final BridgeLayout.Switch sw)
    {
        f.owner("switch:" + sw.node());
        for (final InetAddress gw : sw.gatewayIps())
        {
            if (Ip.isIpv6(gw))
            {
                advertise(f, sw, gw, sw.gatewayMac(), ROUTER | SOLICITED | OVERRIDE);
            }
        }
    }

    /**
     * A pod's solicitations (from its own MAC and address, the source link-layer option absent or
     * its MAC, as OVN's port_sec_nd) go to the responder; its addresses answer for it, except to itself.
     * The option is checked in a table of its own that only solicitations reach: a match on
     * nd_sll where every ICMPv6 packet of the port is looked up makes OVS un-wildcard it for all
     * of them, which their datapath keys cannot hold, and its revalidator deletes those megaflows.
     */
    static void forPort(final FlowSet f, final BridgeLayout.PodPort p)
    {
        f.owner("pod:" + p.name());
        final String classify = "load:" + SwitchFlows.hex(p.key()) + "->NXM_NX_REG14[],load:" + SwitchFlows.hex(p.lbZone())
            + "->NXM_NX_REG12[],set_field:" + p.sw().key() + "->metadata," + ND_PORT_SECURITY.gotoHere();
        for (final String sll : p.ips().stream().anyMatch(Ip::isIpv6) ? new String[] {"00:00:00:00:00:00", p.mac()} : new String[0])
        {
            f.add(ND_PORT_SECURITY, 100, "reg14=" + SwitchFlows.hex(p.key()) + "," + SOLICITATION + ",nd_sll=" + sll,
                ARP_RESPONDER.gotoHere());
        }
        for (final InetAddress ip : p.ips())
        {
            if (!Ip.isIpv6(ip))
            {
                continue;
            }
            f.add(PORT_SECURITY, 110, "in_port=" + p.ofport() + ",dl_src=" + p.mac() + "," + SOLICITATION + ","
                + Matches.address(true, ip), classify);
            advertise(f, p.sw(), ip, p.mac(), SOLICITED | OVERRIDE);
            // A pod asking for its own address (duplicate address detection) hears nothing.
            f.add(ARP_RESPONDER, 110, "reg14=" + SwitchFlows.hex(p.key()) + "," + SOLICITATION + ",nd_target=" + Ip.text(ip),
                "drop");
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
