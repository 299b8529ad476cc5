package dev.junction.flowtable.xlate;

import java.util.Arrays;

/**
 * Datapath actions, the output of translation: a flat, reusable array of opcodes and operands
 * (no objects per action) that the datapath executes on the packet, in order. The set
 * operations carry the new value of one header field; execution applies OVS's header rewrite
 * rules (incremental checksums, skipping headers the packet does not really have).
 */
public final class OdpActions
{
    public static final int OUTPUT = 1;
    public static final int PUSH_VLAN = 2;
    public static final int POP_VLAN = 3;
    /**
     * One Ethernet rewrite, as OVS's masked set: operands src, src mask, dst, dst mask (a zero mask
     * leaves that address as in the packet; only masked bits are written).
     */
    public static final int SET_ETH = 4;
    /**
     * One IPv4 rewrite, as OVS's masked set: operands src, src mask, dst, dst mask, tos, tos mask,
     * ttl, ttl mask (only masked bits are written; a zero mask leaves the field alone).
     */
    public static final int SET_IPV4 = 6;
    /** Operand count of {@link #SET_IPV4}. */
    public static final int SET_IPV4_OPERANDS = 8;
    /**
     * One IPv6 rewrite, as OVS's masked set. Operands: src hi, lo, src mask hi, lo, dst hi, lo, dst
     * mask hi, lo, tclass, its mask, label, its mask, hop limit, its mask.
     */
    public static final int SET_IPV6 = 10;
    /** Operand count of {@link #SET_IPV6}. */
    public static final int SET_IPV6_OPERANDS = 14;
    /** Port rewrites, as OVS's masked set. Operands: src, src mask, dst, dst mask. */
    public static final int SET_TCP_PORTS = 11;
    public static final int SET_UDP_PORTS = 12;
    public static final int SET_SCTP_PORTS = 13;
    public static final int SET_ICMP = 14;
    /** Operands: op, sha, spa, tha, tpa. */
    public static final int SET_ARP = 15;
    /** Operands: target hi, target lo, sll, tll. */
    public static final int SET_ND = 16;
    /**
     * Packet to the controller: handed to the datapath's packet-in handler, or counted and dropped
     * when it has none. Operands: reason, recirc_id (its frozen state holds the table and the
     * userdata), rule cookie, controller id, max_len, what OVS's controller cookie carries.
     */
    public static final int CONTROLLER = 17;
    /** Connection tracking; operands read through {@link dev.junction.flowtable.ct.CtAction}. */
    public static final int CT = 18;
    /** Clears the packet's conntrack state (ct_state, zone, mark, label, original tuple). */
    public static final int CT_CLEAR = 19;
    /** Operand: recirc_id. Look the packet up again with its current headers and metadata. */
    public static final int RECIRC = 20;
    /** Operands: algorithm (0 L4, 1 symmetric L4), basis. Computes the packet's dp_hash, as OVS's hash action. */
    public static final int HASH = 21;
    /**
     * Tunnel push: a copy of the packet gets the prebuilt outer headers and leaves on the
     * underlay port. Operands: tunnel port, underlay port, header descriptor
     * (length | l4 offset << 8 | ipv6 << 16 | udp checksum << 17), then the header bytes, 8 per
     * operand, big-endian.
     */
    public static final int TNL_PUSH = 22;
    public static final int TNL_HEADER_MAX = 176;
    /**
     * OVS's check_pkt_len: operands size, then the lengths (in longs) of the two nested action
     * lists that follow inline, {@code gt} (frame longer than size) then {@code le}. A walk over
     * the list must step over both ({@link #next}).
     */
    public static final int CHECK_PKT_LEN = 23;
    public static final int TNL_PUSH_OPERANDS = 3 + TNL_HEADER_MAX / 8;

    private long[] ops = new long[64];
    private int size;

    public void clear()
    {
        size = 0;
    }

    /** Makes this a copy of {@code other} (a megaflow keeps the actions its translation produced). */
    public void copyFrom(final OdpActions other)
    {
        size = 0;
        ensure(other.size);
        System.arraycopy(other.ops, 0, ops, 0, other.size);
        size = other.size;
    }

