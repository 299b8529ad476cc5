package dev.junction.flowtable.ofp;

import dev.junction.flowtable.Bits128;
import dev.junction.flowtable.Field;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Match;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds the flow a {@code learn} action adds, as OVS's learn_execute: each match spec sets bits
 * of the new flow's match (from the packet or an immediate), each load spec becomes a load action
 * and an output spec an output to the port read from the packet. Runs on upcalls only.
 */
public final class LearnedFlow
{
    private LearnedFlow()
    {
    }

    /** The flow {@code learn} adds for a packet whose (translation-time) flow is {@code flow}. */
    public static FlowRule build(final Action.Learn learn, final FlowKey flow)
    {
        final Match match = new Match();
        final List<Action> actions = new ArrayList<>();
        final long[] v = new long[2];
        for (final Action.LearnSpec spec : learn.specs)
        {
            if (spec.src == null)
            {
                v[0] = spec.immHi;
                v[1] = spec.immLo;
            }
            else
            {
                read(flow, spec.src, spec.srcOfs, spec.nBits, v);
            }
            switch (spec.kind)
            {
                case Action.LearnSpec.MATCH:
                    setBits(match, spec.dst, spec.dstOfs, spec.nBits, v[0], v[1]);
                    break;
                case Action.LearnSpec.LOAD:
                    actions.add(load(spec.dst, spec.dstOfs, spec.nBits, v[0], v[1]));
                    break;
                default:
                {
                    // OVS outputs only to a valid port number or one of the ports it names.
                    final long port = v[1];
                    if ((spec.nBits <= 16 || (v[0] == 0 && (port >>> 16) == 0))
                        && (port < Action.OFPP_MAX || port == Action.OFPP_IN_PORT || port == Action.OFPP_FLOOD
                        || port == Action.OFPP_LOCAL || port == Action.OFPP_ALL))
                    {
                        actions.add(new Action.Output((int)port));
                    }
                    break;
                }
            }
        }
        return new FlowRule(learn.table, learn.priority, learn.cookie, learn.idleTimeout, learn.hardTimeout, match,
            actions, 0, learn.tunMetadata);
    }

    /** Reads {@code nBits} of {@code f} from {@code ofs}, into the low bits of {hi, lo}. */
    static void read(final FlowKey flow, final Field f, final int ofs, final int nBits, final long[] out)
    {
        final long[] w = flow.words;
        if (f.isWide())
        {
            Bits128.shr(w[f.word], w[f.word + 1], ofs, out);
        }
        else
        {
            Bits128.shr(0, f.get(w), ofs, out);
        }
        final long[] m = new long[2];
        Bits128.lowMask(nBits, m);
        out[0] &= m[0];
        out[1] &= m[1];
    }

    /** Sets {@code nBits} of {@code f} at {@code ofs} in a match to the low bits of {hi, lo}, and masks them. */
    public static void setBits(final Match match, final Field f, final int ofs, final int nBits, final long hi,
        final long lo)
    {
        final long[] m = new long[2];
        final long[] v = new long[2];
        Bits128.lowMask(nBits, m);
        Bits128.shl(hi & m[0], lo & m[1], ofs, v);
        Bits128.shl(m[0], m[1], ofs, m);
        if (f.isWide())
        {
            final long mHi = match.mask.words[f.word] | m[0];
            final long mLo = match.mask.words[f.word + 1] | m[1];
            final long vHi = (match.value.words[f.word] & ~m[0]) | v[0];
            final long vLo = (match.value.words[f.word + 1] & ~m[1]) | v[1];
            match.setWide(f, vHi, vLo, mHi, mLo);
        }
        else
        {
            final long mask = match.mask.get(f) | m[1];
            final long value = (match.value.get(f) & ~m[1]) | v[1];
            match.set(f, value, mask);
        }
    }

    private static Action.SetField load(final Field f, final int ofs, final int nBits, final long hi, final long lo)
    {
        final long[] m = new long[2];
        final long[] v = new long[2];
        Bits128.lowMask(nBits, m);
        Bits128.shl(hi & m[0], lo & m[1], ofs, v);
        Bits128.shl(m[0], m[1], ofs, m);
        // Learned loads reach dump-flows through OpenFlow 1.5, so they print as set_field, as OVS's do.
        return new Action.SetField(f, v[0], v[1], m[0], m[1], true, ofs, nBits);
    }
}
