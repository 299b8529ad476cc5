package dev.junction.control.k8s;

/** One port of a service; {@code nodePort} is 0 when none was allocated. */
public record ServicePort(String name, int port, PortRef targetPort, Protocol protocol, int nodePort)
{
}
