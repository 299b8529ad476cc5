package dev.junction.control.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code junction}: the command line of the Junction datapath. */
@Command(name = "junction", mixinStandardHelpOptions = true, version = "junction 0.1.0",
    description = "A userspace virtual switch datapath with Open vSwitch semantics.",
    subcommands = {ReplayCommand.class, FlowsCommand.class, ProbeCommand.class, TraceCommand.class, DumpFlowsCommand.class, DumpMegaflowsCommand.class,
        CtCommand.class, RunCommand.class, CtlCommand.class})
public final class JunctionCli implements Runnable
{
    /** Exit code for bad usage or refused input (flows, pcaps), as the oracle's 2 and 3. */
    public static final int EXIT_BAD_INPUT = 2;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run()
    {
        spec.commandLine().usage(System.err);
    }

    /** Runs the CLI in-process and returns its exit code (for tests and embedding). */
    public static int execute(final String... args)
    {
        final CommandLine cl = new CommandLine(new JunctionCli());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) ->
        {
            commandLine.getErr().println("junction: " + ex.getMessage());
            return EXIT_BAD_INPUT;
        });
        return cl.execute(args);
    }

    public static void main(final String[] args)
    {
        System.exit(execute(args));
    }
}