    public boolean sameAs(final OdpActions other)
    {
        return size == other.size && Arrays.equals(ops, 0, size, other.ops, 0, size);
    }

    public int size()
    {
        return size;
    }

    public long get(final int i)
    {
        return ops[i];
    }

    /** Appends an opcode and reserves room for its {@link #operands(int)}, added with {@link #operand}. */
    public void add0(final int op)
    {
        ensure(1 + operands(op));
        ops[size++] = op;
    }

    /** Overwrites the operand at {@code i} (a check_pkt_len's branch lengths, known once they are built). */
    public void set(final int i, final long value)
    {
        ops[i] = value;
    }

    /** Index of the action after the one at {@code i}, nested actions included. */
    public int next(final int i)
    {
        final int op = (int)ops[i];
        final int n = i + 1 + operands(op);
        return op == CHECK_PKT_LEN ? n + (int)ops[i + 2] + (int)ops[i + 3] : n;
    }

    public void operand(final long value)
    {
        ops[size++] = value;
    }

    public void add2(final int op, final long a, final long b)
    {
        ensure(3);
        ops[size++] = op;
        ops[size++] = a;
        ops[size++] = b;
    }

    public void add4(final int op, final long a, final long b, final long c, final long d)
    {
        ensure(5);
        ops[size++] = op;
        ops[size++] = a;
        ops[size++] = b;
        ops[size++] = c;
        ops[size++] = d;
    }

    public void add1(final int op, final long a)
    {
        ensure(2);
        ops[size++] = op;
        ops[size++] = a;
    }

    public static int operands(final int op)
    {
        switch (op)
        {
            case POP_VLAN:
            case CT_CLEAR:
                return 0;
            case CONTROLLER:
                return 5;
            case CT:
                return dev.junction.flowtable.ct.CtAction.OPERANDS;
            case TNL_PUSH:
                return TNL_PUSH_OPERANDS;
            case SET_IPV4:
                return SET_IPV4_OPERANDS;
            case PUSH_VLAN:
            case HASH:
            case SET_ICMP:
                return 2;
            case SET_TCP_PORTS:
            case SET_UDP_PORTS:
            case SET_SCTP_PORTS:
                return 4;
            case SET_IPV6:
                return SET_IPV6_OPERANDS;
            case SET_ARP:
                return 5;
            case CHECK_PKT_LEN:
                return 3;
            case SET_ETH:
                return 4;
            case SET_ND:
                return 4;
            default:
                return 1;
        }
    }

    private void ensure(final int n)
    {
        if (size + n > ops.length)
        {
            ops = Arrays.copyOf(ops, Math.max(ops.length * 2, size + n));
        }
    }

    /** Text in the spirit of {@code ovs-appctl dpctl/dump-flows}, for traces and tests. */
    public String describe()
    {
        final StringBuilder sb = new StringBuilder();
        describe(sb, 0, size);
        return sb.toString();
    }

