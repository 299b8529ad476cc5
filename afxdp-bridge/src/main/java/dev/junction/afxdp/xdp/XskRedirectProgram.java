package dev.junction.afxdp.xdp;

import dev.junction.afxdp.linux.Bpf;
import dev.junction.afxdp.linux.Errno;
import dev.junction.afxdp.linux.LibC;
import dev.junction.afxdp.linux.NativeException;
import dev.junction.afxdp.linux.NetlinkXdp;

/**
 * The XDP program that hands an interface's frames to AF_XDP sockets: an {@code XSKMAP} keyed
 * by RX queue index and five hand-assembled instructions,
 * {@code return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);} (a queue without a
 * socket passes its frames on to the kernel stack), loaded and attached with raw {@code bpf(2)}
 * calls: no libbpf/libxdp, no compiler, no object file.
 *
 * <p>Why not libxdp: its {@code xsk_socket__create} would load its own program and map, but
 * pins them under {@code /sys/fs/bpf} (its dispatcher needs a mounted bpffs, which this host
 * does not have) and keeps the rings in C structs; and a program attached through netlink, as
 * libxdp does, outlives a crashed process. Here the program is attached through a <b>BPF
 * link</b> ({@code BPF_LINK_CREATE}), whose lifetime is its file descriptor: {@link #close()}
 * detaches, and so does the kernel when the process dies, SIGKILL included. Nothing stale can
 * be left by a run of this class.
 *
 * <p>A stale program can still be there from elsewhere (an older build that attached through
 * netlink, or a tool): at attach time, a program attached in netlink mode whose name is
 * {@link #NAME} is ours by convention and is detached (only that exact program, through
 * {@code IFLA_XDP_EXPECTED_FD}); any other program is left alone and attaching fails with
 * EBUSY and its name.
 */
public final class XskRedirectProgram implements AutoCloseable
{
    /** The program's name as {@code ip link} and {@code bpftool prog} show it. */
    public static final String NAME = "junction_xsk";
    public static final String MAP_NAME = "junction_xsks";
    private static final int XDP_PASS = 2;
    private static final int BPF_FUNC_REDIRECT_MAP = 51;
    /** {@code struct xdp_md}: data, data_end, data_meta, ingress_ifindex, rx_queue_index. */
    private static final int XDP_MD_RX_QUEUE_INDEX = 16;
    private static final int BPF_PSEUDO_MAP_FD = 1;

    private final int ifindex;
    private final int mapFd;
    private final int progFd;
    private volatile int linkFd = -1;

    private XskRedirectProgram(final int ifindex, final int mapFd, final int progFd)
    {
        this.ifindex = ifindex;
        this.mapFd = mapFd;
        this.progFd = progFd;
    }

    /**
     * Creates the map (room for {@code queues} queues) and loads the program; not attached yet,
     * so sockets can be put in the map first.
     */
    public static XskRedirectProgram load(final int ifindex, final int queues)
    {
        final int mapFd = Bpf.createXskMap(MAP_NAME, queues);
        try
        {
            final int progFd = Bpf.loadXdp(NAME, instructions(mapFd), "Dual BSD/GPL");
            return new XskRedirectProgram(ifindex, mapFd, progFd);
        }
        catch (final RuntimeException e)
        {
            LibC.close(mapFd);
            throw e;
        }
    }

    /**
     * The program, for a map fd. Encoding of one instruction (little-endian u64): opcode in
     * byte 0, dst register in the low nibble of byte 1 and src in the high one, a 16-bit offset
     * in bytes 2-3, a 32-bit immediate in bytes 4-7.
     */
    static long[] instructions(final int mapFd)
    {
        return new long[] {
            insn(0x61, 2, 1, XDP_MD_RX_QUEUE_INDEX, 0),    // r2 = *(u32 *)(r1 + 16): ctx->rx_queue_index
            insn(0x18, 1, BPF_PSEUDO_MAP_FD, 0, mapFd),    // r1 = &xsks (ld_imm64, the loader swaps the fd for the map)
            insn(0x00, 0, 0, 0, 0),                        //      (second half of ld_imm64)
            insn(0xb7, 3, 0, 0, XDP_PASS),                 // r3 = XDP_PASS: the action when the queue has no socket
            insn(0x85, 0, 0, 0, BPF_FUNC_REDIRECT_MAP),    // r0 = bpf_redirect_map(r1, r2, r3)
            insn(0x95, 0, 0, 0, 0),                        // return r0
        };
    }

