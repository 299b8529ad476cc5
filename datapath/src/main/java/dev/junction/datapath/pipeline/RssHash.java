package dev.junction.datapath.pipeline;

/**
 * Receive-side scaling hash over the raw frame, as a NIC would compute it: IPv4 or IPv6 source and
 * destination plus TCP/UDP ports when present, else the Ethernet addresses. One 802.1Q/802.1ad tag
 * is skipped. Fragments hash on addresses only so that every fragment of a datagram (only the
 * first carries ports) goes to the same worker and keeps its order. Not symmetric: the two
 * directions of a connection may land on different workers, which only matters for conntrack.
 *
 * <p>Murmur3's 32-bit mixing steps: cheap, no allocation, and spreads consecutive addresses and
 * ports well over a small number of workers.
 */
public final class RssHash
{
    private static final int ETH_HEADER = 14;
    private static final int SEED = 0x4a756e63;

    private RssHash()
    {
    }

    public static int hash(final byte[] frame, final int offset, final int length)
    {
        if (length < ETH_HEADER)
        {
            return 0;
        }
        final int end = offset + length;
        int typeAt = offset + 12;
        int type = u16(frame, typeAt);
        if ((type == 0x8100 || type == 0x88a8) && typeAt + 6 <= end)
        {
            typeAt += 4;
            type = u16(frame, typeAt);
        }
        final int l3 = typeAt + 2;
        if (type == 0x0800 && l3 + 20 <= end)
        {
            return ipv4(frame, l3, end);
        }
        if (type == 0x86dd && l3 + 40 <= end)
        {
            return ipv6(frame, l3, end);
        }
        int h = SEED;
        h = mix(h, i32(frame, offset));
        h = mix(h, i32(frame, offset + 4));
        h = mix(h, i32(frame, offset + 8));
        return finish(h, 12);
    }

    private static int ipv4(final byte[] frame, final int l3, final int end)
    {
        int h = SEED;
        h = mix(h, i32(frame, l3 + 12));
        h = mix(h, i32(frame, l3 + 16));
        final int ihl = (frame[l3] & 0x0f) * 4;
        final int proto = frame[l3 + 9] & 0xff;
        final boolean fragment = (u16(frame, l3 + 6) & 0x3fff) != 0;
        final int l4 = l3 + ihl;
        if (!fragment && ihl >= 20 && isTcpOrUdp(proto) && l4 + 4 <= end)
        {
            return finish(mix(h, i32(frame, l4)), 12);
        }
        return finish(h, 8);
    }

    private static int ipv6(final byte[] frame, final int l3, final int end)
    {
        int h = SEED;
        for (int at = l3 + 8; at < l3 + 40; at += 4)
        {
            h = mix(h, i32(frame, at));
        }
        // Extension headers are not walked: such packets hash on addresses, which keeps a flow's
        // packets together as long as its header chain does not change.
        final int l4 = l3 + 40;
        if (isTcpOrUdp(frame[l3 + 6] & 0xff) && l4 + 4 <= end)
        {
            return finish(mix(h, i32(frame, l4)), 36);
        }
        return finish(h, 32);
    }

    private static boolean isTcpOrUdp(final int proto)
    {
        return proto == 6 || proto == 17;
    }

    private static int mix(final int h, final int word)
    {
        int k = word * 0xcc9e2d51;
        k = Integer.rotateLeft(k, 15) * 0x1b873593;
        final int x = Integer.rotateLeft(h ^ k, 13);
        return x * 5 + 0xe6546b64;
    }

    private static int finish(final int hash, final int length)
    {
        int h = hash ^ length;
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        return h ^ (h >>> 16);
    }

    private static int u16(final byte[] b, final int at)
    {
        return (b[at] & 0xff) << 8 | (b[at + 1] & 0xff);
    }

    private static int i32(final byte[] b, final int at)
    {
        return u16(b, at) << 16 | u16(b, at + 2);
    }
}
