package dev.junction.conntrack;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import dev.junction.flowtable.Packet;

/**
 * Extracts a packet's {@link ConnKey} with the checks of OVS's {@code conn_key_extract}: IPv4
 * header checksum, L4 header lengths, L4 checksums (TCP, UDP unless zero on IPv4, ICMP, ICMPv6
 * with its pseudo-header), zero ports, ICMP types conntrack understands. An ICMP error yields
 * the key of the connection it quotes, reversed, with {@link #icmpRelated} set. A packet that
 * fails any check is invalid ({@code +inv}), as in OVS. Checksums are always validated: this
 * datapath has no hardware offload to vouch for them. Not thread-safe: one per worker.
 */
final class KeyExtractor
{
    static final int IPPROTO_ICMP = 1;
    static final int IPPROTO_TCP = 6;
    static final int IPPROTO_UDP = 17;
    static final int IPPROTO_ICMPV6 = 58;

    /** True when the last successful extraction was of an ICMP error (OVS's {@code icmp_related}). */
    boolean icmpRelated;
    /** Counts of checksum failures, as OVS's coverage counters conntrack_l3csum_err/l4csum_err. */
    long l3CsumErrors;
    long l4CsumErrors;

    // Scratch for extract_l3 results (next header offset, protocol).
    private int l3Next;
    private int l3Proto;

    /** Fills {@code key} from the packet; false when OVS would mark it invalid. */
    boolean extract(final Packet p, final int dlType, final int zone, final ConnKey key)
    {
        key.clear();
        icmpRelated = false;
        if (p.l3 < 0 || p.l4 < 0)
        {
            return false;
        }
        key.zone = zone;
        final byte[] b = p.buf;
        final int tail = p.end() - p.l2Pad;
        final boolean ok;
        if (dlType == 0x0800)
        {
            key.v6 = false;
            ok = extractL3v4(b, p.l3, tail - p.l3, true, key);
        }
        else if (dlType == 0x86dd)
        {
            key.v6 = true;
            ok = extractL3v6(b, p.l3, tail - p.l3, key);
        }
        else
        {
            ok = false;
        }
        if (!ok)
        {
            return false;
        }
        final int l4 = p.l4;
        return extractL4(b, key, l4, tail - l4, true, p.l3, -1);
    }

    private boolean extractL3v4(final byte[] b, final int at, final int size, final boolean validate, final ConnKey key)
    {
        if (size < 20)
        {
            return false;
        }
        final int ipLen = (b[at] & 0x0f) * 4;
        if (ipLen < 20 || size < ipLen)
        {
            return false;
        }
        final int fragOff = ((b[at + 6] & 0xff) << 8) | (b[at + 7] & 0xff);
        if ((fragOff & 0x3fff) != 0)
        {
            return false;
        }
        if (validate && Checksums.csum(b, at, ipLen) != 0)
        {
            l3CsumErrors++;
            return false;
        }
        l3Next = at + ipLen;
        key.srcHi = 0;
        key.dstHi = 0;
        key.srcLo = u32(b, at + 12);
        key.dstLo = u32(b, at + 16);
        key.proto = b[at + 9] & 0xff;
        l3Proto = key.proto;
        return true;
    }

    private boolean extractL3v6(final byte[] b, final int at, final int size0, final ConnKey key)
    {
        if (size0 < 40)
        {
            return false;
        }
        int proto = b[at + 6] & 0xff;
        int data = at + 40;
        int size = size0 - 40;
        // As parse_ipv6_ext_hdrs: skip extension headers; any fragment is refused.
        while (proto == 0 || proto == 43 || proto == 60 || proto == 51 || proto == 44)
        {
            if (size < 8)
            {
                return false;
            }
            final int len;
            if (proto == 44)
            {
                final int offlg = ((b[data + 2] & 0xff) << 8) | (b[data + 3] & 0xff);
                proto = b[data] & 0xff;
                if (offlg != 0)
                {
                    return false; // a fragment (first or later): nw_frag set, refused
                }
                len = 8;
            }
            else
            {
                len = proto == 51 ? ((b[data + 1] & 0xff) + 2) * 4 : ((b[data + 1] & 0xff) + 1) * 8;
                proto = b[data] & 0xff;
            }
            if (size < len)
            {
                return false;
            }
            data += len;
            size -= len;
        }
        l3Next = data;
        l3Proto = proto;
        key.srcHi = u64(b, at + 8);
        key.srcLo = u64(b, at + 16);
        key.dstHi = u64(b, at + 24);
        key.dstLo = u64(b, at + 32);
        key.proto = proto;
        return true;
    }

