package dev.junction.control.cli;

import dev.junction.control.yaml.SafeYaml;
import dev.junction.flowtable.ofp.Values;
import dev.junction.geneve.IpPrefix;
import dev.junction.geneve.TlvMap;
import dev.junction.geneve.TunnelPort;
import dev.junction.geneve.TunnelType;
import dev.junction.geneve.Tunnels;
import dev.junction.geneve.Underlay;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loads a tunnels file: the underlay, its neighbours and routes, the tunnel ports and the TLV
 * map, in the YAML the tunnel oracle reads too ({@code control/src/test/oracle/ovs-tunnel-oracle}):
 *
 * <pre>
 * underlay: {port: 9, mac: "aa:55:aa:55:00:01", ip: 172.31.1.1/24}   # ip may be a list; optional mtu
 * neighbours: [{ip: 172.31.1.2, mac: "aa:55:aa:55:00:02"}]
 * routes: [{prefix: 10.9.0.0/16, via: 172.31.1.254}]
 * tunnels: [{port: 10, type: geneve, remote_ip: 172.31.1.2, key: flow, csum: true}]
 * tlv_map: ["{class=0x102,type=0x80,len=4}->tun_metadata0"]
 * </pre>
 *
 * The underlay's {@code mtu} (68 to 65535; default: the bridge's port MTU, 1500) is its port's,
 * OVS's {@code mtu_request} on the underlay NIC: encapsulations longer are dropped and counted.
 * Tunnel options as in {@code ovs-vsctl}: remote_ip (address or flow), local_ip (address or
 * flow), key (VNI or flow; default 0), csum, dst_port, ttl, tos (number or inherit), df_default.
 * Anything unknown or malformed is an {@link IllegalArgumentException} naming the entry.
 */
public final class TunnelsFile
{
    private static final Set<String> TOP = Set.of("underlay", "neighbours", "routes", "tunnels", "tlv_map");
    private static final Set<String> PORT_KEYS = Set.of("port", "type", "remote_ip", "local_ip", "key", "csum",
        "dst_port", "ttl", "tos", "df_default");

    private TunnelsFile()
    {
    }

    public static Tunnels load(final Path file) throws IOException
    {
        return loadYaml(file, TunnelsFile::parse);
    }

