package dev.junction.conntrack;

/**
 * Chooses a committed connection's translated tuple as OVS 3.1's {@code nat_get_unique_tuple}:
 * an address from the range, then a port walk that keeps the original source port when it is
 * free and the reply tuple does not clash with any live connection of the zone.
 *
 * <p>Where OVS hashes with a random per-process basis (picking an address in a range or the
 * first port of an explicit port range) and restarts its port walk at {@code random_uint32()},
 * this uses a fixed-basis hash of the same inputs: choices are deterministic run to run, but
 * differ from any particular OVS run's. Single addresses, a single port, and the "keep the
 * source port when free" walk are deterministic in OVS too, and match it exactly.
 */
final class NatAllocator
{
    private static final int MIN_EPHEMERAL = 1024;
    private static final int MAX_EPHEMERAL = 65535;
    private static final int MAX_ATTEMPTS = 128;

    private final ConnTable table;
    private long nowMs;
    private int rounds;

    NatAllocator(final ConnTable table)
    {
        this.table = table;
    }

    /**
     * Sets {@code rev} (the reverse of {@code fwd} on entry) to the translated reply tuple.
     * False on tuple-space exhaustion.
     */
    boolean uniqueTuple(final ConnKey fwd, final ConnKey rev, final NatSpec ni, final long nowMs)
    {
        this.nowMs = nowMs;
        final boolean pat = fwd.proto == KeyExtractor.IPPROTO_TCP || fwd.proto == KeyExtractor.IPPROTO_UDP;
        final int hash = rangeHash(fwd, ni);

        // find_addr
        long aHi = 0;
        long aLo = 0;
        if (ni.minHi == 0 && ni.minLo == 0)
        {
            if ((ni.action & NatSpec.SRC) != 0)
            {
                aHi = fwd.srcHi;
                aLo = fwd.srcLo;
            }
            else if ((ni.action & NatSpec.DST) != 0)
            {
                aHi = fwd.dstHi;
                aLo = fwd.dstLo;
            }
        }
        else if (!fwd.v6)
        {
            final long range = ((ni.maxLo - ni.minLo) & 0xffffffffL) + 1 & 0xffffffffL;
            final long off = range == 0 ? (hash & 0xffffffffL) : Long.remainderUnsigned(hash & 0xffffffffL, range);
            aLo = (ni.minLo + off) & 0xffffffffL;
        }
        else
        {
            final long range = (v6Delta(ni.minHi, ni.minLo, ni.maxHi, ni.maxLo) + 1) & 0xffffffffL;
            final long off = Long.remainderUnsigned(hash & 0xffffffffL, range);
            aHi = ni.minHi;
            aLo = ni.minLo + off;
            if (Long.compareUnsigned(aLo, ni.minLo) < 0)
            {
                aHi++;
            }
        }

        // set_sport_range
        int curS;
        int minS;
        int maxS;
        if ((ni.action & (NatSpec.SRC | NatSpec.SRC_PORT)) == NatSpec.SRC || (ni.action & NatSpec.DST) != 0)
        {
            curS = fwd.srcTp >>> 16;
            if (curS < 512)
            {
                minS = 1;
                maxS = 511;
            }
            else if (curS < 1024)
            {
                minS = 600;
                maxS = 1023;
            }
            else
            {
                minS = MIN_EPHEMERAL;
                maxS = MAX_EPHEMERAL;
            }
        }
        else
        {
            minS = ni.minPort;
            maxS = ni.maxPort;
            curS = (minS + (int)Long.remainderUnsigned(hash & 0xffffffffL, (maxS - minS) + 1)) & 0xffff;
        }
        // set_dport_range
        int curD;
        final int minD;
        final int maxD;
        if ((ni.action & NatSpec.DST_PORT) != 0)
        {
            minD = ni.minPort;
            maxD = ni.maxPort;
            curD = (minD + (int)Long.remainderUnsigned(hash & 0xffffffffL, (maxD - minD) + 1)) & 0xffff;
        }
        else
        {
            curD = fwd.dstTp >>> 16;
            minD = curD;
            maxD = curD;
        }

        if (pat)
        {
            rev.srcTp = curD << 16;
            rev.dstTp = curS << 16;
        }
        if ((ni.action & NatSpec.SRC) != 0)
        {
            rev.dstHi = aHi;
            rev.dstLo = aLo;
        }
        else
        {
            rev.srcHi = aHi;
            rev.srcLo = aLo;
        }
        if (!pat)
        {
            return table.lookupUnswept(rev, rev.hash()) < 0;
        }
        rounds = 0;
        if ((ni.action & NatSpec.DST_PORT) != 0 && uniqueL4(rev, true, curD, minD, maxD, hash))
        {
            return true;
        }
        return uniqueL4(rev, false, curS, minS, maxS, hash);
    }

