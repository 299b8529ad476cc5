package dev.junction.control.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code junction flows --manifests DIR}: the flows derived from Kubernetes manifests, in ovs-ofctl syntax. */
@Command(name = "flows", description = "Print the flows derived from Kubernetes manifests (ovs-ofctl add-flows syntax).")
final class FlowsCommand implements Callable<Integer>
{
    @Option(names = "--manifests", required = true, description = "Directory (or file) of Kubernetes manifests.")
    Path manifests;

    @Option(names = "--node", paramLabel = "NAME",
        description = "Compile this node's bridge: its pods are ports, other nodes' pods go through the Geneve port "
            + "(default: every pod of the cluster on one bridge, as probe and replay --manifests run it).")
    String node;

    @Option(names = "--groups-out", paramLabel = "FILE",
        description = "Write the load balancers' select groups here (ovs-ofctl -O OpenFlow15 add-groups syntax).")
    Path groupsOut;

    @Option(names = "--mtu", paramLabel = "BYTES", defaultValue = "1400",
        description = "With --manifests: the gateway routers' MTU (OVN-K's gateway_mtu on rtoj-GR_<node>): larger packets "
            + "they send into the cluster get ICMP fragmentation needed / packet too big by pinctrl; 0: not checked "
            + "(default ${DEFAULT-VALUE}, OVN-K's).")
    int mtu;

    @Override
    public Integer call() throws IOException
    {
        final ManifestFlows.Loaded loaded = ManifestFlows.load(manifests, node, mtu, "junction flows", System.err);
        if (loaded == null)
        {
            return JunctionCli.EXIT_BAD_INPUT;
        }
        if (groupsOut != null)
        {
            Files.writeString(groupsOut, loaded.compiled().groupsText());
        }
        else if (!loaded.compiled().groups().isEmpty())
        {
            System.err.println("junction flows: " + loaded.compiled().groups().size()
                + " groups not written (give --groups-out FILE): the flows name them");
        }
        for (final String n : loaded.compiled().notes())
        {
            System.err.println("junction flows: note: " + n);
        }
        System.out.print(loaded.compiled().flowsText());
        return 0;
    }
}
