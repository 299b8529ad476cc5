package dev.junction.geneve;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/** An IPv4 or IPv6 address with a prefix length, as in {@code 172.31.1.1/24}. */
public final class IpPrefix
{
    public final byte[] address;
    public final int length;

    public IpPrefix(final byte[] address, final int length)
    {
        if (address.length != 4 && address.length != 16)
        {
            throw new IllegalArgumentException("an address has 4 or 16 bytes, not " + address.length);
        }
        if (length < 0 || length > address.length * 8)
        {
            throw new IllegalArgumentException("prefix length " + length + " out of range for " + ip(address));
        }
        this.address = address.clone();
        this.length = length;
    }

    /** Parses {@code ADDR[/LEN]} (a bare address is a host prefix); literal addresses only, never DNS. */
    public static IpPrefix parse(final String text)
    {
        final int slash = text.indexOf('/');
        final byte[] a = address(slash < 0 ? text : text.substring(0, slash));
        final int len;
        try
        {
            len = slash < 0 ? a.length * 8 : Integer.parseInt(text.substring(slash + 1).trim());
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(text + ": bad prefix length");
        }
        return new IpPrefix(a, len);
    }

    /** A literal IPv4 or IPv6 address; refuses names so that a typo never becomes a DNS lookup. */
    public static byte[] address(final String text)
    {
        final String t = text.trim();
        final boolean v4 = t.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        if (!v4 && !(t.indexOf(':') >= 0 && t.matches("[0-9A-Fa-f:.]+")))
        {
            throw new IllegalArgumentException(t + ": not an IPv4 or IPv6 address");
        }
        try
        {
            final byte[] a = InetAddress.getByName(t).getAddress();
            if (v4 && a.length != 4)
            {
                throw new IllegalArgumentException(t + ": not an IPv4 address");
            }
            return a;
        }
        catch (final UnknownHostException ex)
        {
            throw new IllegalArgumentException(t + ": not an IPv4 or IPv6 address");
        }
    }

    public boolean isIpv6()
    {
        return address.length == 16;
    }

    public boolean contains(final byte[] ip)
    {
        if (ip.length != address.length)
        {
            return false;
        }
        int bits = length;
        for (int i = 0; bits > 0; i++, bits -= 8)
        {
            final int mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
            if (((ip[i] ^ address[i]) & mask) != 0)
            {
                return false;
            }
        }
        return true;
    }

    /** The address as OVS prints it: dotted IPv4, compressed IPv6 ({@code fd77::2}). */
    public static String ip(final byte[] a)
    {
        if (a.length == 16)
        {
            long hi = 0;
            long lo = 0;
            for (int i = 0; i < 8; i++)
            {
                hi = hi << 8 | (a[i] & 0xff);
                lo = lo << 8 | (a[8 + i] & 0xff);
            }
            return dev.junction.flowtable.ofp.Values.formatIpv6(hi, lo);
        }
        try
        {
            return InetAddress.getByAddress(a).getHostAddress();
        }
        catch (final UnknownHostException ex)
        {
            return Arrays.toString(a);
        }
    }

    @Override
    public String toString()
    {
        return ip(address) + "/" + length;
    }
}