    /** As {@code nat_get_unique_l4}, uint16 arithmetic included; {@code srcPort} picks rev's port. */
    private boolean uniqueL4(final ConnKey rev, final boolean srcPort, final int curr0, final int min, final int max,
        final int hash)
    {
        final int range = (max - min + 1) & 0xffff;
        int attempts = Math.min(range, MAX_ATTEMPTS);
        int curr = curr0;
        while (true)
        {
            int i = 0;
            final int n = (curr < min || curr > max ? (max - min) + 2 : (max - min) + 1) & 0xffff;
            for (int k = n; k > 0; k--)
            {
                if (i++ >= attempts)
                {
                    break;
                }
                setPort(rev, srcPort, curr);
                if (table.lookupUnswept(rev, rev.hash()) < 0)
                {
                    return true;
                }
                curr = (curr < min || curr > max || curr == max) ? min : curr + 1;
            }
            if (attempts < range && attempts >= 16)
            {
                attempts /= 2;
                // OVS: random_uint32(); here a deterministic sequence from the tuple's hash.
                final long r = ConnKey.mix(hash + 0x632BE59BD9B4E019L * ++rounds) >>> 32;
                curr = (int)(min + Long.remainderUnsigned(r, range)) & 0xffff;
                continue;
            }
            setPort(rev, srcPort, curr0);
            return false;
        }
    }

    private static void setPort(final ConnKey rev, final boolean srcPort, final int port)
    {
        if (srcPort)
        {
            rev.srcTp = (port & 0xffff) << 16;
        }
        else
        {
            rev.dstTp = (port & 0xffff) << 16;
        }
    }

    /** As {@code nat_ipv6_addrs_delta}: the range size - 1, capped at 0xfffffffe. */
    static long v6Delta(final long minHi, final long minLo, final long maxHi, final long maxLo)
    {
        long diff;
        if (minHi == maxHi && Long.compareUnsigned(minLo, maxLo) <= 0)
        {
            diff = maxLo - minLo;
        }
        else if (minHi + 1 == maxHi && Long.compareUnsigned(minLo, maxLo) > 0)
        {
            diff = -1L - (minLo - maxLo - 1);
        }
        else
        {
            diff = 0xfffffffeL;
        }
        if (Long.compareUnsigned(diff, 0xfffffffeL) > 0)
        {
            diff = 0xfffffffeL;
        }
        return diff;
    }

    /** The inputs of OVS's {@code nat_range_hash}, hashed with a fixed basis. */
    private static int rangeHash(final ConnKey k, final NatSpec ni)
    {
        long h = ConnKey.mix(ni.minHi ^ ConnKey.mix(ni.minLo));
        h = ConnKey.mix(h ^ ni.maxHi) ^ ConnKey.mix(ni.maxLo + h);
        h = ConnKey.mix(h + ((long)ni.maxPort << 16 | ni.minPort));
        h = ConnKey.mix(h ^ k.srcHi) + ConnKey.mix(k.srcLo ^ h) + k.srcTp;
        h = ConnKey.mix(h ^ k.dstHi) + ConnKey.mix(k.dstLo ^ h) + k.dstTp;
        h = ConnKey.mix(h + ((long)k.proto << 32 | (long)k.zone << 1 | (k.v6 ? 1 : 0)));
        return (int)(h >>> 32);
    }
}
