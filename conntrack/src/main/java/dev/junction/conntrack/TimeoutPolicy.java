package dev.junction.conntrack;

import java.util.Arrays;

/**
 * Connection timeouts in seconds by OVS's timeout-policy attributes ({@code CT_DPIF_TP_ATTR_*}),
 * defaults from {@code ct_dpif_netdev_tp_def} in lib/conntrack-tp.c. Immutable; build a
 * changed copy with {@link #with}. A connection's expiry is {@code now + value * 1000 ms},
 * refreshed by every packet that passes its protocol's state machine.
 */
public final class TimeoutPolicy
{
    public static final int TCP_SYN_SENT = 0;
    public static final int TCP_SYN_RECV = 1;
    public static final int TCP_ESTABLISHED = 2;
    public static final int TCP_FIN_WAIT = 3;
    public static final int TCP_TIME_WAIT = 4;
    public static final int TCP_CLOSE = 5;
    public static final int UDP_FIRST = 6;
    public static final int UDP_SINGLE = 7;
    public static final int UDP_MULTIPLE = 8;
    public static final int ICMP_FIRST = 9;
    public static final int ICMP_REPLY = 10;
    public static final int ATTRS = 11;

    /** Names as {@code ovs-vsctl add-zone-tp} takes them. */
    public static final String[] NAMES = { "tcp_syn_sent", "tcp_syn_recv", "tcp_established", "tcp_fin_wait",
        "tcp_time_wait", "tcp_close", "udp_first", "udp_single", "udp_multiple", "icmp_first", "icmp_reply" };

    public static final TimeoutPolicy DEFAULT =
        new TimeoutPolicy(new int[] { 30, 30, 24 * 60 * 60, 15 * 60, 45, 30, 60, 60, 30, 60, 30 });

    private final int[] seconds;

    private TimeoutPolicy(final int[] seconds)
    {
        this.seconds = seconds;
    }

    public int seconds(final int attr)
    {
        return seconds[attr];
    }

    /** A copy with attribute {@code attr} set to {@code secs}. */
    public TimeoutPolicy with(final int attr, final int secs)
    {
        if (secs < 0)
        {
            throw new IllegalArgumentException("negative timeout");
        }
        final int[] s = seconds.clone();
        s[attr] = secs;
        return new TimeoutPolicy(s);
    }

    /** A copy with the attribute named as {@link #NAMES} set. */
    public TimeoutPolicy with(final String name, final int secs)
    {
        for (int i = 0; i < ATTRS; i++)
        {
            if (NAMES[i].equals(name))
            {
                return with(i, secs);
            }
        }
        throw new IllegalArgumentException("unknown timeout " + name);
    }

    long millis(final int attr)
    {
        return seconds[attr] * 1000L;
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof TimeoutPolicy && Arrays.equals(seconds, ((TimeoutPolicy)o).seconds);
    }

    @Override
    public int hashCode()
    {
        return Arrays.hashCode(seconds);
    }
}
