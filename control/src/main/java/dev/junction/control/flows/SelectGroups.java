package dev.junction.control.flows;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The load balancers' select groups, kept as services come and go: an id per bucket text,
 * never reused while this lives (an id keeps meaning one group), and the groups some service
 * names, counted, so that one service's change updates its own groups and the complete list
 * is read without walking every service.
 */
final class SelectGroups
{
    private final int first;
    private final Map<String, Integer> ids = new HashMap<>();
    private final Map<String, Set<String>> bodiesByService = new HashMap<>();
    private final Map<String, Integer> users = new HashMap<>();
    private final TreeMap<Integer, String> lines = new TreeMap<>();

    SelectGroups(final int first)
    {
        this.first = first;
    }

    /** The service's groups are compiled again from now on: it names none until {@link #name}. */
    void restart(final String service)
    {
        release(service);
        bodiesByService.put(service, new LinkedHashSet<>());
    }

    /** The service is gone: its groups go unless another service names the same buckets. */
    void release(final String service)
    {
        final Set<String> bodies = bodiesByService.remove(service);
        if (bodies == null)
        {
            return;
        }
        for (final String b : bodies)
        {
            if (users.merge(b, -1, Integer::sum) == 0)
            {
                users.remove(b);
                lines.remove(ids.get(b));
            }
        }
    }

    /** The id of the group with these buckets, named by {@code service}. */
    int name(final String service, final String body)
    {
        final int id = ids.computeIfAbsent(body, k -> first + ids.size());
        if (bodiesByService.get(service).add(body) && users.merge(body, 1, Integer::sum) == 1)
        {
            lines.put(id, "group_id=" + id + "," + body);
        }
        return id;
    }

    /** The groups the current services name, by id. */
    List<String> lines()
    {
        return new ArrayList<>(lines.values());
    }
}
