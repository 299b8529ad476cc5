package dev.junction.datapath;

/**
 * One packet-in, as OVS's ofputil_packet_in carries it to a controller: the frame as it was when
 * the controller action ran (rewrites before it applied, truncated to the action's max_len), the
 * port it came in on, the reason, the cookie and table of the rule whose action sent it, the
 * controller id and the action's userdata. The arrays are copies the handler owns.
 *
 * @param frame          the Ethernet frame, at most {@code maxLen} bytes of it.
 * @param totalLength    the frame's whole length (more than {@code frame.length} when truncated).
 * @param inPort         the OpenFlow port the packet was received on.
 * @param reason         OVS's ofp_packet_in_reason (1 action, 0 no_match, 2 invalid_ttl, 4 group, 6 explicit miss).
 * @param cookie         the cookie of the rule whose action sent the packet.
 * @param table          the table that rule is in (from the frozen state of the action's recirc id; -1 unknown).
 * @param controllerId   the controller connection the action named (0 by default).
 * @param userdata       the action's userdata (empty when none).
 * @param timestampNanos the packet's receive time (pcap time in a replay).
 */
public record PacketIn(byte[] frame, int totalLength, int inPort, int reason, long cookie, int table, int controllerId,
    byte[] userdata, long timestampNanos)
{
}
