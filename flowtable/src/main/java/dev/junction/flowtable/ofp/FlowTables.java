package dev.junction.flowtable.ofp;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.cls.Classifier;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * An immutable version of the OpenFlow tables 0..254, each a {@link Classifier}. Publishing a
 * new version is a reference swap; readers never lock. A priority-ordered rule list per table is
 * kept too, as the reference the classifier is tested against and for {@code dump-flows}.
 */
public final class FlowTables
{
    public static final int N_TABLES = 255;

    private final FlowRule[][] tables = new FlowRule[N_TABLES][];
    private final Classifier[] classifiers = new Classifier[N_TABLES];
    private final List<FlowRule> all;
    private final GroupTable groups;

    public FlowTables(final List<FlowRule> added)
    {
        this(added, GroupTable.EMPTY);
    }

    /** @param groups the group table the rules' {@code group:N} actions name (loaded before the flows, as OVS) */
    public FlowTables(final List<FlowRule> added, final GroupTable groups)
    {
        this.groups = groups;
        // As OVS's add-flow: a rule with the same table, priority and match replaces the earlier one.
        final java.util.LinkedHashMap<java.util.List<Object>, FlowRule> unique = new java.util.LinkedHashMap<>();
        for (final FlowRule r : added)
        {
            unique.remove(java.util.List.of(r.table, r.priority, r.match));
            unique.put(java.util.List.of(r.table, r.priority, r.match), r);
        }
        final List<FlowRule> rules = new ArrayList<>(unique.values());
        final List<List<FlowRule>> byTable = new ArrayList<>();
        for (int i = 0; i < N_TABLES; i++)
        {
            byTable.add(new ArrayList<>());
        }
        for (final FlowRule r : rules)
        {
            byTable.get(r.table).add(r);
        }
        for (int i = 0; i < N_TABLES; i++)
        {
            if (!byTable.get(i).isEmpty())
            {
                classifiers[i] = new Classifier(byTable.get(i));
            }
        }
        final Comparator<FlowRule> order = Comparator.comparingInt((FlowRule r) -> -r.priority);
        for (int i = 0; i < N_TABLES; i++)
        {
            final List<FlowRule> t = byTable.get(i);
            t.sort(order);
            tables[i] = t.toArray(new FlowRule[0]);
        }
        final List<FlowRule> sorted = new ArrayList<>(rules);
        sorted.sort(Comparator.comparingInt((FlowRule r) -> r.table).thenComparing(order));
        all = Collections.unmodifiableList(sorted);
    }

    /** A version sharing {@code prev}'s classifiers except those of the tables in {@code rebuilt}. */
    private FlowTables(final FlowTables prev, final List<FlowRule> rules, final boolean[] rebuilt)
    {
        this.groups = prev.groups;
        final List<List<FlowRule>> byTable = new ArrayList<>();
        for (int i = 0; i < N_TABLES; i++)
        {
            byTable.add(rebuilt[i] ? new ArrayList<>() : null);
        }
        for (final FlowRule r : rules)
        {
            if (rebuilt[r.table])
            {
                byTable.get(r.table).add(r);
            }
        }
        final Comparator<FlowRule> order = Comparator.comparingInt((FlowRule r) -> -r.priority);
        for (int i = 0; i < N_TABLES; i++)
        {
            if (!rebuilt[i])
            {
                classifiers[i] = prev.classifiers[i];
                tables[i] = prev.tables[i];
                continue;
            }
            final List<FlowRule> t = byTable.get(i);
            classifiers[i] = t.isEmpty() ? null : new Classifier(t);
            t.sort(order);
            tables[i] = t.toArray(new FlowRule[0]);
        }
        final List<FlowRule> sorted = new ArrayList<>(rules);
        sorted.sort(Comparator.comparingInt((FlowRule r) -> r.table).thenComparing(order));
        all = Collections.unmodifiableList(sorted);
    }

    /**
     * The next version after learns and expiries: {@code learned} rules are added, replacing a
     * rule of the same table, priority and match (OVS's MODIFY_STRICT: an identical rule is only
     * refreshed, a changed one replaced with its counters carried over); {@code expired} rules are
     * removed. Returns this version itself when nothing changed.
     */
    public FlowTables withChanges(final List<FlowRule> learned, final List<FlowRule> expired, final long nowNanos)
    {
        final boolean[] rebuilt = new boolean[N_TABLES];
        final java.util.LinkedHashMap<java.util.List<Object>, FlowRule> byKey = new java.util.LinkedHashMap<>();
        for (final FlowRule r : all)
        {
            byKey.put(java.util.List.of(r.table, r.priority, r.match), r);
        }
        boolean changed = false;
        for (final FlowRule gone : expired)
        {
            final java.util.List<Object> k = java.util.List.of(gone.table, gone.priority, gone.match);
            if (byKey.get(k) == gone)
            {
                byKey.remove(k);
                rebuilt[gone.table] = true;
                changed = true;
            }
        }
        for (final FlowRule r : learned)
        {
            final java.util.List<Object> k = java.util.List.of(r.table, r.priority, r.match);
            final FlowRule old = byKey.get(k);
            if (old != null && old.actions.equals(r.actions) && old.cookie == r.cookie
                && old.idleTimeout == r.idleTimeout && old.hardTimeout == r.hardTimeout)
            {
                old.modified(nowNanos);
                continue;
            }
            if (old != null)
            {
                old.carryTo(r);
            }
            r.modified(nowNanos);
            byKey.put(k, r);
            rebuilt[r.table] = true;
            changed = true;
        }
        return changed ? new FlowTables(this, new ArrayList<>(byKey.values()), rebuilt) : this;
    }

    /** Rules with an idle or hard timeout, which the datapath checks for expiry. */
    public List<FlowRule> rulesWithTimeouts()
    {
        final List<FlowRule> out = new ArrayList<>();
        for (final FlowRule r : all)
        {
            if (r.hasTimeouts())
            {
                out.add(r);
            }
        }
        return out;
    }

    /**
     * Highest-priority rule of {@code table} matching {@code key}, or null (table miss), adding
     * the bits the lookup examined to the megaflow mask {@code wc}.
     */
    public FlowRule lookup(final int table, final FlowKey key, final long[] wc, final Classifier.Context ctx)
    {
        final Classifier c = classifiers[table];
        return c == null ? null : c.lookup(key, wc, ctx);
    }

    /** The group table of this version. */
    public GroupTable groups()
    {
        return groups;
    }

    /** The classifier of {@code table}, or null when the table is empty. */
    public Classifier classifier(final int table)
    {
        return classifiers[table];
    }

    /** Reference lookup by a priority-ordered scan: the semantics the classifier must keep. */
    public FlowRule lookupLinear(final int table, final FlowKey key)
    {
        for (final FlowRule r : tables[table])
        {
            if (r.match.matches(key))
            {
                return r;
            }
        }
        return null;
    }

    /** Every rule, by table then priority, as {@code dump-flows} lists them. */
    public List<FlowRule> rules()
    {
        return all;
    }

    public int ruleCount(final int table)
    {
        return tables[table].length;
    }

    @Override
    public String toString()
    {
        return "FlowTables" + Arrays.toString(new int[] {all.size()});
    }
}
