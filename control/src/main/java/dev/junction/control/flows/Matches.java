package dev.junction.control.flows;

import dev.junction.control.k8s.Cidr;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.Protocol;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The match fragments ACLs and load balancers are built from, in {@code ovs-ofctl} syntax: an
 * address or network on one side of the IP header, a transport protocol with an optional
 * destination port or port range. A range becomes the few value/mask pairs that cover it
 * exactly, as ovn-controller expands {@code tcp.dst >= a && tcp.dst <= b}.
 */
public final class Matches
{
    private Matches()
    {
    }

    /** {@code ip}/{@code ipv6}: the ethertype token of a family. */
    public static String ipToken(final boolean ipv6)
    {
        return ipv6 ? "ipv6" : "ip";
    }

    /** The protocol token ({@code tcp}, {@code udp6}, ...) of a family. */
    public static String protoToken(final Protocol protocol, final boolean ipv6)
    {
        final String p = protocol.name().toLowerCase(java.util.Locale.ROOT);
        return ipv6 ? p + "6" : p;
    }

    /** {@code nw_src=10.0.0.1} or {@code ipv6_dst=fd00::/64}: one address (host route) or network. */
    public static String address(final boolean source, final InetAddress ip)
    {
        return (Ip.isIpv6(ip) ? (source ? "ipv6_src=" : "ipv6_dst=") : (source ? "nw_src=" : "nw_dst=")) + Ip.text(ip);
    }

    public static String network(final boolean source, final Cidr cidr)
    {
        final int full = cidr.isIpv6() ? 128 : 32;
        final String field = cidr.isIpv6() ? (source ? "ipv6_src=" : "ipv6_dst=") : (source ? "nw_src=" : "nw_dst=");
        if (cidr.prefix() == 0)
        {
            return "";
        }
        return field + Ip.text(cidr.network()) + (cidr.prefix() == full ? "" : "/" + cidr.prefix());
    }

    /**
     * The masked {@code tp_dst} matches covering {@code [first, last]} exactly: the largest aligned
     * power-of-two blocks, left to right. A single port is one match without a mask.
     */
    public static List<String> portRange(final int first, final int last)
    {
        if (first < 0 || last > 0xffff || first > last)
        {
            throw new IllegalArgumentException("bad port range " + first + "-" + last);
        }
        final List<String> out = new ArrayList<>();
        int lo = first;
        while (lo <= last)
        {
            int size = lo == 0 ? 0x10000 : Integer.lowestOneBit(lo);
            while (lo + size - 1 > last)
            {
                size >>>= 1;
            }
            out.add(size == 1 ? "tp_dst=" + lo : String.format("tp_dst=0x%x/0x%x", lo, 0xffff & ~(size - 1)));
            lo += size;
        }
        return out;
    }

    /**
     * {@code base} minus every network in {@code except}, as disjoint networks: what an ipBlock
     * with excepts allows, written as plain prefix matches so no priority games are needed
     * (another rule of the same pod may allow an excepted address).
     */
    public static List<Cidr> subtract(final Cidr base, final List<Cidr> except)
    {
        final List<Cidr> out = new ArrayList<>();
        subtract(base, except, out);
        return out;
    }

    private static void subtract(final Cidr net, final List<Cidr> except, final List<Cidr> out)
    {
        boolean overlaps = false;
        for (final Cidr e : except)
        {
            if (e.isIpv6() != net.isIpv6())
            {
                continue;
            }
            if (e.contains(net))
            {
                return;
            }
            if (net.contains(e))
            {
                overlaps = true;
            }
        }
        if (!overlaps)
        {
            out.add(net);
            return;
        }
        final int p = net.prefix() + 1;
        final byte[] hi = net.network().getAddress();
        hi[(p - 1) / 8] |= (byte)(0x80 >>> ((p - 1) % 8));
        subtract(Cidr.of(net.network(), p), except, out);
        subtract(Cidr.of(Ip.of(hi), p), except, out);
    }
}
