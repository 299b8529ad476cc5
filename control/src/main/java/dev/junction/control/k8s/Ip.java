package dev.junction.control.k8s;

import dev.junction.geneve.IpPrefix;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** Literal IP addresses as the model keeps them: {@link InetAddress} built from bytes, never from DNS. */
public final class Ip
{
    private Ip()
    {
    }

    /** Parses a literal IPv4 or IPv6 address; a name or a typo is an {@link IllegalArgumentException}. */
    public static InetAddress parse(final String text)
    {
        return of(IpPrefix.address(text));
    }

    public static InetAddress of(final byte[] bytes)
    {
        try
        {
            return InetAddress.getByAddress(bytes);
        }
        catch (final UnknownHostException ex)
        {
            throw new IllegalArgumentException("an address has 4 or 16 bytes, not " + bytes.length);
        }
    }

    public static boolean isIpv6(final InetAddress ip)
    {
        return ip.getAddress().length == 16;
    }

    /** The usual text form; IPv6 compressed as Kubernetes prints it ({@code fd00::1}, not {@code fd00:0:0:0:0:0:0:1}). */
    public static String text(final InetAddress ip)
    {
        if (!isIpv6(ip))
        {
            return ip.getHostAddress();
        }
        // The same RFC 5952 compression as OVS's and Go's printers (one implementation: Values).
        final byte[] a = ip.getAddress();
        long hi = 0;
        long lo = 0;
        for (int i = 0; i < 8; i++)
        {
            hi = hi << 8 | (a[i] & 0xff);
            lo = lo << 8 | (a[8 + i] & 0xff);
        }
        return dev.junction.flowtable.ofp.Values.formatIpv6(hi, lo);
    }
}
