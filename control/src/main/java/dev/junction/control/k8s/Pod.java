package dev.junction.control.k8s;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;

/** A pod as the network sees it: where it runs, its addresses, its labels and its named ports. */
public record Pod(String namespace, String name, Map<String, String> labels, String nodeName,
    List<InetAddress> ips, boolean hostNetwork, String phase, List<ContainerPort> ports)
{
    public Pod
    {
        labels = Map.copyOf(labels);
        ips = List.copyOf(ips);
        ports = List.copyOf(ports);
    }

    /** {@code namespace/name}. */
    public String key()
    {
        return namespace + "/" + name;
    }

    /** Succeeded and Failed pods hold no address any more; OVN-K drops them from address sets. */
    public boolean isCompleted()
    {
        return "Succeeded".equals(phase) || "Failed".equals(phase);
    }
}
