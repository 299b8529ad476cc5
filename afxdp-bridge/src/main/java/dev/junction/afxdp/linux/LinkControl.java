package dev.junction.afxdp.linux;

/**
 * Link state and MTU of a network interface in the calling thread's network namespace, through
 * {@code SIOC[GS]IFFLAGS} / {@code SIOC[GS]IFMTU} on an {@code AF_INET} datagram socket, as
 * {@code ip link set} does without netlink. Setup only; each call opens and closes its socket.
 */
public final class LinkControl
{
    private LinkControl()
    {
    }

    public static void setUp(final String name, final boolean up)
    {
        final Ifreq ifr = new Ifreq().name(name);
        final int sock = socket();
        try
        {
            ioctl(sock, Tun.SIOCGIFFLAGS, ifr, "SIOCGIFFLAGS " + name);
            final int flags = up ? ifr.flags() | Tun.IFF_UP : ifr.flags() & ~Tun.IFF_UP;
            ifr.flags(flags);
            ioctl(sock, Tun.SIOCSIFFLAGS, ifr, "SIOCSIFFLAGS " + name + (up ? " up" : " down"));
        }
        finally
        {
            LibC.close(sock);
        }
    }

    public static boolean isUp(final String name)
    {
        final Ifreq ifr = new Ifreq().name(name);
        final int sock = socket();
        try
        {
            ioctl(sock, Tun.SIOCGIFFLAGS, ifr, "SIOCGIFFLAGS " + name);
            return (ifr.flags() & Tun.IFF_UP) != 0;
        }
        finally
        {
            LibC.close(sock);
        }
    }

    public static void setMtu(final String name, final int mtu)
    {
        final Ifreq ifr = new Ifreq().name(name).intValue(mtu);
        final int sock = socket();
        try
        {
            ioctl(sock, Tun.SIOCSIFMTU, ifr, "SIOCSIFMTU " + name + " " + mtu);
        }
        finally
        {
            LibC.close(sock);
        }
    }

    public static int mtu(final String name)
    {
        final Ifreq ifr = new Ifreq().name(name);
        final int sock = socket();
        try
        {
            ioctl(sock, Tun.SIOCGIFMTU, ifr, "SIOCGIFMTU " + name);
            return ifr.intValue();
        }
        finally
        {
            LibC.close(sock);
        }
    }

    private static int socket()
    {
        final int sock = LibC.socket(Tun.AF_INET, Tun.SOCK_DGRAM | Tun.SOCK_CLOEXEC, 0);
        if (sock < 0)
        {
            throw new NativeException("socket(AF_INET, SOCK_DGRAM)", LibC.errno());
        }
        return sock;
    }

    private static void ioctl(final int sock, final long request, final Ifreq ifr, final String what)
    {
        if (LibC.ioctl(sock, request, ifr.address()) < 0)
        {
            final int errno = LibC.errno();
            throw new NativeException(what, errno, errno == Errno.EPERM ? "needs CAP_NET_ADMIN"
                : errno == Errno.ENODEV ? "no such interface in this network namespace" : "");
        }
    }
}
