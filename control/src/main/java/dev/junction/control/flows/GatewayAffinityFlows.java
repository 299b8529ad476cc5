package dev.junction.control.flows;

import dev.junction.control.k8s.Ip;

import java.net.InetAddress;
import java.util.List;

import static dev.junction.control.flows.Stage.*;
import static dev.junction.control.flows.SwitchFlows.hex;

/**
 * {@code sessionAffinity: ClientIP} on the gateway routers' load balancers, as OVN's
 * {@code lr_in_lb_aff_check} / {@code lr_in_lb_aff_learn} on {@code GR_<node>}: an outside
 * client's new connection to a node port, external IP or LB ingress IP of an affine service goes
 * to the backend it had last, for {@code timeoutSeconds} after its last packet to the VIP, then is
 * balanced again ({@link AffinityStages#ROUTER}, the node switches' stages on other tables).
 *
 * <p>The learned flows are the router's: they match the external port the client came in on (one
 * per router), as OVN's match the router's datapath, so an external IP on two routers with
 * different backends (externalTrafficPolicy Local) keeps a client's backend per router. The
 * router's key in {@code reg9} is loaded again before the commit: IPv6's backend registers
 * ({@link AffinityRegisters}) include {@code reg9}. The connection's {@code ct_mark} in the DNAT
 * zone gets bit 2 (0x4, as on the switches): its established packets from the client look their
 * learned flow up again, restarting its idle timer.
 */
final class GatewayAffinityFlows
{
    /** ct_mark bit in the DNAT zone: the connection is affine. */
    static final int MARK_AFFINITY = 0x4;
    /** Above the established non-replies' default (50) in the DNAT stage. */
    private static final int REFRESH = 60;
    private static final boolean[] FAMILIES = {false, true};

    private GatewayAffinityFlows()
    {
    }

    static void fixed(final FlowSet f)
    {
        AffinityStages.ROUTER.defaults(f);
    }

    /** One router: its affine connections' packets from the client refresh their learned flow. */
    static void forGateway(final FlowSet f, final GatewayPort gw)
    {
        for (final boolean v6 : FAMILIES)
        {
            if (gw.ip(v6) == null)
            {
                continue; // a family the router does not have
            }
            f.add(GATEWAY_DNAT, REFRESH, "ct_state=-new+est-rpl+trk,ct_mark=" + hex(MARK_AFFINITY) + "/" + hex(MARK_AFFINITY) + ","
                + Matches.ipToken(v6) + ",reg9=" + hex(gw.key()),
                AffinityStages.ROUTER.refresh(AffinityRegisters.of(v6)) + "," + routerKey(gw) + GATEWAY_CHK_PKT_LEN.gotoHere());
        }
    }

    /**
     * One affine VIP of one router: {@code match} is its new connections in the DNAT stage,
     * {@code mark} the ct_mark its connections get, {@code hashFields} the select group's.
     */
    static void vip(final FlowSet f, final GatewayPort gw, final InetAddress vip, final long key, final String match, final int mark,
        final List<String> backends, final GatewayLoadBalancerFlows.Groups groups, final String hashFields, final int timeoutSeconds)
    {
        final AffinityRegisters regs = AffinityRegisters.of(Ip.isIpv6(vip));
        final String router = "in_port=" + gw.ofport() + ",";
        final String vipRegs = regs.matchVip(vip, key);
        final StringBuilder buckets = new StringBuilder();
        for (int i = 0; i < backends.size(); i++)
        {
            buckets.append(",bucket=bucket_id=").append(i).append(",weight:100,actions=")
                .append(AffinityStages.ROUTER.bucket(regs, backends.get(i)));
        }
        final int gid = groups.name("type=select,selection_method=hash,fields(" + hashFields + ")" + buckets);
        f.add(GATEWAY_DNAT, 100, match, regs.loadVip(vip, key) + AffinityStages.ROUTER.lookup());
        for (final String b : backends)
        {
            f.add(GATEWAY_AFFINITY, 110, AffinityStages.ROUTER.hit(regs, router, vipRegs, b),
                routerKey(gw) + GatewayLoadBalancerFlows.commit(b, mark | MARK_AFFINITY));
        }
        f.add(GATEWAY_AFFINITY, 100, router + vipRegs, "group:" + gid);
        f.add(GATEWAY_AFFINITY_LEARN, 100, router + vipRegs,
            AffinityStages.ROUTER.remember(regs, timeoutSeconds, "NXM_OF_IN_PORT[],"));
    }

    private static String routerKey(final GatewayPort gw)
    {
        return "load:" + hex(gw.key()) + "->NXM_NX_REG9[],";
    }
}
