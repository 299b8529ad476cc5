package dev.junction.geneve;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The network tunnels ride on: the underlay port (its MAC is the outer source MAC), the local
 * endpoint addresses with their connected prefixes, extra routes, and the neighbour table that
 * gives the outer destination MAC of each next hop (OVS's br-phy with {@code ovs/route/add}
 * and {@code tnl/neigh/set}). Lookups happen at translation time, never per packet.
 */
public final class Underlay
{
    /** A route: destinations in {@code prefix} go through {@code gateway} (null: directly connected). */
    public static final class Route
    {
        public final IpPrefix prefix;
        public final byte[] gateway;

        public Route(final IpPrefix prefix, final byte[] gateway)
        {
            if (gateway != null && gateway.length != prefix.address.length)
            {
                throw new IllegalArgumentException("route " + prefix + ": gateway of another address family");
            }
            this.prefix = prefix;
            this.gateway = gateway == null ? null : gateway.clone();
        }
    }

    public final int port;
    public final long mac;
    private final List<IpPrefix> addresses = new ArrayList<>();
    private final List<Route> routes = new ArrayList<>();
    private final Map<String, Long> neighbours = new ConcurrentHashMap<>();
    /** Default most entries snooping may grow the neighbour table to (configured entries do not count against it). */
    public static final int DEFAULT_NEIGHBOUR_LIMIT = 65_536;
    private int neighbourLimit = DEFAULT_NEIGHBOUR_LIMIT;
    private long snoopsRefused;
    /** The underlay port's MTU; 0: the bridge's port MTU. */
    private volatile int mtu;

    public Underlay(final int port, final long mac)
    {
        if (port <= 0 || port >= 0xff00)
        {
            throw new IllegalArgumentException("underlay port number " + port + " out of range");
        }
        this.port = port;
        this.mac = mac;
    }

    /** A local endpoint address; its prefix becomes a connected route. */
    public Underlay address(final IpPrefix a)
    {
        addresses.add(a);
        routes.add(new Route(a, null));
        return this;
    }

    public Underlay route(final IpPrefix prefix, final byte[] gateway)
    {
        routes.add(new Route(prefix, gateway));
        return this;
    }

    public synchronized Underlay neighbour(final byte[] ip, final long neighbourMac)
    {
        final Long old = neighbours.put(IpPrefix.ip(ip), neighbourMac);
        if (old == null || old != neighbourMac)
        {
            version++;
        }
        return this;
    }

    /**
     * Learns a neighbour from a packet it sent us (a tunnel packet's outer source, an ARP
     * sender), as OVS's tnl_neigh_snoop does; returns true when the table changed, which makes
     * the workers revalidate their megaflows (their tunnel headers carry the old MAC).
     */
    public synchronized boolean snoop(final byte[] ip, final long neighbourMac)
    {
        // Any host on the underlay can send us tunnel packets from new addresses: learning is
        // bounded, a new address beyond the limit is refused and counted, known ones still update.
        if (neighbours.size() >= neighbourLimit && !neighbours.containsKey(IpPrefix.ip(ip)))
        {
            snoopsRefused++;
            return false;
        }
        final long before = version;
        neighbour(ip, neighbourMac);
        return version != before;
    }

    /**
     * The MTU of the underlay port, which the encapsulations go out of (OVS: the underlay netdev's
     * MTU, e.g. {@code mtu_request}): an encapsulation longer than it plus the Ethernet header (and
     * an 802.1Q tag) is dropped and counted ({@code mtu_exceeded}), as OVS's port drops it.
     */
    public Underlay mtu(final int bytes)
    {
        if (bytes < 68 || bytes > 65535)
        {
            throw new IllegalArgumentException("underlay MTU must be 68 to 65535: " + bytes);
        }
        mtu = bytes;
        return this;
    }

    /** The underlay port's MTU, or 0 when not configured (the bridge's port MTU applies). */
    public int mtu()
    {
        return mtu;
    }

    /** Bounds the entries snooping adds (static entries from the configuration or {@code ctl neigh set} always go in). */
    public synchronized Underlay neighbourLimit(final int limit)
    {
        if (limit < 1)
        {
            throw new IllegalArgumentException("neighbour limit must be at least 1: " + limit);
        }
        neighbourLimit = limit;
        return this;
    }

    /** Snooped addresses refused because the neighbour table was at its limit. */
    public synchronized long snoopsRefused()
    {
        return snoopsRefused;
    }

    /** Bumped on every neighbour change. */
    public long version()
    {
        return version;
    }

    private volatile long version;

    public List<IpPrefix> addresses()
    {
        return addresses;
    }

    /**
     * Is {@code ip} one of ours (a local tunnel endpoint)? Asked for every received tunnel packet:
     * an indexed loop, since a for-each's iterator is a heap allocation until C2 compiles it away.
     */
    public boolean isLocal(final byte[] ip)
    {
        for (int i = 0, n = addresses.size(); i < n; i++)
        {
            if (java.util.Arrays.equals(addresses.get(i).address, ip))
            {
                return true;
            }
        }
        return false;
    }

    /** The longest-prefix route to {@code dst}, or null. */
    public Route route(final byte[] dst)
    {
        Route best = null;
        for (final Route r : routes)
        {
            if (r.prefix.contains(dst) && (best == null || r.prefix.length > best.prefix.length))
            {
                best = r;
            }
        }
        return best;
    }

    /** Our address to send from towards {@code dst}: one in the route's prefix, else the first of the family. */
    public byte[] sourceFor(final byte[] dst, final Route r)
    {
        final byte[] hop = r.gateway != null ? r.gateway : dst;
        IpPrefix any = null;
        for (final IpPrefix a : addresses)
        {
            if (a.address.length == dst.length)
            {
                if (a.contains(hop))
                {
                    return a.address;
                }
                any = any == null ? a : any;
            }
        }
        return any == null ? null : any.address;
    }

    /** The neighbour table as {@code IP MAC} lines, sorted (as {@code ovs-appctl tnl/neigh/show} lists it). */
    public java.util.List<String> neighbourLines()
    {
        final java.util.List<String> lines = new java.util.ArrayList<>();
        neighbours.forEach((ip, mac) -> lines.add(ip + " " + dev.junction.flowtable.ofp.Values.formatMac(mac)));
        java.util.Collections.sort(lines);
        return lines;
    }

    /** The MAC of {@code ip}, or -1 when unresolved. */
    public long neighbour(final byte[] ip)
    {
        final Long m = neighbours.get(IpPrefix.ip(ip));
        return m == null ? -1 : m;
    }
}
