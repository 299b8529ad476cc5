package dev.junction.control.flows;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;

/**
 * Names of EgressFirewall {@code dnsName} rules to addresses. OVN-K resolves them in its DNS
 * controller and refreshes the address sets at the record's TTL; the compiler takes whatever
 * this gives at compile time, so the flows stay a pure function of the model and the resolver.
 * A name that does not resolve (empty list) makes its rule match nothing.
 */
@FunctionalInterface
public interface DnsResolver
{
    /** Resolves nothing: {@code dnsName} rules match nothing (and the compile notes it). */
    DnsResolver NONE = name -> List.of();

    List<InetAddress> resolve(String name);

    /** A fixed table (tests, or names written into configuration); names are compared in lower case without a trailing dot. */
    static DnsResolver of(final Map<String, List<InetAddress>> table)
    {
        final Map<String, List<InetAddress>> copy = new java.util.HashMap<>();
        table.forEach((k, v) -> copy.put(canonical(k), List.copyOf(v)));
        return name -> copy.getOrDefault(canonical(name), List.of());
    }

    /** A name as rules and resolvers compare it: lower case, without a trailing dot. */
    static String canonical(final String name)
    {
        final String n = name.toLowerCase(java.util.Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }
}
