package dev.junction.control.pinctrl;

import dev.junction.datapath.PacketIn;
import dev.junction.datapath.PacketInHandler;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The packet-in handler of derived flows, in the role of ovn-controller's pinctrl: it reads the
 * op from the controller action's userdata ({@link ControllerOps}) and rejects (a TCP RST or ICMP
 * unreachable out of the client's port, {@link RejectReplies}), logs ({@link AclLog}) or asks a
 * gateway router's next hop for its MAC (an ARP request or neighbour solicitation out of the
 * external port, {@link NeighbourRequests}; the packet that found it unresolved is dropped), or
 * answers a packet larger than a gateway router's MTU with ICMP fragmentation needed / ICMPv6
 * packet too big out of the port the op names ({@link PathMtuReplies}; the packet is dropped).
 * Packet-ins of other ops, or of flows that carry none, are counted and left alone.
 *
 * <p>Thread-safe, as {@link PacketInHandler} requires of a handler shared by pipeline workers:
 * answers are built from the packet-in alone, and the log serialises its lines.
 */
public final class Pinctrl implements PacketInHandler
{
    private final AclLog aclLog;
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong unanswered = new AtomicLong();
    private final AtomicLong unknown = new AtomicLong();
    private final NeighbourRequests neighbourRequests = new NeighbourRequests();
    private final AtomicLong neighbourAsked = new AtomicLong();
    private final AtomicLong neighbourSuppressed = new AtomicLong();
    private final AtomicLong tooBig = new AtomicLong();

    /** Log lines go to {@code logLines}, at most {@code logRatePerSecond} a second of packet time. */
    public Pinctrl(final Consumer<String> logLines, final int logRatePerSecond)
    {
        this.aclLog = new AclLog(logLines, logRatePerSecond);
    }

    /** Log lines to {@code logLines} at OVN-K's default rate, 20 a second. */
    public Pinctrl(final Consumer<String> logLines)
    {
        this(logLines, AclLog.DEFAULT_RATE);
    }

    @Override
    public void packetIn(final PacketIn pin, final PacketOuts out)
    {
        final FrameHeaders h = FrameHeaders.parse(pin.frame());
        switch (ControllerOps.opcode(pin.userdata()))
        {
            case ControllerOps.OPCODE_REJECT:
                final byte[] reply = h == null ? null : RejectReplies.reply(h);
                if (reply != null && out.send(pin.inPort(), reply))
                {
                    rejected.incrementAndGet();
                }
                else
                {
                    unanswered.incrementAndGet();
                }
                break;
            case ControllerOps.OPCODE_LOG:
                if (!aclLog.log(pin, h))
                {
                    unknown.incrementAndGet();
                }
                break;
            case ControllerOps.OPCODE_ARP:
            case ControllerOps.OPCODE_ND_NS:
                askNeighbour(pin, out);
                break;
            case ControllerOps.OPCODE_ICMP4_ERROR:
            case ControllerOps.OPCODE_ICMP6_ERROR:
                answerTooBig(pin, h, out);
                break;
            default:
                unknown.incrementAndGet();
                break;
        }
    }

    private void answerTooBig(final PacketIn pin, final FrameHeaders h, final PacketOuts out)
    {
        if (!PathMtuReplies.wellFormed(pin.userdata()))
        {
            unknown.incrementAndGet();
            return;
        }
        final byte[] reply = PathMtuReplies.reply(pin.userdata(), h);
        if (reply != null && out.send(PathMtuReplies.port(pin.userdata()), reply))
        {
            tooBig.incrementAndGet();
        }
        else
        {
            unanswered.incrementAndGet();
        }
    }

    private void askNeighbour(final PacketIn pin, final PacketOuts out)
    {
        final byte[] request = NeighbourRequests.request(pin.userdata());
        if (request == null)
        {
            unknown.incrementAndGet();
        }
        else if (neighbourRequests.allowed(pin.userdata(), pin.timestampNanos())
            && out.send(NeighbourRequests.port(pin.userdata()), request))
        {
            neighbourAsked.incrementAndGet();
        }
        else
        {
            neighbourSuppressed.incrementAndGet();
        }
    }

    /** ARP requests and neighbour solicitations sent for unresolved next hops (each dropped the packet that asked). */
    public long neighbourAsked()
    {
        return neighbourAsked.get();
    }

    /** Packets to an unresolved next hop that sent no request: the rate limit, or the packet-out queue full. */
    public long neighbourSuppressed()
    {
        return neighbourSuppressed.get();
    }

    /** Packets larger than a gateway router's MTU answered with ICMP fragmentation needed or ICMPv6 packet too big. */
    public long tooBig()
    {
        return tooBig.get();
    }

    /** Packets answered with a RST or an ICMP unreachable. */
    public long rejected()
    {
        return rejected.get();
    }

    /**
     * Rejected or too big packets that got no answer (an ICMP error, SCTP, not IP, an IP family
     * other than the op's, or the packet-out queue full).
     */
    public long unanswered()
    {
        return unanswered.get();
    }

    /** Packet-ins without an op this handler knows, or whose op data is too short to read. */
    public long unknown()
    {
        return unknown.get();
    }

    public long logged()
    {
        return aclLog.logged();
    }

    /** ACL log events the rate limit suppressed. */
    public long suppressed()
    {
        return aclLog.suppressed();
    }

    /** One line of counters, for a command's summary. */
    public String summary()
    {
        return "pinctrl: " + rejected() + " rejected with an answer, " + unanswered() + " without, " + logged()
            + " ACL log lines, " + suppressed() + " suppressed by the rate limit, " + neighbourAsked()
            + " next-hop ARP/ND requests, " + neighbourSuppressed() + " not sent (rate limit), " + tooBig()
            + " too big for the gateway MTU answered (fragmentation needed / packet too big)";
    }
}
