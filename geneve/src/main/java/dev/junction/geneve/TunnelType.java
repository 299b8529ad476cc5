package dev.junction.geneve;

/** The UDP tunnel protocols a tunnel port speaks, with their IANA destination ports. */
public enum TunnelType
{
    /** RFC 8926: 8-byte header plus TLV options, carrying Ethernet (protocol 0x6558). */
    GENEVE(6081),
    /** RFC 7348: 8-byte header, flags 0x08 and a 24-bit VNI; no options. */
    VXLAN(4789);

    public final int defaultPort;

    TunnelType(final int defaultPort)
    {
        this.defaultPort = defaultPort;
    }
}
