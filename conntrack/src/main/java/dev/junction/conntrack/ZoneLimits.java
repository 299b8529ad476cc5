package dev.junction.conntrack;

import java.util.Arrays;

/**
 * Per-zone connection limits as OVS's {@code zone_limit} (set by {@code dpctl/ct-set-limits}):
 * a zone's own limit, else the default limit ({@code default=N}), else none. As in OVS 3.1,
 * connections admitted under the default limit are counted against that one shared counter,
 * and a limit of 0 admits nothing. Each limit has a sequence number so a connection admitted
 * under a since-deleted limit does not decrement its successor's count.
 */
final class ZoneLimits
{
    static final int DEFAULT_ZONE = -1;
    static final int NONE = 0;
    static final int OWN = 1;
    static final int DEFAULT = 2;

    // Index zone + 1; index 0 is the default.
    private final long[] limit = new long[65537];
    private final int[] count = new int[65537];
    private final int[] seq = new int[65537];
    private int nextSeq;

    ZoneLimits()
    {
        Arrays.fill(limit, -1);
    }

    void set(final int zone, final long lim)
    {
        if (zone < DEFAULT_ZONE || zone > 0xffff || lim < 0 || lim > 0xffffffffL)
        {
            throw new IllegalArgumentException("zone " + zone + " limit " + lim);
        }
        final int i = zone + 1;
        if (limit[i] < 0)
        {
            count[i] = 0;
            seq[i] = nextSeq++ & 0x3fffffff;
        }
        limit[i] = lim;
    }

    void delete(final int zone)
    {
        limit[zone + 1] = -1;
    }

    /** The limit of {@code zone} (-1: default, -1 result: none set). */
    long limit(final int zone)
    {
        return limit[zone + 1];
    }

    /** Connections counted against the limit of {@code zone} (-1: default). */
    int count(final int zone)
    {
        return limit[zone + 1] < 0 ? 0 : count[zone + 1];
    }

    /** Which limit governs a commit in {@code zone}: OWN, DEFAULT or NONE. */
    int governing(final int zone)
    {
        return limit[zone + 1] >= 0 ? OWN : limit[0] >= 0 ? DEFAULT : NONE;
    }

    private static int index(final int zone, final int kind)
    {
        return kind == OWN ? zone + 1 : 0;
    }

    boolean full(final int zone, final int kind)
    {
        final int i = index(zone, kind);
        return count[i] >= limit[i];
    }

    /** Counts an admission; returns the tag to keep with the connection (kind and sequence). */
    int admit(final int zone, final int kind)
    {
        if (kind == NONE)
        {
            return 0;
        }
        final int i = index(zone, kind);
        count[i]++;
        return kind << 30 | seq[i];
    }

    /** Uncounts a connection with {@code tag} from {@link #admit}, if its limit still exists. */
    void release(final int zone, final int tag)
    {
        final int kind = tag >>> 30;
        if (kind == NONE)
        {
            return;
        }
        final int i = index(zone, kind);
        if (limit[i] >= 0 && seq[i] == (tag & 0x3fffffff))
        {
            count[i]--;
        }
    }
}