    /**
     * As OVS's {@code extract_l4}. {@code outer} is false inside an ICMP error (no checksum, no
     * nested error); {@code chkLen} is the minimum L4 length there (-1: the header length).
     */
    private boolean extractL4(final byte[] b, final ConnKey key, final int l4, final int size, final boolean outer,
        final int l3, final int chkLen)
    {
        final int proto = key.proto;
        if (proto == IPPROTO_TCP)
        {
            if (outer)
            {
                if (size < 20)
                {
                    return false;
                }
                final int tcpLen = ((b[l4 + 12] & 0xff) >>> 4) * 4;
                if (tcpLen < 20 || tcpLen > size)
                {
                    return false;
                }
                if (!l4ChecksumValid(b, key, l3, l4, size))
                {
                    return false;
                }
            }
            return ports(b, key, l4, size, chkLen < 0 ? 20 : chkLen);
        }
        if (proto == IPPROTO_UDP)
        {
            if (outer)
            {
                if (size < 8)
                {
                    return false;
                }
                final int udpLen = u16(b, l4 + 4);
                if (udpLen < 8 || udpLen > size)
                {
                    return false;
                }
                final boolean zeroV4 = u16(b, l4 + 6) == 0 && !key.v6;
                if (!zeroV4 && !l4ChecksumValid(b, key, l3, l4, size))
                {
                    return false;
                }
            }
            return ports(b, key, l4, size, chkLen < 0 ? 8 : chkLen);
        }
        if (!key.v6 && proto == IPPROTO_ICMP)
        {
            if (outer && Checksums.csum(b, l4, size) != 0)
            {
                l4CsumErrors++;
                return false;
            }
            return icmp4(b, key, l4, size, outer, chkLen);
        }
        if (key.v6 && proto == IPPROTO_ICMPV6)
        {
            if (outer && !l4ChecksumValid(b, key, l3, l4, size))
            {
                return false;
            }
            return icmp6(b, key, l4, size, outer);
        }
        return true; // other protocols have no L4 key
    }

    private boolean l4ChecksumValid(final byte[] b, final ConnKey key, final int l3, final int l4, final int size)
    {
        final boolean valid;
        if (!key.v6)
        {
            valid = Checksums.finish(Checksums.add(b, l4, size, Checksums.pseudoV4(b, l3))) == 0;
        }
        else
        {
            valid = Checksums.upperLayerV6(b, l3, key.proto, l4, size) == 0;
        }
        if (!valid)
        {
            l4CsumErrors++;
        }
        return valid;
    }

    private static boolean ports(final byte[] b, final ConnKey key, final int l4, final int size, final int minLen)
    {
        if (size < minLen)
        {
            return false;
        }
        final int sp = u16(b, l4);
        final int dp = u16(b, l4 + 2);
        key.srcTp = sp << 16;
        key.dstTp = dp << 16;
        return sp != 0 && dp != 0; // port 0 is invalid
    }

