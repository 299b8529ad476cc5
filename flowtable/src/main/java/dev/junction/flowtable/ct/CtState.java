package dev.junction.flowtable.ct;

/**
 * The bits of {@code ct_state}, with OVS's values ({@code CS_*} in {@code packets.h}), and their
 * names in the order {@code ovs-ofctl} prints them.
 */
public final class CtState
{
    public static final int NEW = 0x01;
    public static final int EST = 0x02;
    public static final int REL = 0x04;
    public static final int RPL = 0x08;
    public static final int INV = 0x10;
    public static final int TRK = 0x20;
    public static final int SNAT = 0x40;
    public static final int DNAT = 0x80;

    /** Names by bit position, as OVS's {@code ct_state_to_string}. */
    public static final String[] NAMES = { "new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat" };

    private CtState()
    {
    }

    /** The bit of a flag name ({@code trk}, {@code est}, ...), or 0 when it is not one. */
    public static int bit(final String name)
    {
        for (int i = 0; i < NAMES.length; i++)
        {
            if (NAMES[i].equals(name))
            {
                return 1 << i;
            }
        }
        return 0;
    }
}
