package dev.junction.conntrack;

import java.util.Arrays;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.PacketParser;
import dev.junction.flowtable.ct.CtAction;
import dev.junction.flowtable.xlate.OdpActions;

/**
 * Runs frames through a {@link Conntrack} the way the datapath does: parse into a flow key,
 * execute a ct action built with {@link CtAction#append}, read the key's conntrack words.
 */
final class CtHarness
{
    static final long SEC = 1_000_000_000L;

    final Conntrack ct;
    final PacketParser parser = new PacketParser();
    final Packet packet = new Packet(2048);
    final FlowKey key = new FlowKey();
    final OdpActions actions = new OdpActions();
    final CtAction action = new CtAction();
    boolean lastResult;

    CtHarness(final Conntrack ct)
    {
        this.ct = ct;
    }

    CtHarness()
    {
        this(new Conntrack(ConntrackConfig.defaults()));
    }

    /** A fresh packet: parse and run {@code spec}; returns ct_state. */
    int run(final byte[] frame, final Spec spec, final long nowNanos)
    {
        packet.wrap(frame, 0, frame.length);
        parser.parse(packet, key);
        return again(spec, nowNanos);
    }

    /** The same packet through another ct action (as after recirculation): metadata words kept. */
    int again(final Spec spec, final long nowNanos)
    {
        final long[] w = key.words;
        final long[] saved = new long[FlowKey.W_DL_DST_TYPE - FlowKey.W_CT];
        System.arraycopy(w, FlowKey.W_CT, saved, 0, saved.length);
        // The original tuple lives among the header words, which the parse clears.
        final long ctNw = w[FlowKey.W_CT_NW];
        final long ctTp = w[FlowKey.W_CT_TP];
        final long[] ct6 = Arrays.copyOfRange(w, FlowKey.W_CT_IPV6_SRC, FlowKey.W_CT_IPV6_DST + 2);
        parser.parse(packet, key);
        System.arraycopy(saved, 0, w, FlowKey.W_CT, saved.length);
        w[FlowKey.W_CT_NW] = ctNw;
        w[FlowKey.W_CT_TP] = ctTp;
        System.arraycopy(ct6, 0, w, FlowKey.W_CT_IPV6_SRC, ct6.length);
        actions.clear();
        spec.appendTo(actions);
        action.wrap(actions, 0);
        lastResult = ct.execute(packet, key, action, nowNanos);
        return key.ctState();
    }

    /** The frame bytes as they are now (after NAT). */
    byte[] frame()
    {
        final byte[] f = new byte[packet.length];
        System.arraycopy(packet.buf, packet.start, f, 0, packet.length);
        return f;
    }

    long ctNw()
    {
        return key.words[FlowKey.W_CT_NW];
    }

    int ctTpSrc()
    {
        return (int)(key.words[FlowKey.W_CT_TP] >>> 48) & 0xffff;
    }

    int ctTpDst()
    {
        return (int)(key.words[FlowKey.W_CT_TP] >>> 32) & 0xffff;
    }

    int ctNwProto()
    {
        return (int)(key.words[FlowKey.W_CT] >>> 48) & 0xff;
    }

    /** A ct action's operands. */
    static final class Spec
    {
        int flags;
        int zone;
        long markValue;
        long markMask;
        long[] label = { 0, 0 };
        long[] labelMask = { 0, 0 };
        long[] natMin = { 0, 0 };
        long[] natMax = { 0, 0 };
        int minPort;
        int maxPort;

        static Spec ct()
        {
            return new Spec();
        }

        static Spec commit()
        {
            return new Spec().flag(CtAction.F_COMMIT);
        }

        Spec zone(final int z)
        {
            zone = z;
            return this;
        }

        Spec flag(final int f)
        {
            flags |= f;
            return this;
        }

        Spec mark(final long v, final long m)
        {
            flags |= CtAction.F_MARK;
            markValue = v;
            markMask = m;
            return this;
        }

        Spec label(final long hi, final long lo, final long mhi, final long mlo)
        {
            flags |= CtAction.F_LABEL;
            label = new long[] { hi, lo };
            labelMask = new long[] { mhi, mlo };
            return this;
        }

        Spec nat()
        {
            flags |= CtAction.F_NAT;
            return this;
        }

        Spec snat(final int min, final int max)
        {
            flags |= CtAction.F_NAT | CtAction.F_NAT_SRC | CtAction.F_NAT_ADDR;
            natMin = new long[] { 0, min & 0xffffffffL };
            natMax = new long[] { 0, max & 0xffffffffL };
            return this;
        }

        Spec dnat(final int min, final int max)
        {
            flags |= CtAction.F_NAT | CtAction.F_NAT_DST | CtAction.F_NAT_ADDR;
            natMin = new long[] { 0, min & 0xffffffffL };
            natMax = new long[] { 0, max & 0xffffffffL };
            return this;
        }

        Spec snat6(final long[] a)
        {
            flags |= CtAction.F_NAT | CtAction.F_NAT_SRC | CtAction.F_NAT_ADDR | CtAction.F_NAT_V6;
            natMin = a.clone();
            natMax = a.clone();
            return this;
        }

        Spec dnat6(final long[] a)
        {
            flags |= CtAction.F_NAT | CtAction.F_NAT_DST | CtAction.F_NAT_ADDR | CtAction.F_NAT_V6;
            natMin = a.clone();
            natMax = a.clone();
            return this;
        }

        Spec ports(final int min, final int max)
        {
            flags |= CtAction.F_NAT_PORTS;
            minPort = min;
            maxPort = max;
            return this;
        }

        void appendTo(final OdpActions out)
        {
            CtAction.append(out, flags, zone, markValue, markMask, label, labelMask, natMin, natMax, minPort, maxPort);
        }
    }
}
