package dev.junction.flowtable.cls;

import java.util.Arrays;

/** A mask (FlowKey layout) as a hash-map key: groups rules or megaflows into subtables. */
public final class MaskKey
{
    private final long[] words;
    private final int hash;

    /** Keeps {@code words} as given: pass an array nobody will change. */
    public MaskKey(final long[] words)
    {
        this.words = words;
        this.hash = Arrays.hashCode(words);
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof MaskKey && Arrays.equals(words, ((MaskKey)o).words);
    }

    @Override
    public int hashCode()
    {
        return hash;
    }
}
