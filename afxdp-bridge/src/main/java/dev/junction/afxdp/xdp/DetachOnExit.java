package dev.junction.afxdp.xdp;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One JVM shutdown hook (normal exit, System.exit, SIGTERM, SIGINT) that detaches the XDP
 * program of every port still open, so the interfaces go back to the kernel stack before the
 * process is gone.
 *
 * <p>The hook only closes the BPF links; it does not unmap the UMEM or the rings, because a
 * port thread may still be inside {@code receive}/{@code send} while hooks run, and touching
 * unmapped memory would crash the JVM. The memory and sockets go with the process. Without
 * the hook (SIGKILL, a JVM crash) the kernel releases the links the same way when the process's
 * descriptors are closed: the hook is there for order, not for correctness.
 */
final class DetachOnExit
{
    private static final Set<XskRedirectProgram> OPEN = ConcurrentHashMap.newKeySet();

    static
    {
        final Thread hook = new Thread(DetachOnExit::detachAll, "junction-xdp-detach");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    private DetachOnExit()
    {
    }

    static void register(final XskRedirectProgram program)
    {
        OPEN.add(program);
    }

    static void unregister(final XskRedirectProgram program)
    {
        OPEN.remove(program);
    }

    private static void detachAll()
    {
        for (final XskRedirectProgram program : OPEN)
        {
            try
            {
                program.detach();
            }
            catch (final RuntimeException ignored)
            {
                // exiting: nothing more to do for this one, go on with the others
            }
        }
    }
}
