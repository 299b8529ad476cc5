package dev.junction.flowtable.xlate;

import dev.junction.flowtable.Field;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.ofp.Group;
import dev.junction.flowtable.ofp.HashField;

/**
 * The flow hashes a select group computes during translation, with the megaflow bits they
 * examine: OVS's pick_hash_fields_select_group (selection_method=hash) and the
 * flow_mask_hash_fields half of pick_default_select_group.
 */
final class SelectHash
{
    private SelectHash()
    {
    }

    /**
     * The hash of the group's fields, in meta-flow order, each masked and in network byte order;
     * fields whose prerequisites fail are skipped (the check itself is examined).
     */
    static int fields(final Group g, final FlowKey flow, final long[] wc)
    {
        int basis = OvsHash.hashUint64(g.selectionMethodParam);
        final byte[] bytes = new byte[16];
        for (final Group.HashSpec spec : g.fields)
        {
            final HashField h = spec.field();
            final Field f = h.field;
            if (!Unwildcard.prereqs(f.prereq, flow, wc))
            {
                continue;
            }
            if (h.nBytes == 16)
            {
                OvsHash.putBe(bytes, 0, flow.words[f.word] & spec.maskHi(), 8);
                OvsHash.putBe(bytes, 8, flow.words[f.word + 1] & spec.mask(), 8);
                wc[f.word] |= spec.maskHi();
                wc[f.word + 1] |= spec.mask();
            }
            else
            {
                OvsHash.putBe(bytes, 0, f.get(flow.words) & spec.mask(), h.nBytes);
                Unwildcard.or(wc, f, spec.mask());
            }
            basis = OvsHash.hashBytes(bytes, h.nBytes, basis);
        }
        return basis;
    }

    /** flow_mask_hash_fields(NX_HASH_FIELDS_SYMMETRIC_L4). */
    static void maskSymmetricL4(final FlowKey flow, final long[] wc)
    {
        Unwildcard.or(wc, Field.DL_SRC, -1L);
        Unwildcard.or(wc, Field.DL_DST, -1L);
        if (flow.isIpv4())
        {
            wc[FlowKey.W_NW_ADDR] = -1L;
        }
        else if (flow.isIpv6())
        {
            for (int w = FlowKey.W_IPV6_SRC; w < FlowKey.W_IPV6_DST + 2; w++)
            {
                wc[w] = -1L;
            }
        }
        if (flow.isIpAny())
        {
            wc[FlowKey.W_NW] |= Unwildcard.NW_PROTO;
            if (flow.nwProto() != 17)
            {
                final long ports = flow.nwProto() != 1 ? 0xffff_ffffL : 0x00ff_00ffL;
                wc[FlowKey.W_TP] |= ports << 32;
            }
        }
        wc[FlowKey.W_VLAN] |= (0x1fffL << 32) | 0x1fffL;
    }
}
