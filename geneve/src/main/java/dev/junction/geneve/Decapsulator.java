package dev.junction.geneve;

import dev.junction.flowtable.Field;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;

import java.util.Arrays;

/**
 * The receive side of the tunnels: recognises a Geneve or VXLAN packet addressed to a local
 * endpoint on the underlay port, checks it as OVS's tunnel receive does (IPv4 header checksum,
 * no fragments, UDP checksum when present, Geneve version and protocol, critical options),
 * finds its tunnel port, strips the outer headers and records the tunnel metadata for the
 * flow key. Allocation-free except for the port lookup's address copies (none for IPv4 hits).
 */
public final class Decapsulator
{
    /** Not a tunnel packet for us: the caller treats it as plain underlay traffic. */
    public static final int NOT_TUNNEL = -1;
    /** Malformed outer headers, a bad checksum, a fragment or a Geneve version or protocol we do not know. */
    public static final int MALFORMED = -2;
    /** No tunnel port matches its addresses, type and key. */
    public static final int NO_PORT = -3;
    /** A critical Geneve option the TLV map does not know (RFC 8926 says drop). */
    public static final int CRITICAL_OPTION = -4;

    private final Tunnels tunnels;
    private final byte[] src4 = new byte[4];
    private final byte[] dst4 = new byte[4];
    private final byte[] src6 = new byte[16];
    private final byte[] dst6 = new byte[16];
    /** Tunnel words of the last decapsulated packet, laid out as FlowKey words 14-29. */
    private final long[] tunnelWords = new long[FlowKey.W_DL_DST_TYPE - FlowKey.W_TUN_ID];
    /** Outer source address and MAC of the last tunnel packet addressed to us, for neighbour snooping. */
    private byte[] outerSource;
    private long outerMac;

    /** UDP destination ports of the tunnel ports, and VXLAN's (-1 when no VXLAN port). */
    private final int[] dstPorts;
    private final int vxlanPort;

    public Decapsulator(final Tunnels tunnels)
    {
        this.tunnels = tunnels;
        this.dstPorts = tunnels.ports().stream().mapToInt(t -> t.dstPort).distinct().toArray();
        this.vxlanPort = tunnels.ports().stream().filter(t -> t.type == TunnelType.VXLAN).mapToInt(t -> t.dstPort)
            .findFirst().orElse(-1);
    }

