package dev.junction.control.pinctrl;

import dev.junction.control.flows.Stage;
import dev.junction.datapath.PacketIn;
import dev.junction.datapath.TokenBucket;

import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * ACL log lines, as OVN's {@code handle_acl_log} writes them for an ACL with {@code log=true}:
 * one line per packet-in naming the ACL (here the NetworkPolicy, {@code namespace/name}, and its
 * rule, or {@code default-deny} with the policies isolating the pod), the verdict, the severity
 * from the namespace's {@code k8s.ovn.org/acl-logging} annotation, the direction (from the table
 * the ACL is in) and the packet's headers:
 *
 * <pre>acl_log: name="x/deny-all:default-deny", policy=x/deny-all, rule=default-deny, verdict=drop, severity=alert,
 *     direction=Ingress: tcp,in_port=3,dl_src=..,dl_dst=..,nw_src=10.244.0.5,nw_dst=10.244.1.6,tp_src=40000,tp_dst=80</pre>
 *
 * <p>Rate-limited as OVN-K limits ACL logging (a meter, 20 per second by default): a token
 * bucket on packet time; events beyond it are counted, and the count so far is reported on the
 * next line that passes. Thread-safe: workers may log at once.
 */
final class AclLog
{
    public static final int DEFAULT_RATE = 20;

    private static final java.util.regex.Pattern CONTROL = java.util.regex.Pattern.compile("\\p{Cntrl}");

    private final Consumer<String> out;
    private final TokenBucket bucket;
    private long logged;
    private long suppressed;
    private long unreported;

    AclLog(final Consumer<String> out, final int ratePerSecond)
    {
        this.out = out;
        this.bucket = new TokenBucket(ratePerSecond, ratePerSecond);
    }

    /**
     * Logs the packet-in whose userdata past the op header is {@code verdict, severity, name};
     * false when the userdata is too short to hold them (nothing logged or counted here).
     */
    synchronized boolean log(final PacketIn pin, final FrameHeaders h)
    {
        final byte[] u = pin.userdata();
        if (u.length < ControllerOps.HEADER + 2)
        {
            return false;
        }
        if (!bucket.take(pin.timestampNanos()))
        {
            suppressed++;
            unreported++;
            return true;
        }
        if (unreported > 0)
        {
            out.accept("acl_log: " + unreported + " events suppressed by the rate limit");
            unreported = 0;
        }
        // The name is the flows' (ours), but a log record is one line whatever it holds.
        final String name = CONTROL.matcher(new String(u, ControllerOps.HEADER + 2, u.length - ControllerOps.HEADER - 2,
            StandardCharsets.UTF_8)).replaceAll("?");
        final int colon = name.lastIndexOf(':');
        final StringBuilder sb = new StringBuilder("acl_log: name=\"").append(name).append("\", policy=")
            .append(colon < 0 ? name : name.substring(0, colon)).append(", rule=").append(colon < 0 ? "" : name.substring(colon + 1))
            .append(", verdict=").append(ControllerOps.verdictName(u[ControllerOps.HEADER]))
            .append(", severity=").append(ControllerOps.severityName(u[ControllerOps.HEADER + 1]))
            .append(", direction=").append(direction(pin.table())).append(": ");
        headers(sb, pin, h);
        logged++;
        out.accept(sb.toString());
        return true;
    }

    private static String direction(final int table)
    {
        return table == Stage.ACL_EGRESS.table ? "Egress" : table == Stage.ACL_INGRESS.table ? "Ingress" : "table " + table;
    }

    /** The packet as OVS's flow_format starts it: protocol, in_port, MACs, addresses, ports (or ICMP type and code). */
    private static void headers(final StringBuilder sb, final PacketIn pin, final FrameHeaders h)
    {
        final byte[] f = pin.frame();
        if (h == null)
        {
            sb.append("in_port=").append(pin.inPort()).append(",dl_src=").append(mac(f, 6)).append(",dl_dst=").append(mac(f, 0));
            return;
        }
        final String v = h.ipv6() ? "6" : "";
        sb.append(switch (h.proto())
        {
            case FrameHeaders.TCP -> "tcp" + v;
            case FrameHeaders.UDP -> "udp" + v;
            case FrameHeaders.SCTP -> "sctp" + v;
            case FrameHeaders.ICMP -> "icmp";
            case FrameHeaders.ICMPV6 -> "icmp6";
            default -> h.ipv6() ? "ipv6" : "ip";
        });
        sb.append(",in_port=").append(pin.inPort()).append(",dl_src=").append(mac(f, 6)).append(",dl_dst=").append(mac(f, 0));
        final String a = h.ipv6() ? "ipv6_" : "nw_";
        sb.append(',').append(a).append("src=").append(dev.junction.control.k8s.Ip.text(h.source()))
            .append(',').append(a).append("dst=").append(dev.junction.control.k8s.Ip.text(h.destination()));
        if (h.ports())
        {
            sb.append(",tp_src=").append(h.sourcePort()).append(",tp_dst=").append(h.destinationPort());
        }
        else if ((h.proto() == FrameHeaders.ICMP || h.proto() == FrameHeaders.ICMPV6) && h.hasL4(2))
        {
            sb.append(",icmp_type=").append(f[h.l4()] & 0xff).append(",icmp_code=").append(f[h.l4() + 1] & 0xff);
        }
    }

    /** A MAC of the frame, or "?" when {@code max_len} cut the frame before it. */
    private static String mac(final byte[] f, final int at)
    {
        if (f.length < at + 6)
        {
            return "?";
        }
        return String.format("%02x:%02x:%02x:%02x:%02x:%02x", f[at] & 0xff, f[at + 1] & 0xff, f[at + 2] & 0xff,
            f[at + 3] & 0xff, f[at + 4] & 0xff, f[at + 5] & 0xff);
    }

    synchronized long logged()
    {
        return logged;
    }

    synchronized long suppressed()
    {
        return suppressed;
    }
}
