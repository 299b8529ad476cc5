package dev.junction.control.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code junction dump-megaflows DIR}: the megaflows a replay into DIR left in the datapath, in
 * {@code ovs-appctl dpctl/dump-flows} form (the oracle's {@code megaflows.txt} has the same form).
 */
@Command(name = "dump-megaflows",
    description = "Print the megaflows of a replay (its --out DIR), as ovs-appctl dpctl/dump-flows does.")
final class DumpMegaflowsCommand implements Callable<Integer>
{
    @Parameters(index = "0", paramLabel = "DIR", description = "The --out directory of a junction replay.")
    Path dir;

    @Override
    public Integer call()
    {
        final Path file = dir.resolve("megaflows.txt");
        if (!Files.isRegularFile(file))
        {
            System.err.println("junction dump-megaflows: " + file + " not found: run junction replay --out " + dir
                + " first");
            return JunctionCli.EXIT_BAD_INPUT;
        }
        try
        {
            System.out.print(Files.readString(file));
            return 0;
        }
        catch (final IOException ex)
        {
            System.err.println("junction dump-megaflows: " + file + ": " + ex.getMessage());
            return JunctionCli.EXIT_BAD_INPUT;
        }
    }
}
