package dev.junction.control.k8s;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Kubernetes label selector: every {@code matchLabels} pair and every requirement of
 * {@code matchExpressions} must hold (AND). An empty selector matches everything; whether a
 * selector is there at all (null) is for its user to decide, since in a NetworkPolicy peer a
 * missing namespaceSelector means "the policy's namespace" and an empty one "all namespaces".
 */
public record LabelSelector(Map<String, String> matchLabels, List<Requirement> matchExpressions)
{
    public static final LabelSelector EVERYTHING = new LabelSelector(Map.of(), List.of());

    public enum Operator
    {
        In, NotIn, Exists, DoesNotExist
    }

    /** One {@code matchExpressions} item, checked as the API server checks it. */
    public record Requirement(String key, Operator operator, Set<String> values)
    {
        public Requirement
        {
            values = Set.copyOf(values);
            final boolean needsValues = operator == Operator.In || operator == Operator.NotIn;
            if (needsValues && values.isEmpty())
            {
                throw new IllegalArgumentException("operator " + operator + " needs at least one value");
            }
            if (!needsValues && !values.isEmpty())
            {
                throw new IllegalArgumentException("operator " + operator + " takes no values");
            }
        }

        public boolean matches(final Map<String, String> labels)
        {
            final String v = labels.get(key);
            switch (operator)
            {
                case In:
                    return v != null && values.contains(v);
                case NotIn:
                    // As labels.Selector: a missing key satisfies NotIn.
                    return v == null || !values.contains(v);
                case Exists:
                    return v != null;
                default:
                    return v == null;
            }
        }
    }

    public LabelSelector
    {
        matchLabels = Map.copyOf(matchLabels);
        matchExpressions = List.copyOf(matchExpressions);
    }

    public static LabelSelector of(final Map<String, String> matchLabels, final Requirement... expressions)
    {
        return new LabelSelector(matchLabels, List.of(expressions));
    }

    public boolean isEmpty()
    {
        return matchLabels.isEmpty() && matchExpressions.isEmpty();
    }

    public boolean matches(final Map<String, String> labels)
    {
        for (final Map.Entry<String, String> e : matchLabels.entrySet())
        {
            if (!e.getValue().equals(labels.get(e.getKey())))
            {
                return false;
            }
        }
        for (final Requirement r : matchExpressions)
        {
            if (!r.matches(labels))
            {
                return false;
            }
        }
        return true;
    }

    /** Decodes a selector mapping; {@code null} in, {@code null} out. */
    static LabelSelector decode(final Fields f)
    {
        if (f == null)
        {
            return null;
        }
        final Map<String, String> labels = f.stringMap("matchLabels");
        final List<Requirement> reqs = new ArrayList<>();
        for (final Fields e : f.objects("matchExpressions"))
        {
            final String key = e.requiredString("key");
            final String op = e.requiredString("operator");
            final Operator operator;
            try
            {
                operator = Operator.valueOf(op);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new BadObject(e.at("operator") + ": unknown operator '" + op + "' (In, NotIn, Exists, DoesNotExist)");
            }
            try
            {
                reqs.add(new Requirement(key, operator, Set.copyOf(e.strings("values"))));
            }
            catch (final IllegalArgumentException ex)
            {
                throw new BadObject(e.path() + ": " + ex.getMessage());
            }
        }
        return new LabelSelector(labels, reqs);
    }

    @Override
    public String toString()
    {
        if (isEmpty())
        {
            return "{}";
        }
        final List<String> parts = new ArrayList<>();
        matchLabels.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> parts.add(e.getKey() + "=" + e.getValue()));
        for (final Requirement r : matchExpressions)
        {
            switch (r.operator)
            {
                case Exists:
                    parts.add(r.key);
                    break;
                case DoesNotExist:
                    parts.add("!" + r.key);
                    break;
                default:
                    parts.add(r.key + (r.operator == Operator.In ? " in " : " notin ") + r.values.stream().sorted().toList());
            }
        }
        return String.join(",", parts);
    }
}
