package dev.junction.control.node;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad node configurations are refused before anything is created, with the reason named. */
class NodeConfigTest
{
    @TempDir
    Path dir;

    private static final String GOOD_TUNNELS = "tunnels: {underlay: {port: 9, mac: \"aa:55:aa:55:00:01\", ip: 192.168.7.1/24},"
        + " tunnels: [{port: 10, type: geneve, remote_ip: 192.168.7.2, key: flow}]}\n";

    private NodeConfig load(final String yaml) throws Exception
    {
        Files.writeString(dir.resolve("flows.txt"), "actions=drop\n");
        Files.writeString(dir.resolve("node.yaml"), yaml);
        return NodeConfig.load(dir.resolve("node.yaml"));
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> badConfigs()
    {
        return java.util.stream.Stream.of(
            org.junit.jupiter.params.provider.Arguments.of("flows: flows.txt\nports: [{port: 1, type: tap, name: a}]", "state_dir is required"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nports: [{port: 1, type: tap, name: a}]", "flows (or control) is required"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{pod: ns/a, type: tap, name: a}]", "needs control"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\ncontrol: {node: n1, manifests: flows.txt}\nports: [{pod: ns/a, type: tap, name: a}]", "is not a directory"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\ncontrol: {manifests: .}\nports: [{pod: ns/a, type: tap, name: a}]", "node is required"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\ncontrol: {node: n1, manifests: ., kubeconfig: in-cluster}\nports: [{pod: ns/a, type: tap, name: a}]", "one of them"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\ncontrol: {node: n1, manifests: ., colour: red}\nports: [{pod: ns/a, type: tap, name: a}]", "unknown key colour"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\ncontrol: {node: n1, manifests: .}\nflows: flows.txt\nports: [{pod: ns/a, type: tap, name: a}]", "not both"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\ncontrol: {node: n1, manifests: .}\nports: [{port: 5, type: tap, name: a}]", "belong to the layout"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\ncontrol: {node: n1, manifests: .}\nports: [{pod: ns/a, port: 1, type: tap, name: a}]", "leave port out"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\ncontrol: {node: n1, manifests: .}\nports: [{pod: ns/a, type: tap, name: a}, {pod: ns/a, type: tap, name: b}]", "two ports"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\ncontrol: {node: n1, manifests: .}\nports: [{pod: a, type: tap, name: a}]", "NAMESPACE/NAME"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\ncontrol: {node: n1, manifests: .}\nports: [{pod: ns/a, type: pcap, in: x.pcap, name: a}]", "takes in and out, not name"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{management: true, type: tap, name: mp}]", "needs control"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\ncontrol: {node: n1, manifests: .}\nports: [{management: true, port: 7, type: tap, name: mp}]", "leave port and pod out"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\ncontrol: {node: n1, manifests: .}\nports: [{management: true, type: tap, name: mp}, {management: true, type: tap, name: mp2}]", "a node has one"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\ncontrol: {node: n1, manifests: .}\nports: [{management: yes please, type: tap, name: mp}]", "management takes true"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\ncontrol: {node: n1, manifests: .}\nports: [{port: 24576, type: tap, name: mp}]", "say management: true"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\ncontrol: {node: n1, manifests: ., mtu: 67}\nports: [{pod: ns/a, type: tap, name: a}]", "gateway MTU must be 0 (no check) or 68 to 65535"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 9, type: tap, name: u}]\ntunnels: {underlay: {port: 9, mac: \"aa:55:aa:55:00:01\", ip: 1.2.3.4/24, mtu: 20}}", "underlay MTU must be 68 to 65535"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: nope.txt\nports: [{port: 1, type: tap, name: a}]", "not a readable file"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: []", "non-empty list"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: tap, name: a}, {port: 1, type: tap, name: b}]", "used twice"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: tap, name: a}, {port: 2, type: tap, name: a}]", "interface a used twice"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: dpdk, name: a}]", "type dpdk is not supported"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: tap, name: averyveryverylongname}]", "1 to 15 characters"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: tap, name: a, mtu: 9000}]", "mtu must be"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 0, type: tap, name: a}]", "1 to 65279"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: tap, name: a, colour: red}]", "unknown key colour"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nworkers: 0\nports: [{port: 1, type: tap, name: a}]", "workers must be"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nbogus: 1\nports: [{port: 1, type: tap, name: a}]", "unknown key bogus"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: tap, name: a}]\n" + GOOD_TUNNELS,
                "underlay port 9 is not one of the ports"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 9, type: tap, name: u}, {port: 10, type: tap, name: a}]\n"
                + GOOD_TUNNELS, "tunnel port 10 clashes"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 9, type: tap, name: u}]\ntunnels: {underlay: {port: 9, mac: x, ip: 1.2.3.4/24}}", "underlay.mac"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 9, type: tap, name: u}]\ntunnels: {underlay: {port: 9, mac: \"aa:55:aa:55:00:01\", ip: 1.2.3.4/24}, tunnels: [{port: 10, type: gre, remote_ip: 1.2.3.5}]}", "type must be geneve or vxlan"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 9, type: tap, name: u}]\ntunnels: {underlay: {port: 9, mac: \"aa:55:aa:55:00:01\", ip: 1.2.3.4/24}, tunnels: [{port: 10, type: geneve, remote_ip: example.com}]}", "not an IPv4 or IPv6 address"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nwait: spin\nports: [{port: 1, type: tap, name: a}]", "wait must be"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nconntrack_checkpoint_ms: 5\nports: [{port: 1, type: tap, name: a}]", "conntrack_checkpoint_ms must be 0 (off) or 10 to 3600000"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nconntrack_checkpoint_disk_mb: 0\nports: [{port: 1, type: tap, name: a}]", "conntrack_checkpoint_disk_mb must be 1 to 1048576"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nconntrack_checkpoint_ms: often\nports: [{port: 1, type: tap, name: a}]", "conntrack_checkpoint_ms: often is not a number"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nupcall_limit: -1\nports: [{port: 1, type: tap, name: a}]", "upcall_limit must be"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nupcall_limit: lots\nports: [{port: 1, type: tap, name: a}]", "upcall_limit: lots is not a number"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nacl_log_rate: 0\nports: [{port: 1, type: tap, name: a}]", "acl_log_rate must be"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: pcap}]", "needs in, out or both"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: pcap, in: none.pcap}]", "not a readable file"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: pcap, out: o.pcap, name: x}]", "takes in and out"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: tap, name: a, in: x.pcap}]", "pcap port options"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: afxdp, name: a}]", "interface must be"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: afxdp, interface: a, mode: turbo}]", "mode must be native or generic"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: tap, name: a, queue: 1}]", "afxdp options"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: tap, name: a, queues: 2}]", "afxdp options"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: afxdp, interface: a, queues: 0}]", "queues must be 1 to 32"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: afxdp, interface: a, queues: -2}]", "queues must be 1 to 32"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: afxdp, interface: a, queues: 33}]", "queues must be 1 to 32"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: afxdp, interface: a, queues: two}]", "queues: two is not a number"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: afxdp, interface: a, queue: 1, queues: 2}]", "exclude each other"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: afxdp, interface: a, queue: -1}]", "queue must be 0 to 1023"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: afxdp, interface: a, queue: 5000}]", "queue must be 0 to 1023"),
            org.junit.jupiter.params.provider.Arguments.of("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: tap, name: a}\n", "not valid YAML"));
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("badConfigs")
    void refused(final String yaml, final String reason)
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> load(yaml));
        assertTrue(ex.getMessage().contains(reason), () -> "expected '" + reason + "' in: " + ex.getMessage());
    }

    @org.junit.jupiter.api.Test
    void aGoodConfigResolvesPathsAgainstItsDirectory() throws Exception
    {
        final NodeConfig c = load("state_dir: state\nworkers: 2\nflows: flows.txt\nports: [{port: 9, type: tap, name: u},"
            + " {port: 1, type: tap, name: pod, mtu: 1400}]\n" + GOOD_TUNNELS);
        assertEquals(dir.resolve("state"), c.stateDir);
        assertEquals(2, c.workers);
        assertEquals(NodeConfig.DEFAULT_UPCALL_LIMIT, c.upcallLimit);
        assertEquals(2, c.ports.size());
        assertEquals(1400, c.ports.get(1).mtu());
        assertEquals(10, c.tunnels.ports().get(0).port);
    }

    @org.junit.jupiter.api.Test
    void gatewayMtuIsOvnKubernetesDefaultUnlessGiven() throws Exception
    {
        final String ports = "\nports: [{pod: ns/a, type: tap, name: a}]\n";
        assertEquals(1400, load("state_dir: s\ncontrol: {node: n1, manifests: .}" + ports).control.gatewayMtu());
        assertEquals(9000, load("state_dir: s\ncontrol: {node: n1, manifests: ., mtu: 9000}" + ports).control.gatewayMtu());
        assertEquals(0, load("state_dir: s\ncontrol: {node: n1, manifests: ., mtu: 0}" + ports).control.gatewayMtu(), "0: no check");
    }

    @org.junit.jupiter.api.Test
    void theUnderlayMtuIsItsPortsUnlessTheTunnelsSayOtherwise() throws Exception
    {
        final String tunnels = "tunnels: {underlay: {port: 9, mac: \"aa:55:aa:55:00:01\", ip: 192.168.7.1/24%s},"
            + " tunnels: [{port: 10, type: geneve, remote_ip: 192.168.7.2, key: flow}]}\n";
        final String ports = "state_dir: s\nflows: flows.txt\nports: [{port: 9, type: tap, name: u, mtu: 1400}, {port: 1, type: tap, name: p}]\n";
        assertEquals(1400, load(ports + String.format(tunnels, "")).tunnels.underlay().mtu(), "the underlay device port's");
        assertEquals(1300, load(ports + String.format(tunnels, ", mtu: 1300")).tunnels.underlay().mtu(), "the tunnels' own");
    }

    @org.junit.jupiter.api.Test
    void theManagementPortIsNumberedByTheNodeLayout() throws Exception
    {
        final NodeConfig c = load("state_dir: s\ncontrol: {node: n1, manifests: .}\nports: [{management: true, type: tap, name: ovn-k8s-mp0},"
            + " {pod: ns/a, type: tap, name: a}]\n");
        assertEquals(dev.junction.control.flows.BridgeLayout.MANAGEMENT_OFPORT, c.ports.get(0).number());
        assertEquals("ovn-k8s-mp0", c.ports.get(0).name());
        assertEquals(null, c.ports.get(0).pod());
        assertEquals(NodeConfig.LAYOUT_NUMBERED, c.ports.get(1).number(), "pods still wait for the layout");
    }

    @org.junit.jupiter.api.Test
    void conntrackCheckpointsAreOnUnlessTurnedOff() throws Exception
    {
        final NodeConfig defaults = load("state_dir: s\nflows: flows.txt\nports: [{port: 1, type: tap, name: a}]\n");
        assertEquals(1000, defaults.conntrackCheckpointMs);
        assertEquals(128, defaults.conntrackCheckpointDiskMb);
        assertEquals(0, load("state_dir: s\nflows: flows.txt\nconntrack_checkpoint_ms: 0\nports: [{port: 1, type: tap, name: a}]\n")
            .conntrackCheckpointMs);
        final NodeConfig asked = load("state_dir: s\nflows: flows.txt\nconntrack_checkpoint_ms: 200\nconntrack_checkpoint_disk_mb: 16\n"
            + "ports: [{port: 1, type: tap, name: a}]\n");
        assertEquals(200, asked.conntrackCheckpointMs);
        assertEquals(16, asked.conntrackCheckpointDiskMb);
    }

    @org.junit.jupiter.api.Test
    void aPodsPortMayBeATrace() throws Exception
    {
        Files.createDirectories(dir.resolve("m"));
        final NodeConfig c = load("state_dir: s\ncontrol: {node: n1, manifests: m}\nports: [{pod: ns/a, type: pcap, out: a.pcap}]\n");
        assertEquals("ns/a", c.ports.get(0).pod());
        assertEquals(dir.resolve("a.pcap"), c.ports.get(0).out());
        assertEquals(NodeConfig.LAYOUT_NUMBERED, c.ports.get(0).number(), "numbered by the layout, as other pod ports");
    }

    @org.junit.jupiter.api.Test
    void afxdpQueues() throws Exception
    {
        final NodeConfig c = load("state_dir: state\nflows: flows.txt\nports: [{port: 1, type: afxdp, interface: a, queues: 4},"
            + " {port: 2, type: afxdp, interface: b, queue: 3}, {port: 3, type: afxdp, interface: c}]\n");
        assertEquals(0, c.ports.get(0).queue(), "queues: N means queues 0 to N-1");
        assertEquals(4, c.ports.get(0).queues());
        assertEquals(3, c.ports.get(1).queue(), "queue: K is the one queue K");
        assertEquals(1, c.ports.get(1).queues());
        assertEquals(0, c.ports.get(2).queue());
        assertEquals(1, c.ports.get(2).queues());
    }

    @org.junit.jupiter.api.Test
    void anUnknownInterfaceRefusesTheStartAndLeavesNothingBehind() throws Exception
    {
        final NodeConfig c = load("state_dir: state\nflows: flows.txt\nports: [{port: 1, type: tap, name: jcfg-tap0},"
            + " {port: 2, type: afxdp, interface: jcfg-nope0}]\n");
        final RuntimeException ex = assertThrows(RuntimeException.class, () -> NodeDaemon.start(c, new JsonLog(System.err)));
        assertTrue(ex.getMessage().contains("jcfg-nope0") && ex.getMessage().contains("no such interface")
            || ex.getMessage().contains("CAP_NET_ADMIN"), ex.getMessage());
        assertTrue(!Files.exists(dir.resolve("state/junction.sock")), "no socket left");
        assertTrue(!Files.exists(Path.of("/sys/class/net/jcfg-tap0")), "the TAP opened first was closed again");
    }

    @org.junit.jupiter.api.Test
    void badFlowsRefuseTheStartAndLeaveNothingBehind() throws Exception
    {
        final NodeConfig c = load("state_dir: state\nflows: flows.txt\nports: [{port: 1, type: tap, name: jcfg-never}]\n");
        Files.writeString(dir.resolve("flows.txt"), "in_port=1,actions=frobnicate\n");
        assertThrows(dev.junction.flowtable.ofp.FlowParseException.class, () -> NodeDaemon.start(c, new JsonLog(System.err)));
        assertTrue(!Files.exists(dir.resolve("state/junction.sock")), "no socket left");
        assertTrue(!Files.exists(Path.of("/sys/class/net/jcfg-never")), "no device created");
    }

    @org.junit.jupiter.api.Test
    void aPodOnAnotherNodeRefusesTheStartAndLeavesNothingBehind() throws Exception
    {
        Files.createDirectories(dir.resolve("m"));
        Files.writeString(dir.resolve("m/cluster.yaml"), "apiVersion: v1\nkind: Node\nmetadata: {name: n1, annotations:"
            + " {k8s.ovn.org/node-subnets: '{\"default\":\"10.244.1.0/24\"}'}}\n---\n"
            + "apiVersion: v1\nkind: Node\nmetadata: {name: n2, annotations:"
            + " {k8s.ovn.org/node-subnets: '{\"default\":\"10.244.2.0/24\"}'}}\n---\n"
            + "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n"
            + "apiVersion: v1\nkind: Pod\nmetadata: {name: elsewhere, namespace: shop}\nspec: {nodeName: n2, containers: [{name: c}]}\n"
            + "status: {phase: Running, podIP: 10.244.2.10, podIPs: [{ip: 10.244.2.10}]}\n");
        final NodeConfig c = load("state_dir: state\ncontrol: {node: n1, manifests: m}\n"
            + "ports: [{pod: shop/elsewhere, type: tap, name: jcfg-ghost}]\n");
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> NodeDaemon.start(c, new JsonLog(System.err)));
        assertTrue(ex.getMessage().contains("pod shop/elsewhere has no logical port on node n1 (it is on another node)"),
            ex.getMessage());
        assertTrue(!Files.exists(dir.resolve("state/junction.sock")), "no socket left");
        assertTrue(!Files.exists(Path.of("/sys/class/net/jcfg-ghost")), "no device created");
        Thread.sleep(100);
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals("junction-manifests")),
            "the directory watcher was stopped");
    }

    /** As a CNI: a declared pod not in the source yet gets its device when it appears (DaemonPodChurnTest), none before. */
    @org.junit.jupiter.api.Test
    void aPodNotInTheSourceYetWaitsWithoutADevice() throws Exception
    {
        Files.createDirectories(dir.resolve("m"));
        Files.writeString(dir.resolve("m/cluster.yaml"), "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n---\n"
            + "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n");
        final NodeConfig c = load("state_dir: state\ncontrol: {node: n1, manifests: m}\nports: [{pod: shop/ghost, type: tap, name: jcfg-ghost}]\n");
        try (NodeDaemon d = NodeDaemon.start(c, new JsonLog(System.err)))
        {
            assertTrue(!Files.exists(Path.of("/sys/class/net/jcfg-ghost")), "no device before the pod");
            final String stats = d.stats();
            assertTrue(!stats.contains("jcfg-ghost") && stats.contains("control (node n1): version 1"), stats);
        }
    }

    @org.junit.jupiter.api.Test
    void aMissingManifestsDirectoryRefusesAFirstStartAndLeavesNothingBehind() throws Exception
    {
        final NodeConfig c = load("state_dir: state\ncontrol: {node: n1, manifests: not-yet}\nports: [{pod: shop/a, type: tap, name: jcfg-a}]\n");
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> NodeDaemon.start(c, new JsonLog(System.err)));
        assertTrue(ex.getMessage().contains("not-yet is not a directory"), ex.getMessage());
        assertTrue(!Files.exists(dir.resolve("state/junction.sock")), "no socket left");
        assertTrue(!Files.exists(Path.of("/sys/class/net/jcfg-a")), "no device created");
    }
}
