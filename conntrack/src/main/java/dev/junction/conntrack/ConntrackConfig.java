package dev.junction.conntrack;

/**
 * Limits and timeouts of a {@link Conntrack}. Defaults are OVS's (lib/conntrack-tp.c and
 * lib/conntrack.c); timeouts may be overridden per zone.
 */
public final class ConntrackConfig
{
    /** OVS's default for {@code dpctl/ct-set-maxconns}. */
    public static final int DEFAULT_MAX_CONNECTIONS = 3_000_000;

    public final int maxConnections;

    public ConntrackConfig(final int maxConnections)
    {
        this.maxConnections = maxConnections;
    }

    public static ConntrackConfig defaults()
    {
        return new ConntrackConfig(DEFAULT_MAX_CONNECTIONS);
    }
}
