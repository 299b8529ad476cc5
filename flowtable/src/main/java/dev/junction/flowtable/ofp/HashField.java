package dev.junction.flowtable.ofp;

import dev.junction.flowtable.Field;

import java.util.Locale;

/**
 * The fields a {@code selection_method=hash} group may hash, in OVS's meta-flow id order (the
 * order OVS hashes and prints them in, whatever order they were written in), with their
 * meta-flow names and sizes: the hash runs over each field's value in network byte order,
 * {@code nBytes} long, as OVS's pick_hash_fields_select_group does.
 */
public enum HashField
{
    METADATA(Field.METADATA, 8, true, "metadata"),
    IN_PORT(Field.IN_PORT, 2, false, "in_port"),
    REG0(Field.REG0, 4, true, "reg0"), REG1(Field.REG1, 4, true, "reg1"), REG2(Field.REG2, 4, true, "reg2"),
    REG3(Field.REG3, 4, true, "reg3"), REG4(Field.REG4, 4, true, "reg4"), REG5(Field.REG5, 4, true, "reg5"),
    REG6(Field.REG6, 4, true, "reg6"), REG7(Field.REG7, 4, true, "reg7"),
    ETH_SRC(Field.DL_SRC, 6, true, "eth_src", "dl_src"),
    ETH_DST(Field.DL_DST, 6, true, "eth_dst", "dl_dst"),
    ETH_TYPE(Field.DL_TYPE, 2, false, "eth_type", "dl_type"),
    IPV4_SRC(Field.NW_SRC, 4, true, "ip_src", "nw_src"),
    IPV4_DST(Field.NW_DST, 4, true, "ip_dst", "nw_dst"),
    IPV6_SRC(Field.IPV6_SRC, 16, true, "ipv6_src"),
    IPV6_DST(Field.IPV6_DST, 16, true, "ipv6_dst"),
    IP_PROTO(Field.NW_PROTO, 1, false, "nw_proto", "ip_proto"),
    TCP_SRC(Field.TCP_SRC, 2, true, "tcp_src", "tp_src"),
    TCP_DST(Field.TCP_DST, 2, true, "tcp_dst", "tp_dst"),
    UDP_SRC(Field.UDP_SRC, 2, true, "udp_src"),
    UDP_DST(Field.UDP_DST, 2, true, "udp_dst"),
    SCTP_SRC(Field.SCTP_SRC, 2, true, "sctp_src"),
    SCTP_DST(Field.SCTP_DST, 2, true, "sctp_dst"),
    ICMPV4_TYPE(Field.ICMP_TYPE, 1, false, "icmp_type", "icmpv4_type"),
    ICMPV4_CODE(Field.ICMP_CODE, 1, false, "icmp_code", "icmpv4_code"),
    ICMPV6_TYPE(Field.ICMPV6_TYPE, 1, false, "icmpv6_type"),
    ICMPV6_CODE(Field.ICMPV6_CODE, 1, false, "icmpv6_code");

    public final Field field;
    public final int nBytes;
    /** Whether any mask may be given (else only all ones: OVS's MFM_NONE fields). */
    public final boolean maskable;
    private final String[] names;

    HashField(final Field field, final int nBytes, final boolean maskable, final String... names)
    {
        this.field = field;
        this.nBytes = nBytes;
        this.maskable = maskable;
        this.names = names;
    }

    /** The name OVS prints. */
    public String ovsName()
    {
        return names[0];
    }

    /** By meta-flow name or alias (case-sensitive as OVS's mf_from_name), or null. */
    public static HashField byName(final String name)
    {
        for (final HashField h : values())
        {
            for (final String n : h.names)
            {
                if (n.equals(name))
                {
                    return h;
                }
            }
        }
        return null;
    }

    /** All-ones mask of the field's {@code nBytes}, as the low word (the high word for 16-byte fields is the same). */
    public long fullMask()
    {
        return nBytes >= 8 ? -1L : (1L << (nBytes * 8)) - 1;
    }

    @Override
    public String toString()
    {
        return ovsName().toLowerCase(Locale.ROOT);
    }
}
