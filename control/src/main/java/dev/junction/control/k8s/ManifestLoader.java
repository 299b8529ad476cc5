package dev.junction.control.k8s;

import dev.junction.control.yaml.SafeYaml;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Reads a directory of Kubernetes manifests (files ending .yaml, .yml or .json, in sub-directories
 * too, in name order; multi-document files; {@code kind: List} items) into a {@link ClusterModel}.
 *
 * <p>One bad object costs that object only: it is reported in the {@link LoadReport} with file,
 * kind, namespace/name and reason, and everything else is loaded. A file that cannot be read or a
 * YAML document that does not parse is reported too (the rest of that file is lost, because the
 * parser cannot resynchronise). Kinds the model has no use for are noted and ignored. Nothing
 * here throws for content; parsing uses {@link SafeYaml}: SnakeYAML's SafeConstructor, so no
 * type is ever built from a tag, with limits on size, depth and aliases (a recursive or
 * alias-bombed document is reported and skipped). {@link #fromObjects} takes objects already
 * parsed (a live API server's) through the same checks.
 */
public final class ManifestLoader
{
    /** The model and how loading went. */
    public record Result(ClusterModel model, LoadReport report)
    {
    }

    private final Map<String, Namespace> namespaces = new LinkedHashMap<>();
    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final Map<String, Pod> pods = new LinkedHashMap<>();
    private final Map<String, Service> services = new LinkedHashMap<>();
    private final Map<String, EndpointSlice> slices = new LinkedHashMap<>();
    private final Map<String, NetworkPolicy> policies = new LinkedHashMap<>();
    private final Map<String, EgressFirewall> firewalls = new LinkedHashMap<>();
    private final Map<String, EgressIp> egressIps = new LinkedHashMap<>();
    private final Map<String, String> seenIn = new LinkedHashMap<>();
    private final List<LoadReport.Problem> problems = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private int objects;

    private ManifestLoader()
    {
    }

    /** Loads a directory of manifests, or one manifest file. */
    public static Result load(final Path path)
    {
        final ManifestLoader loader = new ManifestLoader();
        final List<Path> files;
        try
        {
            files = files(path);
        }
        catch (final IOException | RuntimeException ex)
        {
            loader.problems.add(new LoadReport.Problem(path.toString(), null, null, null, "cannot list: " + ex.getMessage()));
            return loader.finish();
        }
        for (final Path f : files)
        {
            loader.loadFile(f, path.relativize(f).toString().isEmpty() ? f.getFileName().toString() : path.relativize(f).toString());
        }
        return loader.finish();
    }

    /**
     * Decodes objects that are already parsed (from an API server's watch cache, say) through the
     * same checks as {@link #load(Path)}: the report is what a directory of the same objects would
     * give, with {@code sourceName} where a file's name would be. Objects go in list order, which
     * decides which of two same-named objects is kept and the model's order, so callers that want
     * reproducible output sort first. The maps are only read.
     */
    public static Result fromObjects(final List<? extends Map<String, ?>> objects, final String sourceName)
    {
        final ManifestLoader loader = new ManifestLoader();
        for (int i = 0; i < objects.size(); i++)
        {
            final Object o = objects.get(i);
            // A map built in memory can hold itself, or be huge, as an aliased YAML document can.
            try
            {
                SafeYaml.checkTree(o);
            }
            catch (final IllegalArgumentException ex)
            {
                loader.problems.add(new LoadReport.Problem(sourceName, null, null, null, "object " + i + ": " + ex.getMessage()));
                continue;
            }
            loader.object(sourceName, o, "object " + i);
        }
        return loader.finish();
    }

    private static List<Path> files(final Path path) throws IOException
    {
        if (!Files.isDirectory(path))
        {
            if (!Files.exists(path))
            {
                throw new IOException("no such file or directory");
            }
            return List.of(path);
        }
        try (Stream<Path> s = Files.walk(path))
        {
            return s.filter(Files::isRegularFile)
                .filter(p -> !path.relativize(p).toString().startsWith(".") && !p.getFileName().toString().startsWith("."))
                .filter(p -> p.getFileName().toString().matches(".*\\.(yaml|yml|json)"))
                .sorted()
                .collect(Collectors.toList());
        }
    }

    private void loadFile(final Path file, final String name)
    {
        int doc = 0;
        try (Reader r = Files.newBufferedReader(file))
        {
            final Iterator<Object> docs = SafeYaml.yaml().loadAll(r).iterator();
            while (true)
            {
                final Object d;
                try
                {
                    if (!docs.hasNext())
                    {
                        break;
                    }
                    doc++;
                    d = docs.next();
                }
                catch (final RuntimeException ex)
                {
                    problems.add(new LoadReport.Problem(name, null, null, null, "document " + doc
                        + ": not valid YAML, the rest of the file is skipped: " + firstLine(ex.getMessage())));
                    return;
                }
                if (d != null)
                {
                    try
                    {
                        SafeYaml.checkTree(d);
                    }
                    catch (final IllegalArgumentException ex)
                    {
                        problems.add(new LoadReport.Problem(name, null, null, null, "document " + doc + ": " + ex.getMessage()));
                        continue;
                    }
                    object(name, d, "document " + doc);
                }
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            problems.add(new LoadReport.Problem(name, null, null, null, "cannot read: " + firstLine(String.valueOf(ex.getMessage()))));
        }
    }

    private void object(final String file, final Object raw, final String where)
    {
        if (!(raw instanceof Map))
        {
            problems.add(new LoadReport.Problem(file, null, null, null, where + ": not an object but " + Fields.describe(raw)));
            return;
        }
        final Map<?, ?> map = (Map<?, ?>)raw;
        final String kind = map.get("kind") instanceof String ? (String)map.get("kind") : null;
        final Object metaName = map.get("metadata") instanceof Map ? ((Map<?, ?>)map.get("metadata")).get("name") : null;
        final Object metaNs = map.get("metadata") instanceof Map ? ((Map<?, ?>)map.get("metadata")).get("namespace") : null;
        final String name = metaName instanceof String ? (String)metaName : null;
        final String ns = metaNs instanceof String ? (String)metaNs : null;
        try
        {
            final Fields obj = Fields.of(raw, "");
            if (kind == null)
            {
                throw new BadObject(where + ": no kind");
            }
            final String apiVersion = obj.requiredString("apiVersion");
            if (kind.equals("List"))
            {
                final List<Object> items = obj.list("items");
                for (int i = 0; i < items.size(); i++)
                {
                    object(file, items.get(i), where + " items[" + i + "]");
                }
                return;
            }
            decode(file, kind, apiVersion, obj);
        }
        catch (final BadObject ex)
        {
            problems.add(new LoadReport.Problem(file, kind, ns, name, ex.getMessage()));
        }
        catch (final RuntimeException ex)
        {
            // A decoder bug must still cost one object only; the class name says it is a bug.
            problems.add(new LoadReport.Problem(file, kind, ns, name, ex.getClass().getSimpleName() + ": " + ex.getMessage()));
        }
    }

    private void decode(final String file, final String kind, final String apiVersion, final Fields obj)
    {
        switch (kind)
        {
            case "Namespace":
                expect(kind, apiVersion, "v1");
                add(file, namespaces, CoreDecoder.namespace(ObjectMeta.decode(kind, obj, false)), Namespace::name, kind);
                break;
            case "Node":
                expect(kind, apiVersion, "v1");
                add(file, nodes, CoreDecoder.node(ObjectMeta.decode(kind, obj, false), obj), Node::name, kind);
                break;
            case "Pod":
                expect(kind, apiVersion, "v1");
                add(file, pods, CoreDecoder.pod(ObjectMeta.decode(kind, obj, true), obj), Pod::key, kind);
                break;
            case "Service":
                expect(kind, apiVersion, "v1");
                add(file, services, CoreDecoder.service(ObjectMeta.decode(kind, obj, true), obj), Service::key, kind);
                break;
            case "EndpointSlice":
                expect(kind, apiVersion, "discovery.k8s.io/v1");
                add(file, slices, CoreDecoder.endpointSlice(ObjectMeta.decode(kind, obj, true), obj),
                    s -> s.namespace() + "/" + s.name(), kind);
                break;
            case "NetworkPolicy":
                expect(kind, apiVersion, "networking.k8s.io/v1");
                add(file, policies, PolicyDecoder.networkPolicy(ObjectMeta.decode(kind, obj, true), obj), NetworkPolicy::key, kind);
                break;
            case "EgressFirewall":
                expect(kind, apiVersion, "k8s.ovn.org/v1");
                add(file, firewalls, OvnDecoder.egressFirewall(ObjectMeta.decode(kind, obj, true), obj),
                    f -> f.namespace() + "/" + f.name(), kind);
                break;
            case "EgressIP":
                expect(kind, apiVersion, "k8s.ovn.org/v1");
                add(file, egressIps, OvnDecoder.egressIp(ObjectMeta.decode(kind, obj, false), obj), EgressIp::name, kind);
                break;
            default:
                notes.add(file + ": " + kind + " (" + apiVersion + ") ignored: not part of the network model");
        }
    }

    private static void expect(final String kind, final String apiVersion, final String wanted)
    {
        if (!apiVersion.equals(wanted))
        {
            throw new BadObject("apiVersion " + apiVersion + " is not " + wanted + ", the version of " + kind + " understood here");
        }
    }

    private <T> void add(final String file, final Map<String, T> into, final T value,
        final java.util.function.Function<T, String> key, final String kind)
    {
        final String k = key.apply(value);
        final String first = seenIn.putIfAbsent(kind + " " + k, file);
        if (first != null)
        {
            throw new BadObject("a second " + kind + " " + k + " (the first, from " + first + ", is kept)");
        }
        into.put(k, value);
        objects++;
    }

    private Result finish()
    {
        skipPodsOnManagementAddresses();
        for (final Pod p : pods.values())
        {
            if (!namespaces.containsKey(p.namespace()))
            {
                notes.add("Pod " + p.key() + ": namespace " + p.namespace() + " has no manifest (it gets only its name label)");
            }
            if (p.nodeName() != null && !nodes.containsKey(p.nodeName()))
            {
                notes.add("Pod " + p.key() + ": node " + p.nodeName() + " has no manifest");
            }
        }
        for (final EndpointSlice s : slices.values())
        {
            if (s.serviceName() == null)
            {
                notes.add("EndpointSlice " + s.namespace() + "/" + s.name() + ": no " + EndpointSlice.SERVICE_NAME + " label, belongs to no service");
            }
        }
        final ClusterModel model = new ClusterModel(List.copyOf(namespaces.values()), List.copyOf(nodes.values()),
            List.copyOf(pods.values()), List.copyOf(services.values()), List.copyOf(slices.values()),
            List.copyOf(policies.values()), List.copyOf(firewalls.values()), List.copyOf(egressIps.values()));
        return new Result(model, new LoadReport(objects, problems, notes));
    }

    /**
     * A pod holding its node's .2 of a subnet would take the management port's address (OVN-K's
     * {@code k8s-<node>}, which its IPAM reserves with the gateway's .1 and never gives a pod): a
     * bad object, left out, so the host's port keeps its address.
     */
    private void skipPodsOnManagementAddresses()
    {
        final java.util.Iterator<Pod> it = pods.values().iterator();
        while (it.hasNext())
        {
            final Pod p = it.next();
            final Node node = p.nodeName() == null || p.hostNetwork() ? null : nodes.get(p.nodeName());
            if (node == null)
            {
                continue;
            }
            for (final Cidr subnet : node.subnets())
            {
                final java.net.InetAddress management = subnet.host(2);
                if (p.ips().contains(management))
                {
                    problems.add(new LoadReport.Problem(seenIn.get("Pod " + p.key()), "Pod", p.namespace(), p.name(),
                        "holds " + Ip.text(management) + ", the management port address (.2) of node " + node.name()
                            + "'s subnet " + subnet + ", which OVN-K's IPAM never gives a pod"));
                    it.remove();
                    objects--;
                    break;
                }
            }
        }
    }

    /** SnakeYAML's messages span lines (context, a caret drawing); one line of at most 240 characters. */
    private static String firstLine(final String s)
    {
        if (s == null)
        {
            return "";
        }
        final String one = s.lines().map(String::trim).filter(l -> !l.isEmpty() && !l.matches("\\^+"))
            .collect(Collectors.joining("; "));
        return one.length() > 240 ? one.substring(0, 240) + "..." : one;
    }
}
