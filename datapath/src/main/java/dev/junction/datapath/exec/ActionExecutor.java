package dev.junction.datapath.exec;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.PacketParser;
import dev.junction.flowtable.xlate.OdpActions;

import java.util.zip.CRC32C;

/**
 * Executes datapath actions on a packet with OVS's header rewrite rules ({@code odp-execute.c}
 * and {@code packets.c}): incremental checksums, a zero UDP checksum stays zero, transport
 * headers are only rewritten when the packet really carries them, VLAN tags are pushed and
 * popped in place. Writes never leave the buffer; bytes past the frame are not emitted.
 */
public final class ActionExecutor
{
    /** Where outputs go: the packet as it is at that point of the action list. */
    public interface OutputSink
    {
        void output(int port, Packet packet);
    }

    /** Where controller actions go: the packet as it is at that point, and the action's operands at {@code at}. */
    public interface ControllerSink
    {
        void packetIn(Packet packet, OdpActions acts, int at);
    }

    private final CRC32C crc = new CRC32C();
    /** Null: a controller action is only counted (no controller), as before a handler existed. */
    private ControllerSink controllerSink;
    private final PacketParser parser;
    private final FlowKey scratch = new FlowKey();
    private long controllerPackets;

    public ActionExecutor()
    {
        this(new PacketParser());
    }

    public ActionExecutor(final PacketParser parser)
    {
        this.parser = parser;
    }

    /** Executes all of {@code acts}; they must not contain conntrack or recirculation actions. */
    public void execute(final Packet p, final OdpActions acts, final OutputSink sink)
    {
        if (execute(p, acts, 0, sink) != acts.size())
        {
            throw new IllegalStateException("conntrack and recirculation need the datapath: " + acts.describe());
        }
    }

    /**
     * Executes {@code acts} from index {@code from} up to the end or up to the first conntrack or
     * recirculation action, which belongs to the datapath; returns that action's index, or
     * {@code acts.size()} when all were executed.
     */
    public int execute(final Packet p, final OdpActions acts, final int from, final OutputSink sink)
    {
        return execute(p, acts, from, acts.size(), sink);
    }

    /**
     * As {@link #execute(Packet, OdpActions, int, OutputSink)} for the actions in [from, end) (a
     * check_pkt_len branch); a check_pkt_len also belongs to the datapath, which picks the branch.
     */
    public int execute(final Packet p, final OdpActions acts, final int from, final int end, final OutputSink sink)
    {
        int i = from;
        final int n = end;
        while (i < n)
        {
            final int op = (int)acts.get(i);
            switch (op)
            {
                case OdpActions.CT:
                case OdpActions.CT_CLEAR:
                case OdpActions.RECIRC:
                case OdpActions.HASH:
                case OdpActions.TNL_PUSH:
                case OdpActions.CHECK_PKT_LEN:
                    return i;
                case OdpActions.OUTPUT: sink.output((int)acts.get(i + 1), p); break;
                case OdpActions.PUSH_VLAN: pushVlan(p, (int)acts.get(i + 1), (int)acts.get(i + 2)); break;
                case OdpActions.POP_VLAN: popVlan(p); break;
                case OdpActions.SET_ETH: setEth(p, acts, i + 1); break;
                case OdpActions.SET_IPV4: setIpv4(p, acts, i + 1); break;
                case OdpActions.SET_IPV6: setIpv6(p, acts, i + 1); break;
                case OdpActions.SET_TCP_PORTS:
                case OdpActions.SET_UDP_PORTS:
                case OdpActions.SET_SCTP_PORTS: setPorts(p, op, acts, i + 1); break;
                case OdpActions.SET_ICMP: setIcmp(p, (int)acts.get(i + 1), (int)acts.get(i + 2)); break;
                case OdpActions.SET_ARP: setArp(p, acts, i + 1); break;
                case OdpActions.SET_ND: setNd(p, acts, i + 1); break;
                case OdpActions.CONTROLLER:
                    controllerPackets++;
                    if (controllerSink != null)
                    {
                        controllerSink.packetIn(p, acts, i);
                    }
                    // OVS's userspace action re-extracts the flow from the packet as it is now, which
                    // recomputes the layer offsets later set actions use (visible after VLAN pushes).
                    parser.parse(p, scratch);
                    break;
                default: throw new IllegalStateException("unknown datapath action " + op);
            }
            i += 1 + OdpActions.operands(op);
        }
        return n;
    }

