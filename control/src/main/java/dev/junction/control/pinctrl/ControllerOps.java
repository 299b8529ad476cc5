package dev.junction.control.pinctrl;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * What a derived flow asks of pinctrl, carried in its controller action's userdata the way
 * ovn-controller encodes its controller ops: a 32-bit OVN action opcode and 4 bytes of padding
 * (struct action_header), then the op's data. {@code log} carries OVN's struct log_pin_header
 * (verdict, severity) and the ACL's name; {@code reject} carries nothing more (OVN nests the
 * actions that send the answer; here pinctrl sends it out of the client's port itself).
 */
public final class ControllerOps
{
    /** OVN's ACTION_OPCODE_ARP: send an ARP request for the next hop instead of the packet. */
    public static final int OPCODE_ARP = 0;
    /** OVN's ACTION_OPCODE_ND_NS: the same for IPv6, a neighbour solicitation. */
    public static final int OPCODE_ND_NS = 9;
    /** OVN's ACTION_OPCODE_LOG. */
    public static final int OPCODE_LOG = 7;
    /** OVN's ACTION_OPCODE_ICMP4_ERROR: an ICMP error about the packet instead of it (here: fragmentation needed). */
    public static final int OPCODE_ICMP4_ERROR = 14;
    /** OVN's ACTION_OPCODE_ICMP6_ERROR: the same for IPv6 (here: packet too big). */
    public static final int OPCODE_ICMP6_ERROR = 20;
    /** OVN's ACTION_OPCODE_REJECT. */
    public static final int OPCODE_REJECT = 22;
    /** OVN's log_verdict values. */
    public static final int VERDICT_ALLOW = 0;
    public static final int VERDICT_DROP = 1;
    static final int HEADER = 8;

    /** RFC 5424 levels, as OVN's LOG_SEVERITY_*, indexed by name. */
    private static final String[] SEVERITY_NAMES = {null, "alert", null, null, "warning", "notice", "info", "debug"};

    private ControllerOps()
    {
    }

    /** The action that rejects the packet: {@code controller(userdata=...)}. */
    public static String rejectAction()
    {
        return action(header(OPCODE_REJECT, 0));
    }

    /**
     * The action that asks for the next hop's MAC ({@link #OPCODE_ARP} for IPv4, {@link #OPCODE_ND_NS}
     * for IPv6): the request leaves by {@code port}, from {@code mac} and {@code source}, for
     * {@code target}. OVN's {@code arp{}} / {@code nd_ns{}} nest the actions that build it; here
     * the data names what pinctrl needs to build it ({@link NeighbourRequests}).
     */
    public static String neighbourRequestAction(final int port, final String mac, final byte[] source, final byte[] target)
    {
        final byte[] u = header(source.length == 16 ? OPCODE_ND_NS : OPCODE_ARP, 4 + 6 + source.length + target.length);
        BigEndian.put32(u, HEADER, port);
        putMac(u, HEADER + 4, mac);
        System.arraycopy(source, 0, u, HEADER + 10, source.length);
        System.arraycopy(target, 0, u, HEADER + 10 + source.length, target.length);
        return action(u);
    }

    /**
     * The action that answers a packet larger than {@code mtu} with ICMP "fragmentation needed"
     * ({@link #OPCODE_ICMP4_ERROR}, for an IPv4 {@code source}) or ICMPv6 "packet too big"
     * ({@link #OPCODE_ICMP6_ERROR}), the next-hop MTU {@code mtu}, sent out of {@code port} from
     * {@code mac} and {@code source}: OVN's {@code icmp4_error { icmp4.type = 3; icmp4.code = 4;
     * icmp4.frag_mtu = M; ip4.dst = ip4.src; ip4.src = I; ip.ttl = 255; ... }} and its
     * {@code icmp6_error} twin. OVN nests those actions; here the data names what pinctrl needs,
     * as {@link #neighbourRequestAction}: port (4 bytes), MAC (6), source (4 or 16), MTU (4).
     */
    public static String icmpErrorAction(final int port, final String mac, final byte[] source, final int mtu)
    {
        final byte[] u = header(source.length == 16 ? OPCODE_ICMP6_ERROR : OPCODE_ICMP4_ERROR, 4 + 6 + source.length + 4);
        BigEndian.put32(u, HEADER, port);
        putMac(u, HEADER + 4, mac);
        System.arraycopy(source, 0, u, HEADER + 10, source.length);
        BigEndian.put32(u, HEADER + 10 + source.length, mtu);
        return action(u);
    }

    /** The action that logs the packet under {@code name} with {@code verdict} and {@code severity} (a name, e.g. "alert"). */
    public static String logAction(final int verdict, final String severity, final String name)
    {
        final byte[] n = name.getBytes(StandardCharsets.UTF_8);
        final byte[] u = header(OPCODE_LOG, 2 + n.length);
        u[HEADER] = (byte)verdict;
        u[HEADER + 1] = (byte)severity(severity);
        System.arraycopy(n, 0, u, HEADER + 2, n.length);
        return action(u);
    }

    /** OVN's log_severity_from_string: -1 when {@code name} is no severity. */
    public static int severity(final String name)
    {
        for (int i = 0; i < SEVERITY_NAMES.length; i++)
        {
            if (SEVERITY_NAMES[i] != null && SEVERITY_NAMES[i].equals(name == null ? null : name.toLowerCase(Locale.ROOT)))
            {
                return i;
            }
        }
        return -1;
    }

    static String severityName(final int severity)
    {
        return severity >= 0 && severity < SEVERITY_NAMES.length && SEVERITY_NAMES[severity] != null
            ? SEVERITY_NAMES[severity] : "<unknown>";
    }

    static String verdictName(final int verdict)
    {
        return switch (verdict)
        {
            case VERDICT_ALLOW -> "allow";
            case VERDICT_DROP -> "drop";
            default -> "<unknown>";
        };
    }

    /** The opcode of {@code userdata}, or -1 when it is too short to carry one. */
    static int opcode(final byte[] userdata)
    {
        return userdata.length < HEADER ? -1 : (int)FrameHeaders.u32(userdata, 0);
    }

    private static void putMac(final byte[] u, final int at, final String mac)
    {
        final String[] octets = mac.split(":");
        for (int i = 0; i < 6; i++)
        {
            u[at + i] = (byte)Integer.parseInt(octets[i], 16);
        }
    }

    private static byte[] header(final int opcode, final int extra)
    {
        final byte[] u = new byte[HEADER + extra];
        u[0] = (byte)(opcode >>> 24);
        u[1] = (byte)(opcode >>> 16);
        u[2] = (byte)(opcode >>> 8);
        u[3] = (byte)opcode;
        return u;
    }

    private static String action(final byte[] userdata)
    {
        final StringBuilder sb = new StringBuilder("controller(userdata=");
        for (int i = 0; i < userdata.length; i++)
        {
            sb.append(i == 0 ? "" : ".").append(String.format("%02x", userdata[i] & 0xff));
        }
        return sb.append(')').toString();
    }
}
