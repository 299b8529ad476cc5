package dev.junction.control.cli;

import dev.junction.control.flows.DnsResolver;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.LoadReport;
import dev.junction.control.k8s.ManifestLoader;
import dev.junction.flowtable.ofp.FlowParseException;
import dev.junction.flowtable.ofp.FlowTables;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code --manifests DIR} for the commands: load, report bad objects on stderr (they are skipped,
 * the rest goes on), compile, and parse the result into flow tables as a flows file would be.
 */
final class ManifestFlows
{
    record Loaded(FlowCompiler.Compiled compiled, FlowTables tables, ClusterModel model)
    {
    }

    private ManifestFlows()
    {
    }

    /** The compiled flows and their tables, or null after printing why not. */
    static Loaded load(final Path dir, final String command, final PrintStream err)
    {
        return load(dir, null, command, err);
    }

    /** With {@code node}: that node's bridge (its pods, the rest behind the tunnel); without: the whole cluster on one bridge. */
    static Loaded load(final Path dir, final String node, final String command, final PrintStream err)
    {
        return load(dir, node, FlowCompiler.defaultGatewayMtu(), command, err);
    }

    /** As {@link #load(Path, String, String, PrintStream)}, the gateway routers' MTU {@code gatewayMtu} (0: not checked). */
    static Loaded load(final Path dir, final String node, final int gatewayMtu, final String command, final PrintStream err)
    {
        final ManifestLoader.Result r = ManifestLoader.load(dir);
        for (final LoadReport.Problem p : r.report().problems())
        {
            err.println(command + ": skipped: " + p);
        }
        final FlowCompiler.Compiled c;
        try
        {
            c = node == null ? FlowCompiler.cluster(r.model(), DnsResolver.NONE, gatewayMtu)
                : FlowCompiler.node(r.model(), node, DnsResolver.NONE, gatewayMtu);
        }
        catch (final IllegalArgumentException ex)
        {
            err.println(command + ": " + ex.getMessage());
            return null;
        }
        try
        {
            final FlowTables tables = c.tables();
            return new Loaded(c, tables, r.model());
        }
        catch (final FlowParseException ex)
        {
            // The compiler wrote something the parser refuses: a bug, said as such.
            err.println(command + ": internal error, derived flows refused: " + ex.getMessage());
            return null;
        }
    }

    static boolean hasProblems(final Path dir)
    {
        return !ManifestLoader.load(dir).report().problems().isEmpty();
    }

    static List<String> notes(final FlowCompiler.Compiled c)
    {
        return c.notes();
    }
}
