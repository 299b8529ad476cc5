package dev.junction.afxdp.linux;

/** errno values (Linux, asm-generic) the ports test for, and their text for error messages. */
public final class Errno
{
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EBUSY = 16;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int EEXIST = 17;
    public static final int EOPNOTSUPP = 95;
    public static final int EAFNOSUPPORT = 97;
    public static final int ENOBUFS = 105;
    public static final int ENETDOWN = 100;
    public static final int ENXIO = 6;

    private Errno()
    {
    }

    /** {@code "Operation not permitted (errno 1)"}. For error paths only: it allocates. */
    public static String describe(final int errno)
    {
        return LibC.strerror(errno) + " (errno " + errno + ")";
    }
}
