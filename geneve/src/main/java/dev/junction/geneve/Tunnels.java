package dev.junction.geneve;

import dev.junction.flowtable.Field;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.xlate.OdpActions;
import dev.junction.flowtable.xlate.TunnelPorts;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * A bridge's tunnel ports with their underlay: builds the outer headers of an output to a
 * tunnel port at translation time (as OVS's native tunnelling does in xlate, from its route and
 * neighbour tables and the port's options), and finds the port a received tunnel packet belongs to.
 */
public final class Tunnels implements TunnelPorts
{
    /** OVS's tunnel source-port range (tnl_udp_port_min/max): the entropy port is hashed into it. */
    public static final int SRC_PORT_MIN = 32768;
    public static final int SRC_PORT_MAX = 61000;

    private final Underlay underlay;
    private final TlvMap tlv;
    private final TunnelPort[] ports;
    private final byte[] header = new byte[OdpActions.TNL_HEADER_MAX];
    /** Next hops translation could not resolve, as (our source, next hop), for the datapath to ARP for. */
    private final java.util.ArrayDeque<byte[][]> pending = new java.util.ArrayDeque<>();
    private static final int MAX_PENDING = 64;
    private volatile boolean anyPending;

    public Tunnels(final Underlay underlay, final TlvMap tlv, final Collection<TunnelPort> ports)
    {
        this.underlay = underlay;
        this.tlv = tlv;
        this.ports = ports.toArray(new TunnelPort[0]);
        for (int i = 0; i < this.ports.length; i++)
        {
            if (this.ports[i].port == underlay.port)
            {
                throw new IllegalArgumentException("tunnel port " + underlay.port + " is also the underlay port");
            }
            for (int j = 0; j < i; j++)
            {
                if (this.ports[j].port == this.ports[i].port)
                {
                    throw new IllegalArgumentException("tunnel port " + this.ports[i].port + " configured twice");
                }
            }
        }
    }

    public Underlay underlay()
    {
        return underlay;
    }

    public TlvMap tlvMap()
    {
        return tlv;
    }

    public List<TunnelPort> ports()
    {
        return List.of(ports);
    }

    public TunnelPort port(final int port)
    {
        for (final TunnelPort p : ports)
        {
            if (p.port == port)
            {
                return p;
            }
        }
        return null;
    }

    @Override
    public boolean isTunnel(final int port)
    {
        return port(port) != null;
    }

    @Override
    public synchronized String push(final int port, final FlowKey flow, final long[] wc, final OdpActions out)
    {
        final TunnelPort tp = port(port);
        final long[] w = flow.words;
        // The header depends on the whole tunnel metadata and, for ECN (and tos=inherit), on the
        // inner TOS: the megaflow matches all of it.
        Arrays.fill(wc, FlowKey.W_TUN_ID, FlowKey.W_DL_DST_TYPE, -1L);
        Field.DL_TYPE.set(wc, 0xffff);
        final boolean ip = flow.isIpAny();
        if (ip)
        {
            Field.NW_TOS.set(wc, Field.NW_TOS.get(wc) | (tp.tos < 0 ? 0xff : 0x03));
        }
        final byte[] dst = tp.remoteIp != null ? tp.remoteIp : flowDst(w);
        if (dst == null)
        {
            return "remote_ip=flow, and the flow has no tun_dst";
        }
        final Underlay.Route route = underlay.route(dst);
        if (route == null)
        {
            return "no route to " + IpPrefix.ip(dst);
        }
        byte[] src = tp.localIp;
        if (src == null && tp.localFromFlow)
        {
            src = flowSrc(w, dst.length == 16);
        }
        if (src == null)
        {
            src = underlay.sourceFor(dst, route);
        }
        if (src == null || src.length != dst.length)
        {
            return "no local address to send to " + IpPrefix.ip(dst) + " from";
        }
        final byte[] hop = route.gateway != null ? route.gateway : dst;
        final long mac = underlay.neighbour(hop);
        if (mac < 0)
        {
            if (pending.size() < MAX_PENDING)
            {
                pending.add(new byte[][] {src.clone(), hop.clone()});
                anyPending = true;
            }
            return "no neighbour entry for " + IpPrefix.ip(hop) + (hop.length == 4 ? " (ARP request sent)"
                : " (neighbour solicitation sent)");
        }
        final int vni = (int)((tp.keyFromFlow ? Field.TUN_ID.get(w) : tp.key) & 0xffffff);
        int tos = tp.tos >= 0 ? tp.tos : ip ? (int)Field.NW_TOS.get(w) & 0xfc : 0;
        if (ip)
        {
            // ECN is always inherited; CE goes out as ECT(0), as OVS's tnl_port_send does.
            final int ecn = (int)Field.NW_TOS.get(w) & 0x03;
            tos |= ecn == 0x03 ? 0x02 : ecn;
        }
        final boolean v6 = dst.length == 16;
        final byte[] h = header;
        int at = 0;
        putMac(h, 0, mac);
        putMac(h, 6, underlay.mac);
        h[12] = (byte)(v6 ? 0x86 : 0x08);
        h[13] = (byte)(v6 ? 0xdd : 0x00);
        at = 14;
        if (v6)
        {
            h[at] = (byte)(0x60 | (tos >>> 4));
            h[at + 1] = (byte)(tos << 4);
            h[at + 2] = 0;
            h[at + 3] = 0;
            h[at + 4] = 0;
            h[at + 5] = 0;
            h[at + 6] = 17;
            h[at + 7] = (byte)tp.ttl;
            System.arraycopy(src, 0, h, at + 8, 16);
            System.arraycopy(dst, 0, h, at + 24, 16);
            at += 40;
        }
        else
        {
            h[at] = 0x45;
            h[at + 1] = (byte)tos;
            h[at + 2] = 0;
            h[at + 3] = 0;
            h[at + 4] = 0;
            h[at + 5] = 0;
            h[at + 6] = (byte)(tp.dontFragment ? 0x40 : 0);
            h[at + 7] = 0;
            h[at + 8] = (byte)tp.ttl;
            h[at + 9] = 17;
            h[at + 10] = 0;
            h[at + 11] = 0;
            System.arraycopy(src, 0, h, at + 12, 4);
            System.arraycopy(dst, 0, h, at + 16, 4);
            at += 20;
        }
        final int l4 = at;
        h[at] = 0;
        h[at + 1] = 0;
        h[at + 2] = (byte)(tp.dstPort >>> 8);
        h[at + 3] = (byte)tp.dstPort;
        h[at + 4] = 0;
        h[at + 5] = 0;
        h[at + 6] = 0;
        h[at + 7] = 0;
        at += 8;
        if (tp.type == TunnelType.VXLAN)
        {
            h[at] = 0x08;
            h[at + 1] = 0;
            h[at + 2] = 0;
            h[at + 3] = 0;
            h[at + 4] = (byte)(vni >>> 16);
            h[at + 5] = (byte)(vni >>> 8);
            h[at + 6] = (byte)vni;
            h[at + 7] = 0;
            at += 8;
        }
        else
        {
            at = geneve(h, at, w, vni);
        }
        out.add0(OdpActions.TNL_PUSH);
        out.operand(port);
        out.operand(underlay.port);
        // Over IPv6 the UDP checksum is always computed, whatever csum says (as OVS does).
        out.operand(at | l4 << 8 | (v6 ? 1 << 16 : 0) | (tp.csum || v6 ? 1 << 17 : 0));
        for (int i = 0; i < OdpActions.TNL_HEADER_MAX; i += 8)
        {
            long v = 0;
            for (int b = 0; b < 8; b++)
            {
                v = v << 8 | (i + b < at ? h[i + b] & 0xff : 0);
            }
            out.operand(v);
        }
        return null;
    }

    /** Takes the next (source, next hop) to resolve, or null; cheap when there is none. */
    public byte[][] pollResolution()
    {
        if (!anyPending)
        {
            return null;
        }
        synchronized (this)
        {
            final byte[][] r = pending.poll();
            anyPending = !pending.isEmpty();
            return r;
        }
    }

    /** Geneve header and the options of the present, mapped tun_metadata fields, in field order (as OVS). */
    private int geneve(final byte[] h, final int at, final long[] w, final int vni)
    {
        final long present = w[FlowKey.W_TUN_GBP] & Field.TUN_PRESENT_MASK;
        int opt = at + GeneveHeader.LENGTH;
        boolean critical = false;
        for (int slot = 0; slot < FlowKey.TUN_METADATA_SLOTS; slot++)
        {
            final int len = tlv.length(slot);
            if ((present & (1L << slot)) != 0 && len != 0)
            {
                final int type = tlv.optionType(slot);
                critical |= (type & GeneveHeader.TYPE_CRITICAL) != 0;
                GeneveHeader.writeOption(h, opt, tlv.optionClass(slot), type, len, w[FlowKey.W_TUN_METADATA + slot]);
                opt += GeneveHeader.OPTION_HEADER + len;
            }
        }
        final int flags = ((Field.TUN_FLAGS.get(w) & Field.TUN_F_OAM) != 0 ? GeneveHeader.FLAG_OAM : 0)
            | (critical ? GeneveHeader.FLAG_CRITICAL : 0);
        GeneveHeader.write(h, at, opt - at - GeneveHeader.LENGTH, flags, vni);
        return opt;
    }

    private static byte[] flowDst(final long[] w)
    {
        final long v4 = Field.TUN_DST.get(w);
        if (v4 != 0)
        {
            return ipv4((int)v4);
        }
        if (w[FlowKey.W_TUN_IPV6_DST] != 0 || w[FlowKey.W_TUN_IPV6_DST + 1] != 0)
        {
            return ipv6(w[FlowKey.W_TUN_IPV6_DST], w[FlowKey.W_TUN_IPV6_DST + 1]);
        }
        return null;
    }

    private static byte[] flowSrc(final long[] w, final boolean v6)
    {
        if (!v6)
        {
            final long v4 = Field.TUN_SRC.get(w);
            return v4 == 0 ? null : ipv4((int)v4);
        }
        if (w[FlowKey.W_TUN_IPV6_SRC] != 0 || w[FlowKey.W_TUN_IPV6_SRC + 1] != 0)
        {
            return ipv6(w[FlowKey.W_TUN_IPV6_SRC], w[FlowKey.W_TUN_IPV6_SRC + 1]);
        }
        return null;
    }

    static byte[] ipv4(final int a)
    {
        return new byte[] {(byte)(a >>> 24), (byte)(a >>> 16), (byte)(a >>> 8), (byte)a};
    }

    static byte[] ipv6(final long hi, final long lo)
    {
        final byte[] b = new byte[16];
        for (int i = 0; i < 8; i++)
        {
            b[i] = (byte)(hi >>> (56 - 8 * i));
            b[8 + i] = (byte)(lo >>> (56 - 8 * i));
        }
        return b;
    }

    private static void putMac(final byte[] b, final int at, final long mac)
    {
        for (int i = 0; i < 6; i++)
        {
            b[at + i] = (byte)(mac >>> (40 - 8 * i));
        }
    }

    /** OVS's netdev_tnl_get_src_port: the packet's RSS hash scaled into [32768, 61000). */
    public static int sourcePort(final int rssHash)
    {
        return (int)(((rssHash & 0xffffffffL) * (SRC_PORT_MAX - SRC_PORT_MIN)) >>> 32) + SRC_PORT_MIN;
    }

    /**
     * The tunnel port a received packet belongs to, as OVS's tnl_find: a port whose fixed remote
     * address and key both match wins over one that takes either from the flow.
     */
    public TunnelPort find(final TunnelType type, final int dstPort, final byte[] remote, final byte[] local, final int vni)
    {
        TunnelPort best = null;
        int bestScore = -1;
        for (final TunnelPort p : ports)
        {
            if (p.type != type || p.dstPort != dstPort)
            {
                continue;
            }
            if (p.remoteIp != null && !Arrays.equals(p.remoteIp, remote))
            {
                continue;
            }
            if (p.remoteIp == null && !p.localFromFlow && p.localIp != null && !Arrays.equals(p.localIp, local))
            {
                continue;
            }
            if (p.remoteIp != null && p.localIp != null && !Arrays.equals(p.localIp, local))
            {
                continue;
            }
            if (!p.keyFromFlow && p.key != vni)
            {
                continue;
            }
            final int score = (p.remoteIp != null ? 2 : 0) + (p.keyFromFlow ? 0 : 1);
            if (score > bestScore)
            {
                best = p;
                bestScore = score;
            }
        }
        return best;
    }
}
