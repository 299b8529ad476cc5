package dev.junction.control.agent;

import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.flows.DnsResolver;
import dev.junction.control.flows.IncrementalCompiler;
import dev.junction.control.journal.FlowJournal;
import dev.junction.control.k8s.ManifestLoader;
import dev.junction.flowtable.ofp.FlowParseException;
import dev.junction.flowtable.ofp.FlowTables;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A Kubernetes change's way (DESIGN.md), end to end for one bridge: each snapshot of the
 * cluster (from a manifests directory or the API server) goes through the
 * {@link IncrementalCompiler}; the delta is journaled ({@link FlowJournal}) and the new table
 * version published to the datapath. On start the journal's last version is published before
 * any source has spoken, so forwarding resumes from the last good flows; the first snapshot then
 * becomes the next version. A snapshot with problems is still compiled (bad objects are skipped
 * by the loader); a compile or journal failure keeps the last good version in force (fail
 * closed: never an empty or allow-all table) and is counted.
 */
public final class ControlLoop implements AutoCloseable
{
    private final String node;
    private final FlowJournal journal;
    private final Consumer<FlowTables> publisher;
    private final String source;
    private final dev.junction.control.flows.DnsResolver dns;
    private final int gatewayMtu;
    private IncrementalCompiler compiler;
    private Set<String> published = new HashSet<>();
    private long version;
    private long failures;
    private String lastFailure = "";

    /**
     * @param node      the node whose bridge to compile, or null for every pod on one bridge
     * @param journal   where versions are kept (null: none)
     * @param publisher receives each new table version (the datapath's {@code publish})
     */
    public ControlLoop(final String node, final FlowJournal journal, final String source, final Consumer<FlowTables> publisher)
    {
        this(node, journal, source, FlowCompiler.defaultGatewayMtu(), publisher, dev.junction.control.flows.DnsResolver.NONE);
    }

    /**
     * As {@link #ControlLoop(String, FlowJournal, String, Consumer)}, the gateway routers' MTU
     * {@code gatewayMtu} (0: not checked) and EgressFirewall {@code dnsName} rules resolved by {@code dns}.
     */
    public ControlLoop(final String node, final FlowJournal journal, final String source, final int gatewayMtu,
        final Consumer<FlowTables> publisher, final dev.junction.control.flows.DnsResolver dns)
    {
        this.gatewayMtu = gatewayMtu;
        this.node = node;
        this.journal = journal;
        this.source = source;
        this.publisher = publisher;
        this.dns = dns;
    }

    /**
     * The resolver found new addresses for {@code names}: the EgressFirewall rules naming them are
     * compiled again, and a changed table is journaled and published as a new version. Nothing
     * before the first snapshot (its compile asks the resolver anyway).
     */
    public synchronized void namesResolved(final Set<String> names)
    {
        if (compiler == null || names.isEmpty())
        {
            return;
        }
        try
        {
            compiler.resolved(names);
            publish(compiler.current());
        }
        catch (final IOException | FlowParseException | RuntimeException ex)
        {
            failures++;
            lastFailure = ex.getClass().getSimpleName() + ": " + ex.getMessage();
        }
    }

    /** Publishes the journal's last version, if any: what the bridge forwarded with before a restart. */
    public Optional<FlowJournal.Restored> restore() throws IOException, FlowParseException
    {
        if (journal == null)
        {
            return Optional.empty();
        }
        final Optional<FlowJournal.Restored> r = journal.restore();
        if (r.isPresent())
        {
            publisher.accept(tables(r.get().flows(), r.get().groups()));
            published = new HashSet<>(r.get().flows());
            version = r.get().version();
        }
        return r;
    }

    /** One snapshot from the source: compile (incrementally after the first), journal, publish. */
    public synchronized void accept(final ManifestLoader.Result snapshot)
    {
        try
        {
            if (compiler == null)
            {
                compiler = new IncrementalCompiler(snapshot.model(), node, dns, gatewayMtu);
            }
            else
            {
                compiler.update(snapshot.model());
            }
            publish(compiler.current());
        }
        catch (final IOException | FlowParseException | RuntimeException ex)
        {
            failures++;
            lastFailure = ex.getClass().getSimpleName() + ": " + ex.getMessage();
        }
    }

    /** Journals and publishes {@code c} as the next version when its flows differ from the published ones. */
    private void publish(final FlowCompiler.Compiled c) throws IOException, FlowParseException
    {
        final List<String> lines = c.flows().lines();
        final Set<String> now = new HashSet<>(lines);
        final List<String> removed = new ArrayList<>();
        for (final String l : published)
        {
            if (!now.contains(l))
            {
                removed.add(l);
            }
        }
        final List<String> added = new ArrayList<>();
        for (final String l : lines)
        {
            if (!published.contains(l))
            {
                added.add(l);
            }
        }
        if (removed.isEmpty() && added.isEmpty() && version > 0)
        {
            return;
        }
        final FlowTables next = tables(lines, c.groups());
        if (journal != null)
        {
            journal.append(new FlowJournal.Version(version + 1, source, removed, added, c.groups(), podPorts(c.layout())));
        }
        publisher.accept(next);
        published = now;
        version++;
    }

    /** The layout's local pods and their OpenFlow ports, as the journal keeps them. */
    private static java.util.Map<String, Integer> podPorts(final dev.junction.control.flows.BridgeLayout layout)
    {
        final java.util.Map<String, Integer> ports = new java.util.HashMap<>();
        for (final dev.junction.control.flows.BridgeLayout.PodPort p : layout.ports())
        {
            ports.put(p.pod().key(), p.ofport());
        }
        return ports;
    }

    private static FlowTables tables(final List<String> flows, final List<String> groups) throws FlowParseException
    {
        return FlowCompiler.tables(flows, groups);
    }

    /** The layout of the last compiled snapshot (ports, keys), empty before the first one. */
    public synchronized Optional<dev.junction.control.flows.BridgeLayout> layout()
    {
        return compiler == null ? Optional.empty() : Optional.of(compiler.current().layout());
    }

    public long version()
    {
        return version;
    }

    public long failures()
    {
        return failures;
    }

    public String lastFailure()
    {
        return lastFailure;
    }

    @Override
    public void close()
    {
        if (journal != null)
        {
            journal.close();
        }
    }
}
