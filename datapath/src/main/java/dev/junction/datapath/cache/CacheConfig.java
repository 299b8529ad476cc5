package dev.junction.datapath.cache;

/**
 * Limits and knobs of a worker's flow caches, with OVS's defaults: EMC of 8,192 entries with
 * insertion probability 1/100, at most 200,000 megaflows, megaflows idle for 10 s expire.
 */
public final class CacheConfig
{
    public static final CacheConfig DEFAULTS = new CacheConfig(true, ExactMatchCache.DEFAULT_ENTRIES,
        ExactMatchCache.DEFAULT_INSERT_INV_PROB, MegaflowCache.DEFAULT_LIMIT, 10_000);
    /** No caching: every packet is translated (the foundation's behaviour, for comparisons). */
    public static final CacheConfig DISABLED = new CacheConfig(false, 0, 0, 0, 10_000);

    public final boolean enabled;
    public final int emcEntries;
    public final int emcInsertInvProb;
    public final int megaflowLimit;
    public final long maxIdleMillis;

    public CacheConfig(final boolean enabled, final int emcEntries, final int emcInsertInvProb, final int megaflowLimit,
        final long maxIdleMillis)
    {
        if (emcEntries < 0 || (emcEntries & (emcEntries - 1)) != 0)
        {
            throw new IllegalArgumentException("EMC entries must be 0 or a power of two, got " + emcEntries);
        }
        if (emcInsertInvProb < 0 || megaflowLimit < 0 || maxIdleMillis <= 0)
        {
            throw new IllegalArgumentException("cache limits must be positive");
        }
        this.enabled = enabled;
        this.emcEntries = emcEntries;
        this.emcInsertInvProb = emcInsertInvProb;
        this.megaflowLimit = megaflowLimit;
        this.maxIdleMillis = maxIdleMillis;
    }

    public CacheConfig withEmc(final int entries, final int insertInvProb)
    {
        return new CacheConfig(enabled, entries, insertInvProb, megaflowLimit, maxIdleMillis);
    }

    public CacheConfig withMegaflowLimit(final int limit)
    {
        return new CacheConfig(enabled, emcEntries, emcInsertInvProb, limit, maxIdleMillis);
    }

    public CacheConfig withMaxIdleMillis(final long millis)
    {
        return new CacheConfig(enabled, emcEntries, emcInsertInvProb, megaflowLimit, millis);
    }
}
