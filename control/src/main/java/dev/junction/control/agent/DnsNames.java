package dev.junction.control.agent;

import dev.junction.control.flows.DnsResolver;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The names of EgressFirewall {@code dnsName} rules as the running control loop resolves them,
 * the way OVN-K's DNS controller keeps an address set per name: the compiler asks
 * {@link #resolve} and gets what the last refresh found at once (never a lookup on the compile
 * path: a slow DNS server must not hold up a policy change), and {@link #refresh} looks every
 * asked-for name up again on its own thread, returning the names whose addresses changed so that
 * only their rules are compiled again.
 *
 * <p>A name is empty until its first refresh (its rule matches nothing, as a name that does not
 * resolve). A lookup that fails keeps the name's last addresses: a DNS outage must not turn an
 * allow rule into nothing or a deny rule off. At most {@link #MAX_NAMES} names are kept; the
 * ones asked for beyond stay unresolved and are counted.
 */
public final class DnsNames implements DnsResolver
{
    public static final int MAX_NAMES = 10_000;

    /** One name's lookup: its addresses, or an exception when the name does not resolve now. */
    @FunctionalInterface
    public interface Lookup
    {
        InetAddress[] lookup(String name) throws Exception;
    }

    private static final Comparator<InetAddress> ORDER = Comparator.comparing(InetAddress::getHostAddress);

    private final Lookup lookup;
    private final ConcurrentHashMap<String, List<InetAddress>> names = new ConcurrentHashMap<>();
    /** Names asked for and not looked up yet: {@link #refresh(boolean)} takes them without waiting for the full round. */
    private final Set<String> pending = ConcurrentHashMap.newKeySet();
    private volatile long refused;
    private volatile long failures;

    public DnsNames(final Lookup lookup)
    {
        this.lookup = lookup;
    }

    /** The system resolver (/etc/hosts, then the node's DNS servers), as OVN-K's resolver uses the node's. */
    public static DnsNames system()
    {
        return new DnsNames(InetAddress::getAllByName);
    }

    @Override
    public List<InetAddress> resolve(final String name)
    {
        final String n = DnsResolver.canonical(name);
        final List<InetAddress> known = names.get(n);
        if (known != null)
        {
            return known;
        }
        if (names.size() >= MAX_NAMES)
        {
            refused++;
            return List.of();
        }
        if (names.putIfAbsent(n, List.of()) == null)
        {
            pending.add(n);
        }
        return List.of();
    }

    /** Looks every asked-for name up again; the names whose addresses changed. */
    public Set<String> refresh()
    {
        return refresh(true);
    }

    /**
     * Looks up every asked-for name ({@code all}), or only the ones never looked up yet: a new
     * rule's name is resolved within a short tick, the others at the refresh interval.
     *
     * @return the names whose addresses changed (their rules need compiling again)
     */
    public Set<String> refresh(final boolean all)
    {
        final Set<String> changed = new LinkedHashSet<>();
        for (final String n : new ArrayList<>(all ? names.keySet() : pending))
        {
            pending.remove(n);
            final List<InetAddress> now;
            try
            {
                final InetAddress[] found = lookup.lookup(n);
                final List<InetAddress> sorted = new ArrayList<>(List.of(found));
                sorted.sort(ORDER);
                now = List.copyOf(new LinkedHashSet<>(sorted));
            }
            catch (final Exception ex)
            {
                failures++;
                continue;
            }
            if (!now.equals(names.put(n, now)))
            {
                changed.add(n);
            }
        }
        return changed;
    }

    /** Names asked for and kept. */
    public int size()
    {
        return names.size();
    }

    /** Names not kept because {@link #MAX_NAMES} were. */
    public long refused()
    {
        return refused;
    }

    /** Lookups that failed (the name kept its last addresses). */
    public long failures()
    {
        return failures;
    }
}
