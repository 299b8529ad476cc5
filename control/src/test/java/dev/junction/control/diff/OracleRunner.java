package dev.junction.control.diff;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code shared/tools/ovs-oracle}, the real Open vSwitch 3.1 userspace datapath behind the
 * same interface as {@code junction replay}. Exit codes: 0 ok, 2 bad input, 3 OVS refused the
 * flows, 1 anything else.
 *
 * <p>A missing oracle or OVS skips the differential tests on a developer machine but fails them
 * when {@code CI} is set: a CI run that silently skipped its judge would prove nothing.
 */
final class OracleRunner
{
    static final int EXIT_OK = 0;
    static final int EXIT_REFUSED = 3;
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(120);

    private static final String[] OVS_BINARIES = { "ovs-vswitchd", "ovsdb-server", "ovs-ofctl", "ovs-vsctl" };
    private static final String[] SBIN_DIRS = { "/usr/sbin", "/sbin", "/usr/local/sbin" };

    private static OracleRunner instance;
    private static String unavailableReason;

    private final Path oracle;

    record Result(int exitCode, String stdout, String stderr, boolean timedOut, long millis)
    {
        boolean ok()
        {
            return !timedOut && exitCode == EXIT_OK;
        }

        boolean refused()
        {
            return !timedOut && exitCode == EXIT_REFUSED;
        }
    }

    /** An oracle run under way, so the caller can run Junction meanwhile. */
    final class Running
    {
        private final Process process;
        private final Path stdout;
        private final Path stderr;
        private final long startNanos = System.nanoTime();

        private Running(final Process process, final Path stdout, final Path stderr)
        {
            this.process = process;
            this.stdout = stdout;
            this.stderr = stderr;
        }

        Result await(final Duration timeout) throws IOException, InterruptedException
        {
            boolean timedOut = false;
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS))
            {
                timedOut = true;
                // SIGTERM first: the oracle then stops its own ovs-vswitchd/ovsdb-server.
                process.destroy();
                if (!process.waitFor(15, TimeUnit.SECONDS))
                {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            }
            final long millis = (System.nanoTime() - startNanos) / 1_000_000;
            return new Result(timedOut ? -1 : process.exitValue(), read(stdout), read(stderr), timedOut, millis);
        }
    }

    private OracleRunner(final Path oracle)
    {
        this.oracle = oracle;
    }

    Path path()
    {
        return oracle;
    }

    /**
     * The tunnel oracle ({@code control/src/test/oracle/ovs-tunnel-oracle}: ovs-oracle plus OVS's
     * native userspace tunnelling, with the underlay on a second bridge), or the end of the
     * calling test as {@link #require()}.
     */
    static synchronized OracleRunner requireTunnels()
    {
        require();
        final Path p = Paths.get("src", "test", "oracle", "ovs-tunnel-oracle").toAbsolutePath();
        if (!Files.isRegularFile(p))
        {
            Assertions.fail(p + " missing: the tunnel oracle lives in the control module's test sources");
        }
        return new OracleRunner(p);
    }

    /**
     * The oracle, or the end of the calling test: a failure when {@code CI} is set, otherwise an
     * aborted assumption (reported as skipped) that says what is missing.
     */
    static synchronized OracleRunner require()
    {
        if (instance == null && unavailableReason == null)
        {
            final Path found = locate();
            if (found == null)
            {
                unavailableReason = "ovs-oracle not found: set JUNCTION_SHARED to the shared/ directory " +
                    "(it holds tools/ovs-oracle), or run from a checkout that has ../shared beside it";
            }
            else if (!ovsInstalled())
            {
                unavailableReason = "Open vSwitch is not installed (ovs-vswitchd, ovsdb-server, ovs-ofctl, " +
                    "ovs-vsctl); install openvswitch-switch to run the differential tests against " + found;
            }
            else
            {
                instance = new OracleRunner(found);
            }
        }
        if (instance == null)
        {
            if (isCi())
            {
                Assertions.fail(unavailableReason + " [CI is set, so this is a failure, not a skip]");
            }
            Assumptions.assumeTrue(false, unavailableReason);
        }
        return instance;
    }

    static boolean isCi()
    {
        final String ci = System.getenv("CI");
        return ci != null && !ci.isBlank() && !"false".equalsIgnoreCase(ci.trim());
    }

    /**
     * {@code $JUNCTION_SHARED/tools/ovs-oracle} (surefire sets it to {@code <repo>/../shared}),
     * else the first {@code shared/tools/ovs-oracle} found beside the working directory or one
     * of its parents (a module directory is two levels below the checkout's parent).
     */
    static Path locate()
    {
        final String shared = System.getenv("JUNCTION_SHARED");
        if (shared != null && !shared.isBlank())
        {
            final Path candidate = Paths.get(shared).resolve("tools").resolve("ovs-oracle");
            if (Files.isRegularFile(candidate))
            {
                return candidate.toAbsolutePath().normalize();
            }
        }
        for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent())
        {
            final Path candidate = dir.resolve("shared").resolve("tools").resolve("ovs-oracle");
            if (Files.isRegularFile(candidate))
            {
                return candidate.normalize();
            }
        }
        return null;
    }

    static boolean ovsInstalled()
    {
        for (final String binary : OVS_BINARIES)
        {
            if (findExecutable(binary) == null)
            {
                return false;
            }
        }
        return true;
    }

    /** An executable on PATH or in the sbin directories (OVS daemons live in /usr/sbin). */
    static Path findExecutable(final String name)
    {
        final List<String> dirs = new ArrayList<>();
        final String path = System.getenv("PATH");
        if (path != null)
        {
            dirs.addAll(List.of(path.split(File.pathSeparator)));
        }
        dirs.addAll(List.of(SBIN_DIRS));
        for (final String dir : dirs)
        {
            if (dir.isEmpty())
            {
                continue;
            }
            final Path candidate = Paths.get(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /**
     * Starts the oracle with {@code args} (everything after the program name); its stdout and
     * stderr go to {@code oracle.stdout} / {@code oracle.stderr} in {@code logDir}, which stay
     * there for a failed case's post-mortem.
     */
    Running start(final List<String> args, final Path logDir) throws IOException
    {
        final List<String> command = new ArrayList<>();
        if (!Files.isExecutable(oracle))
        {
            command.add("python3");
        }
        command.add(oracle.toString());
        command.addAll(args);
        final Path stdout = logDir.resolve("oracle.stdout");
        final Path stderr = logDir.resolve("oracle.stderr");
        final Process process = new ProcessBuilder(command)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(stdout.toFile())
            .redirectError(stderr.toFile())
            .start();
        return new Running(process, stdout, stderr);
    }

    Result run(final List<String> args, final Path logDir, final Duration timeout)
        throws IOException, InterruptedException
    {
        return start(args, logDir).await(timeout);
    }

    private static String read(final Path file) throws IOException
    {
        return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    }
}