    /** Sends controller actions' packets to {@code sink} (null: only count them). */
    public void controllerSink(final ControllerSink sink)
    {
        this.controllerSink = sink;
    }

    public long controllerPackets()
    {
        return controllerPackets;
    }

    private static void pushVlan(final Packet p, final int tpid, final int tci)
    {
        if (p.start < 4)
        {
            return; // no headroom: cannot happen with Packet.HEADROOM and two tags at most
        }
        System.arraycopy(p.buf, p.start, p.buf, p.start - 4, 12);
        p.start -= 4;
        p.length += 4;
        p.put16(p.start + 12, tpid);
        p.put16(p.start + 14, tci & ~0x1000);
    }

    private static void popVlan(final Packet p)
    {
        if (p.length < 18)
        {
            return;
        }
        final int type = p.u16(p.start + 12);
        if (type != 0x8100 && type != 0x88a8)
        {
            return;
        }
        System.arraycopy(p.buf, p.start, p.buf, p.start + 4, 12);
        p.start += 4;
        p.length -= 4;
    }

    /** OVS's masked Ethernet set: only the masked bits of each address are written. */
    private static void setEth(final Packet p, final OdpActions a, final int i)
    {
        final long srcMask = a.get(i + 1);
        if (srcMask != 0)
        {
            p.put48(p.start + 6, (p.u48(p.start + 6) & ~srcMask) | (a.get(i) & srcMask));
        }
        final long dstMask = a.get(i + 3);
        if (dstMask != 0)
        {
            p.put48(p.start, (p.u48(p.start) & ~dstMask) | (a.get(i + 2) & dstMask));
        }
    }

    /** OVS's masked IPv4 set (odp_set_ipv4): src, dst, tos, ttl, each only where its mask has bits. */
    private static void setIpv4(final Packet p, final OdpActions a, final int i)
    {
        if (p.l3 < 0 || !p.inBuffer(p.l3, 20))
        {
            return;
        }
        final long srcMask = a.get(i + 1);
        if (srcMask != 0)
        {
            setIpv4Addr(p, 12, (a.get(i) & srcMask) | (p.u32(p.l3 + 12) & ~srcMask));
        }
        final long dstMask = a.get(i + 3);
        if (dstMask != 0)
        {
            setIpv4Addr(p, 16, (a.get(i + 2) & dstMask) | (p.u32(p.l3 + 16) & ~dstMask));
        }
        final int tosMask = (int)a.get(i + 5);
        if (tosMask != 0)
        {
            setIpv4Tos(p, (int)a.get(i + 4) & tosMask, tosMask);
        }
        final int ttlMask = (int)a.get(i + 7);
        if (ttlMask != 0)
        {
            setIpv4Byte(p, 8, ((int)a.get(i + 6) & ttlMask) | (p.u8(p.l3 + 8) & ~ttlMask & 0xff), true);
        }
    }

    private static void setIpv4Addr(final Packet p, final int fieldOffset, final long newAddr)
    {
        if (p.l3 < 0 || !p.inBuffer(p.l3, 20))
        {
            return;
        }
        final int at = p.l3 + fieldOffset;
        final long old = p.u32(at);
        if (old == newAddr)
        {
            return;
        }
        final int proto = p.u8(p.l3 + 9);
        final int l4Size = p.l4Size();
        if (proto == 6 && l4Size >= 20)
        {
            final int c = p.l4 + 16;
            p.put16(c, Checksum.recalc32(p.u16(c), old, newAddr));
        }
        else if (proto == 17 && l4Size >= 8)
        {
            final int c = p.l4 + 6;
            final int csum = p.u16(c);
            if (csum != 0)
            {
                final int nc = Checksum.recalc32(csum, old, newAddr);
                p.put16(c, nc == 0 ? 0xffff : nc);
            }
        }
        p.put16(p.l3 + 10, Checksum.recalc32(p.u16(p.l3 + 10), old, newAddr));
        p.put32(at, newAddr);
    }

