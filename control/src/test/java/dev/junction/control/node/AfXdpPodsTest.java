package dev.junction.control.node;

/**
 * {@link DaemonPodsTest} with pods connected by veth to AF_XDP ports: each pod's veth peer stays
 * in the daemon's namespace, where the daemon binds an AF_XDP socket (native XDP on veth) to it.
 * The pods keep their default offloads; native XDP on the peer makes the kernel turn the pod's
 * TSO off (checksum offload stays on; the port completes partial checksums).
 */
class AfXdpPodsTest extends DaemonPodsTest
{
    private String podA;
    private String podB;

    /** RX and TX queues of both ends of each veth, and the AF_XDP ports' {@code queues} (1: the default, left out). */
    protected int queues()
    {
        return 1;
    }

    @Override
    protected String portsYaml()
    {
        podA = "jx-a-" + net.tag;
        podB = "jx-b-" + net.tag;
        final String n = String.valueOf(queues());
        for (final String[] pair : new String[][] {{podA, "jxs-a-" + net.tag, nsA}, {podB, "jxs-b-" + net.tag, nsB}})
        {
            net.must("ip", "link", "add", pair[0], "netns", pair[2], "numtxqueues", n, "numrxqueues", n, "type", "veth",
                "peer", "name", pair[1], "numtxqueues", n, "numrxqueues", n);
            net.must("ip", "link", "set", pair[1], "up");
        }
        final String options = queues() == 1 ? "" : ", queues: " + n;
        return "  - {port: 1, type: afxdp, interface: jxs-a-" + net.tag + options + "}\n"
            + "  - {port: 2, type: afxdp, interface: jxs-b-" + net.tag + options + "}\n";
    }

    @Override
    protected void attachPods()
    {
        address(podA, nsA, true);
        address(podB, nsB, false);
    }

    @Override
    protected String podInterfaceA()
    {
        return podA;
    }
}
