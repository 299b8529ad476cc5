package dev.junction.flowtable.ofp;

/**
 * Prints a group as {@code ovs-ofctl -O OpenFlow15 dump-groups} (and {@code parse-group}) print
 * it: OVS's ofp_print_group, with bucket ids, non-default weights, watches and the bucket's
 * actions as written.
 */
public final class GroupPrinter
{
    private GroupPrinter()
    {
    }

    public static String format(final Group g)
    {
        final StringBuilder s = new StringBuilder("group_id=").append(g.id).append(",type=").append(g.type.ovsName);
        if (!g.selectionMethod.isEmpty())
        {
            s.append(",selection_method=").append(g.selectionMethod);
            if (g.selectionMethodParam != 0)
            {
                s.append(",selection_method_param=").append(Long.toUnsignedString(g.selectionMethodParam));
            }
            if (g.fields.size() == 1)
            {
                s.append(",fields=");
                field(s, g.fields.get(0));
            }
            else if (g.fields.size() > 1)
            {
                s.append(",fields(");
                for (int i = 0; i < g.fields.size(); i++)
                {
                    if (i > 0)
                    {
                        s.append(',');
                    }
                    field(s, g.fields.get(i));
                }
                s.append(')');
            }
        }
        final int defaultWeight = g.type == Group.Type.SELECT ? 1 : 0;
        for (final Bucket b : g.buckets)
        {
            s.append(",bucket=bucket_id:").append(b.bucketId).append(',');
            if (b.weight != defaultWeight)
            {
                s.append("weight:").append(b.weight).append(',');
            }
            if (b.watchPort != Bucket.WATCH_PORT_NONE)
            {
                s.append("watch_port:").append(FlowPrinter.portName(b.watchPort, false)).append(',');
            }
            if (b.watchGroup != Bucket.WATCH_GROUP_NONE)
            {
                s.append("watch_group:").append(b.watchGroup).append(',');
            }
            s.append("actions=").append(FlowPrinter.actions(b.actions));
        }
        return s.toString();
    }

    private static void field(final StringBuilder s, final Group.HashSpec f)
    {
        final HashField h = f.field();
        s.append(h.ovsName());
        final boolean allOnes = f.mask() == h.fullMask() && (h.nBytes != 16 || f.maskHi() == -1L);
        if (allOnes)
        {
            return;
        }
        s.append('=');
        switch (h.field.format)
        {
            case MAC:
                s.append(Values.formatMac(f.mask()));
                break;
            case IPV4:
                s.append(Values.formatIpv4(f.mask()));
                break;
            case IPV6:
                s.append(Values.formatIpv6(f.maskHi(), f.mask()));
                break;
            case HEX:
                s.append("0x").append(Long.toHexString(f.mask()));
                break;
            default:
                s.append(Long.toUnsignedString(f.mask()));
                break;
        }
    }
}