    private static void setIpv4Tos(final Packet p, final int value, final int mask)
    {
        if (p.l3 < 0 || !p.inBuffer(p.l3, 20))
        {
            return;
        }
        setIpv4Byte(p, 1, value | (p.u8(p.l3 + 1) & ~mask & 0xff), false);
    }

    private static void setIpv4Byte(final Packet p, final int off, final int value, final boolean highByte)
    {
        if (p.l3 < 0 || !p.inBuffer(p.l3, 20))
        {
            return;
        }
        final int old = p.u8(p.l3 + off);
        if (old == value)
        {
            return;
        }
        final int o16 = highByte ? old << 8 : old;
        final int n16 = highByte ? value << 8 : value;
        p.put16(p.l3 + 10, Checksum.recalc16(p.u16(p.l3 + 10), o16, n16));
        p.put8(p.l3 + off, value);
    }

    private void setIpv6(final Packet p, final OdpActions a, final int i)
    {
        if (p.l3 < 0 || !p.inBuffer(p.l3, 40))
        {
            return;
        }
        // Walk extension headers as OVS's packet_rh_present: a routing header with segments left
        // means the L4 checksum covers the final destination, so dst changes leave it alone.
        final int nh = p.l3;
        int remaining = (p.l4 >= 0 ? p.l4 : p.end()) - nh - 40;
        int at = nh + 40;
        int next = p.u8(nh + 6);
        boolean recalc = true;
        boolean rhPresent = false;
        while (remaining >= 0)
        {
            if (next != 0 && next != 43 && next != 60 && next != 51 && next != 44)
            {
                break;
            }
            if (remaining < 8 || !p.inBuffer(at, 8))
            {
                break;
            }
            final int len;
            if (next == 51)
            {
                len = (p.u8(at + 1) + 2) * 4;
                next = p.u8(at);
            }
            else if (next == 44)
            {
                final int offlg = p.u16(at + 2);
                recalc = (offlg & 0xfff8) == 0 && (offlg & 1) != 0;
                next = p.u8(at);
                len = 8;
            }
            else if (next == 43)
            {
                if (p.u8(at + 3) > 0)
                {
                    rhPresent = true;
                    break;
                }
                next = p.u8(at);
                len = (p.u8(at + 1) + 1) * 8;
            }
            else
            {
                next = p.u8(at);
                len = (p.u8(at + 1) + 1) * 8;
            }
            if (remaining < len)
            {
                break;
            }
            remaining -= len;
            at += len;
        }
        // packet_rh_present reports "no routing header" when it stops early; proto is what it saw.
        final int proto = next;
        // OVS's masked set (odp_set_ipv6): each field keeps the packet's bits outside its mask.
        if ((a.get(i + 2) | a.get(i + 3)) != 0)
        {
            setIpv6Addr(p, proto, nh + 8, masked(a, i, p.u64(nh + 8)), masked(a, i + 1, p.u64(nh + 16)), recalc);
        }
        if ((a.get(i + 6) | a.get(i + 7)) != 0)
        {
            setIpv6Addr(p, proto, nh + 24, masked(a, i + 4, p.u64(nh + 24)), masked(a, i + 5, p.u64(nh + 32)),
                !rhPresent && recalc);
        }
        final long flow = p.u32(nh);
        final long tc = masked(a, i + 8, 1, (flow >>> 20) & 0xff);
        final long label = masked(a, i + 10, 1, flow & 0xfffff);
        p.put32(nh, (flow & 0xf0000000L) | (tc << 20) | label);
        p.put8(nh + 7, (int)masked(a, i + 12, 1, p.u8(nh + 7)));
    }

    /** Operand {@code v}'s bits under its mask two operands on, the packet's {@code old} elsewhere. */
    private static long masked(final OdpActions a, final int v, final long old)
    {
        return masked(a, v, 2, old);
    }

