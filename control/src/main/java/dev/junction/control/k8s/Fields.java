package dev.junction.control.k8s;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Typed, path-aware reads from one map SnakeYAML built. Every read names the field it was at
 * ({@code spec.ingress[0].from[1].podSelector}) when the type is wrong, so a report says where.
 * Absent and {@code null} are the same, as in Kubernetes' JSON decoding.
 */
final class Fields
{
    private final Map<?, ?> map;
    private final String path;

    private Fields(final Map<?, ?> map, final String path)
    {
        this.map = map;
        this.path = path;
    }

    static Fields of(final Object value, final String path)
    {
        if (value == null)
        {
            return new Fields(Map.of(), path);
        }
        if (!(value instanceof Map))
        {
            throw new BadObject(path + ": expected a mapping, found " + describe(value));
        }
        return new Fields((Map<?, ?>)value, path);
    }

    String path()
    {
        return path;
    }

    String at(final String key)
    {
        return path.isEmpty() ? key : path + "." + key;
    }

    boolean has(final String key)
    {
        return map.get(key) != null;
    }

    boolean isEmpty()
    {
        return map.isEmpty();
    }

    Object raw(final String key)
    {
        return map.get(key);
    }

    String string(final String key)
    {
        final Object v = map.get(key);
        if (v == null)
        {
            return null;
        }
        if (!(v instanceof String))
        {
            throw new BadObject(at(key) + ": expected a string, found " + describe(v));
        }
        return (String)v;
    }

    String string(final String key, final String orElse)
    {
        final String s = string(key);
        return s == null ? orElse : s;
    }

    String requiredString(final String key)
    {
        final String s = string(key);
        if (s == null || s.isEmpty())
        {
            throw new BadObject(at(key) + " is required");
        }
        return s;
    }

    Integer integer(final String key)
    {
        final Object v = map.get(key);
        if (v == null)
        {
            return null;
        }
        if (v instanceof Integer)
        {
            return (Integer)v;
        }
        if (v instanceof Long && (Long)v == ((Long)v).intValue())
        {
            return ((Long)v).intValue();
        }
        throw new BadObject(at(key) + ": expected an integer, found " + describe(v));
    }

    Boolean bool(final String key)
    {
        final Object v = map.get(key);
        if (v == null)
        {
            return null;
        }
        if (!(v instanceof Boolean))
        {
            throw new BadObject(at(key) + ": expected true or false, found " + describe(v));
        }
        return (Boolean)v;
    }

    boolean bool(final String key, final boolean orElse)
    {
        final Boolean b = bool(key);
        return b == null ? orElse : b;
    }

    /** The nested mapping, empty when absent. */
    Fields object(final String key)
    {
        return of(map.get(key), at(key));
    }

    /** The nested mapping, or {@code null} when absent: where absent and empty mean different things. */
    Fields optionalObject(final String key)
    {
        return map.get(key) == null ? null : object(key);
    }

    List<Object> list(final String key)
    {
        final Object v = map.get(key);
        if (v == null)
        {
            return List.of();
        }
        if (!(v instanceof List))
        {
            throw new BadObject(at(key) + ": expected a list, found " + describe(v));
        }
        return Collections.unmodifiableList((List<Object>)v);
    }

    List<Fields> objects(final String key)
    {
        final List<Object> items = list(key);
        final List<Fields> out = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++)
        {
            out.add(of(items.get(i), at(key) + "[" + i + "]"));
            if (items.get(i) == null)
            {
                throw new BadObject(at(key) + "[" + i + "]: empty item");
            }
        }
        return out;
    }

    List<String> strings(final String key)
    {
        final List<Object> items = list(key);
        final List<String> out = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++)
        {
            if (!(items.get(i) instanceof String))
            {
                throw new BadObject(at(key) + "[" + i + "]: expected a string, found " + describe(items.get(i)));
            }
            out.add((String)items.get(i));
        }
        return List.copyOf(out);
    }

    /** A string-to-string map such as labels; a non-string value is refused as the API server does. */
    Map<String, String> stringMap(final String key)
    {
        final Fields m = object(key);
        final Map<String, String> out = new LinkedHashMap<>();
        for (final Map.Entry<?, ?> e : m.map.entrySet())
        {
            if (!(e.getKey() instanceof String) || !(e.getValue() instanceof String))
            {
                throw new BadObject(at(key) + "." + e.getKey() + ": expected a string value, found "
                    + describe(e.getValue()) + " (quote it)");
            }
            out.put((String)e.getKey(), (String)e.getValue());
        }
        return Collections.unmodifiableMap(out);
    }

    static String describe(final Object v)
    {
        if (v == null)
        {
            return "nothing";
        }
        if (v instanceof Map)
        {
            return "a mapping";
        }
        if (v instanceof List)
        {
            return "a list";
        }
        return "'" + v + "' (" + v.getClass().getSimpleName().toLowerCase() + ")";
    }
}