    private boolean icmp4(final byte[] b, final ConnKey key, final int l4, final int size, final boolean outer,
        final int chkLen)
    {
        if (size < (chkLen < 0 ? 8 : chkLen))
        {
            return false;
        }
        final int type = b[l4] & 0xff;
        final int code = b[l4 + 1] & 0xff;
        switch (type)
        {
            case 0: case 8: case 13: case 14: case 15: case 16:
            {
                if (code != 0)
                {
                    return false;
                }
                final int id = u16(b, l4 + 4);
                key.srcTp = id << 16 | type << 8;
                key.dstTp = id << 16 | reverseIcmpType(type) << 8;
                return true;
            }
            case 3: case 4: case 5: case 11: case 12:
            {
                if (!outer)
                {
                    return false;
                }
                final long outerDst = key.dstLo;
                final int inner = l4 + 8;
                final int tail = l4 + size;
                final ConnKey k = key;
                final int zone = k.zone;
                if (!extractL3v4(b, inner, tail - inner, false, k))
                {
                    return false;
                }
                if (k.srcLo != outerDst)
                {
                    return false;
                }
                k.zone = zone;
                k.srcTp = 0;
                k.dstTp = 0;
                final int innerL4 = l3Next;
                if (extractL4(b, k, innerL4, tail - innerL4, false, inner, 8))
                {
                    k.reverse();
                    icmpRelated = true;
                    return true;
                }
                return false;
            }
            default:
                return false;
        }
    }

    private boolean icmp6(final byte[] b, final ConnKey key, final int l4, final int size, final boolean outer)
    {
        if (size < 8)
        {
            return false;
        }
        final int type = b[l4] & 0xff;
        final int code = b[l4 + 1] & 0xff;
        switch (type)
        {
            case 128: case 129:
            {
                if (code != 0)
                {
                    return false;
                }
                final int id = u16(b, l4 + 4);
                key.srcTp = id << 16 | type << 8;
                key.dstTp = id << 16 | (type == 128 ? 129 : 128) << 8;
                return true;
            }
            case 1: case 2: case 3: case 4:
            {
                if (!outer)
                {
                    return false;
                }
                final long outerDstHi = key.dstHi;
                final long outerDstLo = key.dstLo;
                final int inner = l4 + 8;
                final int tail = l4 + size;
                final int zone = key.zone;
                if (!extractL3v6(b, inner, tail - inner, key))
                {
                    return false;
                }
                if (key.srcHi != outerDstHi || key.srcLo != outerDstLo)
                {
                    return false;
                }
                key.zone = zone;
                key.srcTp = 0;
                key.dstTp = 0;
                final int innerL4 = l3Next;
                if (extractL4(b, key, innerL4, tail - innerL4, false, inner, -1))
                {
                    key.reverse();
                    icmpRelated = true;
                    return true;
                }
                return false;
            }
            default:
                return false;
        }
    }

    /** As {@code reverse_icmp_type}: request and reply pairs of the query types. */
    static int reverseIcmpType(final int type)
    {
        switch (type)
        {
            case 8: return 0;
            case 0: return 8;
            case 13: return 14;
            case 14: return 13;
            case 15: return 16;
            case 16: return 15;
            default: return type;
        }
    }

    /** Offsets of the quoted packet of an ICMP error (after {@link #locateInner}): inner L3, inner L4. */
    int innerL3;
    int innerL4;

    /** Finds the quoted header's offsets in an ICMP error already accepted by {@link #extract}. */
    void locateInner(final Packet p, final boolean v6)
    {
        final byte[] b = p.buf;
        final int tail = p.end() - p.l2Pad;
        innerL3 = p.l4 + 8;
        if (v6)
        {
            extractL3v6(b, innerL3, tail - innerL3, scratch);
        }
        else
        {
            extractL3v4(b, innerL3, tail - innerL3, false, scratch);
        }
        innerL4 = l3Next;
    }

    private final ConnKey scratch = new ConnKey();

    static int u16(final byte[] b, final int at)
    {
        return ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
    }

    private static final VarHandle INT_BE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    static long u32(final byte[] b, final int at)
    {
        return (int)INT_BE.get(b, at) & 0xffffffffL;
    }

    static long u64(final byte[] b, final int at)
    {
        return (long)LONG_BE.get(b, at);
    }
}