    /** Operand {@code v}'s bits under its mask {@code gap} operands on, the packet's {@code old} elsewhere. */
    private static long masked(final OdpActions a, final int v, final int gap, final long old)
    {
        final long m = a.get(v + gap);
        return (a.get(v) & m) | (old & ~m);
    }

    private static void setIpv6Addr(final Packet p, final int proto, final int at, final long hi, final long lo,
        final boolean recalc)
    {
        final long oldHi = p.u64(at);
        final long oldLo = p.u64(at + 8);
        if (oldHi == hi && oldLo == lo)
        {
            return;
        }
        if (recalc)
        {
            final int l4Size = p.l4Size();
            int c = -1;
            boolean udp = false;
            if (proto == 6 && l4Size >= 20)
            {
                c = p.l4 + 16;
            }
            else if (proto == 17 && l4Size >= 8)
            {
                c = p.l4 + 6;
                udp = true;
            }
            else if (proto == 58 && l4Size >= 4)
            {
                c = p.l4 + 2;
            }
            if (c >= 0 && !(udp && p.u16(c) == 0))
            {
                int csum = p.u16(c);
                csum = recalc128(csum, oldHi, oldLo, hi, lo);
                if (udp && csum == 0)
                {
                    csum = 0xffff;
                }
                p.put16(c, csum);
            }
        }
        p.put64(at, hi);
        p.put64(at + 8, lo);
    }

    private static int recalc128(int csum, final long oldHi, final long oldLo, final long hi, final long lo)
    {
        csum = Checksum.recalc32(csum, oldHi >>> 32, hi >>> 32);
        csum = Checksum.recalc32(csum, oldHi & 0xffffffffL, hi & 0xffffffffL);
        csum = Checksum.recalc32(csum, oldLo >>> 32, lo >>> 32);
        return Checksum.recalc32(csum, oldLo & 0xffffffffL, lo & 0xffffffffL);
    }

    /**
     * OVS's masked port set: each port whose mask has bits gets the masked bits of its value;
     * -1 tells the setters below to leave a port alone.
     */
    private void setPorts(final Packet p, final int op, final OdpActions a, final int i)
    {
        if (p.l4 < 0 || p.l4Size() < 4)
        {
            return;
        }
        final long srcMask = a.get(i + 1);
        final long dstMask = a.get(i + 3);
        final long src = srcMask == 0 ? -1 : (a.get(i) & srcMask) | (p.u16(p.l4) & ~srcMask & 0xffff);
        final long dst = dstMask == 0 ? -1 : (a.get(i + 2) & dstMask) | (p.u16(p.l4 + 2) & ~dstMask & 0xffff);
        switch (op)
        {
            case OdpActions.SET_TCP_PORTS: setTcpPorts(p, src, dst); break;
            case OdpActions.SET_UDP_PORTS: setUdpPorts(p, src, dst); break;
            default: setSctpPorts(p, src, dst); break;
        }
    }

    private static void setTcpPorts(final Packet p, final long src, final long dst)
    {
        final int l4Size = p.l4Size();
        if (l4Size < 20)
        {
            return;
        }
        final int hdr = (p.u8(p.l4 + 12) >>> 4) * 4;
        if (hdr < 20 || hdr > l4Size)
        {
            return;
        }
        setPort(p, p.l4, src, p.l4 + 16);
        setPort(p, p.l4 + 2, dst, p.l4 + 16);
    }

    private static void setPort(final Packet p, final int at, final long value, final int csumAt)
    {
        if (value < 0)
        {
            return;
        }
        final int old = p.u16(at);
        if (old != value)
        {
            p.put16(csumAt, Checksum.recalc16(p.u16(csumAt), old, (int)value));
            p.put16(at, (int)value);
        }
    }

