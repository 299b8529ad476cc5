package dev.junction.control.cli;

import dev.junction.control.node.ControlServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code junction ctl REQUEST...}: talks to a running daemon through its control socket. */
@Command(name = "ctl", description = "Query or change a running daemon: dump-flows | add-flows FILE | del-flows |"
    + " dump-megaflows | ct dump [--zone N] | ct flush | stats | trace IN_PORT [FLOW] | neigh show | neigh set IP MAC |"
    + " add-port '{pod: NS/NAME, type: tap, name: N}' (or type: afxdp, interface: I), as a CNI plugs a pod | del-port NS/NAME")
final class CtlCommand implements Callable<Integer>
{
    @Option(names = "--state-dir", defaultValue = "/run/junction", description = "The daemon's state directory (default ${DEFAULT-VALUE}).")
    Path stateDir;

    @Parameters(arity = "1..*", paramLabel = "REQUEST")
    List<String> request;

    @Override
    public Integer call()
    {
        final List<String> words = new java.util.ArrayList<>(request);
        if (words.get(0).equals("add-flows") && words.size() == 2)
        {
            words.set(1, Path.of(words.get(1)).toAbsolutePath().toString()); // the daemon has its own cwd
        }
        try
        {
            final ControlServer.Reply r = ControlServer.request(stateDir, String.join(" ", words));
            (r.status() == 0 ? System.out : System.err).print(r.text());
            return r.status();
        }
        catch (final IOException ex)
        {
            System.err.println("junction ctl: no daemon answers at " + stateDir.resolve(ControlServer.SOCKET) + ": "
                + ex.getMessage());
            return 1;
        }
    }
}
