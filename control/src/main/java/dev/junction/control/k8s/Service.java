package dev.junction.control.k8s;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;

/**
 * A service with what load balancing needs: its VIPs (cluster IPs, external IPs, load-balancer
 * ingress IPs), ports, ClientIP affinity and its timeout, and the traffic policies.
 */
public record Service(String namespace, String name, String type, boolean headless, List<InetAddress> clusterIps,
    List<ServicePort> ports, List<InetAddress> externalIps, List<InetAddress> loadBalancerIngress,
    String sessionAffinity, int affinityTimeoutSeconds, String internalTrafficPolicy,
    String externalTrafficPolicy, List<String> ipFamilies, Map<String, String> selector)
{
    /** The API's default {@code sessionAffinityConfig.clientIP.timeoutSeconds}: three hours. */
    public static final int DEFAULT_AFFINITY_TIMEOUT = 10800;

    public Service
    {
        clusterIps = List.copyOf(clusterIps);
        ports = List.copyOf(ports);
        externalIps = List.copyOf(externalIps);
        loadBalancerIngress = List.copyOf(loadBalancerIngress);
        ipFamilies = List.copyOf(ipFamilies);
        selector = Map.copyOf(selector);
    }

    public String key()
    {
        return namespace + "/" + name;
    }

    public boolean hasClientIpAffinity()
    {
        return "ClientIP".equals(sessionAffinity);
    }
}
