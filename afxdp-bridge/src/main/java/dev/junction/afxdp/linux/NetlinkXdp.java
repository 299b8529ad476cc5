package dev.junction.afxdp.linux;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * The XDP program of an interface as rtnetlink sees it ({@code ip link}'s {@code IFLA_XDP}):
 * which program is attached in which mode, and attach/detach the old way, without a BPF link.
 *
 * <p>Programs attached through netlink stay attached after the process that attached them is
 * gone; this is how a stale program is found and removed (see
 * {@code dev.junction.afxdp.xdp.XskRedirectProgram}). Setup only; allocates; each call opens and
 * closes its own {@code NETLINK_ROUTE} socket in the calling thread's network namespace.
 */
public final class NetlinkXdp
{
    /** What {@code IFLA_XDP} reported: mode ({@code XDP_ATTACHED_*}) and program id, 0 when none. */
    public record Attached(int mode, int progId)
    {
        public boolean any()
        {
            return mode != XDP_ATTACHED_NONE;
        }
    }

    public static final int XDP_ATTACHED_NONE = 0;
    public static final int XDP_ATTACHED_DRV = 1;
    public static final int XDP_ATTACHED_SKB = 2;
    public static final int XDP_ATTACHED_HW = 3;
    public static final int XDP_ATTACHED_MULTI = 4;
    /** IFLA_XDP_FLAGS bit: only replace the program given by IFLA_XDP_EXPECTED_FD. */
    public static final int XDP_FLAGS_REPLACE = 1 << 4;

    private static final int AF_NETLINK = 16;
    private static final int NETLINK_ROUTE = 0;
    private static final int RTM_NEWLINK = 16;
    private static final int RTM_GETLINK = 18;
    private static final int RTM_SETLINK = 19;
    private static final int NLMSG_ERROR = 2;
    private static final int NLM_F_REQUEST = 1;
    private static final int NLM_F_ACK = 4;
    private static final int NLA_F_NESTED = 0x8000;
    private static final int IFLA_XDP = 43;
    private static final int IFLA_XDP_FD = 1;
    private static final int IFLA_XDP_ATTACHED = 2;
    private static final int IFLA_XDP_FLAGS = 3;
    private static final int IFLA_XDP_PROG_ID = 4;
    private static final int IFLA_XDP_EXPECTED_FD = 8;
    private static final int NLMSG_HDR = 16;
    private static final int IFINFOMSG = 16;
    private static final int BUFFER = 32 * 1024;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private NetlinkXdp()
    {
    }

    /** The XDP program attached to the interface, in any mode. */
    public static Attached query(final int ifindex)
    {
        final UnsafeBuffer msg = buffer();
        final int length = header(msg, RTM_GETLINK, NLM_F_REQUEST, ifindex);
        final UnsafeBuffer reply = exchange(msg, length, "RTM_GETLINK ifindex " + ifindex);
        final int total = reply.getInt(0, ORDER);
        int mode = XDP_ATTACHED_NONE;
        int progId = 0;
        for (int at = NLMSG_HDR + IFINFOMSG; at + 4 <= total; at += align4(reply.getShort(at, ORDER) & 0xffff))
        {
            final int len = reply.getShort(at, ORDER) & 0xffff;
            if (len < 4)
            {
                break;
            }
            if ((reply.getShort(at + 2, ORDER) & 0x3fff) == IFLA_XDP)
            {
                for (int in = at + 4; in + 4 <= at + len; in += align4(reply.getShort(in, ORDER) & 0xffff))
                {
                    final int innerLen = reply.getShort(in, ORDER) & 0xffff;
                    if (innerLen < 4)
                    {
                        break;
                    }
                    final int type = reply.getShort(in + 2, ORDER) & 0x3fff;
                    if (type == IFLA_XDP_ATTACHED)
                    {
                        mode = reply.getByte(in + 4) & 0xff;
                    }
                    else if (type == IFLA_XDP_PROG_ID)
                    {
                        progId = reply.getInt(in + 4, ORDER);
                    }
                }
            }
        }
        return new Attached(mode, progId);
    }

    /**
     * Attaches a program through netlink (it outlives this process), or detaches with
     * {@code progFd} -1. With {@code expectedFd} >= 0 the kernel acts only if that program is
     * the one attached (so we never remove a program we did not inspect).
     *
     * @param flags {@code XDP_FLAGS_SKB_MODE} or {@code XDP_FLAGS_DRV_MODE}, the mode to act on
     */
    public static void set(final int ifindex, final int progFd, final int flags, final int expectedFd)
    {
        final UnsafeBuffer msg = buffer();
        int at = header(msg, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, ifindex);
        final int nest = at;
        at += 4;
        at = attrInt(msg, at, IFLA_XDP_FD, progFd);
        at = attrInt(msg, at, IFLA_XDP_FLAGS, expectedFd >= 0 ? flags | XDP_FLAGS_REPLACE : flags);
        if (expectedFd >= 0)
        {
            at = attrInt(msg, at, IFLA_XDP_EXPECTED_FD, expectedFd);
        }
        msg.putShort(nest, (short)(at - nest), ORDER);
        msg.putShort(nest + 2, (short)(IFLA_XDP | NLA_F_NESTED), ORDER);
        msg.putInt(0, at, ORDER);
        exchange(msg, at, (progFd < 0 ? "detach XDP from" : "attach XDP to") + " ifindex " + ifindex);
    }

    private static UnsafeBuffer buffer()
    {
        final UnsafeBuffer b = new UnsafeBuffer(BufferUtil.allocateDirectAligned(BUFFER, 8));
        b.setMemory(0, BUFFER, (byte)0);
        return b;
    }

    /** nlmsghdr + ifinfomsg for one interface; returns the length so far. */
    private static int header(final UnsafeBuffer msg, final int type, final int flags, final int ifindex)
    {
        final int length = NLMSG_HDR + IFINFOMSG;
        msg.putInt(0, length, ORDER);
        msg.putShort(4, (short)type, ORDER);
        msg.putShort(6, (short)flags, ORDER);
        msg.putInt(8, 1, ORDER); // seq
        msg.putInt(NLMSG_HDR + 4, ifindex, ORDER); // ifi_index (family AF_UNSPEC)
        return length;
    }

    private static int attrInt(final UnsafeBuffer msg, final int at, final int type, final int value)
    {
        msg.putShort(at, (short)8, ORDER);
        msg.putShort(at + 2, (short)type, ORDER);
        msg.putInt(at + 4, value, ORDER);
        return at + 8;
    }

    /**
     * Sends the request and returns the reply (an RTM_NEWLINK, or the ack). rtnetlink answers
     * in the sender's context, so the reply is queued when sendto returns: receiving with
     * MSG_DONTWAIT never waits and never hangs.
     */
    private static UnsafeBuffer exchange(final UnsafeBuffer msg, final int length, final String what)
    {
        final int sock = LibC.socket(AF_NETLINK, IfXdp.SOCK_RAW | IfXdp.SOCK_CLOEXEC, NETLINK_ROUTE);
        if (sock < 0)
        {
            throw new NativeException("socket(AF_NETLINK)", LibC.errno());
        }
        try
        {
            if (LibC.sendto(sock, msg.addressOffset(), length, 0, 0, 0) < 0)
            {
                throw new NativeException(what + ": sendto", LibC.errno());
            }
            final UnsafeBuffer reply = buffer();
            final long n = LibC.recvfrom(sock, reply.addressOffset(), BUFFER, IfXdp.MSG_DONTWAIT, 0, 0);
            if (n < 0)
            {
                throw new NativeException(what + ": recvfrom", LibC.errno());
            }
            if (n < NLMSG_HDR)
            {
                throw new IllegalStateException(what + ": short netlink reply of " + n + " bytes");
            }
            final int type = reply.getShort(4, ORDER);
            if (type == NLMSG_ERROR)
            {
                final int error = reply.getInt(NLMSG_HDR, ORDER);
                if (error != 0)
                {
                    throw new NativeException(what, -error,
                        -error == Errno.EBUSY ? "attached through a BPF link another process holds" : "");
                }
            }
            else if (type != RTM_NEWLINK)
            {
                throw new IllegalStateException(what + ": unexpected netlink message type " + type);
            }
            return reply;
        }
        finally
        {
            LibC.close(sock);
        }
    }

    private static int align4(final int n)
    {
        return (n + 3) & ~3;
    }
}
