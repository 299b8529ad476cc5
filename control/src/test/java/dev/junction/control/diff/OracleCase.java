package dev.junction.control.diff;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * One generated case run through the oracle and {@code junction replay} side by side (the oracle
 * in the background while Junction replays in-process), then judged. A passing case's directory
 * is removed; a failing one is kept and the failure names it with what to reproduce it.
 */
final class OracleCase
{
    /** Writes the case's files into the directory and returns the replay arguments (without --out). */
    @FunctionalInterface
    interface CaseFiles
    {
        List<String> write(Path dir) throws Exception;
    }

    /** Null when Junction agrees with the oracle, else what differs. */
    @FunctionalInterface
    interface Judge
    {
        String judge(OracleRunner.Result ovs, DifferentialOracleTest.JunctionRun junction, Path expected, Path actual)
            throws Exception;
    }

    private OracleCase()
    {
    }

    /**
     * @param what    the case's name in the failure ("tunnel case 3")
     * @param details the case's text for the failure report (reproduce line, flows, inputs)
     */
    static void run(final OracleRunner oracle, final String dirPrefix, final String what, final CaseFiles files,
        final Judge judge, final String details) throws Exception
    {
        run(oracle, dirPrefix, what, files, judge, details, DifferentialOracleTest.PIPELINE_WORKERS);
    }

    /** As above, through the pipeline with each of {@code pipelineWorkers} workers too (see DifferentialOracleTest). */
    static void run(final OracleRunner oracle, final String dirPrefix, final String what, final CaseFiles files,
        final Judge judge, final String details, final int[] pipelineWorkers) throws Exception
    {
        final Path dir = Files.createTempDirectory(dirPrefix);
        boolean passed = false;
        try
        {
            final List<String> inputArgs = files.write(dir);
            final Path expected = dir.resolve("expected");
            final Path actual = dir.resolve("actual");
            final OracleRunner.Running running = oracle.start(DifferentialOracleTest.replayArgs(inputArgs, expected), dir);
            final DifferentialOracleTest.JunctionRun junction =
                DifferentialOracleTest.runJunction(DifferentialOracleTest.replayArgs(inputArgs, actual), pipelineWorkers);
            final OracleRunner.Result ovs = running.await(OracleRunner.DEFAULT_TIMEOUT);
            final String failure = judge.judge(ovs, junction, expected, actual);
            if (failure != null)
            {
                fail("Junction disagrees with Open vSwitch on " + what + ": " + failure + "\nkept in: " + dir + "\n"
                    + details + "\noracle stderr:\n" + ovs.stderr() + "\njunction output:\n" + junction.output());
            }
            passed = true;
        }
        finally
        {
            if (passed)
            {
                DifferentialOracleTest.deleteRecursively(dir);
            }
        }
    }
}