    /** The actions in [from, end); none is "drop", as format_odp_actions prints an empty list. */
    private void describe(final StringBuilder sb, final int from, final int end)
    {
        if (from == end)
        {
            sb.append("drop");
            return;
        }
        final int mark = sb.length();
        int i = from;
        while (i < end)
        {
            final int op = (int)ops[i];
            if (sb.length() > mark)
            {
                sb.append(',');
            }
            switch (op)
            {
                case OUTPUT: sb.append(ops[i + 1]); break;
                case PUSH_VLAN: describePushVlan(sb, ops[i + 1], ops[i + 2]); break;
                case POP_VLAN: sb.append("pop_vlan"); break;
                case SET_ETH: describeSetEth(sb, i); break;
                case SET_IPV4: describeSetIpv4(sb, i); break;
                case SET_IPV6: describeSetIpv6(sb, i); break;
                case SET_TCP_PORTS: describeSetPorts(sb, "tcp", i); break;
                case SET_UDP_PORTS: describeSetPorts(sb, "udp", i); break;
                case SET_SCTP_PORTS: describeSetPorts(sb, "sctp", i); break;
                case SET_ICMP: sb.append("set(icmp(type=").append(ops[i + 1]).append(",code=").append(ops[i + 2]).append("))"); break;
                case SET_ARP: sb.append("set(arp(op=").append(ops[i + 1]).append("))"); break;
                case SET_ND: sb.append("set(nd(target=").append(dev.junction.flowtable.ofp.Values.formatIpv6(ops[i + 1], ops[i + 2])).append("))"); break;
                case CONTROLLER: describeController(sb, i); break;
                case CT: describeCt(sb, i); break;
                case CT_CLEAR: sb.append("ct_clear"); break;
                case HASH: sb.append("hash(").append(ops[i + 1] == 1 ? "sym_l4(" : "l4(")
                    .append(Integer.toUnsignedString((int)ops[i + 2])).append("))"); break;
                case RECIRC: sb.append("recirc(0x").append(Long.toHexString(ops[i + 1])).append(')'); break;
                case TNL_PUSH: describeTnlPush(sb, i); break;
                case CHECK_PKT_LEN:
                {
                    final int gt = i + 4;
                    final int le = gt + (int)ops[i + 2];
                    sb.append("check_pkt_len(size=").append(ops[i + 1]).append(",gt(");
                    describe(sb, gt, le);
                    sb.append("),le(");
                    describe(sb, le, le + (int)ops[i + 3]);
                    sb.append("))");
                    break;
                }
                default: sb.append("?").append(op); break;
            }
            i = next(i);
        }
    }

    /** As odp-util's format_odp_push_vlan: the TPID only when it is not 0x8100, then the TCI's parts. */
    private static void describePushVlan(final StringBuilder sb, final long tpid, final long tci)
    {
        sb.append(tpid == 0x8100 ? "push_vlan(" : String.format("push_vlan(tpid=0x%04x,", tpid))
            .append("vid=").append(tci & 0xfff).append(",pcp=").append((tci >> 13) & 7);
        if ((tci & 0x1000) == 0)
        {
            sb.append(",cfi=0");
        }
        sb.append(')');
    }

    /**
     * As OVS prints the Ethernet set it commits: a plain {@code set(eth(src=..,dst=..))} when both
     * addresses are wholly set, else the masked set with the addresses it writes (a partial mask
     * after a slash, the value masked).
     */
    private void describeSetEth(final StringBuilder sb, final int at)
    {
        final long full = 0xffff_ffff_ffffL;
        final long src = ops[at + 1];
        final long srcMask = ops[at + 2];
        final long dst = ops[at + 3];
        final long dstMask = ops[at + 4];
        sb.append("set(eth(");
        if (srcMask == full && dstMask == full)
        {
            sb.append("src=").append(dev.junction.flowtable.ofp.Values.formatMac(src))
                .append(",dst=").append(dev.junction.flowtable.ofp.Values.formatMac(dst));
        }
        else
        {
            final int mark = sb.length();
            macMasked(sb, "src", src, srcMask, mark);
            macMasked(sb, "dst", dst, dstMask, mark);
        }
        sb.append("))");
    }

    private static void macMasked(final StringBuilder sb, final String name, final long value, final long mask,
        final int mark)
    {
        if (mask == 0)
        {
            return;
        }
        sb.append(sb.length() > mark ? "," : "").append(name).append('=')
            .append(dev.junction.flowtable.ofp.Values.formatMac(value & mask));
        if (mask != 0xffff_ffff_ffffL)
        {
            sb.append('/').append(dev.junction.flowtable.ofp.Values.formatMac(mask));
        }
    }

