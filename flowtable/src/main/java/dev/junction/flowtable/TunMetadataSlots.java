package dev.junction.flowtable;

import java.util.Arrays;

/**
 * Which of the flow key's eight tun_metadata slots holds which of OVS's 64 fields
 * {@code tun_metadata0}-{@code tun_metadata63}: OVS gives every field mapped by the TLV map a
 * location in its 256-byte option space ({@code tun_metadata_alloc}); Junction gives every
 * mapped field one 8-byte slot of {@link FlowKey} words 22-29, and its 'present' bit follows
 * the slot. Slots go to the fields in field order, so walking the slots walks the fields in the
 * order OVS writes Geneve options and prints matches.
 *
 * <p>Two kinds: a fixed one, built from a switch's TLV map, refuses any field the map does not
 * name (OVS refuses such a flow with NXFMFC_INVALID_TLV_FIELD); an on-demand one, for flows
 * parsed without a switch as {@code ovs-ofctl parse-flow} parses them, gives a field the next
 * free slot the first time it is named. Either holds at most {@link FlowKey#TUN_METADATA_SLOTS}
 * fields. Decided before traffic, read-only afterwards (an on-demand one only grows while a
 * flows file is parsed).
 */
public final class TunMetadataSlots
{
    /** OVS's TUN_METADATA_NUM_OPTS. */
    public static final int FIELDS = 64;

    private final byte[] slotOfField = new byte[FIELDS];
    private final byte[] fieldOfSlot = new byte[FlowKey.TUN_METADATA_SLOTS];
    private final boolean onDemand;
    private int used;

    private TunMetadataSlots(final boolean onDemand)
    {
        this.onDemand = onDemand;
        Arrays.fill(slotOfField, (byte)-1);
        Arrays.fill(fieldOfSlot, (byte)-1);
    }

    /** Slots for flows parsed without a switch: each field gets one when first named. */
    public static TunMetadataSlots onDemand()
    {
        return new TunMetadataSlots(true);
    }

    /**
     * Slots for exactly {@code fields} (as a TLV map names them), given in field order.
     *
     * @throws IllegalArgumentException for a field outside 0-63, a repeated one, or more than eight.
     */
    public static TunMetadataSlots of(final int... fields)
    {
        final int[] sorted = fields.clone();
        Arrays.sort(sorted);
        final TunMetadataSlots s = new TunMetadataSlots(false);
        for (final int f : sorted)
        {
            checkField(f);
            if (s.slotOfField[f] >= 0)
            {
                throw new IllegalArgumentException("tun_metadata" + f + " is mapped twice");
            }
            s.take(f);
        }
        return s;
    }

    /** Slots tun_metadata0-7 in slots 0-7: what Junction had before fields were allocated. */
    public static TunMetadataSlots identity()
    {
        return of(0, 1, 2, 3, 4, 5, 6, 7);
    }

    /** The slot of tun_metadata{@code field}, or -1 when it has none. */
    public int slot(final int field)
    {
        return field >= 0 && field < FIELDS ? slotOfField[field] : -1;
    }

    /** The field held in {@code slot}, or -1 when the slot is free. */
    public int field(final int slot)
    {
        return fieldOfSlot[slot];
    }

    /** How many fields have slots. */
    public int size()
    {
        return used;
    }

    /**
     * The slot for tun_metadata{@code field} as a flow names it: its slot, a new one when
     * on demand, else an error message for the flow (the field is unmapped, or no slot is left).
     */
    public int resolve(final int field)
    {
        checkField(field);
        final int s = slotOfField[field];
        if (s >= 0)
        {
            return s;
        }
        if (!onDemand)
        {
            throw new IllegalArgumentException("tun_metadata" + field + " is not in the TLV map (add-tlv-map):"
                + " OVS refuses it with NXFMFC_INVALID_TLV_FIELD (invalid variable length meta-flow field)");
        }
        return take(field);
    }

    private int take(final int field)
    {
        if (used == FlowKey.TUN_METADATA_SLOTS)
        {
            throw new IllegalArgumentException("tun_metadata" + field + ": Junction's flow key holds at most "
                + FlowKey.TUN_METADATA_SLOTS + " tun_metadata fields at once (of OVS's 64), and "
                + describe() + " already have them");
        }
        slotOfField[field] = (byte)used;
        fieldOfSlot[used] = (byte)field;
        return used++;
    }

    private String describe()
    {
        final StringBuilder sb = new StringBuilder();
        for (int s = 0; s < used; s++)
        {
            sb.append(s == 0 ? "" : ",").append("tun_metadata").append(fieldOfSlot[s]);
        }
        return sb.toString();
    }

    private static void checkField(final int field)
    {
        if (field < 0 || field >= FIELDS)
        {
            throw new IllegalArgumentException("tun_metadata" + field + ": OVS has tun_metadata0 to tun_metadata"
                + (FIELDS - 1));
        }
    }
}
