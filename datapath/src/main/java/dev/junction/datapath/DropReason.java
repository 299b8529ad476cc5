package dev.junction.datapath;

/** Why a packet, or one copy of it, did not leave: counted per reason, never silent. */
public enum DropReason
{
    /** Shorter than an Ethernet header: refused at receive, as OVS's dummy ports do. */
    SHORT_FRAME,
    /** The actions produced no output (table miss, explicit drop, output to the input port). */
    NO_OUTPUT,
    /** Translation failed (recursion or resubmit limit): the whole packet is dropped. */
    XLATE_ERROR,
    /**
     * Sent to the controller (controller action, dec_ttl at TTL 0/1) with no packet-in handler
     * set, and not output anywhere either.
     */
    CONTROLLER,
    /** Larger than the output port's MTU. */
    MTU_EXCEEDED,
    /** Conntrack refused the packet (an IP fragment: reassembly is not supported). */
    CONNTRACK,
    /** Recirculated more than {@link Datapath#MAX_RECIRC_DEPTH} times, as OVS's limit. */
    RECIRC_DEPTH,
    /** A tunnel packet for us with bad outer headers or checksums, a fragment, or an unknown Geneve version or protocol. */
    TUNNEL_MALFORMED,
    /** A tunnel packet for us that no tunnel port accepts (remote address, key or type). */
    TUNNEL_NO_PORT,
    /** A Geneve packet with a critical option the TLV map does not know (RFC 8926: drop). */
    TUNNEL_CRITICAL_OPTION,
    /** Arrived on the underlay port but is not a tunnel packet for a local endpoint. */
    UNDERLAY_OTHER,
    /** A miss on a port that spent its upcall budget ({@link UpcallLimiter}): not translated. */
    UPCALL_LIMIT,
    /** A packet-out a packet-in handler sent while the packet's queue of them was full (one packet-out, not the packet). */
    PACKET_OUT_OVERFLOW
}
