package dev.junction.flowtable;

/**
 * A masked match over {@link FlowKey}: {@code value} holds only bits selected by {@code mask},
 * so a key matches when {@code (key ^ value) & mask} is zero in every word.
 */
public final class Match
{
    public final FlowKey value = new FlowKey();
    public final FlowKey mask = new FlowKey();

    public boolean matches(final FlowKey key)
    {
        final long[] k = key.words;
        final long[] v = value.words;
        final long[] m = mask.words;
        for (int i = 0; i < FlowKey.WORDS; i++)
        {
            if (((k[i] ^ v[i]) & m[i]) != 0)
            {
                return false;
            }
        }
        return true;
    }

    public void set(final Field f, final long v, final long m)
    {
        f.setMasked(mask.words, m, f.allOnes());
        f.setMasked(value.words, v & m, f.allOnes());
    }

    /** Sets a 128-bit field from two words each of value and mask. */
    public void setWide(final Field f, final long vHi, final long vLo, final long mHi, final long mLo)
    {
        mask.words[f.word] = mHi;
        mask.words[f.word + 1] = mLo;
        value.words[f.word] = vHi & mHi;
        value.words[f.word + 1] = vLo & mLo;
    }

    public void clear(final Field f)
    {
        if (f.isWide())
        {
            setWide(f, 0, 0, 0, 0);
        }
        else
        {
            set(f, 0, 0);
        }
    }

    public boolean isWildcarded(final Field f)
    {
        return f.isWide() ? mask.words[f.word] == 0 && mask.words[f.word + 1] == 0 : mask.get(f) == 0;
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof Match && value.equals(((Match)o).value) && mask.equals(((Match)o).mask);
    }

    @Override
    public int hashCode()
    {
        return value.hashCode() * 31 + mask.hashCode();
    }
}
