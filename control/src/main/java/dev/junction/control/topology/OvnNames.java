package dev.junction.control.topology;

import dev.junction.control.k8s.Cidr;
import dev.junction.control.k8s.Ip;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The names and well-known addresses OVN-Kubernetes gives the logical network's parts, as pure
 * functions, so that a flow or a trace of Junction's reads like one of an OVN-K cluster.
 */
public final class OvnNames
{
    public static final String CLUSTER_ROUTER = "ovn_cluster_router";
    public static final String JOIN_SWITCH = "join";
    /** OVN-K's default join subnets (--gateway-v4-join-subnet / --gateway-v6-join-subnet). */
    public static final Cidr JOIN_SUBNET_V4 = Cidr.parse("100.64.0.0/16");
    public static final Cidr JOIN_SUBNET_V6 = Cidr.parse("fd98::/64");

    private OvnNames()
    {
    }

    /** A node's logical switch carries the node's own name. */
    public static String nodeSwitch(final String node)
    {
        return node;
    }

    /** The management port: the node's host stack on its own switch ({@code ovn-k8s-mp0} on the host side). */
    public static String managementPort(final String node)
    {
        return "k8s-" + node;
    }

    /** The cluster router's port onto the node switch (the pods' default gateway). */
    public static String routerToSwitchPort(final String node)
    {
        return "rtos-" + node;
    }

    /** The node switch's port facing the cluster router. */
    public static String switchToRouterPort(final String node)
    {
        return "stor-" + node;
    }

    public static String gatewayRouter(final String node)
    {
        return "GR_" + node;
    }

    /** The gateway router's port onto the join switch. */
    public static String gatewayRouterJoinPort(final String node)
    {
        return "rtoj-" + gatewayRouter(node);
    }

    /** A pod's logical switch port: {@code namespace_pod}. */
    public static String podPort(final String namespace, final String pod)
    {
        return namespace + "_" + pod;
    }

    /** The subnet's first address: the cluster router's port, the pods' gateway. */
    public static InetAddress gatewayIp(final Cidr subnet)
    {
        return subnet.host(1);
    }

    /** The subnet's second address: the management port. */
    public static InetAddress managementIp(final Cidr subnet)
    {
        return subnet.host(2);
    }

    /**
     * The IPv6 link-local address OVN gives a port of MAC {@code mac} (its {@code in6_generate_lla}):
     * {@code fe80::} and the modified EUI-64 interface identifier, the MAC with {@code ff:fe} in
     * the middle and the universal/local bit of its first byte flipped (RFC 4291 appendix A).
     */
    public static InetAddress linkLocal(final String mac)
    {
        final String[] parts = mac.split(":");
        if (parts.length != 6)
        {
            throw new IllegalArgumentException("not a MAC: " + mac);
        }
        final byte[] a = new byte[16];
        a[0] = (byte)0xfe;
        a[1] = (byte)0x80;
        a[8] = (byte)(Integer.parseInt(parts[0], 16) ^ 0x02);
        a[9] = (byte)Integer.parseInt(parts[1], 16);
        a[10] = (byte)Integer.parseInt(parts[2], 16);
        a[11] = (byte)0xff;
        a[12] = (byte)0xfe;
        a[13] = (byte)Integer.parseInt(parts[3], 16);
        a[14] = (byte)Integer.parseInt(parts[4], 16);
        a[15] = (byte)Integer.parseInt(parts[5], 16);
        try
        {
            return InetAddress.getByAddress(a);
        }
        catch (final java.net.UnknownHostException ex)
        {
            throw new IllegalStateException("16 bytes are an IPv6 address", ex);
        }
    }

    /**
     * OVN-K's {@code util.IPAddrToHWAddr}: {@code 0a:58:} and the four bytes of an IPv4 address;
     * for IPv6, {@code 0a:58:} and the first four bytes of the SHA-256 of the address's text
     * form (Go's {@code net.IP.String()}, RFC 5952 compressed), since 4 bytes of a 16-byte
     * address would collide. Older OVN-K releases used bytes 0, 1, 14, 15 instead.
     */
    public static String mac(final InetAddress ip)
    {
        final byte[] a = ip.getAddress();
        final byte[] tail;
        if (a.length == 4)
        {
            tail = a;
        }
        else
        {
            try
            {
                tail = MessageDigest.getInstance("SHA-256").digest(Ip.text(ip).getBytes(StandardCharsets.US_ASCII));
            }
            catch (final NoSuchAlgorithmException ex)
            {
                throw new IllegalStateException("every Java platform has SHA-256", ex);
            }
        }
        return String.format("0a:58:%02x:%02x:%02x:%02x", tail[0] & 0xff, tail[1] & 0xff, tail[2] & 0xff, tail[3] & 0xff);
    }
}
