package dev.junction.afxdp.linux;

/**
 * A failed setup call (open, ioctl, socket), with what was attempted and errno's text. Never
 * thrown on the packet path, where failures are counted instead.
 */
public final class NativeException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final int errno;

    public NativeException(final String what, final int errno)
    {
        this(what, errno, "");
    }

    public NativeException(final String what, final int errno, final String hint)
    {
        super(what + ": " + Errno.describe(errno) + (hint.isEmpty() ? "" : "; " + hint));
        this.errno = errno;
    }

    public int errno()
    {
        return errno;
    }
}