    /**
     * Decapsulates {@code p} in place when it is a tunnel packet for us; returns the tunnel
     * port, or one of the negative results (the packet is then unchanged).
     */
    public int decap(final Packet p)
    {
        final byte[] b = p.buf;
        final int s = p.start;
        final int end = p.end();
        if (p.length < 14 + 20 + 8 + 8)
        {
            return NOT_TUNNEL;
        }
        if (macAt(b, s) != tunnels.underlay().mac)
        {
            return NOT_TUNNEL; // only frames to the underlay's own MAC reach its tunnel endpoint
        }
        final int type = u16(b, s + 12);
        final int ip = s + 14;
        final boolean v6;
        final int l4;
        final int tos;
        final int ttl;
        final byte[] src;
        final byte[] dst;
        int ipEnd;
        if (type == 0x0800)
        {
            final int ihl = (b[ip] & 0x0f) * 4;
            if ((b[ip] & 0xf0) != 0x40 || ihl < 20 || ip + ihl + 8 > end || (b[ip + 9] & 0xff) != 17)
            {
                return NOT_TUNNEL;
            }
            System.arraycopy(b, ip + 16, dst4, 0, 4);
            if (!tunnels.underlay().isLocal(dst4))
            {
                return NOT_TUNNEL;
            }
            System.arraycopy(b, ip + 12, src4, 0, 4);
            src = src4;
            dst = dst4;
            v6 = false;
            tos = b[ip + 1] & 0xff;
            ttl = b[ip + 8] & 0xff;
            l4 = ip + ihl;
            ipEnd = ip + u16(b, ip + 2);
            if ((u16(b, ip + 6) & 0x3fff) != 0 || Encapsulator.fold(Encapsulator.sum(b, ip, ihl, 0)) != 0xffff)
            {
                return isTunnelPort(b, l4) ? MALFORMED : NOT_TUNNEL;
            }
        }
        else if (type == 0x86dd)
        {
            if (p.length < 14 + 40 + 8 + 8 || (b[ip] & 0xf0) != 0x60 || (b[ip + 6] & 0xff) != 17)
            {
                return NOT_TUNNEL;
            }
            System.arraycopy(b, ip + 24, dst6, 0, 16);
            if (!tunnels.underlay().isLocal(dst6))
            {
                return NOT_TUNNEL;
            }
            System.arraycopy(b, ip + 8, src6, 0, 16);
            src = src6;
            dst = dst6;
            v6 = true;
            tos = ((b[ip] & 0x0f) << 4) | ((b[ip + 1] & 0xf0) >>> 4);
            ttl = b[ip + 7] & 0xff;
            l4 = ip + 40;
            ipEnd = l4 + u16(b, ip + 4);
        }
        else
        {
            return NOT_TUNNEL;
        }
        if (!isTunnelPort(b, l4))
        {
            return NOT_TUNNEL;
        }
        final int udpLen = u16(b, l4 + 4);
        if (ipEnd > end || udpLen < 16 || l4 + udpLen > ipEnd)
        {
            return MALFORMED;
        }
        ipEnd = l4 + udpLen;
        final int udpCsum = u16(b, l4 + 6);
        if (udpCsum != 0)
        {
            long sum = v6 ? Encapsulator.sum(b, ip + 8, 32, 0) : Encapsulator.sum(b, ip + 12, 8, 0);
            sum += 17 + udpLen;
            if (Encapsulator.fold(Encapsulator.sum(b, l4, udpLen, sum)) != 0xffff)
            {
                return MALFORMED;
            }
        }
        outerSource = src;
        outerMac = macAt(b, s + 6);
        final int dstPort = u16(b, l4 + 2);
        final TunnelType tt = dstPort == vxlanPort ? TunnelType.VXLAN : TunnelType.GENEVE;
        final int h = l4 + 8;
        Arrays.fill(tunnelWords, 0);
        final long[] w = tunnelWords;
        final int base = FlowKey.W_TUN_ID;
        int flags = Field.TUN_F_KEY | (udpCsum != 0 ? Field.TUN_F_CSUM : 0);
        if (!v6 && (u16(b, ip + 6) & 0x4000) != 0)
        {
            flags |= Field.TUN_F_DF;
        }
        final int vni;
        final int inner;
        long present = 0;
        if (tt == TunnelType.VXLAN)
        {
            // Flags exactly 0x08 (the I bit), reserved bytes zero, as OVS checks.
            if ((b[h] & 0xff) != 0x08 || b[h + 1] != 0 || b[h + 2] != 0 || b[h + 3] != 0 || b[h + 7] != 0)
            {
                return MALFORMED;
            }
            vni = (b[h + 4] & 0xff) << 16 | (b[h + 5] & 0xff) << 8 | (b[h + 6] & 0xff);
            inner = h + 8;
        }
        else
        {
            final int optLen = GeneveHeader.optionsLength(b, h);
            if (GeneveHeader.version(b, h) != 0 || GeneveHeader.protocol(b, h) != GeneveHeader.PROTO_TEB
                || h + GeneveHeader.LENGTH + optLen > ipEnd)
            {
                return MALFORMED;
            }
            vni = GeneveHeader.vni(b, h);
            if ((GeneveHeader.flags(b, h) & GeneveHeader.FLAG_OAM) != 0)
            {
                flags |= Field.TUN_F_OAM;
            }
            int opt = h + GeneveHeader.LENGTH;
            final int optEnd = opt + optLen;
            final TlvMap tlv = tunnels.tlvMap();
            while (opt < optEnd)
            {
                if (opt + GeneveHeader.OPTION_HEADER > optEnd)
                {
                    return MALFORMED;
                }
                final int oc = GeneveHeader.optionClass(b, opt);
                final int ot = GeneveHeader.optionType(b, opt);
                final int ol = GeneveHeader.optionDataLength(b, opt);
                if (opt + GeneveHeader.OPTION_HEADER + ol > optEnd)
                {
                    return MALFORMED;
                }
                final int slot = tlv.slotFor(oc, ot);
                if (slot >= 0 && tlv.length(slot) == ol)
                {
                    long v = 0;
                    for (int i = 0; i < ol; i++)
                    {
                        v = v << 8 | (b[opt + GeneveHeader.OPTION_HEADER + i] & 0xff);
                    }
                    w[FlowKey.W_TUN_METADATA + slot - base] = v;
                    present |= 1L << slot;
                }
                else if ((ot & GeneveHeader.TYPE_CRITICAL) != 0)
                {
                    return CRITICAL_OPTION;
                }
                opt += GeneveHeader.OPTION_HEADER + ol;
            }
            inner = optEnd;
        }
        if (ipEnd - inner < 14)
        {
            return MALFORMED;
        }
        final TunnelPort port = tunnels.find(tt, dstPort, src, dst, vni);
        if (port == null)
        {
            return NO_PORT;
        }
        w[FlowKey.W_TUN_ID - base] = vni;
        if (v6)
        {
            w[FlowKey.W_TUN_IPV6_SRC - base] = be64(src, 0);
            w[FlowKey.W_TUN_IPV6_SRC + 1 - base] = be64(src, 8);
            w[FlowKey.W_TUN_IPV6_DST - base] = be64(dst, 0);
            w[FlowKey.W_TUN_IPV6_DST + 1 - base] = be64(dst, 8);
        }
        else
        {
            w[FlowKey.W_TUN_NW - base] = (be32(src) & 0xffffffffL) << 32 | (be32(dst) & 0xffffffffL);
        }
        // The public tun_flags field holds only oam; the private flags sit beside gbp. Word 20 is
        // never zero here (the UDP destination port), which is how the caches know a tunnel is present.
        w[FlowKey.W_TUN_HDR - base] = (long)(flags & Field.TUN_F_OAM) << 48 | (long)tos << 40 | (long)ttl << 32
            | (long)u16(b, l4) << 16 | dstPort;
        w[FlowKey.W_TUN_GBP - base] = (long)(flags & ~Field.TUN_F_OAM) << Field.TUN_PRIV_FLAGS_SHIFT | present;
        p.start = inner;
        p.length = ipEnd - inner;
        p.l3 = -1;
        p.l4 = -1;
        p.l2Pad = 0;
        p.inPort = port.port;
        return port.port;
    }

