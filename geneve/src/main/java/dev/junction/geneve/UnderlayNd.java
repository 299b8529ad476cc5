package dev.junction.geneve;

import dev.junction.flowtable.Packet;

/**
 * IPv6 neighbour discovery on the underlay, the counterpart of {@link UnderlayArp} for IPv6
 * tunnel endpoints: answers neighbour solicitations for a local endpoint address with a
 * solicited advertisement carrying our MAC, learns neighbours from advertisements (their target
 * and target link-layer address, as OVS's tnl_nd_snoop), and composes the solicitations that
 * resolve an unknown next hop (to its solicited-node multicast group, with our MAC as source
 * link-layer address). Hop limit 255 on everything, as RFC 4861 requires.
 */
public final class UnderlayNd
{
    private static final int ETH = 14;
    private static final int IP6 = 40;
    private static final int NS = 135;
    private static final int NA = 136;
    /** An NS or NA with one link-layer address option: 24 bytes of ICMPv6 + 8 of option. */
    private static final int ND_LENGTH = 32;
    public static final int FRAME_LENGTH = ETH + IP6 + ND_LENGTH;

    private final Underlay underlay;
    private final byte[] ip = new byte[16];
    private final byte[] target = new byte[16];
    private final byte[] source = new byte[16];

    public UnderlayNd(final Underlay underlay)
    {
        this.underlay = underlay;
    }

    /**
     * Handles an ICMPv6 neighbour message received on the underlay: learns an advertisement's
     * target; for a solicitation of one of our addresses writes the advertisement into
     * {@code reply} and returns true.
     */
    public boolean receive(final Packet p, final Packet reply)
    {
        final byte[] b = p.buf;
        final int s = p.start;
        if (p.length < ETH + IP6 + 24 || u16(b, s + 12) != 0x86dd || (b[s + ETH + 6] & 0xff) != 58
            || (b[s + ETH + 7] & 0xff) != 255)
        {
            return false;
        }
        final int icmp = s + ETH + IP6;
        final int type = b[icmp] & 0xff;
        System.arraycopy(b, icmp + 8, target, 0, 16);
        if (type == NA)
        {
            final long tll = option(b, icmp + 24, s + p.length, 2);
            if (tll > 0)
            {
                underlay.snoop(target, tll);
            }
            return false;
        }
        if (type != NS || !underlay.isLocal(target))
        {
            return false;
        }
        System.arraycopy(b, s + ETH + 8, source, 0, 16);
        final boolean dad = isZero(source);
        final long requester = option(b, icmp + 24, s + p.length, 1);
        final long ethDst = dad || requester <= 0 ? Decapsulator.macAt(b, s + 6) : requester;
        if (dad)
        {
            // A duplicate-address probe: answer all nodes, not solicited (RFC 4861 7.2.4).
            java.util.Arrays.fill(source, (byte)0);
            source[0] = (byte)0xff;
            source[1] = 0x02;
            source[15] = 1;
        }
        compose(reply, NA, dad ? 0x3333_0000_0001L : ethDst, target, source, target, dad ? 0x20 : 0x60, 2);
        return true;
    }

    /** A solicitation for {@code hop} from our {@code ourAddress}, into {@code out}. */
    public void request(final Packet out, final byte[] ourAddress, final byte[] hop)
    {
        final byte[] group = new byte[16];
        group[0] = (byte)0xff;
        group[1] = 0x02;
        group[11] = 1;
        group[12] = (byte)0xff;
        group[13] = hop[13];
        group[14] = hop[14];
        group[15] = hop[15];
        final long mac = 0x3333_0000_0000L | (0xffL << 24) | (hop[13] & 0xffL) << 16 | (hop[14] & 0xffL) << 8 | (hop[15] & 0xffL);
        compose(out, NS, mac, ourAddress, group, hop, 0, 1);
    }

    /**
     * An NS or NA: Ethernet to {@code ethDst} from our MAC, IPv6 {@code src} to {@code dst}, hop
     * limit 255, ICMPv6 {@code type} with {@code flags} (R|S|O in the top byte), {@code nd}
     * target, one link-layer option of {@code optionType} (1 source, 2 target) with our MAC.
     */
    private void compose(final Packet out, final int type, final long ethDst, final byte[] src, final byte[] dst,
        final byte[] nd, final int flags, final int optionType)
    {
        final int s = Packet.HEADROOM;
        if (out.buf.length < s + FRAME_LENGTH)
        {
            out.buf = new byte[s + 2048];
        }
        final byte[] b = out.buf;
        java.util.Arrays.fill(b, s, s + FRAME_LENGTH, (byte)0);
        putMac(b, s, ethDst);
        putMac(b, s + 6, underlay.mac);
        b[s + 12] = (byte)0x86;
        b[s + 13] = (byte)0xdd;
        final int ip6 = s + ETH;
        b[ip6] = 0x60;
        b[ip6 + 5] = ND_LENGTH;
        b[ip6 + 6] = 58;
        b[ip6 + 7] = (byte)255;
        System.arraycopy(src, 0, b, ip6 + 8, 16);
        System.arraycopy(dst, 0, b, ip6 + 24, 16);
        final int icmp = ip6 + IP6;
        b[icmp] = (byte)type;
        b[icmp + 4] = (byte)flags;
        System.arraycopy(nd, 0, b, icmp + 8, 16);
        b[icmp + 24] = (byte)optionType;
        b[icmp + 25] = 1;
        putMac(b, icmp + 26, underlay.mac);
        long sum = Encapsulator.sum(b, ip6 + 8, 32, 0) + ND_LENGTH + 58;
        final int c = ~Encapsulator.fold(Encapsulator.sum(b, icmp, ND_LENGTH, sum)) & 0xffff;
        b[icmp + 2] = (byte)(c >>> 8);
        b[icmp + 3] = (byte)c;
        out.start = s;
        out.length = FRAME_LENGTH;
        out.l3 = ip6;
        out.l4 = icmp;
        out.l2Pad = 0;
    }

    /** The MAC of the first link-layer option of {@code type} in [at, end), or -1. */
    private static long option(final byte[] b, final int at, final int end, final int type)
    {
        int o = at;
        while (o + 8 <= end)
        {
            final int len = (b[o + 1] & 0xff) * 8;
            if (len == 0)
            {
                return -1;
            }
            if ((b[o] & 0xff) == type && len >= 8)
            {
                return Decapsulator.macAt(b, o + 2);
            }
            o += len;
        }
        return -1;
    }

    private static boolean isZero(final byte[] a)
    {
        for (final byte x : a)
        {
            if (x != 0)
            {
                return false;
            }
        }
        return true;
    }

    private static void putMac(final byte[] b, final int at, final long mac)
    {
        for (int i = 0; i < 6; i++)
        {
            b[at + i] = (byte)(mac >>> (40 - 8 * i));
        }
    }

    private static int u16(final byte[] b, final int at)
    {
        return (b[at] & 0xff) << 8 | (b[at + 1] & 0xff);
    }
}
