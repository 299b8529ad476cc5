package dev.junction.flowtable.xlate;

import dev.junction.flowtable.FlowKey;

/**
 * OVS's hash functions, bit for bit as the Open vSwitch binary the oracle runs computes them
 * (lib/hash.h without SSE 4.2, i.e. murmur3-style mixing, and lib/jhash.c), plus the flow
 * hashes of lib/flow.c that group selection and the datapath {@code hash} action use. OVS reads
 * header fields in network byte order from memory as little-endian words; the byte swaps below
 * reproduce that. Pure functions of primitives: nothing allocates.
 */
public final class OvsHash
{
    private OvsHash()
    {
    }

    public static int add(final int hash, final int data)
    {
        int h = hash;
        if (data != 0)
        {
            int d = data * 0xcc9e2d51;
            d = Integer.rotateLeft(d, 15);
            d *= 0x1b873593;
            h ^= d;
        }
        h = Integer.rotateLeft(h, 13);
        return h * 5 + 0xe6546b64;
    }

    public static int add64(final int hash, final long data)
    {
        return add(add(hash, (int)data), (int)(data >>> 32));
    }

    public static int finish(final int hash, final int fin)
    {
        int h = hash ^ fin;
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h;
    }

    /** hash_int(x, basis), i.e. hash_2words(x, basis). */
    public static int hashInt(final int x, final int basis)
    {
        return finish(add(add(x, 0), basis), 8);
    }

    /** hash_uint64(x). */
    public static int hashUint64(final long x)
    {
        return finish(add64(0, x), 8);
    }

    /** hash_bytes over {@code n} bytes of {@code b}. */
    public static int hashBytes(final byte[] b, final int n, final int basis)
    {
        int h = basis;
        int i = 0;
        for (; i + 4 <= n; i += 4)
        {
            h = add(h, le32(b, i));
        }
        if (i < n)
        {
            int tmp = 0;
            for (int j = 0; i + j < n; j++)
            {
                tmp |= (b[i + j] & 0xff) << (8 * j);
            }
            h = add(h, tmp);
        }
        return finish(h, n);
    }

    /** jhash_bytes (Bob Jenkins' lookup3) over {@code n} bytes of {@code b}. */
    public static int jhashBytes(final byte[] b, final int n, final int basis)
    {
        int a = 0xdeadbeef + n + basis;
        int bb = a;
        int c = a;
        int i = 0;
        int left = n;
        while (left >= 12)
        {
            a += le32(b, i);
            bb += le32(b, i + 4);
            c += le32(b, i + 8);
            a -= c; a ^= Integer.rotateLeft(c, 4); c += bb;
            bb -= a; bb ^= Integer.rotateLeft(a, 6); a += c;
            c -= bb; c ^= Integer.rotateLeft(bb, 8); bb += a;
            a -= c; a ^= Integer.rotateLeft(c, 16); c += bb;
            bb -= a; bb ^= Integer.rotateLeft(a, 19); a += c;
            c -= bb; c ^= Integer.rotateLeft(bb, 4); bb += a;
            left -= 12;
            i += 12;
        }
        if (left > 0)
        {
            final int[] t = new int[3];
            for (int j = 0; j < left; j++)
            {
                t[j >> 2] |= (b[i + j] & 0xff) << (8 * (j & 3));
            }
            a += t[0];
            bb += t[1];
            c += t[2];
            c ^= bb; c -= Integer.rotateLeft(bb, 14);
            a ^= c; a -= Integer.rotateLeft(c, 11);
            bb ^= a; bb -= Integer.rotateLeft(a, 25);
            c ^= bb; c -= Integer.rotateLeft(bb, 16);
            a ^= c; a -= Integer.rotateLeft(c, 4);
            bb ^= a; bb -= Integer.rotateLeft(a, 14);
            c ^= bb; c -= Integer.rotateLeft(bb, 24);
        }
        return c;
    }

    private static int le32(final byte[] b, final int i)
    {
        return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8 | (b[i + 2] & 0xff) << 16 | (b[i + 3] & 0xff) << 24;
    }

    /** A be32 field as OVS's host-order read of it. */
    private static int be32(final long v)
    {
        return Integer.reverseBytes((int)v);
    }

    private static int be16(final long v)
    {
        return Short.reverseBytes((short)v) & 0xffff;
    }