    /**
     * As OVS prints its masked IPv4 set: each field with a non-zero mask, the value masked, a
     * partial mask after a slash (format_ipv4, format_u8x for tos, format_u8u for ttl).
     */
    private void describeSetIpv4(final StringBuilder sb, final int at)
    {
        sb.append("set(ipv4(");
        final int mark = sb.length();
        for (int f = 0; f < 2; f++)
        {
            final long v = ops[at + 1 + 2 * f];
            final long m = ops[at + 2 + 2 * f];
            if (m != 0)
            {
                sb.append(sb.length() > mark ? "," : "").append(f == 0 ? "src=" : "dst=")
                    .append(dev.junction.flowtable.ofp.Values.formatIpv4(v & m));
                if (m != 0xffff_ffffL)
                {
                    sb.append('/').append(dev.junction.flowtable.ofp.Values.formatIpv4(m));
                }
            }
        }
        masked(sb, mark, "tos", hexAlt(ops[at + 5] & ops[at + 6]), ops[at + 6], 0xff);
        masked(sb, mark, "ttl", Long.toString(ops[at + 7] & ops[at + 8]), ops[at + 8], 0xff);
        sb.append("))");
    }

    /**
     * Appends {@code name=value} when {@code mask} has bits, then the mask (as C's {@code %#x})
     * when it does not cover {@code full}, as odp-util's format_u8x/u8u/be16/ipv6_label do.
     */
    private static void masked(final StringBuilder sb, final int mark, final String name, final String value,
        final long mask, final long full)
    {
        if (mask == 0)
        {
            return;
        }
        sb.append(sb.length() > mark ? "," : "").append(name).append('=').append(value);
        if ((mask & full) != full)
        {
            sb.append('/').append(hexAlt(mask));
        }
    }

    /**
     * As OVS prints its masked IPv6 set (never fully masked: proto and frag are not writable):
     * src, dst, label, tclass, hlimit where the mask has bits.
     */
    private void describeSetIpv6(final StringBuilder sb, final int at)
    {
        sb.append("set(ipv6(");
        final int mark = sb.length();
        for (int f = 0; f < 2; f++)
        {
            final int o = at + 1 + 4 * f;
            final long mHi = ops[o + 2];
            final long mLo = ops[o + 3];
            if ((mHi | mLo) != 0)
            {
                sb.append(sb.length() > mark ? "," : "").append(f == 0 ? "src=" : "dst=")
                    .append(dev.junction.flowtable.ofp.Values.formatIpv6(ops[o] & mHi, ops[o + 1] & mLo));
                if (mHi != -1L || mLo != -1L)
                {
                    sb.append('/').append(dev.junction.flowtable.ofp.Values.formatIpv6(mHi, mLo));
                }
            }
        }
        masked(sb, mark, "label", hexAlt(ops[at + 11] & ops[at + 12]), ops[at + 12], 0xfffff);
        masked(sb, mark, "tclass", hexAlt(ops[at + 9] & ops[at + 10]), ops[at + 10], 0xff);
        masked(sb, mark, "hlimit", Long.toString(ops[at + 13] & ops[at + 14]), ops[at + 14], 0xff);
        sb.append("))");
    }

    /** As OVS prints a port set: plain when both ports are wholly set, else masked (format_be16). */
    private void describeSetPorts(final StringBuilder sb, final String proto, final int at)
    {
        final long srcMask = ops[at + 2];
        final long dstMask = ops[at + 4];
        sb.append("set(").append(proto).append('(');
        if (srcMask == 0xffff && dstMask == 0xffff)
        {
            sb.append("src=").append(ops[at + 1]).append(",dst=").append(ops[at + 3]);
        }
        else
        {
            final int mark = sb.length();
            masked(sb, mark, "src", Long.toString(ops[at + 1] & srcMask), srcMask, 0xffff);
            masked(sb, mark, "dst", Long.toString(ops[at + 3] & dstMask), dstMask, 0xffff);
        }
        sb.append("))");
    }

    /** As C's {@code %#x}: zero is plain "0". */
    private static String hexAlt(final long v)
    {
        return v == 0 ? "0" : "0x" + Long.toHexString(v);
    }

    /**
     * As odp-util prints OVS's controller action. The pid is the upcall socket's; OVS's userspace
     * datapath prints 0, as here. dont_send and continuation are 0: a packet-in is always meant
     * to be sent and pausing is not supported.
     */
    private void describeController(final StringBuilder sb, final int at)
    {
        final long cookie = ops[at + 3];
        sb.append("userspace(pid=0,controller(reason=").append(ops[at + 1])
            .append(",dont_send=0,continuation=0,recirc_id=").append(ops[at + 2])
            .append(",rule_cookie=").append(cookie == 0 ? "0" : "0x" + Long.toHexString(cookie))
            .append(",controller_id=").append(ops[at + 4]).append(",max_len=").append(ops[at + 5]).append("))");
    }

