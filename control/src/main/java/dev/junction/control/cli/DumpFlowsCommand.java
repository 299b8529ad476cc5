package dev.junction.control.cli;

import dev.junction.flowtable.ofp.FlowPrinter;
import dev.junction.flowtable.ofp.FlowRule;
import dev.junction.flowtable.ofp.FlowTables;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code junction dump-flows --flows F}: the flows normalized, as {@code ovs-ofctl dump-flows} prints them. */
@Command(name = "dump-flows", description = "Print a flows file normalized, as ovs-ofctl dump-flows does.")
final class DumpFlowsCommand implements Callable<Integer>
{
    @Option(names = "--flows", required = true, description = "Flows in ovs-ofctl add-flows syntax.")
    Path flows;

    @Override
    public Integer call() throws Exception
    {
        final FlowTables tables = FlowsFile.loadOrReport(flows, "junction dump-flows");
        if (tables == null)
        {
            return JunctionCli.EXIT_BAD_INPUT;
        }
        for (final FlowRule r : tables.rules())
        {
            System.out.println(FlowPrinter.dumpLine(r));
        }
        return 0;
    }
}
