package dev.junction.afxdp.linux;

/**
 * {@code <linux/if_tun.h>} and {@code <linux/sockios.h>} numbers. The ioctl numbers are the
 * asm-generic {@code _IOW('T', n, int)} encodings, valid on x86-64 and aarch64 (not on
 * mips/powerpc/sparc, whose direction bits differ).
 */
public final class Tun
{
    public static final String CLONE_DEVICE = "/dev/net/tun";

    public static final long TUNSETIFF = 0x400454caL;
    public static final long TUNSETPERSIST = 0x400454cbL;
    public static final long TUNSETOFFLOAD = 0x400454d0L;
    public static final long TUNGETIFF = 0x800454d2L;
    public static final long TUNGETVNETHDRSZ = 0x800454d7L;
    public static final long TUNSETVNETHDRSZ = 0x400454d8L;
    public static final long TUNSETVNETLE = 0x400454dcL;

    public static final int IFF_TUN = 0x0001;
    public static final int IFF_TAP = 0x0002;
    public static final int IFF_NO_PI = 0x1000;
    public static final int IFF_VNET_HDR = 0x4000;

    /** The kernel may hand us frames whose L4 checksum is left partial (VIRTIO_NET_HDR_F_NEEDS_CSUM). */
    public static final int TUN_F_CSUM = 0x01;
    public static final int TUN_F_TSO4 = 0x02;
    public static final int TUN_F_TSO6 = 0x04;
    /** TSO of segments carrying CWR (the vnet header's gso_type then has the ECN bit). */
    public static final int TUN_F_TSO_ECN = 0x08;

    public static final long SIOCGIFFLAGS = 0x8913L;
    public static final long SIOCSIFFLAGS = 0x8914L;
    public static final long SIOCGIFMTU = 0x8921L;
    public static final long SIOCSIFMTU = 0x8922L;

    public static final int IFF_UP = 0x1;

    public static final int O_RDWR = 0x2;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;

    public static final int AF_INET = 2;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_CLOEXEC = 0x80000;

    private Tun()
    {
    }
}
