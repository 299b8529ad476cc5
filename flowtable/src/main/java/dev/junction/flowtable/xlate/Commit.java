package dev.junction.flowtable.xlate;

import dev.junction.flowtable.Field;
import dev.junction.flowtable.FlowKey;

/**
 * Turns the difference between the translated flow and what the packet currently is into
 * datapath actions, in OVS's {@code commit_odp_actions} order: Ethernet, network layer (with ND
 * or ARP), transport ports, ICMP, then VLAN tags. Ethernet, IP and port sets carry a mask per
 * field, as OVS's masked sets; in ARP and ND sets values of -1 mean "leave as in the packet".
 */
final class Commit
{
    private Commit()
    {
    }

    /**
     * Commits; returns true when a rewrite was one OVS slow-paths (ARP, ND or ICMP fields), so
     * the megaflow must send every packet back to translation. Popping a tag the packet had makes
     * the megaflow match that tag exactly ({@code wc}).
     */
    static boolean commit(final FlowKey flow, final FlowKey base, final OdpActions out, final long[] wc)
    {
        boolean slow = false;
        final long[] f = flow.words;
        final long[] b = base.words;
        commitEth(flow, base, out, wc);
        if (flow.nwProto() != 0)
        {
            slow = commitNetwork(flow, base, out, wc);
            commitTransport(flow, base, out, wc);
        }
        slow |= commitIcmp(flow, base, out);
        commitVlan(flow, base, out, wc);
        base.copyFrom(flow);
        return slow;
    }

    /**
     * One Ethernet set for both addresses, as OVS's commit_set_ether_action: an address that
     * changed is written under the bits translation examined or set (the megaflow's mask), so
     * every packet of the megaflow keeps its own unexamined bits; an unchanged one is not written.
     */
    private static void commitEth(final FlowKey flow, final FlowKey base, final OdpActions out, final long[] wc)
    {
        final long[] f = flow.words;
        final long[] b = base.words;
        final long src = Field.DL_SRC.get(f);
        final long dst = Field.DL_DST.get(f);
        final long srcMask = src != Field.DL_SRC.get(b) ? Field.DL_SRC.get(wc) : 0;
        final long dstMask = dst != Field.DL_DST.get(b) ? Field.DL_DST.get(wc) : 0;
        if ((srcMask | dstMask) != 0)
        {
            out.add4(OdpActions.SET_ETH, src, srcMask, dst, dstMask);
        }
    }

    /**
     * One IPv4 set, as OVS's commit_set_ipv4_action: each changed field is written under the
     * megaflow's mask for it, unchanged ones not at all. A decapsulated packet's ECN bits are left
     * alone unless they changed (they were already set from the outer header).
     */
    private static void commitIpv4(final FlowKey flow, final FlowKey base, final OdpActions out, final long[] wc)
    {
        final long[] f = flow.words;
        final long[] b = base.words;
        final long src = Field.NW_SRC.get(f);
        final long dst = Field.NW_DST.get(f);
        final long tos = Field.NW_TOS.get(f);
        final long ttl = Field.NW_TTL.get(f);
        final long srcMask = src != Field.NW_SRC.get(b) ? Field.NW_SRC.get(wc) : 0;
        final long dstMask = dst != Field.NW_DST.get(b) ? Field.NW_DST.get(wc) : 0;
        long tosMask = tos != Field.NW_TOS.get(b) ? Field.NW_TOS.get(wc) : 0;
        if (FlowKey.hasTunnel(b) && ((tos ^ Field.NW_TOS.get(b)) & 0x03) == 0)
        {
            tosMask &= ~0x03L;
        }
        final long ttlMask = ttl != Field.NW_TTL.get(b) ? Field.NW_TTL.get(wc) : 0;
        if ((srcMask | dstMask | tosMask | ttlMask) != 0)
        {
            out.add0(OdpActions.SET_IPV4);
            out.operand(src);
            out.operand(srcMask);
            out.operand(dst);
            out.operand(dstMask);
            out.operand(tos);
            out.operand(tosMask);
            out.operand(ttl);
            out.operand(ttlMask);
        }
    }

