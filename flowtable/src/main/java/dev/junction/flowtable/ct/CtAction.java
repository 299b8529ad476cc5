package dev.junction.flowtable.ct;

import dev.junction.flowtable.xlate.OdpActions;

/**
 * A flyweight over the operands of one datapath {@code ct} action inside {@link OdpActions}
 * (the form OVS's {@code OVS_ACTION_ATTR_CT} takes after translation): zone, commit/force, the
 * mark and label to write, and the NAT to apply. Wrap it at the opcode's offset; nothing is
 * copied, so reading it on the packet path allocates nothing.
 *
 * <pre>
 *  operand  contents
 *   0       flags (F_*)
 *   1       zone (16 bits)
 *   2       mark value(32) | mark mask(32)          (F_MARK)
 *   3-4     label value (high, low 64 bits)         (F_LABEL)
 *   5-6     label mask  (high, low 64 bits)
 *   7-8     NAT minimum address (high, low): IPv4 in the low 32 bits of the low word
 *   9-10    NAT maximum address (high, low)          (equal to the minimum when no range)
 *   11      NAT minimum port(16) | maximum port(16)  (F_NAT_PORTS)
 * </pre>
 */
public final class CtAction
{
    public static final int OPERANDS = 12;

    public static final int F_COMMIT = 1;
    /** {@code force}: a committed connection in the other direction is ended and started anew. */
    public static final int F_FORCE = 1 << 1;
    /** {@code nat}: apply the connection's NAT (bare {@code nat}) or set it up (with src/dst). */
    public static final int F_NAT = 1 << 2;
    public static final int F_NAT_SRC = 1 << 3;
    public static final int F_NAT_DST = 1 << 4;
    /** NAT addresses are given (not only {@code nat} alone); IPv6 when F_NAT_V6. */
    public static final int F_NAT_ADDR = 1 << 5;
    public static final int F_NAT_V6 = 1 << 6;
    public static final int F_NAT_PORTS = 1 << 7;
    public static final int F_NAT_RANDOM = 1 << 8;
    public static final int F_NAT_HASH = 1 << 9;
    public static final int F_NAT_PERSISTENT = 1 << 10;
    public static final int F_MARK = 1 << 11;
    public static final int F_LABEL = 1 << 12;

    private OdpActions actions;
    private int base;

    /** Points at the ct action whose opcode is at {@code opcodeIndex}. */
    public CtAction wrap(final OdpActions actions, final int opcodeIndex)
    {
        this.actions = actions;
        this.base = opcodeIndex + 1;
        return this;
    }

    private long op(final int i)
    {
        return actions.get(base + i);
    }

    public int flags()
    {
        return (int)op(0);
    }

    public boolean has(final int flag)
    {
        return (flags() & flag) != 0;
    }

    public boolean commit()
    {
        return has(F_COMMIT);
    }

    public boolean force()
    {
        return has(F_FORCE);
    }

    public int zone()
    {
        return (int)op(1) & 0xffff;
    }

    public long markValue()
    {
        return op(2) >>> 32;
    }

    public long markMask()
    {
        return op(2) & 0xffffffffL;
    }

    public long labelValueHi()
    {
        return op(3);
    }

    public long labelValueLo()
    {
        return op(4);
    }

    public long labelMaskHi()
    {
        return op(5);
    }

    public long labelMaskLo()
    {
        return op(6);
    }

    public long natMinAddrHi()
    {
        return op(7);
    }

    public long natMinAddrLo()
    {
        return op(8);
    }

    public long natMaxAddrHi()
    {
        return op(9);
    }

    public long natMaxAddrLo()
    {
        return op(10);
    }

    public int natMinPort()
    {
        return (int)(op(11) >>> 16) & 0xffff;
    }

    public int natMaxPort()
    {
        return (int)op(11) & 0xffff;
    }

    /**
     * Appends a ct action; the operands are in the order of the table above. {@code label}
     * and {@code labelMask} are {high, low}; {@code natMin}/{@code natMax} likewise.
     */
    public static void append(final OdpActions out, final int flags, final int zone, final long markValue,
        final long markMask, final long[] label, final long[] labelMask, final long[] natMin, final long[] natMax,
        final int natMinPort, final int natMaxPort)
    {
        out.add0(OdpActions.CT);
        out.operand(flags);
        out.operand(zone & 0xffff);
        out.operand((markValue & 0xffffffffL) << 32 | (markMask & 0xffffffffL));
        out.operand(label[0]);
        out.operand(label[1]);
        out.operand(labelMask[0]);
        out.operand(labelMask[1]);
        out.operand(natMin[0]);
        out.operand(natMin[1]);
        out.operand(natMax[0]);
        out.operand(natMax[1]);
        out.operand((long)(natMinPort & 0xffff) << 16 | (natMaxPort & 0xffff));
    }
}
