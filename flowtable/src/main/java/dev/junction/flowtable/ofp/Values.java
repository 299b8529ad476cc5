package dev.junction.flowtable.ofp;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** Parsing and printing of MAC, IPv4 and IPv6 values in the forms {@code ovs-ofctl} uses. */
public final class Values
{
    private Values()
    {
    }

    /** A MAC address as a 48-bit value, or -1 when malformed. */
    public static long mac(final String s)
    {
        final String[] parts = s.split(":", -1);
        if (parts.length != 6)
        {
            return -1;
        }
        long v = 0;
        for (final String p : parts)
        {
            if (p.isEmpty() || p.length() > 2 || !isHex(p))
            {
                return -1;
            }
            v = (v << 8) | Integer.parseInt(p, 16);
        }
        return v;
    }

    /** {value, mask} from {@code a.b.c.d}, {@code a.b.c.d/N} or {@code a.b.c.d/m.m.m.m}; null when bad. */
    public static long[] ipv4Masked(final String s)
    {
        final int slash = s.indexOf('/');
        final long v = ipv4(slash < 0 ? s : s.substring(0, slash));
        if (v < 0)
        {
            return null;
        }
        if (slash < 0)
        {
            return new long[] {v, 0xffffffffL};
        }
        final String m = s.substring(slash + 1);
        if (m.indexOf('.') >= 0)
        {
            final long mv = ipv4(m);
            return mv < 0 ? null : new long[] {v & mv, mv};
        }
        try
        {
            final int n = Integer.parseInt(m);
            if (n < 0 || n > 32)
            {
                return null;
            }
            final long mv = n == 0 ? 0 : (0xffffffffL << (32 - n)) & 0xffffffffL;
            return new long[] {v & mv, mv};
        }
        catch (final NumberFormatException ex)
        {
            return null;
        }
    }

    public static long ipv4(final String s)
    {
        final String[] parts = s.split("\\.", -1);
        if (parts.length != 4)
        {
            return -1;
        }
        long v = 0;
        for (final String p : parts)
        {
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit))
            {
                return -1;
            }
            final int b = Integer.parseInt(p);
            if (b > 255)
            {
                return -1;
            }
            v = (v << 8) | b;
        }
        return v;
    }

    /** {valueHi, valueLo, maskHi, maskLo} from {@code addr}, {@code addr/N} or {@code addr/mask}. */
    public static long[] ipv6Masked(final String s)
    {
        final int slash = s.indexOf('/');
        final long[] v = ipv6(slash < 0 ? s : s.substring(0, slash));
        if (v == null)
        {
            return null;
        }
        long mh = -1L;
        long ml = -1L;
        if (slash >= 0)
        {
            final String m = s.substring(slash + 1);
            if (m.indexOf(':') >= 0)
            {
                final long[] mv = ipv6(m);
                if (mv == null)
                {
                    return null;
                }
                mh = mv[0];
                ml = mv[1];
            }
            else
            {
                final int n;
                try
                {
                    n = Integer.parseInt(m);
                }
                catch (final NumberFormatException ex)
                {
                    return null;
                }
                if (n < 0 || n > 128)
                {
                    return null;
                }
                mh = n == 0 ? 0 : n >= 64 ? -1L : -1L << (64 - n);
                ml = n <= 64 ? 0 : n == 128 ? -1L : -1L << (128 - n);
            }
        }
        return new long[] {v[0] & mh, v[1] & ml, mh, ml};
    }

    public static long[] ipv6(final String s)
    {
        if (s.isEmpty() || s.indexOf(':') < 0)
        {
            return null;
        }
        for (int i = 0; i < s.length(); i++)
        {
            final char c = s.charAt(i);
            if (!(c == ':' || c == '.' || Character.digit(c, 16) >= 0))
            {
                return null; // never let InetAddress see a host name: no DNS lookups
            }
        }
        try
        {
            final byte[] b = InetAddress.getByName(s).getAddress();
            if (b.length != 16)
            {
                return null;
            }
            long hi = 0;
            long lo = 0;
            for (int i = 0; i < 8; i++)
            {
                hi = (hi << 8) | (b[i] & 0xff);
                lo = (lo << 8) | (b[i + 8] & 0xff);
            }
            return new long[] {hi, lo};
        }
        catch (final UnknownHostException ex)
        {
            return null;
        }
    }

    public static String formatMac(final long v)
    {
        final StringBuilder sb = new StringBuilder(17);
        for (int i = 5; i >= 0; i--)
        {
            final int b = (int)(v >>> (i * 8)) & 0xff;
            sb.append(Character.forDigit(b >>> 4, 16)).append(Character.forDigit(b & 15, 16));
            if (i > 0)
            {
                sb.append(':');
            }
        }
        return sb.toString();
    }

    public static String formatIpv4(final long v)
    {
        return ((v >>> 24) & 0xff) + "." + ((v >>> 16) & 0xff) + "." + ((v >>> 8) & 0xff) + "." + (v & 0xff);
    }

    /** IPv4 with mask as OVS prints it: plain, {@code /N} for a CIDR mask, else dotted mask. */
    public static String formatIpv4Masked(final long v, final long m)
    {
        if (m == 0xffffffffL)
        {
            return formatIpv4(v);
        }
        final int n = Long.bitCount(m);
        final long cidr = n == 0 ? 0 : (0xffffffffL << (32 - n)) & 0xffffffffL;
        return formatIpv4(v) + "/" + (cidr == m ? Integer.toString(n) : formatIpv4(m));
    }

    /** RFC 5952 text, as inet_ntop prints it (longest run of two or more zero groups becomes ::). */
    public static String formatIpv6(final long hi, final long lo)
    {
        final int[] g = new int[8];
        for (int i = 0; i < 4; i++)
        {
            g[i] = (int)(hi >>> (48 - 16 * i)) & 0xffff;
            g[i + 4] = (int)(lo >>> (48 - 16 * i)) & 0xffff;
        }
        int bestStart = -1;
        int bestLen = 0;
        for (int i = 0; i < 8; )
        {
            if (g[i] == 0)
            {
                int j = i;
                while (j < 8 && g[j] == 0)
                {
                    j++;
                }
                if (j - i > bestLen && j - i >= 2)
                {
                    bestStart = i;
                    bestLen = j - i;
                }
                i = j;
            }
            else
            {
                i++;
            }
        }
        final StringBuilder sb = new StringBuilder();
        // IPv4-mapped (::ffff:a.b.c.d) is printed with a dotted tail, as inet_ntop does.
        if (hi == 0 && (lo >>> 32) == 0xffff)
        {
            return "::ffff:" + formatIpv4(lo & 0xffffffffL);
        }
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

    public static String formatIpv6Masked(final long hi, final long lo, final long mh, final long ml)
    {
        if (mh == -1L && ml == -1L)
        {
            return formatIpv6(hi, lo);
        }
        final int n = Long.bitCount(mh) + Long.bitCount(ml);
        final long ch = n == 0 ? 0 : n >= 64 ? -1L : -1L << (64 - n);
        final long cl = n <= 64 ? 0 : n == 128 ? -1L : -1L << (128 - n);
        return formatIpv6(hi, lo) + "/" + (ch == mh && cl == ml ? Integer.toString(n) : formatIpv6(mh, ml));
    }

    private static boolean isHex(final String s)
    {
        for (int i = 0; i < s.length(); i++)
        {
            if (Character.digit(s.charAt(i), 16) < 0)
            {
                return false;
            }
        }
        return true;
    }
}
