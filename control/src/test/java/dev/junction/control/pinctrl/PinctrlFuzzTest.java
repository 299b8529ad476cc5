package dev.junction.control.pinctrl;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.junction.datapath.PacketIn;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Pinctrl#packetIn} on arbitrary packet-ins: any frame (truncated by a controller
 * action's {@code max_len} to a few bytes, or not Ethernet/IP at all) with any userdata (an op
 * header of a known or unknown opcode, a log op with any verdict, severity and name, a next-hop
 * ARP / ND op with any addresses). It runs on a datapath worker, so it must never throw: every
 * packet-in is answered, logged, or counted. A reject's answer leaves on the client's port, a
 * neighbour request or an ICMP error about a too big packet on the port its op names, an ICMP
 * error quotes the packet's IP header and leaves to its sender; an IP packet it sends must parse and carry valid
 * IPv4 header and transport checksums, an ARP request must be whole; a log line is one line (a
 * name with a newline must not forge a second log record).
 *
 * <p>Seeds: {@code src/test/resources/dev/junction/control/pinctrl/PinctrlFuzzTestInputs/packetIn/}:
 * a selector byte (0: reject, 1: log, 2: ARP, 3: ND NS, 4: ICMPv4 error, 5: ICMPv6 error (a gateway
 * router's fragmentation needed / packet too big), else the userdata as given), a
 * length-prefixed userdata tail, then the frame. A found input is kept there under a name
 * saying what it found ({@code neighbour-request-leaves-on-the-external-port}: a next-hop op
 * whose answer this test first expected on the client's port).
 */
class PinctrlFuzzTest
{
    @FuzzTest(maxDuration = "15s")
    void packetIn(final FuzzedDataProvider data)
    {
        final int selector = data.consumeByte() & 0xff;
        final byte[] tail = data.consumeBytes(data.consumeInt(0, 64));
        final byte[] userdata = switch (selector)
        {
            case 0 -> concat(header(ControllerOps.OPCODE_REJECT), tail);
            case 1 -> concat(header(ControllerOps.OPCODE_LOG), tail);
            case 2 -> concat(header(ControllerOps.OPCODE_ARP), tail);
            case 3 -> concat(header(ControllerOps.OPCODE_ND_NS), tail);
            case 4 -> concat(header(ControllerOps.OPCODE_ICMP4_ERROR), tail);
            case 5 -> concat(header(ControllerOps.OPCODE_ICMP6_ERROR), tail);
            default -> tail;
        };
        final int table = data.consumeInt(-1, 255);
        final long time = data.consumeLong();
        final byte[] frame = data.consumeRemainingAsBytes();
        final List<String> lines = new ArrayList<>();
        final Pinctrl pinctrl = new Pinctrl(lines::add, 1000);
        final List<byte[]> sent = new ArrayList<>();
        final PacketIn pin = new PacketIn(frame, frame.length, 3, 1, 0, table, 0, userdata, time);
        final int opcode = ControllerOps.opcode(userdata);
        final boolean neighbour = opcode == ControllerOps.OPCODE_ARP || opcode == ControllerOps.OPCODE_ND_NS;
        final boolean tooBig = opcode == ControllerOps.OPCODE_ICMP4_ERROR || opcode == ControllerOps.OPCODE_ICMP6_ERROR;

        pinctrl.packetIn(pin, (port, f) ->
        {
            assertEquals(neighbour ? NeighbourRequests.port(userdata) : tooBig ? PathMtuReplies.port(userdata) : 3, port,
                neighbour || tooBig ? "a next-hop request or too-big error leaves on the port its op names"
                    : "answers leave on the client's port");
            if (tooBig)
            {
                assertTooBig(userdata, frame, f);
            }
            sent.add(f.clone());
            return true;
        });

        final long counted = pinctrl.rejected() + pinctrl.unanswered() + pinctrl.unknown() + pinctrl.logged()
            + pinctrl.suppressed() + pinctrl.neighbourAsked() + pinctrl.neighbourSuppressed() + pinctrl.tooBig();
        assertEquals(1, counted, "one packet-in, one count: " + pinctrl.summary());
        assertEquals(pinctrl.rejected() + pinctrl.neighbourAsked() + pinctrl.tooBig(), sent.size(),
            "an answered packet-in is answered once");
        if (tooBig && PathMtuReplies.wellFormed(userdata))
        {
            // Every IP packet of the op's family is answered, unless it is itself an ICMP error.
            final FrameHeaders in = FrameHeaders.parse(frame);
            final boolean answered = in != null && in.ipv6() == (opcode == ControllerOps.OPCODE_ICMP6_ERROR) && !icmpError(in);
            assertEquals(answered ? 1 : 0, sent.size(), "too big: answered exactly when it must be");
        }
        for (final byte[] reply : sent)
        {
            assertValid(reply);
        }
        for (final String line : lines)
        {
            assertNotNull(line);
            assertFalse(line.contains("\n") || line.contains("\r"), "one log record per line: " + line);
        }
    }

    /**
     * A too-big error: ICMP 3/4 with the op's MTU in its low half-word or ICMPv6 2/0 with the
     * whole MTU, from the op's MAC and address to the packet's sender, quoting its IP header.
     */
    private static void assertTooBig(final byte[] userdata, final byte[] frame, final byte[] reply)
    {
        final FrameHeaders in = FrameHeaders.parse(frame);
        final FrameHeaders h = FrameHeaders.parse(reply);
        assertNotNull(in, "only an IP packet gets an ICMP error");
        assertNotNull(h, "an ICMP error parses");
        assertEquals(in.ipv6(), h.ipv6(), "the packet's family");
        final int alen = h.addressLength();
        final int mtuAt = ControllerOps.HEADER + 10 + alen;
        assertEquals(h.ipv6() ? 2 : 3, reply[h.l4()] & 0xff, "packet too big / destination unreachable");
        assertEquals(h.ipv6() ? 0 : 4, reply[h.l4() + 1] & 0xff, "fragmentation needed");
        assertEquals(h.ipv6() ? FrameHeaders.u32(userdata, mtuAt) : FrameHeaders.u16(userdata, mtuAt + 2),
            FrameHeaders.u32(reply, h.l4() + 4), "the next-hop MTU");
        assertEquals(java.util.HexFormat.of().formatHex(userdata, ControllerOps.HEADER + 4, ControllerOps.HEADER + 10),
            java.util.HexFormat.of().formatHex(reply, 6, 12), "from the router's MAC");
        assertEquals(java.util.HexFormat.of().formatHex(frame, 6, 12), java.util.HexFormat.of().formatHex(reply, 0, 6),
            "to the sender's MAC");
        assertEquals(java.util.HexFormat.of().formatHex(userdata, ControllerOps.HEADER + 10, mtuAt),
            java.util.HexFormat.of().formatHex(reply, h.sourceAt(), h.sourceAt() + alen), "from the router's address");
        assertEquals(java.util.HexFormat.of().formatHex(frame, in.sourceAt(), in.sourceAt() + alen),
            java.util.HexFormat.of().formatHex(reply, h.destinationAt(), h.destinationAt() + alen), "to the sender");
        final int quoted = Math.min(in.ipLength(), h.ipv6() ? 1280 - 62 : 576 - 42);
        assertEquals(reply.length, h.l4() + 8 + quoted, "as much of the packet as fits in " + (h.ipv6() ? 1280 : 576));
        assertEquals(java.util.HexFormat.of().formatHex(frame, in.l3(), in.l3() + quoted),
            java.util.HexFormat.of().formatHex(reply, h.l4() + 8, h.l4() + 8 + quoted), "the packet quoted from its IP header");
    }

    private static void assertValid(final byte[] reply)
    {
        if (reply.length >= 14 && (reply[12] & 0xff) == 0x08 && (reply[13] & 0xff) == 0x06)
        {
            assertTrue(reply.length >= 14 + 28, "a whole ARP request: " + reply.length + " bytes");
            return;
        }
        final FrameHeaders h = FrameHeaders.parse(reply);
        assertNotNull(h, "a reply parses");
        if (!h.ipv6())
        {
            // After the Ethernet header and the client's VLAN tag, which a reply keeps.
            assertEquals(0xffff, fold(InternetChecksum.sum(reply, h.l3(), (reply[h.l3()] & 0xf) * 4, 0)), "IPv4 header checksum");
        }
        final int l4Length = reply.length - h.l4();
        final int addressLength = h.ipv6() ? 16 : 4;
        final int srcAt = h.l3() + (h.ipv6() ? 8 : 12);
        long s = InternetChecksum.sum(reply, srcAt, addressLength, 0);
        s = InternetChecksum.sum(reply, srcAt + addressLength, addressLength, s);
        if (h.proto() != FrameHeaders.ICMP)
        {
            s += h.proto() + l4Length; // ICMPv4 has no pseudo-header
        }
        else
        {
            s = 0;
        }
        assertEquals(0xffff, fold(InternetChecksum.sum(reply, h.l4(), l4Length, s)), "transport checksum, proto " + h.proto());
        assertTrue(reply.length >= h.l3() + 20, "a reply holds an IP header");
    }

    /** RFC 1122 3.2.2 / RFC 4443 2.4 (e): ICMP errors (and ICMP too short to say) get no error. */
    private static boolean icmpError(final FrameHeaders h)
    {
        if (h.proto() != (h.ipv6() ? FrameHeaders.ICMPV6 : FrameHeaders.ICMP))
        {
            return false;
        }
        if (!h.hasL4(1))
        {
            return true;
        }
        final int type = h.frame()[h.l4()] & 0xff;
        return h.ipv6() ? type < 128 : java.util.Set.of(3, 4, 5, 11, 12).contains(type);
    }

    private static int fold(final long sum)
    {
        long s = sum;
        while ((s >>> 16) != 0)
        {
            s = (s & 0xffff) + (s >>> 16);
        }
        return (int)s;
    }

    private static byte[] header(final int opcode)
    {
        final byte[] h = new byte[ControllerOps.HEADER];
        h[2] = (byte)(opcode >>> 8);
        h[3] = (byte)opcode;
        return h;
    }

    private static byte[] concat(final byte[] a, final byte[] b)
    {
        final byte[] c = new byte[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
