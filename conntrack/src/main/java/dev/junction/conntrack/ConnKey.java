package dev.junction.conntrack;

/**
 * A connection key as OVS's {@code struct conn_key}: two endpoints, the L3 family, the zone and
 * the IP protocol. An address is two longs (IPv4 in the low 32 bits of {@code lo}); an
 * endpoint's transport part is one int laid out as OVS's {@code ct_endpoint} union:
 * port or ICMP id in the high 16 bits, ICMP type and code in the low 16 (zero for ports).
 * Mutable and reused: one per worker, nothing allocated per packet.
 */
final class ConnKey
{
    boolean v6;
    int proto;
    int zone;
    long srcHi;
    long srcLo;
    long dstHi;
    long dstLo;
    int srcTp;
    int dstTp;

    void clear()
    {
        v6 = false;
        proto = 0;
        zone = 0;
        srcHi = 0;
        srcLo = 0;
        dstHi = 0;
        dstLo = 0;
        srcTp = 0;
        dstTp = 0;
    }

    void copyFrom(final ConnKey k)
    {
        v6 = k.v6;
        proto = k.proto;
        zone = k.zone;
        srcHi = k.srcHi;
        srcLo = k.srcLo;
        dstHi = k.dstHi;
        dstLo = k.dstLo;
        srcTp = k.srcTp;
        dstTp = k.dstTp;
    }

    /** Swaps the endpoints, as {@code conn_key_reverse}. */
    void reverse()
    {
        long t = srcHi;
        srcHi = dstHi;
        dstHi = t;
        t = srcLo;
        srcLo = dstLo;
        dstLo = t;
        final int tp = srcTp;
        srcTp = dstTp;
        dstTp = tp;
    }

    /** Same endpoints, both directions' transport parts included (family, protocol and zone not compared). */
    boolean sameEndpoints(final ConnKey k)
    {
        return srcLo == k.srcLo && dstLo == k.dstLo && srcTp == k.srcTp && dstTp == k.dstTp && srcHi == k.srcHi
            && dstHi == k.dstHi;
    }

    boolean isIcmp()
    {
        return (proto == 1 && !v6) || (proto == 58 && v6);
    }

    /**
     * Symmetric in the endpoints (as OVS's {@code conn_key_hash}), so a packet of either
     * direction of a connection without NAT finds it through the one index entry it has.
     */
    int hash()
    {
        return hash(v6, proto, zone, srcHi, srcLo, srcTp, dstHi, dstLo, dstTp);
    }

    static int hash(final boolean v6, final int proto, final int zone, final long sHi, final long sLo, final int sTp,
        final long dHi, final long dLo, final int dTp)
    {
        // The sum of the endpoints' hashes is symmetric; one multiply-xorshift finishes it.
        long h = endpointHash(sHi, sLo, sTp) + endpointHash(dHi, dLo, dTp)
            + ((long)proto << 24 | (long)zone << 1 | (v6 ? 1 : 0));
        h *= 0xBF58476D1CE4E5B9L;
        h ^= h >>> 31;
        h *= 0x94D049BB133111EBL;
        return (int)(h >>> 32);
    }

    /** An endpoint's hash: an IPv4 address and its port (or ICMP id/type) fill the 64 bits before mixing. */
    private static long endpointHash(final long hi, final long lo, final int tp)
    {
        long x = hi * 0x9E3779B97F4A7C15L + (Long.rotateLeft(lo, 32) ^ (tp & 0xffffffffL));
        x *= 0xD6E8FEB86659FD93L;
        return x ^ (x >>> 32);
    }

    /** A 64-bit finaliser (splitmix64's): every input bit affects every output bit. */
    static long mix(final long x)
    {
        long z = x + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public String toString()
    {
        return "ConnKey{v6=" + v6 + ",proto=" + proto + ",zone=" + zone + ",src=" + Long.toHexString(srcHi) + ":"
            + Long.toHexString(srcLo) + "/" + Integer.toHexString(srcTp) + ",dst=" + Long.toHexString(dstHi) + ":"
            + Long.toHexString(dstLo) + "/" + Integer.toHexString(dstTp) + "}";
    }
}
