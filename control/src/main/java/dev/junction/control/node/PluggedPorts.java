package dev.junction.control.node;

import dev.junction.control.yaml.SafeYaml;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pods' ports plugged in while the daemon runs ({@code junction ctl add-port}), the way a CNI
 * plugs a pod's veth into OVS with {@code ovs-vsctl add-port br-int VETH -- set Interface VETH
 * external_ids:iface-id=NS_POD}, and unplugged with {@code del-port}. They are kept in the state
 * directory ({@value #FILE}), as OVS keeps ports in its database, so a restarted daemon opens
 * them again; node.yaml's own pods stay in node.yaml. Each entry is a node.yaml port entry naming
 * a pod, checked as node.yaml's are ({@link NodeConfig#podPort}).
 *
 * <p>Written whole to a temporary file and moved over the old one: a crash leaves the old list or
 * the new one, never half of one. Not thread-safe: the daemon calls it under its ports lock.
 */
final class PluggedPorts
{
    static final String FILE = "plugged-ports.yaml";
    /** A bound, as every table of the daemon has: more pods than a node runs (Kubernetes' default is 110). */
    static final int MAX = 1024;

    private final Path file;
    private final List<Map<String, Object>> entries = new ArrayList<>();
    private final List<NodeConfig.Port> ports = new ArrayList<>();

    private PluggedPorts(final Path file)
    {
        this.file = file;
    }

    /**
     * The ports plugged before a restart. An entry that no longer fits (node.yaml now declares its
     * pod or interface) is left out and reported in {@code skipped}, and dropped at the next write.
     */
    @SuppressWarnings("unchecked")
    static PluggedPorts load(final Path stateDir, final List<NodeConfig.Port> declared, final List<String> skipped)
        throws IOException
    {
        final PluggedPorts p = new PluggedPorts(stateDir.resolve(FILE));
        if (!Files.exists(p.file))
        {
            return p;
        }
        final Object doc = SafeYaml.checkTree(SafeYaml.yaml().load(Files.readString(p.file)));
        if (!(doc instanceof List))
        {
            skipped.add(FILE + ": expected a list of pod ports, ignored");
            return p;
        }
        for (final Object o : (List<Object>)doc)
        {
            try
            {
                p.add(o, stateDir, declared);
            }
            catch (final IllegalArgumentException ex)
            {
                skipped.add(ex.getMessage());
            }
        }
        return p;
    }

    /** The plugged ports, in the order they were plugged (not numbered yet: the layout numbers them). */
    List<NodeConfig.Port> ports()
    {
        return List.copyOf(ports);
    }

    /** A YAML text as a tree, or an {@link IllegalArgumentException} saying it is not YAML. */
    static Object parse(final String yaml)
    {
        try
        {
            return SafeYaml.checkTree(SafeYaml.yaml().load(yaml));
        }
        catch (final RuntimeException ex)
        {
            throw new IllegalArgumentException("not YAML: " + ex.getMessage(), ex);
        }
    }

    /**
     * Plugs the pod port {@code entry} describes (a YAML mapping such as
     * {@code {pod: shop/b, type: afxdp, interface: vethb}}) and writes the list.
     *
     * @throws IllegalArgumentException naming what is wrong with it: a bad entry, a pod, interface
     *                                  or name that is already plugged or declared, the bound
     */
    NodeConfig.Port plug(final Object entry, final Path base, final List<NodeConfig.Port> declared) throws IOException
    {
        if (ports.size() >= MAX)
        {
            throw new IllegalArgumentException("at most " + MAX + " plugged ports");
        }
        final NodeConfig.Port p = add(entry, base, declared);
        try
        {
            save();
        }
        catch (final IOException ex)
        {
            // Not plugged unless written: a restart must find what the CNI was told.
            ports.remove(ports.size() - 1);
            entries.remove(entries.size() - 1);
            throw ex;
        }
        return p;
    }

    /** Unplugs {@code pod}'s port and writes the list; false when it was not plugged here. */
    boolean unplug(final String pod) throws IOException
    {
        for (int i = 0; i < ports.size(); i++)
        {
            if (pod.equals(ports.get(i).pod()))
            {
                final NodeConfig.Port port = ports.remove(i);
                final Map<String, Object> entry = entries.remove(i);
                try
                {
                    save();
                }
                catch (final IOException ex)
                {
                    ports.add(i, port);
                    entries.add(i, entry);
                    throw ex;
                }
                return true;
            }
        }
        return false;
    }

    @SuppressWarnings("unchecked")
    private NodeConfig.Port add(final Object entry, final Path base, final List<NodeConfig.Port> declared)
    {
        final List<NodeConfig.Port> all = new ArrayList<>(declared);
        all.addAll(ports);
        final NodeConfig.Port p = NodeConfig.podPort(entry, base, all);
        entries.add(new LinkedHashMap<>((Map<String, Object>)entry));
        ports.add(p);
        return p;
    }

    private void save() throws IOException
    {
        final Path tmp = file.resolveSibling(FILE + ".tmp");
        Files.writeString(tmp, entries.isEmpty() ? "[]\n" : SafeYaml.yaml().dump(entries));
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
