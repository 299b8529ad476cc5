package dev.junction.conntrack;

import dev.junction.flowtable.ofp.Values;

/**
 * One connection as {@code ovs-appctl dpctl/dump-conntrack} prints it without {@code -s} or
 * {@code -m}: OVS's {@code ct_dpif_format_entry} over {@code conn_to_ct_dpif_entry}. Zone, mark
 * and labels appear only when non-zero; protoinfo only for TCP, as the later of the two peer
 * states with FIN_WAIT_2 shown as TIME_WAIT ({@code coalesce_tcp_state}).
 */
final class DumpFormat
{
    private DumpFormat()
    {
    }

    static void entry(final StringBuilder sb, final ConnKey fwd, final ConnKey rev, final long mark, final long labelHi,
        final long labelLo, final String tcpState)
    {
        proto(sb, fwd.proto);
        sb.append(",orig=(");
        tuple(sb, fwd);
        sb.append("),reply=(");
        tuple(sb, rev);
        sb.append(')');
        if (fwd.zone != 0)
        {
            sb.append(",zone=").append(fwd.zone);
        }
        if (mark != 0)
        {
            sb.append(",mark=").append(mark);
        }
        if (labelHi != 0 || labelLo != 0)
        {
            sb.append(",labels=");
            hex(sb, labelHi, labelLo);
        }
        if (tcpState != null)
        {
            sb.append(",protoinfo=(state=").append(tcpState).append(')');
        }
    }

    /** As {@code ct_dpif_format_ipproto}. */
    static void proto(final StringBuilder sb, final int p)
    {
        switch (p)
        {
            case 1: sb.append("icmp"); break;
            case 58: sb.append("icmpv6"); break;
            case 6: sb.append("tcp"); break;
            case 17: sb.append("udp"); break;
            case 132: sb.append("sctp"); break;
            case 136: sb.append("udplite"); break;
            case 33: sb.append("dccp"); break;
            case 2: sb.append("igmp"); break;
            default: sb.append(p); break;
        }
    }

    private static void tuple(final StringBuilder sb, final ConnKey k)
    {
        if (!k.v6)
        {
            sb.append("src=").append(Values.formatIpv4(k.srcLo)).append(",dst=").append(Values.formatIpv4(k.dstLo));
        }
        else
        {
            sb.append("src=").append(Values.formatIpv6(k.srcHi, k.srcLo))
                .append(",dst=").append(Values.formatIpv6(k.dstHi, k.dstLo));
        }
        if (k.proto == 1 || k.proto == 58)
        {
            sb.append(",id=").append(k.srcTp >>> 16).append(",type=").append((k.srcTp >>> 8) & 0xff)
                .append(",code=").append(k.srcTp & 0xff);
        }
        else
        {
            sb.append(",sport=").append(k.srcTp >>> 16).append(",dport=").append(k.dstTp >>> 16);
        }
    }

    /** As {@code ds_put_hex} of the big-endian label: {@code 0x} and no leading zeros. */
    static void hex(final StringBuilder sb, final long hi, final long lo)
    {
        if (hi != 0)
        {
            sb.append("0x").append(Long.toHexString(hi));
            final String l = Long.toHexString(lo);
            for (int i = l.length(); i < 16; i++)
            {
                sb.append('0');
            }
            sb.append(l);
        }
        else
        {
            sb.append("0x").append(Long.toHexString(lo));
        }
    }
}
