package dev.junction.control.pinctrl;

/**
 * What OVN's {@code icmp4_error} / {@code icmp6_error} send for a packet a gateway router cannot
 * forward because it is larger than the MTU of the port it would leave by (northd's
 * lr_in_larger_pkts, {@code gateway_mtu}): ICMP destination unreachable, fragmentation needed
 * (type 3, code 4, RFC 1191 next-hop MTU in the second word's low half) or ICMPv6 packet too big
 * (type 2, code 0, RFC 4443 3.2 MTU), from the router's MAC and address the op names (see
 * {@link ControllerOps#icmpErrorAction}) to the packet's sender, quoting the packet as a reject's
 * unreachable does ({@link RejectReplies#icmpError}).
 *
 * <p>As OVN, the DF bit of an IPv4 packet is not asked: the router fragments nothing. No answer
 * for an ICMP error (RFC 1122 3.2.2), a packet of the other family than the op's, or an op whose
 * data is cut short.
 */
final class PathMtuReplies
{
    private static final int PORT_AT = ControllerOps.HEADER;
    private static final int MAC_AT = PORT_AT + 4;
    private static final int SOURCE_AT = MAC_AT + 6;

    private PathMtuReplies()
    {
    }

    /** True when {@code userdata} holds a whole op: port, MAC, an address of its opcode's family and the MTU. */
    static boolean wellFormed(final byte[] userdata)
    {
        return userdata.length == SOURCE_AT + addressLength(userdata) + 4;
    }

    /** The out port the op names (its data well formed). */
    static int port(final byte[] userdata)
    {
        return (int)FrameHeaders.u32(userdata, PORT_AT);
    }

    /** The next-hop MTU the op names (its data well formed). */
    static long mtu(final byte[] userdata)
    {
        return FrameHeaders.u32(userdata, SOURCE_AT + addressLength(userdata));
    }

    /** The error answering {@code h}'s packet, or null when it gets none. */
    static byte[] reply(final byte[] userdata, final FrameHeaders h)
    {
        if (h == null || h.ipv6() != (addressLength(userdata) == 16) || RejectReplies.isIcmpError(h))
        {
            return null;
        }
        final long mtu = mtu(userdata);
        return h.ipv6()
            ? RejectReplies.icmpError(h, 2, 0, mtu, userdata, MAC_AT, SOURCE_AT)
            : RejectReplies.icmpError(h, 3, 4, mtu & 0xffff, userdata, MAC_AT, SOURCE_AT);
    }

    private static int addressLength(final byte[] userdata)
    {
        return ControllerOps.opcode(userdata) == ControllerOps.OPCODE_ICMP6_ERROR ? 16 : 4;
    }
}
