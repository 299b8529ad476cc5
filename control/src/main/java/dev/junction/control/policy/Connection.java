package dev.junction.control.policy;

import dev.junction.control.k8s.Protocol;

/** A connection attempt as policy sees it: who opens it, to whom, with which protocol and destination port. */
public record Connection(Peer source, Peer destination, Protocol protocol, int port)
{
    public Connection
    {
        if (port < 1 || port > 65535)
        {
            throw new IllegalArgumentException("port " + port + " out of range 1-65535");
        }
    }
}
