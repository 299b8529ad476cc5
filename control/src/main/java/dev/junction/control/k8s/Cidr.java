package dev.junction.control.k8s;

import dev.junction.geneve.IpPrefix;

import java.net.InetAddress;
import java.util.Arrays;

/**
 * An IPv4 or IPv6 network, {@code 10.244.1.0/24}. Host bits given in the text are kept apart
 * from the network ({@link #address()}) because OVN-Kubernetes reads a node subnet's first
 * addresses from it, while a policy's ipBlock only cares about the network.
 */
public final class Cidr
{
    private final byte[] network;
    private final byte[] address;
    private final int prefix;

    private Cidr(final byte[] address, final int prefix)
    {
        this.address = address;
        this.prefix = prefix;
        this.network = address.clone();
        for (int bit = prefix; bit < network.length * 8; bit++)
        {
            network[bit / 8] &= (byte)~(0x80 >>> (bit % 8));
        }
    }

    /** Parses {@code ADDR/LEN}; the length is required (a bare address is not a CIDR in the API). */
    public static Cidr parse(final String text)
    {
        final String t = text.trim();
        final int slash = t.indexOf('/');
        if (slash < 0)
        {
            throw new IllegalArgumentException(t + ": not a CIDR (no /length)");
        }
        final IpPrefix p = IpPrefix.parse(t);
        return new Cidr(p.address, p.length);
    }

    public static Cidr of(final InetAddress ip, final int prefix)
    {
        final byte[] a = ip.getAddress();
        if (prefix < 0 || prefix > a.length * 8)
        {
            throw new IllegalArgumentException("prefix length " + prefix + " out of range");
        }
        return new Cidr(a, prefix);
    }

    public int prefix()
    {
        return prefix;
    }

    public boolean isIpv6()
    {
        return network.length == 16;
    }

    public InetAddress network()
    {
        return Ip.of(network);
    }

    /** The address as written, host bits included. */
    public InetAddress address()
    {
        return Ip.of(address);
    }

    /** True when the network has no host bits set in the text. */
    public boolean isCanonical()
    {
        return Arrays.equals(network, address);
    }

    public boolean contains(final InetAddress ip)
    {
        final byte[] a = ip.getAddress();
        if (a.length != network.length)
        {
            return false;
        }
        for (int bit = 0; bit < prefix; bit += 8)
        {
            final int bits = Math.min(8, prefix - bit);
            final int mask = (0xff << (8 - bits)) & 0xff;
            if (((a[bit / 8] ^ network[bit / 8]) & mask) != 0)
            {
                return false;
            }
        }
        return true;
    }

    /** True when every address of {@code other} is in this network. */
    public boolean contains(final Cidr other)
    {
        return other.network.length == network.length && other.prefix >= prefix && contains(other.network());
    }

    /** The n-th address of the network ({@code 10.244.1.0/24}, 1 is {@code 10.244.1.1}). */
    public InetAddress host(final long n)
    {
        final byte[] a = network.clone();
        long carry = n;
        for (int i = a.length - 1; i >= 0 && carry != 0; i--)
        {
            final long sum = (a[i] & 0xff) + (carry & 0xff);
            a[i] = (byte)sum;
            carry = (carry >>> 8) + (sum >>> 8);
        }
        return Ip.of(a);
    }

    /** The address as written with its length, {@code 100.64.0.2/16}: how OVN-K writes a port's address. */
    public String addressText()
    {
        return Ip.text(Ip.of(address)) + "/" + prefix;
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof Cidr && ((Cidr)o).prefix == prefix && Arrays.equals(((Cidr)o).network, network);
    }

    @Override
    public int hashCode()
    {
        return Arrays.hashCode(network) * 31 + prefix;
    }

    @Override
    public String toString()
    {
        return Ip.text(Ip.of(network)) + "/" + prefix;
    }
}
