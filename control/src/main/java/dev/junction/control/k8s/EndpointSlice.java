package dev.junction.control.k8s;

import java.net.InetAddress;
import java.util.List;

/** An EndpointSlice of a service ({@code kubernetes.io/service-name}). */
public record EndpointSlice(String namespace, String name, String serviceName, String addressType,
    List<Endpoint> endpoints, List<Port> ports)
{
    public static final String SERVICE_NAME = "kubernetes.io/service-name";

    /**
     * One endpoint. Conditions follow the API's reading of unset values: ready unset is ready,
     * serving unset is the same as ready, terminating unset is false.
     */
    public record Endpoint(List<InetAddress> addresses, boolean ready, boolean serving, boolean terminating,
        String nodeName, ObjectRef targetRef)
    {
        public Endpoint
        {
            addresses = List.copyOf(addresses);
        }
    }

    /** A port of the slice; a {@code null} port number means all ports, as the API says. */
    public record Port(String name, Integer port, Protocol protocol)
    {
    }

    /** The object an endpoint stands for, usually a Pod. */
    public record ObjectRef(String kind, String namespace, String name)
    {
    }

    public EndpointSlice
    {
        endpoints = List.copyOf(endpoints);
        ports = List.copyOf(ports);
    }
}