    /**
     * miniflow_hash_5tuple / flow_hash_5tuple: addresses, protocol and (for TCP, UDP, SCTP, ICMP)
     * both ports, of IPv4, ARP and IPv6; just the basis otherwise.
     */
    public static int fiveTuple(final FlowKey k, final int basis)
    {
        final long[] w = k.words;
        int h = basis;
        final int dlType = k.dlType();
        if (dlType == 0x86dd)
        {
            h = add64(h, Long.reverseBytes(w[FlowKey.W_IPV6_SRC]));
            h = add64(h, Long.reverseBytes(w[FlowKey.W_IPV6_SRC + 1]));
            h = add64(h, Long.reverseBytes(w[FlowKey.W_IPV6_DST]));
            h = add64(h, Long.reverseBytes(w[FlowKey.W_IPV6_DST + 1]));
        }
        else if (dlType == 0x0800 || dlType == 0x0806)
        {
            h = add(h, be32(w[FlowKey.W_NW_ADDR] >>> 32));
            h = add(h, be32(w[FlowKey.W_NW_ADDR]));
        }
        else
        {
            return finish(h, 42);
        }
        final int proto = k.nwProto();
        h = add(h, proto);
        if (proto == 6 || proto == 17 || proto == 132 || proto == 1 || proto == 58)
        {
            h = add(h, be32(w[FlowKey.W_TP] >>> 32));
        }
        return finish(h, 42);
    }

    /** flow_hash_symmetric_l3l4: the XOR of the addresses, the protocol and (TCP, SCTP, optionally UDP) the XOR of the ports. */
    public static int symmetricL3L4(final FlowKey k, final int basis, final boolean udpPorts)
    {
        final long[] w = k.words;
        int h = basis;
        final int dlType = k.dlType();
        if (dlType == 0x0800)
        {
            h = add(h, be32((w[FlowKey.W_NW_ADDR] >>> 32) ^ w[FlowKey.W_NW_ADDR]));
        }
        else if (dlType == 0x86dd)
        {
            h = add64(h, Long.reverseBytes(w[FlowKey.W_IPV6_SRC] ^ w[FlowKey.W_IPV6_DST]));
            h = add64(h, Long.reverseBytes(w[FlowKey.W_IPV6_SRC + 1] ^ w[FlowKey.W_IPV6_DST + 1]));
        }
        else
        {
            return symmetricL2(k, basis);
        }
        final int proto = k.nwProto();
        h = add(h, proto);
        if ((k.nwFrag() & 3) == 0 && (proto == 6 || proto == 132 || (udpPorts && proto == 17)))
        {
            final long tp = w[FlowKey.W_TP] >>> 32;
            h = add(h, be16((tp >>> 16) ^ tp));
        }
        return finish(h, basis);
    }

    private static int symmetricL2(final FlowKey k, final int basis)
    {
        final long[] w = k.words;
        final long mac = (w[FlowKey.W_DL_SRC] >>> 16) ^ (w[FlowKey.W_DL_DST_TYPE] >>> 16);
        final int tci = (k.vlanTci(0) ^ k.vlanTci(1)) & 0x0fff;
        int h = basis;
        h = add(h, be16(k.dlType()) | be16(tci) << 16);
        h = add(h, be32(mac >>> 16));
        h = add(h, be16(mac));
        return finish(h, basis);
    }

    /**
     * flow_hash_symmetric_l4, over OVS's 32-byte field struct: address XOR (16 bytes), eth_type,
     * VLAN VID XOR, port XOR (TCP and SCTP), MAC XOR, protocol. Allocates its scratch: it runs
     * in translation only.
     */
    public static int symmetricL4(final FlowKey k, final int basis)
    {
        final long[] w = k.words;
        final byte[] f = new byte[32];
        final int dlType = k.dlType();
        int proto = 0;
        long tpXor = 0;
        if (dlType == 0x0800)
        {
            putBe(f, 0, (w[FlowKey.W_NW_ADDR] >>> 32) ^ w[FlowKey.W_NW_ADDR], 4);
            proto = k.nwProto();
        }
        else if (dlType == 0x86dd)
        {
            putBe(f, 0, w[FlowKey.W_IPV6_SRC] ^ w[FlowKey.W_IPV6_DST], 8);
            putBe(f, 8, w[FlowKey.W_IPV6_SRC + 1] ^ w[FlowKey.W_IPV6_DST + 1], 8);
            proto = k.nwProto();
        }
        if ((dlType == 0x0800 || dlType == 0x86dd) && (proto == 6 || proto == 132))
        {
            final long tp = w[FlowKey.W_TP] >>> 32;
            tpXor = ((tp >>> 16) ^ tp) & 0xffff;
        }
        putBe(f, 16, dlType, 2);
        putBe(f, 18, (k.vlanTci(0) ^ k.vlanTci(1)) & 0x0fff, 2);
        putBe(f, 20, tpXor, 2);
        putBe(f, 22, (w[FlowKey.W_DL_SRC] >>> 16) ^ (w[FlowKey.W_DL_DST_TYPE] >>> 16), 6);
        f[28] = (byte)proto;
        return jhashBytes(f, 32, basis);
    }

    /** Writes the low {@code n} bytes of {@code v} big-endian at {@code at}. */
    static void putBe(final byte[] b, final int at, final long v, final int n)
    {
        for (int i = 0; i < n; i++)
        {
            b[at + i] = (byte)(v >>> (8 * (n - 1 - i)));
        }
    }
}
