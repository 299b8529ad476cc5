package dev.junction.control.policy;

import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.Pod;
import dev.junction.control.k8s.Protocol;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The truth table of a set of pods for one protocol and port: {@code from -> to -> allowed},
 * keyed by {@code namespace/pod}, in the order given; the shape {@code junction probe} prints.
 */
public final class Reachability
{
    private Reachability()
    {
    }

    /** Each pair connects with the source's address of the wanted family (pods without one are left out). */
    public static Map<String, Map<String, Boolean>> matrix(final PolicyEngine engine, final List<Pod> pods,
        final Protocol protocol, final int port, final boolean ipv6)
    {
        final Map<String, Map<String, Boolean>> out = new LinkedHashMap<>();
        for (final Pod from : pods)
        {
            final InetAddress src = address(from, ipv6);
            if (src == null)
            {
                continue;
            }
            final Map<String, Boolean> row = new LinkedHashMap<>();
            for (final Pod to : pods)
            {
                final InetAddress dst = address(to, ipv6);
                if (dst != null)
                {
                    row.put(to.key(), engine.allowed(new Connection(Peer.pod(from, src), Peer.pod(to, dst), protocol, port)));
                }
            }
            out.put(from.key(), row);
        }
        return out;
    }

    private static InetAddress address(final Pod pod, final boolean ipv6)
    {
        for (final InetAddress ip : pod.ips())
        {
            if (Ip.isIpv6(ip) == ipv6)
            {
                return ip;
            }
        }
        return null;
    }

    /** A grid for humans: rows are sources, columns destinations, '.' allowed and 'X' denied. */
    public static String render(final Map<String, Map<String, Boolean>> m)
    {
        final StringBuilder sb = new StringBuilder("       ");
        final List<String> cols = m.isEmpty() ? List.of() : List.copyOf(m.values().iterator().next().keySet());
        for (final String c : cols)
        {
            sb.append(String.format("%-5s", c));
        }
        sb.append('\n');
        for (final Map.Entry<String, Map<String, Boolean>> row : m.entrySet())
        {
            sb.append(String.format("%-7s", row.getKey()));
            for (final String c : cols)
            {
                sb.append(String.format("%-5s", Boolean.TRUE.equals(row.getValue().get(c)) ? "." : "X"));
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
