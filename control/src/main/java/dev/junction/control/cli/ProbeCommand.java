package dev.junction.control.cli;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.k8s.Protocol;
import dev.junction.control.probe.Prober;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code junction probe --manifests DIR --port P --protocol TCP|UDP --json}: for every ordered
 * pair of pods, allowed or denied, decided by real packets through the datapath (DESIGN.md).
 */
@Command(name = "probe", description = "Probe pod-to-pod reachability with real packets through the derived flows.")
final class ProbeCommand implements Callable<Integer>
{
    @Option(names = "--manifests", required = true, description = "Directory (or file) of Kubernetes manifests.")
    Path manifests;

    @Option(names = "--port", required = true, description = "Destination port.")
    int port;

    @Option(names = "--protocol", defaultValue = "TCP", description = "TCP or UDP (default ${DEFAULT-VALUE}).")
    String protocol;

    @Option(names = "--from", paramLabel = "NS/POD", description = "Only connections from this pod.")
    String from;

    @Option(names = "--to", paramLabel = "NS/POD", description = "Only connections to this pod.")
    String to;

    @Option(names = "--ipv6", description = "Connect to the pods' IPv6 addresses (default: IPv4).")
    boolean ipv6;

    @Option(names = "--json", description = "Print {\"ns/pod\": {\"ns/pod\": \"allowed\"|\"denied\"}} (the default output).")
    boolean json;

    @Option(names = "--explain", description = "With each denied cell, say which packet did not arrive (text output).")
    boolean explain;

    @Option(names = "--acl-log", paramLabel = "FILE", description = "ACL log lines of namespaces with "
        + "k8s.ovn.org/acl-logging to FILE (20 a second of the probe's virtual time; default: not written).")
    Path aclLog;

    @Override
    public Integer call()
    {
        final Protocol proto;
        try
        {
            proto = Protocol.valueOf(protocol.toUpperCase(Locale.ROOT));
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("junction probe: --protocol must be TCP or UDP, not " + protocol);
            return JunctionCli.EXIT_BAD_INPUT;
        }
        if (proto == Protocol.SCTP || port < 1 || port > 65535)
        {
            System.err.println("junction probe: " + (proto == Protocol.SCTP ? "SCTP is not supported; TCP or UDP"
                : "--port must be 1-65535"));
            return JunctionCli.EXIT_BAD_INPUT;
        }
        final ManifestFlows.Loaded loaded = ManifestFlows.load(manifests, "junction probe", System.err);
        if (loaded == null)
        {
            return JunctionCli.EXIT_BAD_INPUT;
        }
        final BridgeLayout layout = loaded.compiled().layout();
        final List<BridgeLayout.PodPort> sources = select(layout, from, "--from");
        final List<BridgeLayout.PodPort> targets = select(layout, to, "--to");
        if (sources == null || targets == null)
        {
            return JunctionCli.EXIT_BAD_INPUT;
        }
        // Packet-ins answered as ovn-controller's pinctrl would (rejects; ACL log lines to --acl-log).
        try (PinctrlOutput pinctrl = aclLog == null ? null : PinctrlOutput.open(aclLog, 20))
        {
            return probe(sources, targets, proto, pinctrl == null
                ? new Prober(layout, loaded.tables()) : new Prober(layout, loaded.tables(), pinctrl.pinctrl()));
        }
        catch (final java.io.IOException ex)
        {
            System.err.println("junction probe: " + ex.getMessage());
            return JunctionCli.EXIT_BAD_INPUT;
        }
    }

    private int probe(final List<BridgeLayout.PodPort> sources, final List<BridgeLayout.PodPort> targets,
        final Protocol proto, final Prober prober)
    {
        final StringBuilder sb = new StringBuilder("{");
        String rowSep = "";
        for (final BridgeLayout.PodPort f : sources)
        {
            sb.append(rowSep).append("\n  \"").append(f.name()).append("\": {");
            String sep = "";
            for (final BridgeLayout.PodPort t : targets)
            {
                final Prober.Result r = prober.probe(f, t, proto, port, ipv6);
                sb.append(sep).append('"').append(t.name()).append("\": \"").append(r.allowed() ? "allowed" : "denied").append('"');
                if (explain && !r.allowed())
                {
                    System.err.println("junction probe: " + f.name() + " -> " + t.name() + ": " + r.detail());
                }
                sep = ", ";
            }
            sb.append('}');
            rowSep = ",";
        }
        System.out.println(sb.append("\n}"));
        return 0;
    }

    private static List<BridgeLayout.PodPort> select(final BridgeLayout layout, final String pod, final String option)
    {
        if (pod == null)
        {
            return layout.ports();
        }
        final List<BridgeLayout.PodPort> one = new ArrayList<>();
        layout.port(pod).ifPresent(one::add);
        if (one.isEmpty())
        {
            System.err.println("junction probe: " + option + " " + pod + ": no such pod with a port (ns/name)");
            return null;
        }
        return one;
    }
}
