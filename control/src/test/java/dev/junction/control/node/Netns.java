package dev.junction.control.node;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces and commands for end-to-end tests: every namespace and process made here
 * is removed by {@link #close()}, also when the test fails. Root is required: without it the
 * test is skipped, unless {@code CI} is set, where it fails.
 */
final class Netns implements AutoCloseable
{
    record Result(int exit, String out)
    {
    }

    private final List<String> namespaces = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    final String tag = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));

    static void requireRoot()
    {
        boolean root;
        try
        {
            root = Files.readString(Path.of("/proc/self/status")).lines()
                .filter(l -> l.startsWith("Uid:")).anyMatch(l -> l.split("\\s+")[2].equals("0"));
        }
        catch (final IOException ex)
        {
            root = false;
        }
        final boolean tools = Files.isExecutable(Path.of("/usr/bin/iperf3")) && (Files.isExecutable(Path.of("/usr/sbin/ip"))
            || Files.isExecutable(Path.of("/usr/bin/ip") )|| Files.isExecutable(Path.of("/sbin/ip")));
        final String why = !root ? "needs root (network namespaces, TAP devices)" : !tools ? "needs iproute2 and iperf3" : null;
        if (why != null)
        {
            if (System.getenv("CI") != null)
            {
                Assertions.fail(why + " [CI is set, so this is a failure, not a skip]");
            }
            Assumptions.assumeTrue(false, why);
        }
    }

    /** Creates namespace {@code base-TAG} and returns its name. */
    String add(final String base)
    {
        final String ns = base + "-" + tag;
        must("ip", "netns", "add", ns);
        namespaces.add(ns);
        must("ip", "-n", ns, "link", "set", "lo", "up");
        return ns;
    }

    Result run(final String... cmd)
    {
        return run(30, cmd);
    }

    Result run(final int timeoutSeconds, final String... cmd)
    {
        try
        {
            final Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            final byte[][] out = new byte[1][];
            final Thread reader = new Thread(() ->
            {
                try
                {
                    out[0] = p.getInputStream().readAllBytes();
                }
                catch (final IOException ex)
                {
                    out[0] = new byte[0];
                }
            });
            reader.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS))
            {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
            reader.join(5000);
            return new Result(p.isAlive() ? -1 : p.exitValue(), out[0] == null ? "" : new String(out[0], StandardCharsets.UTF_8));
        }
        catch (final IOException ex)
        {
            return new Result(-1, String.valueOf(ex));
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }

    String must(final String... cmd)
    {
        final Result r = run(cmd);
        Assertions.assertEquals(0, r.exit(), () -> String.join(" ", cmd) + " failed: " + r.out());
        return r.out();
    }

    /**
     * What a CNI does with the device the switch made for a pod: moves it into the pod's
     * namespace and gives it the MAC and address of the pod's logical port, the gateway as next hop.
     */
    void attachPod(final String device, final String ns, final dev.junction.control.flows.BridgeLayout.PodPort port,
        final String gateway)
    {
        must("ip", "link", "set", device, "netns", ns);
        must("ip", "-n", ns, "link", "set", device, "address", port.mac());
        must("ip", "-n", ns, "addr", "add", port.ips().get(0).getHostAddress() + "/24", "dev", device);
        must("ip", "-n", ns, "link", "set", device, "up");
        must("ip", "-n", ns, "route", "add", "default", "via", gateway);
    }

    /** Starts a background process (an iperf3 server, a daemon), killed by {@link #close()}. */
    Process spawn(final List<String> cmd, final Path log) throws IOException
    {
        final Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        processes.add(p);
        return p;
    }

    /** Starts {@code junction run --config CONFIG} as its own JVM and waits for its control socket. */
    Process daemon(final Path config, final Path stateDir, final Path log) throws Exception
    {
        return awaitControlSocket(startDaemon(config, log), stateDir, log);
    }

    /**
     * Starts {@code junction run --config CONFIG} as its own JVM, with this JVM's module flags
     * and Chronicle properties (the journals need them), without waiting for it.
     */
    Process startDaemon(final Path config, final Path log) throws IOException
    {
        final List<String> cmd = dev.junction.control.ChildJvm.command("dev.junction.control.cli.JunctionCli", "run",
            "--config", config.toString());
        return spawn(cmd, log);
    }

    /** Waits (30 s at most) until daemon {@code p} answers on its control socket. */
    Process awaitControlSocket(final Process p, final Path stateDir, final Path log) throws Exception
    {
        final long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline)
        {
            if (!p.isAlive())
            {
                Assertions.fail("daemon exited " + p.exitValue() + ":\n" + Files.readString(log));
            }
            try
            {
                if (ControlServer.request(stateDir, "stats").status() == 0)
                {
                    return p;
                }
            }
            catch (final IOException notYet)
            {
                Thread.sleep(20);
            }
        }
        Assertions.fail("daemon did not open its control socket within 30 s:\n" + Files.readString(log));
        return p;
    }

    @Override
    public void close()
    {
        for (final Process p : processes)
        {
            p.destroy(); // SIGTERM: a daemon closes its devices and socket
        }
        for (final Process p : processes)
        {
            try
            {
                if (!p.waitFor(10, TimeUnit.SECONDS))
                {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
        for (final String ns : namespaces)
        {
            run("ip", "netns", "pids", ns).out().lines().filter(s -> !s.isBlank())
                .forEach(pid -> run("kill", "-9", pid.strip()));
            run("ip", "netns", "del", ns);
        }
    }
}