    private static void setUdpPorts(final Packet p, final long src, final long dst)
    {
        if (p.l4Size() < 8)
        {
            return;
        }
        final int c = p.l4 + 6;
        if (p.u16(c) != 0)
        {
            setPort(p, p.l4, src, c);
            setPort(p, p.l4 + 2, dst, c);
            if (p.u16(c) == 0)
            {
                p.put16(c, 0xffff);
            }
        }
        else
        {
            if (src >= 0)
            {
                p.put16(p.l4, (int)src);
            }
            if (dst >= 0)
            {
                p.put16(p.l4 + 2, (int)dst);
            }
        }
    }

    private void setSctpPorts(final Packet p, final long src, final long dst)
    {
        final int len = p.l4Size();
        if (len < 12)
        {
            return;
        }
        final int c = p.l4 + 8;
        final long oldCsum = p.u32(c);
        p.put32(c, 0);
        final long oldCorrect = crcWire(p, len);
        if (src >= 0)
        {
            p.put16(p.l4, (int)src);
        }
        if (dst >= 0)
        {
            p.put16(p.l4 + 2, (int)dst);
        }
        final long newCorrect = crcWire(p, len);
        p.put32(c, oldCsum ^ oldCorrect ^ newCorrect);
    }

    /** CRC32c of the SCTP packet as the 4 bytes it occupies on the wire, read big-endian. */
    private long crcWire(final Packet p, final int len)
    {
        crc.reset();
        crc.update(p.buf, p.l4, len);
        final long v = crc.getValue();
        return Long.reverseBytes(v) >>> 32;
    }

    private static void setIcmp(final Packet p, final int type, final int code)
    {
        if (p.l4Size() < 8)
        {
            return;
        }
        final int orig = p.u16(p.l4);
        final int now = type << 8 | code;
        if (orig != now)
        {
            p.put16(p.l4, now);
            p.put16(p.l4 + 2, Checksum.recalc16(p.u16(p.l4 + 2), orig, now));
        }
    }

    private static void setArp(final Packet p, final OdpActions a, final int i)
    {
        if (p.l3 < 0 || !p.inBuffer(p.l3, 28))
        {
            return;
        }
        final int at = p.l3;
        if (a.get(i) >= 0)
        {
            p.put16(at + 6, (int)a.get(i));
        }
        if (a.get(i + 1) >= 0)
        {
            p.put48(at + 8, a.get(i + 1));
        }
        if (a.get(i + 2) >= 0)
        {
            p.put32(at + 14, a.get(i + 2));
        }
        if (a.get(i + 3) >= 0)
        {
            p.put48(at + 18, a.get(i + 3));
        }
        if (a.get(i + 4) >= 0)
        {
            p.put32(at + 24, a.get(i + 4));
        }
    }

    private static void setNd(final Packet p, final OdpActions a, final int i)
    {
        final int l4Size = p.l4Size();
        if (l4Size < 24)
        {
            return;
        }
        final int l4 = p.l4;
        final int csumAt = l4 + 2;
        final long hi = a.get(i);
        final long lo = a.get(i + 1);
        final long oldHi = p.u64(l4 + 8);
        final long oldLo = p.u64(l4 + 16);
        if (oldHi != hi || oldLo != lo)
        {
            p.put16(csumAt, recalc128(p.u16(csumAt), oldHi, oldLo, hi, lo));
            p.put64(l4 + 8, hi);
            p.put64(l4 + 16, lo);
        }
        int remain = l4Size - 24;
        int opt = l4 + 24;
        while (remain >= 8 && p.u8(opt + 1) != 0)
        {
            final int type = p.u8(opt);
            final int len = p.u8(opt + 1);
            if ((type == 1 || type == 2) && len == 1)
            {
                final long want = a.get(type == 1 ? i + 2 : i + 3);
                final long old = p.u48(opt + 2);
                if (want >= 0 && old != want)
                {
                    int csum = p.u16(csumAt);
                    for (int k = 0; k < 3; k++)
                    {
                        csum = Checksum.recalc16(csum, (int)(old >>> (32 - 16 * k)) & 0xffff,
                            (int)(want >>> (32 - 16 * k)) & 0xffff);
                    }
                    p.put16(csumAt, csum);
                    p.put48(opt + 2, want);
                }
                break;
            }
            opt += len * 8;
            remain -= len * 8;
        }
    }
}
