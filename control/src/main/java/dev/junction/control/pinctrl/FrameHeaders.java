package dev.junction.control.pinctrl;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The headers of a packet-in's frame that pinctrl's answers and log lines need: Ethernet (one
 * optional 802.1Q tag), IPv4 or IPv6 (no extension headers), and the transport ports, TCP
 * sequence numbers and flags, or ICMP type. Read once from the frame; null when the frame is
 * not IP or is cut short before what is read.
 */
record FrameHeaders(byte[] frame, int vlanTci, int l3, boolean ipv6, int proto, int l4, int l4Length)
{
    static final int TCP = 6;
    static final int UDP = 17;
    static final int SCTP = 132;
    static final int ICMP = 1;
    static final int ICMPV6 = 58;
    static final int TCP_FIN = 0x01;
    static final int TCP_SYN = 0x02;
    static final int TCP_RST = 0x04;
    static final int TCP_ACK = 0x10;

    static FrameHeaders parse(final byte[] f)
    {
        if (f.length < 14)
        {
            return null;
        }
        int type = u16(f, 12);
        int l3 = 14;
        int tci = -1;
        if (type == 0x8100 && f.length >= 18)
        {
            tci = u16(f, 14);
            type = u16(f, 16);
            l3 = 18;
        }
        if (type == 0x0800 && f.length >= l3 + 20)
        {
            final int ihl = (f[l3] & 0x0f) * 4;
            final int total = Math.min(u16(f, l3 + 2), f.length - l3);
            final boolean later = (u16(f, l3 + 6) & 0x1fff) != 0;
            if (ihl < 20 || total < ihl || later)
            {
                return null;
            }
            return new FrameHeaders(f, tci, l3, false, f[l3 + 9] & 0xff, l3 + ihl, total - ihl);
        }
        if (type == 0x86dd && f.length >= l3 + 40)
        {
            final int payload = Math.min(u16(f, l3 + 4), f.length - l3 - 40);
            return new FrameHeaders(f, tci, l3, true, f[l3 + 6] & 0xff, l3 + 40, payload);
        }
        return null;
    }

    /** True when the transport header's first {@code n} bytes are in the frame. */
    boolean hasL4(final int n)
    {
        return l4Length >= n && l4 + n <= frame.length;
    }

    boolean ports()
    {
        return (proto == TCP || proto == UDP || proto == SCTP) && hasL4(4);
    }

    int sourcePort()
    {
        return u16(frame, l4);
    }

    int destinationPort()
    {
        return u16(frame, l4 + 2);
    }

    int addressLength()
    {
        return ipv6 ? 16 : 4;
    }

    int sourceAt()
    {
        return l3 + (ipv6 ? 8 : 12);
    }

    int destinationAt()
    {
        return sourceAt() + addressLength();
    }

    InetAddress source()
    {
        return address(sourceAt());
    }

    InetAddress destination()
    {
        return address(destinationAt());
    }

    /** The whole IP packet's length as the frame holds it (the IPv4 total length, or 40 + IPv6 payload). */
    int ipLength()
    {
        return l4 - l3 + l4Length;
    }

    private InetAddress address(final int at)
    {
        final byte[] a = new byte[addressLength()];
        System.arraycopy(frame, at, a, 0, a.length);
        try
        {
            return InetAddress.getByAddress(a);
        }
        catch (final UnknownHostException ex)
        {
            throw new IllegalStateException(ex); // cannot happen: 4 or 16 bytes
        }
    }

    static int u16(final byte[] b, final int at)
    {
        return (b[at] & 0xff) << 8 | (b[at + 1] & 0xff);
    }

    static long u32(final byte[] b, final int at)
    {
        return (long)u16(b, at) << 16 | u16(b, at + 2);
    }
}