    /**
     * As OVS prints it: {@code tnl_push(tnl_port(P),header(size=N,type=5,eth(...),ipv4(...),
     * udp(src=0,dst=6081,csum=0xffff),geneve(crit,vni=0x5,options({class=..,type=..,len=..,0x..}))),
     * out_port(U))}, with OpenFlow port numbers for P and U.
     */
    private void describeTnlPush(final StringBuilder sb, final int at)
    {
        final long desc = ops[at + 3];
        final int len = (int)(desc & 0xff);
        final int l4 = (int)(desc >>> 8) & 0xff;
        final boolean v6 = (desc & (1 << 16)) != 0;
        final boolean csum = (desc & (1 << 17)) != 0;
        final byte[] h = new byte[len];
        for (int b = 0; b < len; b++)
        {
            h[b] = (byte)(ops[at + 4 + b / 8] >>> (56 - 8 * (b % 8)));
        }
        final int dstPort = u16(h, l4 + 2);
        final boolean vxlan = (h[l4 + 8] & 0xff) == 0x08 && len - l4 == 16 && dstPort != 6081;
        sb.append("tnl_push(tnl_port(").append(ops[at + 1]).append("),header(size=").append(len)
            .append(",type=").append(vxlan ? 4 : 5).append(",eth(dst=").append(dev.junction.flowtable.ofp.Values.formatMac(mac(h, 0)))
            .append(",src=").append(dev.junction.flowtable.ofp.Values.formatMac(mac(h, 6)))
            .append(String.format(",dl_type=0x%04x),", u16(h, 12)));
        if (v6)
        {
            sb.append("ipv6(src=").append(dev.junction.flowtable.ofp.Values.formatIpv6(be64(h, 22), be64(h, 30)))
                .append(",dst=").append(dev.junction.flowtable.ofp.Values.formatIpv6(be64(h, 38), be64(h, 46)))
                .append(",label=0,proto=17,tclass=0x").append(Integer.toHexString((u16(h, 14) >>> 4) & 0xff))
                .append(",hlimit=").append(h[21] & 0xff).append("),");
        }
        else
        {
            sb.append("ipv4(src=").append(dev.junction.flowtable.ofp.Values.formatIpv4(u16(h, 26) << 16 | u16(h, 28)))
                .append(",dst=").append(dev.junction.flowtable.ofp.Values.formatIpv4(u16(h, 30) << 16 | u16(h, 32)))
                .append(",proto=17,tos=").append((h[15] & 0xff) == 0 ? "0" : "0x" + Integer.toHexString(h[15] & 0xff)).append(",ttl=").append(h[22] & 0xff)
                .append(",frag=0x").append(Integer.toHexString(u16(h, 20))).append("),");
        }
        sb.append("udp(src=0,dst=").append(dstPort).append(",csum=0x").append(csum ? "ffff" : "0").append("),");
        final int g = l4 + 8;
        final int vni = (h[g + 4] & 0xff) << 16 | (h[g + 5] & 0xff) << 8 | (h[g + 6] & 0xff);
        if (vxlan)
        {
            sb.append("vxlan(flags=0x8000000,vni=0x").append(Integer.toHexString(vni)).append(')');
        }
        else
        {
            sb.append("geneve(").append((h[g + 1] & 0x80) != 0 ? "oam," : "").append((h[g + 1] & 0x40) != 0 ? "crit," : "")
                .append("vni=0x").append(Integer.toHexString(vni));
            int o = g + 8;
            if (o < len)
            {
                sb.append(",options(");
                while (o + 4 <= len)
                {
                    final int olen = (h[o + 3] & 0x1f) * 4;
                    long v = 0;
                    for (int i = 0; i < olen && o + 4 + i < len; i++)
                    {
                        v = v << 8 | (h[o + 4 + i] & 0xff);
                    }
                    sb.append("{class=0x").append(Integer.toHexString(u16(h, o))).append(",type=0x")
                        .append(Integer.toHexString(h[o + 2] & 0xff)).append(",len=").append(olen).append(",0x")
                        .append(Long.toHexString(v)).append('}');
                    o += 4 + olen;
                }
                sb.append(')');
            }
            sb.append(')');
        }
        sb.append("),out_port(").append(ops[at + 2]).append("))");
    }

