package dev.junction.afxdp.linux;

import com.sun.jna.Platform;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The {@code bpf(2)} commands an XDP redirect program needs, called through {@code syscall}
 * with a zeroed {@code union bpf_attr} built off-heap (the kernel rejects non-zero bytes past
 * the fields a command knows). Setup only: each call allocates its attribute block.
 *
 * <p>Every call returns a file descriptor or 0, or throws {@link NativeException} naming the
 * command; the caller owns returned descriptors and closes them with {@link LibC#close}.
 */
public final class Bpf
{
    /** {@code __NR_bpf}. */
    private static final long NR_BPF = Platform.isIntel() ? 321 : 280;
    private static final int ATTR_SIZE = 128;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    public static final int BPF_MAP_CREATE = 0;
    public static final int BPF_MAP_LOOKUP_ELEM = 1;
    public static final int BPF_MAP_UPDATE_ELEM = 2;
    public static final int BPF_MAP_DELETE_ELEM = 3;
    public static final int BPF_PROG_LOAD = 5;
    public static final int BPF_PROG_GET_FD_BY_ID = 13;
    public static final int BPF_OBJ_GET_INFO_BY_FD = 15;
    public static final int BPF_LINK_CREATE = 28;

    public static final int BPF_MAP_TYPE_XSKMAP = 17;
    public static final int BPF_PROG_TYPE_XDP = 6;
    /** {@code enum bpf_attach_type}: BPF_XDP. */
    public static final int BPF_XDP = 37;

    /** {@code link_create.flags} / netlink {@code IFLA_XDP_FLAGS}: generic XDP, run on the skb after the driver. */
    public static final int XDP_FLAGS_SKB_MODE = 1 << 1;
    /** Native XDP in the driver. */
    public static final int XDP_FLAGS_DRV_MODE = 1 << 2;
    public static final int XDP_FLAGS_UPDATE_IF_NOEXIST = 1;

    /** {@code struct bpf_prog_info}: offsets of the fields read here, and the length asked for. */
    private static final int PROG_INFO_SIZE = 80;
    private static final int PROG_INFO_ID = 4;
    private static final int PROG_INFO_NAME = 64;
    private static final int OBJ_NAME_LEN = 16;

    private Bpf()
    {
    }

    /** A map of {@code max_entries} AF_XDP sockets keyed by queue index (u32 → socket fd). */
    public static int createXskMap(final String name, final int maxEntries)
    {
        final UnsafeBuffer attr = attr();
        attr.putInt(0, BPF_MAP_TYPE_XSKMAP, ORDER);
        attr.putInt(4, 4, ORDER);
        attr.putInt(8, 4, ORDER);
        attr.putInt(12, maxEntries, ORDER);
        putName(attr, 28, name); // map_name, after map_flags, inner_map_fd, numa_node
        return (int)call(BPF_MAP_CREATE, attr, "BPF_MAP_CREATE XSKMAP " + name);
    }

    /** {@code map[key] = value} for a map of u32 keys and u32 values (an XSKMAP's value is a socket fd). */
    public static void updateU32(final int mapFd, final int key, final int value)
    {
        final UnsafeBuffer attr = attr();
        final UnsafeBuffer kv = new UnsafeBuffer(BufferUtil.allocateDirectAligned(16, 8));
        kv.putInt(0, key, ORDER);
        kv.putInt(8, value, ORDER);
        attr.putInt(0, mapFd, ORDER);
        attr.putLong(8, kv.addressOffset(), ORDER);
        attr.putLong(16, kv.addressOffset() + 8, ORDER);
        call(BPF_MAP_UPDATE_ELEM, attr, "BPF_MAP_UPDATE_ELEM [" + key + "] = " + value);
    }

    public static void deleteU32(final int mapFd, final int key)
    {
        final UnsafeBuffer attr = attr();
        final UnsafeBuffer k = new UnsafeBuffer(BufferUtil.allocateDirectAligned(8, 8));
        k.putInt(0, key, ORDER);
        attr.putInt(0, mapFd, ORDER);
        attr.putLong(8, k.addressOffset(), ORDER);
        call(BPF_MAP_DELETE_ELEM, attr, "BPF_MAP_DELETE_ELEM [" + key + "]");
    }

    /**
     * Loads an XDP program.
     *
     * @param insns the instructions, 8 bytes each, in native order
     * @return the program's fd
     * @throws NativeException with the verifier's log when it refuses the program
     */
    public static int loadXdp(final String name, final long[] insns, final String license)
    {
        final UnsafeBuffer code = new UnsafeBuffer(BufferUtil.allocateDirectAligned(insns.length * 8, 8));
        for (int i = 0; i < insns.length; i++)
        {
            code.putLong(i * 8, insns[i], ORDER);
        }
        final byte[] licenseBytes = (license + '\0').getBytes(StandardCharsets.US_ASCII);
        final UnsafeBuffer lic = new UnsafeBuffer(BufferUtil.allocateDirectAligned(licenseBytes.length, 8));
        lic.putBytes(0, licenseBytes);
        final int logSize = 64 * 1024;
        final UnsafeBuffer log = new UnsafeBuffer(BufferUtil.allocateDirectAligned(logSize, 8));
        final UnsafeBuffer attr = attr();
        attr.putInt(0, BPF_PROG_TYPE_XDP, ORDER);
        attr.putInt(4, insns.length, ORDER);
        attr.putLong(8, code.addressOffset(), ORDER);
        attr.putLong(16, lic.addressOffset(), ORDER);
        attr.putInt(24, 1, ORDER); // log_level: the log is only filled when the verifier refuses
        attr.putInt(28, logSize, ORDER);
        attr.putLong(32, log.addressOffset(), ORDER);
        putName(attr, 48, name);
        attr.putInt(68, BPF_XDP, ORDER); // expected_attach_type
        final long fd = LibC.syscall(NR_BPF, BPF_PROG_LOAD, attr.addressOffset(), ATTR_SIZE);
        if (fd < 0)
        {
            final int errno = LibC.errno();
            throw new NativeException("BPF_PROG_LOAD " + name, errno, hint(errno) + " verifier: " + cString(log, 0, logSize));
        }
        return (int)fd;
    }

    /**
     * Attaches an XDP program to an interface through a BPF link. The link lives as long as
     * its fd: closing it, or the death of the process holding it (even by SIGKILL), detaches
     * the program, so a crash cannot leave it behind.
     *
     * @param flags {@link #XDP_FLAGS_SKB_MODE} or {@link #XDP_FLAGS_DRV_MODE}
     * @return the link's fd
     */
    public static int linkXdp(final int progFd, final int ifindex, final int flags)
    {
        final UnsafeBuffer attr = attr();
        attr.putInt(0, progFd, ORDER);
        attr.putInt(4, ifindex, ORDER);
        attr.putInt(8, BPF_XDP, ORDER);
        attr.putInt(12, flags, ORDER);
        return (int)call(BPF_LINK_CREATE, attr, "BPF_LINK_CREATE XDP ifindex " + ifindex + " flags 0x" + Integer.toHexString(flags));
    }

    /** An fd for the program with this id (needs CAP_SYS_ADMIN); the caller closes it. */
    public static int progFdById(final int id)
    {
        final UnsafeBuffer attr = attr();
        attr.putInt(0, id, ORDER);
        return (int)call(BPF_PROG_GET_FD_BY_ID, attr, "BPF_PROG_GET_FD_BY_ID " + id);
    }

    /** The name a loaded program was given (at most 15 characters), from {@code BPF_OBJ_GET_INFO_BY_FD}. */
    public static String progName(final int progFd)
    {
        return cString(progInfo(progFd), PROG_INFO_NAME, OBJ_NAME_LEN);
    }

    public static int progId(final int progFd)
    {
        return progInfo(progFd).getInt(PROG_INFO_ID, ORDER);
    }

    private static UnsafeBuffer progInfo(final int progFd)
    {
        final UnsafeBuffer info = new UnsafeBuffer(BufferUtil.allocateDirectAligned(PROG_INFO_SIZE, 8));
        info.setMemory(0, PROG_INFO_SIZE, (byte)0);
        final UnsafeBuffer attr = attr();
        attr.putInt(0, progFd, ORDER);
        attr.putInt(4, PROG_INFO_SIZE, ORDER);
        attr.putLong(8, info.addressOffset(), ORDER);
        call(BPF_OBJ_GET_INFO_BY_FD, attr, "BPF_OBJ_GET_INFO_BY_FD " + progFd);
        return info;
    }

    private static long call(final int cmd, final UnsafeBuffer attr, final String what)
    {
        final long r = LibC.syscall(NR_BPF, cmd, attr.addressOffset(), ATTR_SIZE);
        if (r < 0)
        {
            final int errno = LibC.errno();
            throw new NativeException(what, errno, hint(errno));
        }
        return r;
    }

    private static String hint(final int errno)
    {
        return errno == Errno.EPERM ? "needs CAP_BPF and CAP_NET_ADMIN (run as root)"
            : errno == Errno.EBUSY ? "the interface already has an XDP program in that mode" : "";
    }

    private static UnsafeBuffer attr()
    {
        final UnsafeBuffer attr = new UnsafeBuffer(BufferUtil.allocateDirectAligned(ATTR_SIZE, 8));
        attr.setMemory(0, ATTR_SIZE, (byte)0);
        return attr;
    }

    private static void putName(final UnsafeBuffer attr, final int offset, final String name)
    {
        final byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
        if (bytes.length >= OBJ_NAME_LEN)
        {
            throw new IllegalArgumentException("BPF object names have at most 15 characters: " + name);
        }
        attr.putBytes(offset, bytes);
    }

    private static String cString(final UnsafeBuffer buffer, final int offset, final int max)
    {
        int end = offset;
        while (end < offset + max && buffer.getByte(end) != 0)
        {
            end++;
        }
        final byte[] bytes = new byte[end - offset];
        buffer.getBytes(offset, bytes);
        return new String(bytes, StandardCharsets.US_ASCII).trim();
    }
}
