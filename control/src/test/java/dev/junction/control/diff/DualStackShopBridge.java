package dev.junction.control.diff;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.flows.LogicalPort;
import dev.junction.control.k8s.ManifestLoader;
import dev.junction.datapath.Bridge;
import dev.junction.datapath.Datapath;
import dev.junction.datapath.cache.CacheConfig;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.ofp.FlowTables;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code manifests/services-v6} (namespace shop: client-1 and web-1 on n1, web-2 on n2, dual
 * stack, both nodes with OVN-K's subnets and so a management port), optionally with a default-deny
 * ingress policy for every pod of shop, compiled into the cluster layout's datapath, the way
 * {@code junction replay --manifests} runs it: a frame sent on a port, the frames that came out
 * and where. What the management port and flooding tests share.
 */
final class DualStackShopBridge
{
    static final Path MANIFESTS = Path.of("src/test/resources/manifests/services-v6");
    private static final String DENY_ALL_INGRESS = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: deny-all-ingress, namespace: shop}
        spec: {podSelector: {}, policyTypes: [Ingress]}
        """;

    final BridgeLayout layout;
    /** Where each frame of the last send came out, and the frames, in the same order. */
    final List<Integer> outPorts = new ArrayList<>();
    final List<byte[]> out = new ArrayList<>();
    private final Datapath datapath;
    private final FlowTables tables;

    /** The manifests (and the policy when {@code denyAll}) copied into {@code dir} and compiled. */
    DualStackShopBridge(final Path dir, final boolean denyAll) throws Exception
    {
        this(dir, denyAll, null);
    }

    /**
     * As above, laid out as node {@code node}'s bridge (its tunnel port among the ports, where
     * the other node's pods are), or the whole cluster on one bridge when it is null.
     */
    DualStackShopBridge(final Path dir, final boolean denyAll, final String node) throws Exception
    {
        Files.copy(MANIFESTS.resolve("services.yaml"), dir.resolve("services.yaml"));
        if (denyAll)
        {
            Files.writeString(dir.resolve("policy.yaml"), DENY_ALL_INGRESS);
        }
        final ManifestLoader.Result r = ManifestLoader.load(dir);
        assertEquals(List.of(), r.report().problems());
        final FlowCompiler.Compiled compiled = node == null ? FlowCompiler.cluster(r.model()) : FlowCompiler.node(r.model(), node);
        layout = compiled.layout();
        tables = compiled.tables();
        final int[] ports = node == null ? layout.ofports()
            : java.util.stream.IntStream.concat(Arrays.stream(layout.ofports()), java.util.stream.IntStream.of(BridgeLayout.TUNNEL_OFPORT))
                .toArray();
        datapath = new Datapath(new Bridge(tables), ports, (port, p) ->
        {
            outPorts.add(port);
            out.add(Arrays.copyOfRange(p.buf, p.start, p.end()));
        }, Datapath.DEFAULT_MTU, 1, CacheConfig.DEFAULTS, System::nanoTime);
    }

    BridgeLayout.PodPort pod(final String name)
    {
        return layout.port("shop/" + name).orElseThrow();
    }

    BridgeLayout.ManagementPort host(final String node)
    {
        return layout.managementPorts().stream().filter(m -> m.sw().node().equals(node)).findFirst().orElseThrow();
    }

    /** {@code frame} received on {@code from}'s port; what came out replaces the last send's. */
    void send(final LogicalPort from, final byte[] frame)
    {
        out.clear();
        outPorts.clear();
        final Packet p = new Packet(frame.length + Packet.HEADROOM);
        p.wrap(frame, 0, frame.length);
        p.inPort = from.ofport();
        datapath.receive(p, null);
    }

    /** The flows, their packet counts brought up to date with what was sent. */
    List<dev.junction.flowtable.ofp.FlowRule> rules()
    {
        datapath.pushStats();
        return tables.rules();
    }

    /**
     * A neighbour solicitation for {@code target} from {@code mac} and {@code source}, to the
     * target's solicited-node group; source link-layer option {@code sll}, none when null (DAD).
     */
    static byte[] solicitation(final String mac, final InetAddress source, final InetAddress target, final String sll)
    {
        final byte[] t = target.getAddress();
        final byte[] group = PacketFactory.ip6("ff02::1:ff00:0");
        System.arraycopy(t, 13, group, 13, 3);
        final byte[] ip = new PacketFactory.Ip6().src(source.getAddress()).dst(group).hopLimit(255)
            .build(PacketFactory.PROTO_ICMPV6, PacketFactory.neighborSolicitation(t, sll == null ? null : PacketFactory.mac(sll)),
                PacketFactory.Checksum.CORRECT);
        return PacketFactory.ethernet(new byte[] {0x33, 0x33, (byte)0xff, t[13], t[14], t[15]}, PacketFactory.mac(mac), new int[0],
            PacketFactory.ETH_IPV6, ip);
    }
}
