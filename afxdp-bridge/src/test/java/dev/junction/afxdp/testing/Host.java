package dev.junction.afxdp.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What the root-only tests need from the machine: privileges, tools, and commands run with a
 * timeout (a hung {@code ip} or {@code iperf3} is killed, never waited on forever). Without
 * root or a tool they skip, unless {@code CI} is set: then they fail, so CI cannot go green by
 * skipping them.
 */
public final class Host
{
    public record Result(int exit, String out, String err)
    {
        public boolean ok()
        {
            return exit == 0;
        }

        @Override
        public String toString()
        {
            return "exit " + exit + "\nstdout: " + out + "\nstderr: " + err;
        }
    }

    private Host()
    {
    }

    public static boolean isCi()
    {
        final String ci = System.getenv("CI");
        return ci != null && !ci.isBlank() && !"false".equalsIgnoreCase(ci.trim());
    }

    public static boolean isRoot()
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/self/status")))
            {
                if (line.startsWith("Uid:"))
                {
                    return line.split("\\s+")[2].equals("0"); // effective uid
                }
            }
        }
        catch (final IOException e)
        {
            return false;
        }
        return false;
    }

    /** Skips (or, with CI set, fails) unless root and every tool is on the PATH. */
    public static void require(final String... tools)
    {
        String missing = isRoot() ? null : "needs root (TAP devices, AF_XDP sockets, network namespaces)";
        for (final String tool : tools)
        {
            if (missing == null && !onPath(tool))
            {
                missing = "needs " + tool + " (apt-get install iperf3 iputils-ping iproute2 ethtool)";
            }
        }
        if (missing != null)
        {
            if (isCi())
            {
                Assertions.fail(missing + " [CI is set, so this is a failure, not a skip]");
            }
            Assumptions.assumeTrue(false, missing);
        }
    }

    public static boolean onPath(final String tool)
    {
        for (final String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":"))
        {
            if (new File(dir, tool).canExecute())
            {
                return true;
            }
        }
        return new File("/usr/sbin", tool).canExecute() || new File("/sbin", tool).canExecute();
    }

    public static Result run(final Duration timeout, final String... command)
    {
        final Process process = start(command);
        try
        {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS))
            {
                kill(process);
                return new Result(-1, read(process, true), "timed out after " + timeout + ": " + String.join(" ", command));
            }
            return new Result(process.exitValue(), read(process, true), read(process, false));
        }
        catch (final InterruptedException e)
        {
            kill(process);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", command), e);
        }
    }

    /** Runs and fails the test when the command fails. */
    public static String check(final Duration timeout, final String... command)
    {
        final Result r = run(timeout, command);
        if (!r.ok())
        {
            Assertions.fail(String.join(" ", command) + ": " + r);
        }
        return r.out();
    }

    /** Starts a command with stdout and stderr going to temporary files (no pipe to fill up). */
    public static Process start(final String... command)
    {
        try
        {
            final File out = File.createTempFile("jtap-out", ".txt");
            final File err = File.createTempFile("jtap-err", ".txt");
            out.deleteOnExit();
            err.deleteOnExit();
            final Process p = new ProcessBuilder(List.of(command)).redirectOutput(out).redirectError(err)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            OUTPUTS.put(p, new File[] {out, err});
            return p;
        }
        catch (final IOException e)
        {
            throw new IllegalStateException("cannot start " + String.join(" ", command), e);
        }
    }

    public static String read(final Process p, final boolean stdout)
    {
        final File[] files = OUTPUTS.get(p);
        if (files == null)
        {
            return "";
        }
        try
        {
            return Files.readString(files[stdout ? 0 : 1].toPath(), StandardCharsets.UTF_8);
        }
        catch (final IOException e)
        {
            return "";
        }
    }

    /** Kills the process and its children, waiting at most a second. */
    public static void kill(final Process p)
    {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try
        {
            p.waitFor(1, TimeUnit.SECONDS);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
    }

    private static final java.util.Map<Process, File[]> OUTPUTS = new java.util.concurrent.ConcurrentHashMap<>();
}
