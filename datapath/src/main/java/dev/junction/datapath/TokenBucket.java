package dev.junction.datapath;

/**
 * A token bucket on packet time: {@code ratePerSecond} tokens a second, holding at most
 * {@code burst}, full at the first take. Packet time, not the wall clock, so a replay limits the
 * same way however fast it runs; time that goes backwards (inputs merged out of order) refills
 * nothing. Integer arithmetic (tokens scaled by a second of nanoseconds), so refills are exact.
 * Not thread-safe.
 */
public final class TokenBucket
{
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final long ratePerSecond;
    private final long capacity;
    private long scaledTokens;
    private long lastNanos;
    private boolean started;

    public TokenBucket(final long ratePerSecond, final long burst)
    {
        if (ratePerSecond < 1 || burst < 1)
        {
            throw new IllegalArgumentException("token bucket: rate and burst must be >= 1 (rate " + ratePerSecond
                + ", burst " + burst + ")");
        }
        if (burst > Long.MAX_VALUE / NANOS_PER_SECOND)
        {
            throw new IllegalArgumentException("token bucket: burst too large: " + burst);
        }
        this.ratePerSecond = ratePerSecond;
        this.capacity = burst * NANOS_PER_SECOND;
    }

    /** Takes a token at {@code nowNanos}; false when none is left. */
    public boolean take(final long nowNanos)
    {
        if (!started)
        {
            started = true;
            scaledTokens = capacity;
            lastNanos = nowNanos;
        }
        final long elapsed = nowNanos - lastNanos;
        if (elapsed > 0)
        {
            // Capped before multiplying: a bucket idle for hours must not overflow the product.
            final long refill = elapsed >= capacity / ratePerSecond ? capacity : elapsed * ratePerSecond;
            scaledTokens = Math.min(capacity, scaledTokens + refill);
            lastNanos = nowNanos;
        }
        if (scaledTokens >= NANOS_PER_SECOND)
        {
            scaledTokens -= NANOS_PER_SECOND;
            return true;
        }
        return false;
    }
}