    private static int u16(final byte[] h, final int at)
    {
        return (h[at] & 0xff) << 8 | (h[at + 1] & 0xff);
    }

    private static long mac(final byte[] h, final int at)
    {
        return (long)u16(h, at) << 32 | (long)u16(h, at + 2) << 16 | u16(h, at + 4);
    }

    private static long be64(final byte[] h, final int at)
    {
        long v = 0;
        for (int i = 0; i < 8; i++)
        {
            v = v << 8 | (h[at + i] & 0xff);
        }
        return v;
    }

    private void describeCt(final StringBuilder sb, final int at)
    {
        final dev.junction.flowtable.ct.CtAction ct = new dev.junction.flowtable.ct.CtAction().wrap(this, at);
        sb.append("ct(");
        final int mark = sb.length();
        if (ct.commit())
        {
            sb.append(ct.force() ? "force_commit" : "commit");
        }
        if (ct.zone() != 0)
        {
            sb.append(sb.length() > mark ? "," : "").append("zone=").append(ct.zone());
        }
        if (ct.has(dev.junction.flowtable.ct.CtAction.F_MARK))
        {
            sb.append(sb.length() > mark ? "," : "").append("mark=0x").append(Long.toHexString(ct.markValue()))
                .append("/0x").append(Long.toHexString(ct.markMask()));
        }
        if (ct.has(dev.junction.flowtable.ct.CtAction.F_LABEL))
        {
            sb.append(sb.length() > mark ? "," : "").append("label=0x")
                .append(Long.toHexString(ct.labelValueHi())).append(String.format("%016x", ct.labelValueLo()))
                .append("/0x").append(Long.toHexString(ct.labelMaskHi())).append(String.format("%016x", ct.labelMaskLo()));
        }
        if (ct.has(dev.junction.flowtable.ct.CtAction.F_NAT))
        {
            sb.append(sb.length() > mark ? "," : "").append("nat");
            if (ct.has(dev.junction.flowtable.ct.CtAction.F_NAT_SRC) || ct.has(dev.junction.flowtable.ct.CtAction.F_NAT_DST))
            {
                sb.append('(').append(ct.has(dev.junction.flowtable.ct.CtAction.F_NAT_SRC) ? "src" : "dst");
                if (ct.has(dev.junction.flowtable.ct.CtAction.F_NAT_ADDR))
                {
                    final boolean v6 = ct.has(dev.junction.flowtable.ct.CtAction.F_NAT_V6);
                    sb.append('=').append(v6 ? dev.junction.flowtable.ofp.Values.formatIpv6(ct.natMinAddrHi(), ct.natMinAddrLo())
                        : dev.junction.flowtable.ofp.Values.formatIpv4(ct.natMinAddrLo()));
                    if (ct.natMinAddrHi() != ct.natMaxAddrHi() || ct.natMinAddrLo() != ct.natMaxAddrLo())
                    {
                        sb.append('-').append(v6 ? dev.junction.flowtable.ofp.Values.formatIpv6(ct.natMaxAddrHi(), ct.natMaxAddrLo())
                            : dev.junction.flowtable.ofp.Values.formatIpv4(ct.natMaxAddrLo()));
                    }
                    if (ct.has(dev.junction.flowtable.ct.CtAction.F_NAT_PORTS))
                    {
                        sb.append(':').append(ct.natMinPort());
                        if (ct.natMaxPort() != ct.natMinPort())
                        {
                            sb.append('-').append(ct.natMaxPort());
                        }
                    }
                }
                sb.append(')');
            }
        }
        sb.append(')');
    }
}