    /**
     * One IPv6 set, as OVS's commit_set_ipv6_action: each changed field (addresses, tclass, label,
     * hop limit) under the megaflow's mask for it; a tunnel packet's unchanged ECN left alone.
     */
    private static void commitIpv6(final FlowKey flow, final FlowKey base, final OdpActions out, final long[] wc)
    {
        final long[] f = flow.words;
        final long[] b = base.words;
        final boolean src = f[FlowKey.W_IPV6_SRC] != b[FlowKey.W_IPV6_SRC]
            || f[FlowKey.W_IPV6_SRC + 1] != b[FlowKey.W_IPV6_SRC + 1];
        final boolean dst = f[FlowKey.W_IPV6_DST] != b[FlowKey.W_IPV6_DST]
            || f[FlowKey.W_IPV6_DST + 1] != b[FlowKey.W_IPV6_DST + 1];
        final long tc = Field.NW_TOS.get(f);
        long tcMask = tc != Field.NW_TOS.get(b) ? Field.NW_TOS.get(wc) : 0;
        if (FlowKey.hasTunnel(b) && ((tc ^ Field.NW_TOS.get(b)) & 0x03) == 0)
        {
            tcMask &= ~0x03L;
        }
        final long label = Field.IPV6_LABEL.get(f);
        final long labelMask = label != Field.IPV6_LABEL.get(b) ? Field.IPV6_LABEL.get(wc) : 0;
        final long hlim = Field.NW_TTL.get(f);
        final long hlimMask = hlim != Field.NW_TTL.get(b) ? Field.NW_TTL.get(wc) : 0;
        final long srcMaskHi = src ? wc[FlowKey.W_IPV6_SRC] : 0;
        final long srcMaskLo = src ? wc[FlowKey.W_IPV6_SRC + 1] : 0;
        final long dstMaskHi = dst ? wc[FlowKey.W_IPV6_DST] : 0;
        final long dstMaskLo = dst ? wc[FlowKey.W_IPV6_DST + 1] : 0;
        if ((srcMaskHi | srcMaskLo | dstMaskHi | dstMaskLo | tcMask | labelMask | hlimMask) != 0)
        {
            out.add0(OdpActions.SET_IPV6);
            out.operand(f[FlowKey.W_IPV6_SRC]);
            out.operand(f[FlowKey.W_IPV6_SRC + 1]);
            out.operand(srcMaskHi);
            out.operand(srcMaskLo);
            out.operand(f[FlowKey.W_IPV6_DST]);
            out.operand(f[FlowKey.W_IPV6_DST + 1]);
            out.operand(dstMaskHi);
            out.operand(dstMaskLo);
            out.operand(tc);
            out.operand(tcMask);
            out.operand(label);
            out.operand(labelMask);
            out.operand(hlim);
            out.operand(hlimMask);
        }
    }

    private static boolean commitNetwork(final FlowKey flow, final FlowKey base, final OdpActions out,
        final long[] wc)
    {
        boolean slow = false;
        final long[] f = flow.words;
        final long[] b = base.words;
        switch (base.dlType())
        {
            case 0x0800:
                commitIpv4(flow, base, out, wc);
                break;
            case 0x86dd:
            {
                commitIpv6(flow, base, out, wc);
                if (base.nwProto() == 58)
                {
                    // The extensions first, as OVS commits them: they set the option type the
                    // link-layer address rewrite then looks for.
                    final long reserved = Field.ND_RESERVED.get(f);
                    final long optionsType = Field.ND_OPTIONS_TYPE.get(f);
                    if (reserved != Field.ND_RESERVED.get(b) || optionsType != Field.ND_OPTIONS_TYPE.get(b))
                    {
                        out.add0(OdpActions.SET_ND_EXT);
                        out.operand(reserved);
                        out.operand(optionsType);
                        slow = true;
                    }
                    final boolean target = f[FlowKey.W_ND_TARGET] != b[FlowKey.W_ND_TARGET]
                        || f[FlowKey.W_ND_TARGET + 1] != b[FlowKey.W_ND_TARGET + 1];
                    final boolean sll = f[FlowKey.W_ARP_SHA] != b[FlowKey.W_ARP_SHA];
                    final boolean tll = f[FlowKey.W_ARP_THA] != b[FlowKey.W_ARP_THA];
                    if (target || sll || tll)
                    {
                        out.add0(OdpActions.SET_ND);
                        out.operand(f[FlowKey.W_ND_TARGET]);
                        out.operand(f[FlowKey.W_ND_TARGET + 1]);
                        out.operand(sll ? Field.ARP_SHA.get(f) : -1);
                        out.operand(tll ? Field.ARP_THA.get(f) : -1);
                        slow = true;
                    }
                }
                break;
            }
            case 0x0806:
            {
                final boolean op = Field.ARP_OP.get(f) != Field.ARP_OP.get(b);
                final boolean sha = f[FlowKey.W_ARP_SHA] != b[FlowKey.W_ARP_SHA];
                final boolean spa = Field.ARP_SPA.get(f) != Field.ARP_SPA.get(b);
                final boolean tha = f[FlowKey.W_ARP_THA] != b[FlowKey.W_ARP_THA];
                final boolean tpa = Field.ARP_TPA.get(f) != Field.ARP_TPA.get(b);
                if (op || sha || spa || tha || tpa)
                {
                    out.add0(OdpActions.SET_ARP);
                    out.operand(op ? Field.ARP_OP.get(f) : -1);
                    out.operand(sha ? Field.ARP_SHA.get(f) : -1);
                    out.operand(spa ? Field.ARP_SPA.get(f) : -1);
                    out.operand(tha ? Field.ARP_THA.get(f) : -1);
                    out.operand(tpa ? Field.ARP_TPA.get(f) : -1);
                    slow = true;
                }
                break;
            }
            default:
                break;
        }
        return slow;
    }

