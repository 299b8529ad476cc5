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

    @Override
    protected String portsYaml()
    {
        podA = "jx-a-" + net.tag;
        podB = "jx-b-" + net.tag;
        for (final String[] pair : new String[][] {{podA, "jxs-a-" + net.tag, nsA}, {podB, "jxs-b-" + net.tag, nsB}})
        {
            net.must("ip", "link", "add", pair[0], "netns", pair[2], "type", "veth", "peer", "name", pair[1]);
            net.must("ip", "link", "set", pair[1], "up");
        }
        return "  - {port: 1, type: afxdp, interface: jxs-a-" + net.tag + "}\n"
            + "  - {port: 2, type: afxdp, interface: jxs-b-" + net.tag + "}\n";
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
