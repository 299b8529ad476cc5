package dev.junction.control.policy;

import dev.junction.control.k8s.Pod;

import java.net.InetAddress;

/** One end of a connection: a pod (with the address it uses) or an address outside the pod network. */
public sealed interface Peer permits Peer.PodPeer, Peer.External
{
    InetAddress ip();

    /** A pod using one of its addresses; dual-stack pods connect with one family at a time. */
    record PodPeer(Pod pod, InetAddress ip) implements Peer
    {
        public PodPeer
        {
            if (!pod.ips().contains(ip))
            {
                throw new IllegalArgumentException(ip + " is not an address of pod " + pod.key());
            }
        }
    }

    /** An address that is not a pod's: a node, a host-network pod, something outside the cluster. */
    record External(InetAddress ip) implements Peer
    {
    }

    /** The pod with its first address (the primary family, as status.podIPs orders them). */
    static Peer pod(final Pod pod)
    {
        if (pod.ips().isEmpty())
        {
            throw new IllegalArgumentException("pod " + pod.key() + " has no address yet");
        }
        return new PodPeer(pod, pod.ips().get(0));
    }

    static Peer pod(final Pod pod, final InetAddress ip)
    {
        return new PodPeer(pod, ip);
    }

    static Peer external(final InetAddress ip)
    {
        return new External(ip);
    }
}
