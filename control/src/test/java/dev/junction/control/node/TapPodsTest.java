package dev.junction.control.node;

/** {@link DaemonPodsTest} with pods on TAP ports: the daemon creates the TAPs, the test moves them into the pods. */
class TapPodsTest extends DaemonPodsTest
{
    private String tapA;
    private String tapB;

    @Override
    protected String portsYaml()
    {
        tapA = "jn-a-" + net.tag;
        tapB = "jn-b-" + net.tag;
        return "  - {port: 1, type: tap, name: " + tapA + "}\n  - {port: 2, type: tap, name: " + tapB + "}\n";
    }

    @Override
    protected void attachPods()
    {
        net.must("ip", "link", "set", tapA, "netns", nsA);
        net.must("ip", "link", "set", tapB, "netns", nsB);
        address(tapA, nsA, true);
        address(tapB, nsB, false);
    }

    @Override
    protected String podInterfaceA()
    {
        return tapA;
    }
}