    private static void commitTransport(final FlowKey flow, final FlowKey base, final OdpActions out,
        final long[] wc)
    {
        if (!base.isIpAny())
        {
            return;
        }
        final int op;
        switch (flow.nwProto())
        {
            case 6: op = OdpActions.SET_TCP_PORTS; break;
            case 17: op = OdpActions.SET_UDP_PORTS; break;
            case 132: op = OdpActions.SET_SCTP_PORTS; break;
            default: return;
        }
        // As OVS's commit_set_port_action: a changed port under the megaflow's mask for it.
        final long fs = Field.TP_SRC.get(flow.words);
        final long fd = Field.TP_DST.get(flow.words);
        final long srcMask = fs != Field.TP_SRC.get(base.words) ? Field.TP_SRC.get(wc) : 0;
        final long dstMask = fd != Field.TP_DST.get(base.words) ? Field.TP_DST.get(wc) : 0;
        if ((srcMask | dstMask) != 0)
        {
            out.add4(op, fs, srcMask, fd, dstMask);
        }
    }

    private static boolean commitIcmp(final FlowKey flow, final FlowKey base, final OdpActions out)
    {
        final boolean icmp4 = flow.isIpv4() && flow.nwProto() == 1;
        final boolean icmp6 = flow.isIpv6() && flow.nwProto() == 58;
        if (!icmp4 && !icmp6)
        {
            return false;
        }
        final long t = Field.TP_SRC.get(flow.words);
        final long c = Field.TP_DST.get(flow.words);
        if (t != Field.TP_SRC.get(base.words) || c != Field.TP_DST.get(base.words))
        {
            out.add2(OdpActions.SET_ICMP, t & 0xff, c & 0xff);
            return true;
        }
        return false;
    }

    private static void commitVlan(final FlowKey flow, final FlowKey base, final OdpActions out, final long[] wc)
    {
        final long fw = flow.words[FlowKey.W_VLAN];
        final long bw = base.words[FlowKey.W_VLAN];
        if (fw == bw)
        {
            return;
        }
        int fn = Unwildcard.vlanCount(fw);
        int bn = Unwildcard.vlanCount(bw);
        // Keep the common inner tags; pop the rest of the packet's, push the rest of the flow's.
        for (fn--, bn--; fn >= 0 && bn >= 0; fn--, bn--)
        {
            if (tag(fw, fn) != tag(bw, bn))
            {
                break;
            }
        }
        for (; bn >= 0; bn--)
        {
            out.add0(OdpActions.POP_VLAN);
            wc[FlowKey.W_VLAN] |= bn == 0 ? 0xffff_ffffL << 32 : 0xffff_ffffL;
        }
        for (; fn >= 0; fn--)
        {
            out.add2(OdpActions.PUSH_VLAN, tag(fw, fn) >>> 16, tag(fw, fn) & 0xffff);
        }
    }

    /** Tag i (0 outer, 1 inner) of the VLAN word: TPID in the high 16 bits, TCI in the low 16. */
    private static long tag(final long vlanWord, final int i)
    {
        return i == 0 ? vlanWord >>> 32 : vlanWord & 0xffffffffL;
    }
}
