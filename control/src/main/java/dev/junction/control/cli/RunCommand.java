package dev.junction.control.cli;

import dev.junction.control.node.JsonLog;
import dev.junction.control.node.NodeConfig;
import dev.junction.control.node.NodeDaemon;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code junction run --config node.yaml}: the node daemon, until SIGTERM or SIGINT. */
@Command(name = "run", description = "Run the node datapath daemon (TAP ports, tunnels, control socket) until SIGTERM.")
final class RunCommand implements Callable<Integer>
{
    @Option(names = "--config", required = true, description = "Node configuration (YAML; see docs/daemon.md).")
    Path config;

    @Override
    public Integer call() throws Exception
    {
        final JsonLog log = new JsonLog(System.err);
        final NodeConfig cfg;
        final NodeDaemon daemon;
        try
        {
            cfg = NodeConfig.load(config);
            daemon = NodeDaemon.start(cfg, log);
        }
        catch (final Exception ex)
        {
            log.error("refusing to start", "config", config, "reason", String.valueOf(ex.getMessage()));
            return JunctionCli.EXIT_BAD_INPUT;
        }
        final CountDownLatch stopped = new CountDownLatch(1);
        // SIGTERM and SIGINT run the shutdown hooks: close everything, then let main return.
        // The JVM would exit 143 after a SIGTERM; a clean stop exits 0, as a service manager expects.
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            daemon.close();
            stopped.countDown();
            System.err.flush();
            Runtime.getRuntime().halt(0);
        }, "junction-shutdown"));
        stopped.await();
        return 0;
    }
}
