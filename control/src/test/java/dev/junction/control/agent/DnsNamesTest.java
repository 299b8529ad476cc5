package dev.junction.control.agent;

import dev.junction.control.ShopCluster;
import dev.junction.control.flows.DnsResolver;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.ManifestLoader;
import dev.junction.flowtable.ofp.FlowTables;
import dev.junction.flowtable.ofp.FlowPrinter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * EgressFirewall {@code dnsName} rules in the running control loop: the name is looked up off the
 * compile path, its addresses become the rule's flows as a new version, a changed record replaces
 * them, a failed lookup keeps them, and the result is always what a full compile with the same
 * addresses gives.
 */
class DnsNamesTest
{
    private static final String FIREWALL = """
        apiVersion: k8s.ovn.org/v1
        kind: EgressFirewall
        metadata: {name: default, namespace: shop}
        spec:
          egress:
          - type: Deny
            to: {dnsName: DB.example.com.}
          - type: Allow
            to: {cidrSelector: 0.0.0.0/0}
        """;

    @TempDir
    Path dir;

    private final Map<String, InetAddress[]> records = new HashMap<>();
    private final DnsNames names = new DnsNames(name ->
    {
        final InetAddress[] a = records.get(name);
        if (a == null)
        {
            throw new UnknownHostException(name);
        }
        return a;
    });
    private final AtomicReference<FlowTables> published = new AtomicReference<>();

    private static InetAddress[] ips(final String... ips)
    {
        return java.util.Arrays.stream(ips).map(Ip::parse).toArray(InetAddress[]::new);
    }

    private List<String> lines()
    {
        return published.get().rules().stream().map(FlowPrinter::flowLine).toList();
    }

    /** The firewall's rule for {@code ip}: a drop in the EgressFirewall stage (table 32). */
    private boolean denies(final String ip)
    {
        return lines().stream().anyMatch(l -> l.contains("table=32") && l.contains("nw_dst=" + ip) && l.contains("drop"));
    }

    /** What a full compile of the same state with the resolver's present addresses publishes. */
    private void assertSameAsAFullCompile(final ManifestLoader.Result snapshot) throws Exception
    {
        final Map<String, List<InetAddress>> table = new HashMap<>();
        records.forEach((k, v) -> table.put(k, names.resolve(k)));
        final List<String> full = FlowCompiler.tables(FlowCompiler.node(snapshot.model(), "n1", DnsResolver.of(table)).flows().lines(),
            List.of()).rules().stream().map(FlowPrinter::flowLine).sorted().toList();
        assertEquals(full, lines().stream().sorted().toList());
    }

    @Test
    void aNameIsResolvedOffTheCompilePathAndFollowedWhenItsRecordChanges() throws Exception
    {
        Files.writeString(dir.resolve("cluster.yaml"), String.join(ShopCluster.NEXT, ShopCluster.nodeAndNamespace(),
            ShopCluster.pod("a", "10.244.1.10", "web"), FIREWALL));
        final ManifestLoader.Result snapshot = ManifestLoader.load(dir);
        records.put("db.example.com", ips("192.0.2.10", "192.0.2.11"));
        final ControlLoop loop = new ControlLoop("n1", null, "test", FlowCompiler.defaultGatewayMtu(), published::set, names);

        loop.accept(snapshot);
        assertEquals(1, loop.version());
        assertFalse(denies("192.0.2.10"), "not looked up while compiling: the rule matches nothing yet");
        assertEquals(1, names.size(), "the compile asked for the name");

        final Set<String> changed = names.refresh(false);
        assertEquals(Set.of("db.example.com"), changed, "the name in lower case, without its trailing dot");
        loop.namesResolved(changed);
        assertEquals(2, loop.version(), "one new version");
        assertTrue(denies("192.0.2.10") && denies("192.0.2.11"), String.join("\n", lines()));
        assertSameAsAFullCompile(snapshot);
        assertEquals(Set.of(), names.refresh(false), "nothing pending: only the full round looks it up again");
        assertEquals(Set.of(), names.refresh(true), "the same addresses change nothing");

        records.put("db.example.com", ips("192.0.2.20"));
        loop.namesResolved(names.refresh(true));
        assertEquals(3, loop.version());
        assertTrue(denies("192.0.2.20"));
        assertFalse(denies("192.0.2.10") || denies("192.0.2.11"), "the old addresses' flows are gone");
        assertSameAsAFullCompile(snapshot);

        records.remove("db.example.com");
        assertEquals(Set.of(), names.refresh(true), "a failed lookup changes nothing");
        assertEquals(1, names.failures());
        assertTrue(denies("192.0.2.20"), "the last addresses stay enforced through a DNS outage");
        assertEquals(3, loop.version());
    }

    @Test
    void theNamesKeptAreBounded()
    {
        for (int i = 0; i < DnsNames.MAX_NAMES + 5; i++)
        {
            assertEquals(List.of(), names.resolve("n" + i + ".example.com"));
        }
        assertEquals(DnsNames.MAX_NAMES, names.size());
        assertEquals(5, names.refused());
    }
}
