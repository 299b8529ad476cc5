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
        final byte[] a = ip.getAddress();
        final int[] g = new int[8];
        for (int i = 0; i < 8; i++)
        {
            g[i] = ((a[2 * i] & 0xff) << 8) | (a[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; )
        {
            int j = i;
            while (j < 8 && g[j] == 0)
            {
                j++;
            }
            if (j - i > bestLen)
            {
                bestStart = i;
                bestLen = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++)
        {
            if (i == bestStart)
            {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':')
            {
                sb.append(':');
            }
            sb.append(Integer.toHexString(g[i]));
        }
        return sb.toString();
    }
}