    /**
     * Learns the last tunnel packet's outer source as a neighbour (OVS snoops the outer headers of
     * packets it decapsulates, static entries included). Call on slow paths only.
     */
    public void snoopOuterSource()
    {
        if (outerSource != null)
        {
            tunnels.underlay().snoop(outerSource, outerMac);
        }
    }

    /** Copies the last decapsulated packet's tunnel metadata into {@code key} (after parsing the inner frame). */
    public void copyTunnel(final FlowKey key)
    {
        System.arraycopy(tunnelWords, 0, key.words, FlowKey.W_TUN_ID, tunnelWords.length);
    }

    private boolean isTunnelPort(final byte[] b, final int l4)
    {
        final int dp = u16(b, l4 + 2);
        for (final int p : dstPorts)
        {
            if (p == dp)
            {
                return true;
            }
        }
        return false;
    }

    static long macAt(final byte[] b, final int at)
    {
        long m = 0;
        for (int i = 0; i < 6; i++)
        {
            m = m << 8 | (b[at + i] & 0xff);
        }
        return m;
    }

    private static int u16(final byte[] b, final int at)
    {
        return (b[at] & 0xff) << 8 | (b[at + 1] & 0xff);
    }

    private static int be32(final byte[] a)
    {
        return (a[0] & 0xff) << 24 | (a[1] & 0xff) << 16 | (a[2] & 0xff) << 8 | (a[3] & 0xff);
    }

    private static long be64(final byte[] a, final int at)
    {
        long v = 0;
        for (int i = 0; i < 8; i++)
        {
            v = v << 8 | (a[at + i] & 0xff);
        }
        return v;
    }
}