    static long insn(final int opcode, final int dst, final int src, final int offset, final int imm)
    {
        return (opcode & 0xffL)
            | ((long)((src << 4) | dst) & 0xffL) << 8
            | ((long)offset & 0xffffL) << 16
            | ((long)imm & 0xffffffffL) << 32;
    }

    /** Directs frames of RX queue {@code queue} to the socket. */
    public void putSocket(final int queue, final int socketFd)
    {
        Bpf.updateU32(mapFd, queue, socketFd);
    }

    public void removeSocket(final int queue)
    {
        Bpf.deleteU32(mapFd, queue);
    }

    /**
     * Attaches through a BPF link in the given mode, first removing a stale netlink-attached
     * program of ours.
     *
     * @param flags {@code XDP_FLAGS_SKB_MODE} or {@code XDP_FLAGS_DRV_MODE}
     * @throws NativeException EBUSY when another program is attached (its name and id in the message)
     */
    public void attach(final int flags)
    {
        removeStale(ifindex);
        try
        {
            linkFd = Bpf.linkXdp(progFd, ifindex, flags);
        }
        catch (final NativeException e)
        {
            if (e.errno() == Errno.EBUSY || e.errno() == Errno.EEXIST)
            {
                throw new NativeException("attach " + NAME + " to ifindex " + ifindex, e.errno(),
                    "already attached there: " + describe(NetlinkXdp.query(ifindex)));
            }
            throw e;
        }
    }

    /**
     * Detaches a program named {@link #NAME} attached through netlink (left by a crashed run of
     * something that attached that way). A program attached through a live BPF link belongs
     * to a running process and is not touched (the kernel refuses with EBUSY anyway).
     *
     * @return whether one was removed
     */
    public static boolean removeStale(final int ifindex)
    {
        final NetlinkXdp.Attached attached = NetlinkXdp.query(ifindex);
        if (!attached.any() || attached.progId() == 0)
        {
            return false;
        }
        final int fd;
        try
        {
            fd = Bpf.progFdById(attached.progId());
        }
        catch (final NativeException e)
        {
            if (e.errno() == Errno.ENOENT)
            {
                return false; // went away meanwhile
            }
            throw e;
        }
        try
        {
            if (!NAME.equals(Bpf.progName(fd)))
            {
                return false;
            }
            final int mode = attached.mode() == NetlinkXdp.XDP_ATTACHED_SKB ? Bpf.XDP_FLAGS_SKB_MODE
                : attached.mode() == NetlinkXdp.XDP_ATTACHED_DRV ? Bpf.XDP_FLAGS_DRV_MODE : 0;
            if (mode == 0)
            {
                return false;
            }
            try
            {
                NetlinkXdp.set(ifindex, -1, mode, fd);
                return true;
            }
            catch (final NativeException e)
            {
                if (e.errno() == Errno.EBUSY)
                {
                    return false; // held by a live BPF link: a running process owns it
                }
                throw e;
            }
        }
        finally
        {
            LibC.close(fd);
        }
    }

    private static String describe(final NetlinkXdp.Attached attached)
    {
        if (!attached.any())
        {
            return "nothing now";
        }
        String name = "?";
        try
        {
            final int fd = Bpf.progFdById(attached.progId());
            try
            {
                name = Bpf.progName(fd);
            }
            finally
            {
                LibC.close(fd);
            }
        }
        catch (final RuntimeException ignored)
        {
            // the name is only for the message
        }
        return "program " + name + " id " + attached.progId() + " (mode " + attached.mode() + ")";
    }

    public int progFd()
    {
        return progFd;
    }

    public int mapFd()
    {
        return mapFd;
    }

    public int id()
    {
        return Bpf.progId(progFd);
    }

    public boolean attached()
    {
        return linkFd >= 0;
    }

    /** Detaches the program from the interface (closes the link); the program and map stay loaded. Idempotent. */
    public synchronized void detach()
    {
        final int link = linkFd;
        if (link >= 0)
        {
            linkFd = -1;
            LibC.close(link);
        }
    }

    /** Detaches, then frees the program and the map. Idempotent. */
    @Override
    public synchronized void close()
    {
        detach();
        if (progFdClosed)
        {
            return;
        }
        progFdClosed = true;
        LibC.close(progFd);
        LibC.close(mapFd);
    }

    private boolean progFdClosed;
}
