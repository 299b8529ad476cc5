package dev.junction.control.topology;

import dev.junction.control.k8s.Cidr;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.ManifestLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LogicalTopologyTest
{
    @ParameterizedTest
    @CsvSource({
        "10.244.1.3,        0a:58:0a:f4:01:03",
        "100.64.0.2,        0a:58:64:40:00:02",
        "255.255.255.254,   0a:58:ff:ff:ff:fe",
        // IPv6: the first 4 bytes of SHA-256 over the text form (checked with sha256sum).
        "fd00:10:244:1::3,  0a:58:cb:f0:b1:d3",
        "fd00:10:244:1:0:0:0:2, 0a:58:1e:02:46:41",
        "fd98::2,           0a:58:5f:8a:48:8c",
    })
    void macFromIpAsOvnK(final String ip, final String mac)
    {
        assertEquals(mac, OvnNames.mac(Ip.parse(ip)));
    }

    @ParameterizedTest
    @CsvSource({
        "fd00:0:0:1:0:0:0:3,   fd00:0:0:1::3",      // the longest zero run
        "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",  // the first of equal runs
        "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1", // one zero group is not compressed
        "0:0:0:0:0:0:0:1,      ::1",
        "fd98:0:0:0:0:0:0:0,   fd98::",
        "FD00:0010::00AB,      fd00:10::ab",
    })
    void ipv6TextAsGoPrintsIt(final String in, final String text)
    {
        assertEquals(text, Ip.text(Ip.parse(in)));
    }

    @Test
    void namesAsOvnK()
    {
        assertEquals("ovn-worker", OvnNames.nodeSwitch("ovn-worker"));
        assertEquals("k8s-ovn-worker", OvnNames.managementPort("ovn-worker"));
        assertEquals("rtos-ovn-worker", OvnNames.routerToSwitchPort("ovn-worker"));
        assertEquals("stor-ovn-worker", OvnNames.switchToRouterPort("ovn-worker"));
        assertEquals("GR_ovn-worker", OvnNames.gatewayRouter("ovn-worker"));
        assertEquals("rtoj-GR_ovn-worker", OvnNames.gatewayRouterJoinPort("ovn-worker"));
        assertEquals("kube-system_coredns-5d78c9869d-8xk2p", OvnNames.podPort("kube-system", "coredns-5d78c9869d-8xk2p"));
        assertEquals(Ip.parse("10.244.1.1"), OvnNames.gatewayIp(Cidr.parse("10.244.1.0/24")));
        assertEquals(Ip.parse("10.244.1.2"), OvnNames.managementIp(Cidr.parse("10.244.1.0/24")));
        assertEquals(Ip.parse("fd00:10:244:1::2"), OvnNames.managementIp(Cidr.parse("fd00:10:244:1::/64")));
    }

    @Test
    void exampleClusterNode()
    {
        final Path repo = repo();
        final ManifestLoader.Result r = ManifestLoader.load(repo.resolve("examples/cluster"));
        final LogicalTopology t = LogicalTopology.forNode(r.model(), "ovn-worker");
        assertEquals("ovn-worker", t.nodeSwitch());
        assertEquals(List.of(Cidr.parse("10.244.1.0/24")), t.subnets());
        assertEquals("k8s-ovn-worker", t.managementPort());
        assertEquals(List.of(Ip.parse("10.244.1.2")), t.managementIps());
        assertEquals("0a:58:0a:f4:01:02", t.managementMac());
        assertEquals("rtos-ovn-worker", t.routerPort());
        assertEquals(List.of(Ip.parse("10.244.1.1")), t.gatewayIps());
        assertEquals("0a:58:0a:f4:01:01", t.routerPortMac());
        assertEquals("ovn_cluster_router", t.clusterRouter());
        assertEquals("join", t.joinSwitch());
        assertEquals(List.of(Cidr.parse("100.64.0.0/16")), t.joinSubnets());
        assertEquals("GR_ovn-worker", t.gatewayRouter());
        assertEquals("100.64.0.2/16", t.gatewayRouterJoinAddresses().get(0).addressText());
        assertEquals("0a:58:64:40:00:02", t.gatewayRouterJoinMac());
        assertEquals(List.of(
            new LogicalTopology.PodPort("web_client-1", "web", "client-1", "0a:58:0a:f4:01:03", List.of(Ip.parse("10.244.1.3"))),
            new LogicalTopology.PodPort("db_server-1", "db", "server-1", "0a:58:0a:f4:01:04", List.of(Ip.parse("10.244.1.4")))),
            t.pods());
        assertEquals(Ip.parse("100.64.0.3"), LogicalTopology.forNode(r.model(), "ovn-worker2").gatewayRouterJoinIp());
    }

    @TempDir
    Path dir;

    @Test
    void dualStackAndIpv6OnlyNodes() throws IOException
    {
        Files.writeString(dir.resolve("m.yaml"), """
            apiVersion: v1
            kind: Node
            metadata:
              name: ds
              annotations:
                k8s.ovn.org/node-subnets: '{"default":["10.244.1.0/24","fd00:10:244:1::/64"]}'
            ---
            apiVersion: v1
            kind: Node
            metadata:
              name: a-v6
              annotations:
                k8s.ovn.org/node-subnets: '{"default":"fd00:10:244:2::/64"}'
                k8s.ovn.org/node-gateway-router-lrp-ifaddrs: '{"default":{"ipv6":"fd98::2/64"}}'
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: p, namespace: ns}
            spec: {nodeName: ds}
            status: {podIPs: [{ip: 10.244.1.3}, {ip: "fd00:10:244:1::3"}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: host, namespace: ns}
            spec: {nodeName: ds, hostNetwork: true}
            status: {podIPs: [{ip: 172.18.0.2}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: q, namespace: ns}
            spec: {nodeName: a-v6}
            status: {podIPs: [{ip: "fd00:10:244:2::3"}]}
            """);
        final ManifestLoader.Result r = ManifestLoader.load(dir);
        assertEquals(List.of(), r.report().problems());

        final LogicalTopology ds = LogicalTopology.forNode(r.model(), "ds");
        assertEquals(List.of(Ip.parse("10.244.1.2"), Ip.parse("fd00:10:244:1::2")), ds.managementIps());
        assertEquals(List.of(Ip.parse("10.244.1.1"), Ip.parse("fd00:10:244:1::1")), ds.gatewayIps());
        assertEquals(List.of(Cidr.parse("100.64.0.0/16"), Cidr.parse("fd98::/64")), ds.joinSubnets());
        // No lrp-ifaddr annotation: nodes by name, a-v6 then ds, take .2, .3, ...
        assertEquals(List.of("100.64.0.3/16", "fd98::3/64"), ds.gatewayRouterJoinAddresses().stream().map(Cidr::addressText).toList());
        assertEquals(1, ds.pods().size(), "the host-network pod has no logical port");
        assertEquals("0a:58:0a:f4:01:03", ds.pods().get(0).mac(), "dual stack: the MAC of the first (IPv4) address");

        final LogicalTopology v6 = LogicalTopology.forNode(r.model(), "a-v6");
        assertEquals("0a:58:50:21:4e:05", v6.managementMac(), "sha256(\"fd00:10:244:2::2\")");
        assertEquals(List.of(Ip.parse("fd00:10:244:2::2")), v6.managementIps());
        assertEquals(List.of("fd98::2/64"), v6.gatewayRouterJoinAddresses().stream().map(Cidr::addressText).toList());
        assertEquals("0a:58:5f:8a:48:8c", v6.gatewayRouterJoinMac());
        assertEquals("0a:58:49:a1:93:cb", v6.pods().get(0).mac(), "sha256(\"fd00:10:244:2::3\")");
    }

    @Test
    void aNodeWithoutSubnetsHasNoTopology() throws IOException
    {
        Files.writeString(dir.resolve("m.yaml"), "apiVersion: v1\nkind: Node\nmetadata: {name: new}\n");
        final ManifestLoader.Result r = ManifestLoader.load(dir);
        assertThrows(IllegalArgumentException.class, () -> LogicalTopology.forNode(r.model(), "new"));
        assertThrows(IllegalArgumentException.class, () -> LogicalTopology.forNode(r.model(), "absent"));
    }

    static Path repo()
    {
        Path p = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(p.resolve("examples/cluster")))
        {
            p = p.getParent();
        }
        return p;
    }
}
