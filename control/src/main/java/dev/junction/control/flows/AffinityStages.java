package dev.junction.control.flows;

import dev.junction.control.k8s.Protocol;

import java.net.InetAddress;

import static dev.junction.control.flows.Stage.*;

/**
 * The three stages of ClientIP affinity, as OVN's {@code lb_aff_check}, {@code lb} and
 * {@code lb_aff_learn} on a switch or a router: a new connection to an affine VIP looks its
 * client up in the learned flows ({@link #check}); a hit ({@code reg10} bit 14, OVN's
 * {@code chk_lb_aff}) carries the remembered backend, which wins in {@link #decide}; a miss goes
 * to the VIP's select group, whose bucket loads its backend and goes to {@link #learn}, which
 * remembers it with {@code idle_timeout=timeoutSeconds} and decides again, now a hit. The
 * registers are {@link AffinityRegisters}'; what the commit does is the caller's.
 */
final class AffinityStages
{
    /** The node switches' stages (LoadBalancerFlows). */
    static final AffinityStages SWITCH = new AffinityStages(LB_AFFINITY_CHECK, LB_AFFINITY, LB_AFFINITY_LEARN);
    /** The gateway routers' stages (GatewayAffinityFlows). */
    static final AffinityStages ROUTER = new AffinityStages(GATEWAY_AFFINITY_CHECK, GATEWAY_AFFINITY, GATEWAY_AFFINITY_LEARN);

    private static final String HIT = "reg10=0x4000/0x4000,";
    private static final String SET_HIT = "load:0x1->NXM_NX_REG10[14]";

    final Stage check;
    final Stage decide;
    final Stage learn;

    private AffinityStages(final Stage check, final Stage decide, final Stage learn)
    {
        this.check = check;
        this.decide = decide;
        this.learn = learn;
    }

    /** Defaults: nothing unasked passes. */
    void defaults(final FlowSet f)
    {
        f.add(check, 0, "", "drop");
        f.add(decide, 0, "", "drop");
        f.add(learn, 0, "", "drop");
    }

    /** After the VIP's registers are loaded: the learned backend, if any, then the decision. */
    String lookup()
    {
        return check.resubmitHere() + "," + decide.resubmitHere();
    }

    /** An established affine packet looks its learned flow up again: its idle timer restarts. */
    String refresh(final AffinityRegisters regs)
    {
        return regs.moveVipFromConntrack() + check.resubmitHere();
    }

    /** A select group's bucket: its backend into the registers, then remembered. */
    String bucket(final AffinityRegisters regs, final String backend)
    {
        return regs.loadBackend(AffinityRegisters.backendAddress(backend)) + learn.resubmitHere();
    }

    /** The decision's match for a hit on {@code backend} of this VIP ({@code scope}: more fields, ending in a comma). */
    String hit(final AffinityRegisters regs, final String scope, final String vipRegs, final String backend)
    {
        return HIT + scope + vipRegs + "," + regs.matchBackend(AffinityRegisters.backendAddress(backend));
    }

    /**
     * The learn stage's action: a flow in {@link #check} matching the client's address, the
     * fields named in {@code scopeFields} (e.g. {@code NXM_OF_IN_PORT[],}) and the VIP's
     * registers, loading the backend and the hit bit; then decided again.
     */
    String remember(final AffinityRegisters regs, final int timeoutSeconds, final String scopeFields)
    {
        return "learn(table=" + check.table + ",idle_timeout=" + timeoutSeconds + ",priority=100," + scopeFields
            + regs.learnSpecs() + "," + SET_HIT + ")," + SET_HIT + "," + decide.resubmitHere();
    }

    /** The VIP's key register value: IP protocol number and port. */
    static long key(final Protocol protocol, final int port)
    {
        final int ipProto = switch (protocol)
        {
            case TCP -> 6;
            case UDP -> 17;
            case SCTP -> 132;
        };
        return (long)ipProto << 16 | port;
    }

    static AffinityRegisters registers(final InetAddress vip)
    {
        return AffinityRegisters.of(vip.getAddress().length == 16);
    }
}
