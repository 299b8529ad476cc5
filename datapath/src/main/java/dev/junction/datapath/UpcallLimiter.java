package dev.junction.datapath;

import org.agrona.collections.Int2ObjectHashMap;

/**
 * A worker's upcall budget per input port: a token bucket of {@code ratePerSecond} upcalls with
 * room for {@code burst}, refilled on packet time. A port whose pods send a new 5-tuple in every
 * packet (a scan, a flood of random sources) spends its own budget and then sees its misses
 * dropped and counted, while hits of every port, and other ports' upcalls, go on: one port
 * cannot take the worker's time away from established traffic. OVS's kernel datapath gets the
 * same fairness from per-port (later per-CPU) upcall sockets read round-robin by its handler
 * threads; Junction translates inline in the worker, so the budget is spent where the time is.
 *
 * <p>Allocation: a port's bucket is made the first time it misses, never on the packet path after.
 * Not thread-safe: one per worker.
 */
public final class UpcallLimiter
{
    /** No limit: every miss is translated (OVS's userspace datapath; what replays and the oracle tests run). */
    public static final UpcallLimiter UNLIMITED = new UpcallLimiter(0, 0);

    private final long ratePerSecond;
    private final long burst;
    private final Int2ObjectHashMap<Bucket> buckets = new Int2ObjectHashMap<>();

    private static final class Bucket
    {
        final TokenBucket tokens;
        long refused;

        Bucket(final long rate, final long burst)
        {
            tokens = new TokenBucket(rate, burst);
        }
    }

    /**
     * @param ratePerSecond upcalls per second each port may make (0: unlimited)
     * @param burst         how many a quiet port may make at once
     */
    public UpcallLimiter(final long ratePerSecond, final long burst)
    {
        if (ratePerSecond < 0 || burst < 0 || ratePerSecond > 0 && burst == 0)
        {
            throw new IllegalArgumentException("upcall limit: rate >= 0 and, when limited, burst >= 1 (rate "
                + ratePerSecond + ", burst " + burst + ")");
        }
        this.ratePerSecond = ratePerSecond;
        this.burst = burst;
    }

    /** Takes one upcall from {@code port}'s budget at {@code nowNanos}; false when it is spent. */
    public boolean tryAcquire(final int port, final long nowNanos)
    {
        if (ratePerSecond == 0)
        {
            return true;
        }
        Bucket b = buckets.get(port);
        if (b == null)
        {
            b = new Bucket(ratePerSecond, burst);
            buckets.put(port, b);
        }
        if (b.tokens.take(nowNanos))
        {
            return true;
        }
        b.refused++;
        return false;
    }

    /** Upcalls refused on {@code port} so far. */
    public long refused(final int port)
    {
        final Bucket b = buckets.get(port);
        return b == null ? 0 : b.refused;
    }
}
