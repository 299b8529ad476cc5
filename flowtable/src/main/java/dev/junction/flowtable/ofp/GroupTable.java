package dev.junction.flowtable.ofp;

import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.TreeMap;

/**
 * The switch's group table: immutable, part of a {@link FlowTables} version, so a flow and the
 * groups it names are always published together (OVS versions groups with the rules).
 */
public final class GroupTable
{
    public static final GroupTable EMPTY = new GroupTable(List.of());

    private final TreeMap<Long, Group> byId = new TreeMap<>();

    /** @param groups distinct ids (the parser refuses a duplicate as OVS does: OFPGMFC_GROUP_EXISTS) */
    public GroupTable(final List<Group> groups)
    {
        for (final Group g : groups)
        {
            if (byId.put(g.id, g) != null)
            {
                throw new IllegalArgumentException("group " + g.id + " twice");
            }
        }
    }

    public boolean contains(final long id)
    {
        return byId.containsKey(id);
    }

    /** The group with {@code id}, or null. */
    public Group get(final long id)
    {
        return byId.get(id);
    }

    /** Every group, ascending by id. */
    public Collection<Group> all()
    {
        return Collections.unmodifiableCollection(byId.values());
    }

    public int size()
    {
        return byId.size();
    }
}