    /**
     * Reads a YAML file with SnakeYAML's safe constructor (no arbitrary types) and hands its
     * document to {@code parse}; any problem becomes an {@link IllegalArgumentException} that
     * starts with the file's name.
     */
    public static <T> T loadYaml(final Path file, final java.util.function.Function<Object, T> parse) throws IOException
    {
        final Object doc;
        try (Reader r = Files.newBufferedReader(file))
        {
            doc = SafeYaml.yaml().load(r);
        }
        catch (final RuntimeException ex)
        {
            throw new IllegalArgumentException(file + ": not valid YAML: " + String.valueOf(ex.getMessage()).split("\n")[0]);
        }
        try
        {
            SafeYaml.checkTree(doc);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException(file + ": " + ex.getMessage());
        }
        try
        {
            return parse.apply(doc);
        }
        catch (final IllegalArgumentException | ClassCastException ex)
        {
            throw new IllegalArgumentException(file + ": " + ex.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    public static Tunnels parse(final Object doc)
    {
        if (!(doc instanceof Map))
        {
            throw new IllegalArgumentException("expected a mapping with underlay, tunnels, neighbours, routes, tlv_map");
        }
        final Map<String, Object> top = (Map<String, Object>)doc;
        for (final Object k : top.keySet())
        {
            if (!SafeYaml.isKeyIn(k, TOP))
            {
                throw new IllegalArgumentException("unknown section " + k + " (expected one of " + TOP + ")");
            }
        }
        final Map<String, Object> u = map(top.get("underlay"), "underlay");
        final Underlay underlay = new Underlay(integer(u.get("port"), "underlay.port"), mac(u.get("mac"), "underlay.mac"));
        if (u.get("neighbour_limit") != null)
        {
            underlay.neighbourLimit(integer(u.get("neighbour_limit"), "underlay.neighbour_limit"));
        }
        if (u.get("mtu") != null)
        {
            underlay.mtu(integer(u.get("mtu"), "underlay.mtu"));
        }
        final Object ips = u.get("ip");
        if (ips == null)
        {
            throw new IllegalArgumentException("underlay.ip: the local endpoint address is required");
        }
        for (final Object ip : ips instanceof List ? (List<Object>)ips : List.of(ips))
        {
            underlay.address(IpPrefix.parse(String.valueOf(ip)));
        }
        for (final Object n : list(top.get("neighbours"), "neighbours"))
        {
            final Map<String, Object> e = map(n, "neighbours entry");
            underlay.neighbour(IpPrefix.address(string(e.get("ip"), "neighbours.ip")), mac(e.get("mac"), "neighbours.mac"));
        }
        for (final Object r : list(top.get("routes"), "routes"))
        {
            final Map<String, Object> e = map(r, "routes entry");
            final Object via = e.get("via");
            underlay.route(IpPrefix.parse(string(e.get("prefix"), "routes.prefix")),
                via == null ? null : IpPrefix.address(String.valueOf(via)));
        }
        final TlvMap tlv = new TlvMap();
        for (final Object t : list(top.get("tlv_map"), "tlv_map"))
        {
            tlv.parse(String.valueOf(t));
        }
        final List<TunnelPort> ports = new ArrayList<>();
        for (final Object t : list(top.get("tunnels"), "tunnels"))
        {
            ports.add(port(map(t, "tunnels entry")));
        }
        if (ports.isEmpty())
        {
            throw new IllegalArgumentException("tunnels: at least one tunnel port is required");
        }
        return new Tunnels(underlay, tlv, ports);
    }

    private static TunnelPort port(final Map<String, Object> e)
    {
        final int port = integer(e.get("port"), "tunnels.port");
        final String where = "tunnel port " + port + ": ";
        for (final Object k : e.keySet())
        {
            if (!SafeYaml.isKeyIn(k, PORT_KEYS))
            {
                throw new IllegalArgumentException(where + "unknown option " + k + " (known: " + PORT_KEYS + ")");
            }
        }
        final TunnelType type;
        try
        {
            type = TunnelType.valueOf(string(e.get("type"), where + "type").toUpperCase(java.util.Locale.ROOT));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException(where + "type must be geneve or vxlan");
        }
        final String remote = string(e.get("remote_ip"), where + "remote_ip");
        final Object localObj = e.get("local_ip");
        final String local = localObj == null ? null : String.valueOf(localObj);
        final Object keyObj = e.getOrDefault("key", 0);
        final boolean keyFlow = "flow".equals(String.valueOf(keyObj));
        final Object tosObj = e.getOrDefault("tos", 0);
        final boolean tosInherit = "inherit".equals(String.valueOf(tosObj));
        try
        {
            return new TunnelPort(port, type,
                remote.equals("flow") ? null : IpPrefix.address(remote),
                local == null || local.equals("flow") ? null : IpPrefix.address(local),
                "flow".equals(local),
                keyFlow, keyFlow ? 0 : longValue(keyObj, where + "key"),
                bool(e.getOrDefault("csum", false), where + "csum"),
                integer(e.getOrDefault("dst_port", type.defaultPort), where + "dst_port"),
                integer(e.getOrDefault("ttl", TunnelPort.DEFAULT_TTL), where + "ttl"),
                tosInherit ? -1 : integer(tosObj, where + "tos"),
                bool(e.getOrDefault("df_default", true), where + "df_default"));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException(ex.getMessage().startsWith("tunnel port") ? ex.getMessage() : where + ex.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(final Object o, final String what)
    {
        if (!(o instanceof Map))
        {
            throw new IllegalArgumentException(what + ": expected a mapping");
        }
        return (Map<String, Object>)o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(final Object o, final String what)
    {
        if (o == null)
        {
            return List.of();
        }
        if (!(o instanceof List))
        {
            throw new IllegalArgumentException(what + ": expected a list");
        }
        return (List<Object>)o;
    }

    private static String string(final Object o, final String what)
    {
        if (o == null)
        {
            throw new IllegalArgumentException(what + " is required");
        }
        return String.valueOf(o);
    }

    private static long longValue(final Object o, final String what)
    {
        final String s = string(o, what).trim();
        try
        {
            return s.startsWith("0x") ? Long.parseLong(s.substring(2), 16) : Long.parseLong(s);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(what + ": " + s + " is not a number");
        }
    }

    private static int integer(final Object o, final String what)
    {
        final long v = longValue(o, what);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE)
        {
            throw new IllegalArgumentException(what + ": " + v + " out of range");
        }
        return (int)v;
    }

    private static boolean bool(final Object o, final String what)
    {
        final String s = String.valueOf(o);
        if (s.equals("true") || s.equals("false"))
        {
            return Boolean.parseBoolean(s);
        }
        throw new IllegalArgumentException(what + ": expected true or false, not " + s);
    }

    private static long mac(final Object o, final String what)
    {
        final long m = Values.mac(string(o, what));
        if (m < 0)
        {
            throw new IllegalArgumentException(what + ": " + o + " is not a MAC address");
        }
        return m;
    }
}
