package dev.junction.control.pinctrl;

/**
 * A token bucket on packet time: {@code rate} tokens a second, holding at most {@code rate}
 * (one second's worth, as an OVS meter band without a burst size), full at the start. Packet
 * time, not the clock, so a replay limits the same way however fast it runs; time that goes
 * backwards (inputs merged out of order) refills nothing.
 */
final class TokenBucket
{
    private final double rate;
    private double tokens;
    private long last = Long.MIN_VALUE;

    TokenBucket(final int ratePerSecond)
    {
        if (ratePerSecond < 1)
        {
            throw new IllegalArgumentException("rate must be >= 1 per second: " + ratePerSecond);
        }
        this.rate = ratePerSecond;
        this.tokens = ratePerSecond;
    }

    /** Takes a token at {@code nowNanos}; false when none is left. */
    boolean take(final long nowNanos)
    {
        if (last != Long.MIN_VALUE && nowNanos > last)
        {
            tokens = Math.min(rate, tokens + (nowNanos - last) * rate / 1e9);
        }
        if (last == Long.MIN_VALUE || nowNanos > last)
        {
            last = nowNanos;
        }
        if (tokens < 1)
        {
            return false;
        }
        tokens -= 1;
        return true;
    }
}
