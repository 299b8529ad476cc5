package dev.junction.geneve;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.TunMetadataSlots;

import java.util.Arrays;

/**
 * Which Geneve option lands in which {@code tun_metadataN} field, as OVS's
 * {@code ovs-ofctl add-tlv-map} sets it: {@code {class=0x102,type=0x80,len=4}->tun_metadata0} is
 * the option OVN uses (15-bit logical ingress port, 16-bit logical egress port).
 *
 * <p>Any of OVS's tun_metadata0-63 may be mapped, but Junction's flow key has eight 8-byte slots
 * ({@link TunMetadataSlots}): at most eight fields, each an option of 4 or 8 bytes (OVS: 64
 * fields, options up to 124 bytes, 256 bytes in all). The mapped fields take the slots in field
 * order; the accessors here are by slot, which is how decapsulation and encapsulation walk them.
 */
public final class TlvMap
{
    public static final int MAX_LEN = 8;

    /** By field number: option class << 8 | type, and data length (0: unmapped). */
    private final int[] fieldClassType = new int[TunMetadataSlots.FIELDS];
    private final int[] fieldLen = new int[TunMetadataSlots.FIELDS];
    private TunMetadataSlots slots = TunMetadataSlots.of();
    /** By slot, derived from the above after each add. */
    private final int[] classType = new int[FlowKey.TUN_METADATA_SLOTS];
    private final int[] len = new int[FlowKey.TUN_METADATA_SLOTS];

    /** Maps option (class, type), {@code length} bytes of data, to tun_metadata{@code field}. */
    public TlvMap add(final int optClass, final int type, final int length, final int field)
    {
        if (field < 0 || field >= TunMetadataSlots.FIELDS)
        {
            throw new IllegalArgumentException("tun_metadata" + field + ": OVS has tun_metadata0 to tun_metadata"
                + (TunMetadataSlots.FIELDS - 1));
        }
        if (optClass < 0 || optClass > 0xffff || type < 0 || type > 0xff)
        {
            throw new IllegalArgumentException("option class is 16 bits and type 8 bits");
        }
        if (length <= 0 || length % 4 != 0 || length > MAX_LEN)
        {
            throw new IllegalArgumentException("option length " + length + ": Geneve options are multiples of 4 bytes,"
                + " and Junction's tun_metadata fields hold at most " + MAX_LEN);
        }
        if (fieldLen[field] != 0)
        {
            throw new IllegalArgumentException("tun_metadata" + field + " is already mapped");
        }
        final int key = optClass << 8 | type;
        for (int i = 0; i < fieldLen.length; i++)
        {
            if (fieldLen[i] != 0 && fieldClassType[i] == key)
            {
                throw new IllegalArgumentException(String.format(
                    "option class=0x%x,type=0x%x is already mapped to tun_metadata%d", optClass, type, i));
            }
        }
        final int[] fields = new int[slots.size() + 1];
        for (int s = 0; s < slots.size(); s++)
        {
            fields[s] = slots.field(s);
        }
        fields[slots.size()] = field;
        if (fields.length > FlowKey.TUN_METADATA_SLOTS)
        {
            throw new IllegalArgumentException("tun_metadata" + field + ": a TLV map in Junction holds at most "
                + FlowKey.TUN_METADATA_SLOTS + " fields (the flow key's tun_metadata slots; OVS allows 64)");
        }
        slots = TunMetadataSlots.of(fields);
        fieldClassType[field] = key;
        fieldLen[field] = length;
        for (int s = 0; s < FlowKey.TUN_METADATA_SLOTS; s++)
        {
            final int f = s < slots.size() ? slots.field(s) : -1;
            classType[s] = f < 0 ? 0 : fieldClassType[f];
            len[s] = f < 0 ? 0 : fieldLen[f];
        }
        return this;
    }

    /** The key slot of each mapped field: what flows are parsed with ({@code FlowParser.tunMetadata}). */
    public TunMetadataSlots slots()
    {
        return slots;
    }

    /**
     * Parses {@code ovs-ofctl add-tlv-map} syntax: one or more
     * {@code {class=C,type=T,len=L}->tun_metadataN}, separated by commas.
     */
    public TlvMap parse(final String text)
    {
        int i = 0;
        final String s = text.replace(" ", "");
        while (i < s.length())
        {
            if (s.charAt(i) != '{')
            {
                throw new IllegalArgumentException(text + ": expected {class=...,type=...,len=...}->tun_metadataN");
            }
            final int close = s.indexOf('}', i);
            final int arrow = s.indexOf("->", close);
            if (close < 0 || arrow != close + 1)
            {
                throw new IllegalArgumentException(text + ": expected {class=...,type=...,len=...}->tun_metadataN");
            }
            int end = s.indexOf(',', arrow);
            end = end < 0 ? s.length() : end;
            int c = -1;
            int t = -1;
            int l = -1;
            for (final String kv : s.substring(i + 1, close).split(","))
            {
                final int eq = kv.indexOf('=');
                final String k = eq < 0 ? kv : kv.substring(0, eq);
                final int v = eq < 0 ? -1 : number(kv.substring(eq + 1), text);
                switch (k)
                {
                    case "class": c = v; break;
                    case "type": t = v; break;
                    case "len": l = v; break;
                    default: throw new IllegalArgumentException(text + ": unknown TLV attribute " + k);
                }
            }
            if (c < 0 || t < 0 || l < 0)
            {
                throw new IllegalArgumentException(text + ": class, type and len are all required");
            }
            final String field = s.substring(arrow + 2, end);
            if (!field.startsWith("tun_metadata"))
            {
                throw new IllegalArgumentException(text + ": " + field + " is not a tun_metadata field");
            }
            add(c, t, l, number(field.substring("tun_metadata".length()), text));
            i = end + 1;
        }
        return this;
    }

    private static int number(final String v, final String text)
    {
        try
        {
            return v.startsWith("0x") || v.startsWith("0X") ? Integer.parseInt(v.substring(2), 16) : Integer.parseInt(v);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(text + ": " + v + " is not a number");
        }
    }

    /** The slot option (class, type) maps to, or -1. */
    public int slotFor(final int optClass, final int type)
    {
        final int key = optClass << 8 | type;
        for (int i = 0; i < len.length; i++)
        {
            if (len[i] != 0 && classType[i] == key)
            {
                return i;
            }
        }
        return -1;
    }

    /** Data length of the option mapped to {@code slot}, 0 when unmapped. */
    public int length(final int slot)
    {
        return len[slot];
    }

    public int optionClass(final int slot)
    {
        return classType[slot] >>> 8;
    }

    public int optionType(final int slot)
    {
        return classType[slot] & 0xff;
    }

    public boolean isEmpty()
    {
        return Arrays.stream(len).allMatch(l -> l == 0);
    }
}
