package dev.junction.afxdp.xdp;

/**
 * A process that opens an AF_XDP port on the interface named by its argument (on as many
 * queues as the optional second argument says, default 1), says
 * {@code READY <program id>} and waits to be killed: the namespace test kills it with SIGTERM
 * and SIGKILL and then looks for leftovers on the interface.
 */
public final class HoldPortMain
{
    private HoldPortMain()
    {
    }

    public static void main(final String[] args) throws InterruptedException
    {
        final int queues = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        final AfXdpPort port = AfXdpPort.open(new XdpConfig(args[0]).ringSize(256).frameCount(512).queueCount(queues));
        System.out.println("READY " + port.programId());
        System.out.flush();
        Thread.sleep(60_000);
        port.close();
    }
}
