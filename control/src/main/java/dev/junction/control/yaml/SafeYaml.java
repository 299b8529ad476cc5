package dev.junction.control.yaml;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * SnakeYAML as every input file of ours is read: the safe constructor (plain maps, lists and
 * scalars, no type built from a tag) and limits an untrusted file cannot get past.
 *
 * <p>SnakeYAML bounds the text (code points), the nesting depth and the number of aliases to
 * collections, but an alias is a shared reference, not a copy: a document can still refer to
 * itself ({@code a: &a [*a]}), and a few aliases can make a graph whose tree, as any walk over it
 * sees it (printing a value, {@code String.valueOf}, {@code equals}), is exponentially large.
 * {@link #checkTree} refuses both, so the code after it can walk documents as trees.
 */
public final class SafeYaml
{
    /** Characters in one file: the largest Kubernetes object etcd stores is about 1.5 MB. */
    public static final int CODE_POINT_LIMIT = 3 * 1024 * 1024;
    /** Nesting of collections; Kubernetes objects go about 15 deep. */
    public static final int NESTING_DEPTH_LIMIT = 64;
    /** Aliases to collections in one document (anchors for shared labels and the like). */
    public static final int MAX_ALIASES_FOR_COLLECTIONS = 32;
    /**
     * Nodes of a document as a tree, every alias expanded: what the densest alias-free text
     * ({@code [1,1,1,...]}, two code points a node) holds, so aliases amplify nothing.
     */
    public static final int MAX_TREE_NODES = CODE_POINT_LIMIT / 2;

    private SafeYaml()
    {
    }

    private static LoaderOptions options()
    {
        final LoaderOptions o = new LoaderOptions();
        o.setCodePointLimit(CODE_POINT_LIMIT);
        o.setNestingDepthLimit(NESTING_DEPTH_LIMIT);
        o.setMaxAliasesForCollections(MAX_ALIASES_FOR_COLLECTIONS);
        o.setAllowRecursiveKeys(false);
        // Kubernetes' strict decoding refuses duplicate fields; a silent "last one wins" would
        // let a typo'd second "podSelector" (or "ports" in a node config) replace the first unnoticed.
        o.setAllowDuplicateKeys(false);
        return o;
    }

    /** A YAML reader with {@link #options()}. */
    public static Yaml yaml()
    {
        return new Yaml(new SafeConstructor(options()));
    }

    /**
     * Is a mapping's key one of {@code keys}? YAML keys may be anything ({@code ~: 1} is a null
     * key, {@code 1: x} a number), and {@code Set.of(...).contains(null)} throws.
     */
    public static boolean isKeyIn(final Object key, final Set<String> keys)
    {
        return key instanceof String && keys.contains(key);
    }

    /**
     * Refuses a loaded document that refers to itself or whose tree has more than
     * {@link #MAX_TREE_NODES} nodes, with an {@link IllegalArgumentException} that says which.
     */
    public static Object checkTree(final Object doc)
    {
        final long nodes = count(doc, new IdentityHashMap<>(), 0);
        if (nodes > MAX_TREE_NODES)
        {
            throw new IllegalArgumentException("aliases expand to more than " + MAX_TREE_NODES + " nodes");
        }
        return doc;
    }

    /** Nodes under {@code o} as a tree, stopping once past the limit; {@code path} holds the collections above. */
    private static long count(final Object o, final IdentityHashMap<Object, Boolean> path, final long before)
    {
        if (!(o instanceof Map) && !(o instanceof List))
        {
            return 1;
        }
        if (path.put(o, Boolean.TRUE) != null)
        {
            throw new IllegalArgumentException("an alias refers to a collection that contains it (a recursive document)");
        }
        long n = 1;
        final Iterable<?> children = o instanceof Map ? ((Map<?, ?>)o).entrySet() : (List<?>)o;
        for (final Object c : children)
        {
            if (c instanceof Map.Entry)
            {
                n += count(((Map.Entry<?, ?>)c).getKey(), path, before + n);
                n += count(((Map.Entry<?, ?>)c).getValue(), path, before + n);
            }
            else
            {
                n += count(c, path, before + n);
            }
            if (before + n > MAX_TREE_NODES)
            {
                break;
            }
        }
        path.remove(o);
        return n;
    }
}
