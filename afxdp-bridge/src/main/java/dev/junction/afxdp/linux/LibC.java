package dev.junction.afxdp.linux;

import com.sun.jna.Native;
import com.sun.jna.Platform;

/**
 * The few libc calls the ports need, bound with JNA direct mapping: a call with primitive
 * arguments goes straight to the native function without boxing, argument arrays or reflection,
 * so the RX/TX path allocates nothing. Pointers are passed as {@code long} addresses of off-heap
 * memory the caller owns (an Agrona {@code UnsafeBuffer} over a direct {@code ByteBuffer}).
 *
 * <p>Errors: these return -1 and leave errno, which JNA saves per thread after every call;
 * read it with {@link Native#getLastError()} on the same thread, right after the call. No
 * method here declares {@code LastErrorException}: an exception per {@code EAGAIN} would be an
 * allocation per empty poll.
 *
 * <p>{@code ioctl}, {@code open} and {@code syscall} are variadic in C. Direct mapping cannot
 * express that, so they are bound with fixed integer arguments; on the 64-bit Linux ABIs this
 * module supports (x86-64, aarch64) integer arguments are passed the same way either way.
 */
public final class LibC
{
    static
    {
        if (!Platform.isLinux() || Native.POINTER_SIZE != 8)
        {
            throw new UnsupportedOperationException(
                "afxdp-bridge needs 64-bit Linux (ioctl numbers and struct layouts are for it), not "
                + System.getProperty("os.name") + "/" + System.getProperty("os.arch"));
        }
        Native.register(LibC.class, Platform.C_LIBRARY_NAME);
    }

    private LibC()
    {
    }

    public static native int open(String path, int flags);

    public static native int close(int fd);

    public static native int getpid();

    public static native long read(int fd, long buf, long count);

    public static native long write(int fd, long buf, long count);

    /** {@code iov} is the address of {@code iovcnt} {@code struct iovec}s (base, length: 16 bytes each). */
    public static native long writev(int fd, long iov, int iovcnt);

    /** For requests whose argument is a pointer (pass its address) or a plain integer value. */
    public static native int ioctl(int fd, long request, long arg);

    public static native int socket(int domain, int type, int protocol);

    /** {@code fds} is the address of {@code nfds} {@code struct pollfd}s (fd, events, revents: 8 bytes each). */
    public static native int poll(long fds, long nfds, int timeoutMillis);

    public static native int setsockopt(int fd, int level, int optname, long optval, int optlen);

    /** {@code optlen} is the address of a {@code socklen_t} (in: room, out: length written). */
    public static native int getsockopt(int fd, int level, int optname, long optval, long optlen);

    public static native int bind(int fd, long addr, int addrlen);

    /** @return the mapping's address, or -1 ({@code MAP_FAILED}) with errno set */
    public static native long mmap(long addr, long length, int prot, int flags, int fd, long offset);

    public static native int munmap(long addr, long length);

    public static native long sendto(int fd, long buf, long len, int flags, long destAddr, int addrlen);

    /** {@code addrlen} is the address of a {@code socklen_t}, or 0 with {@code src} 0. */
    public static native long recvfrom(int fd, long buf, long len, int flags, long src, long addrlen);

    /**
     * {@code syscall(2)} with three arguments, for calls glibc has no wrapper for ({@code bpf}).
     * Variadic in C; see the class comment.
     */
    public static native long syscall(long number, long arg1, long arg2, long arg3);

    /** @return the interface's index in the calling thread's network namespace, 0 (errno set) if none */
    public static native int if_nametoindex(String name);

    public static native String strerror(int errnum);

    /** errno of this thread's last native call through JNA. */
    public static int errno()
    {
        return Native.getLastError();
    }
}
