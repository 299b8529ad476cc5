package dev.junction.control.flows;

import dev.junction.control.k8s.Cidr;
import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.EgressFirewall;
import dev.junction.control.k8s.EgressIp;
import dev.junction.control.k8s.EndpointSlice;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.LabelSelector;
import dev.junction.control.k8s.ManifestLoader;
import dev.junction.control.k8s.Namespace;
import dev.junction.control.k8s.NetworkPolicy;
import dev.junction.control.k8s.Node;
import dev.junction.control.k8s.Pod;
import dev.junction.control.k8s.Protocol;
import dev.junction.control.policy.NetpolTruthTableTest;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Incremental recompilation against full recompilation: a seeded sequence of changes (pods
 * added, removed, relabelled, moved; policies added and removed; endpoints changed; a namespace's
 * EgressFirewall set or dropped; the EgressIP's selectors and assignment changed; a node's
 * gateway annotations changed) is applied
 * one model at a time, and after each the incrementally kept flows must equal a full compile of
 * the same model on the same layout, and the delta must turn the previous flows into the new ones.
 */
class IncrementalCompilerTest
{
    private static final Pattern GROUP = Pattern.compile("group:(\\d+)");
    private static final DnsResolver DNS = DnsResolver.of(Map.of("api.example.com", List.of(Ip.parse("203.0.113.10"))));
    private static final List<String> NODES = List.of("n1", "n2", "node-1", "node-2");

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"cluster:1", "cluster:2", "node:3", "node:4"})
    void incrementalEqualsFull(final String run) throws Exception
    {
        final boolean perNode = run.startsWith("node");
        final long seed = Long.parseLong(run.substring(run.indexOf(':') + 1));
        final String node = perNode ? "node-1" : null;
        equalsFullAfterEachChange(truthTableModel(), node, seed, 60);
    }

    /**
     * The generator's cluster (named ports, namespace selectors, ipBlocks, services of every
     * kind) on one node's bridge: pod changes mostly, so the layout is edited pod by pod and
     * the ACLs recomputed only where a changed pod may be a peer.
     */
    @ParameterizedTest
    @ValueSource(longs = {5, 6})
    void generatedClusterIncrementalEqualsFull(final long seed)
    {
        final ClusterModel model = new dev.junction.control.scale.ClusterGenerator(6, 150, 20, 30, seed).model();
        equalsFullAfterEachChange(model, dev.junction.control.scale.ClusterGenerator.nodeName(0), seed, 60);
    }

    /**
     * Services reached through the gateway routers (manifests/nodeport: externalTrafficPolicy
     * Cluster and Local, node ports, an external IP, an LB ingress IP; manifests/gateway-v6: the
     * same over IPv6 on IPv6-only routers and a dual-stack one): endpoints dropped, pods moved
     * between nodes, gateway annotations changed change which router has which backends.
     */
    @ParameterizedTest
    @ValueSource(strings = {"nodeport/cluster:7", "nodeport/n1:8", "nodeport/n2:9", "gateway-v6/cluster:10", "gateway-v6/n1:11",
        "gateway-v6/n3:12"})
    void gatewayLoadBalancersIncrementalEqualsFull(final String run) throws Exception
    {
        final String set = run.substring(0, run.indexOf('/'));
        final String node = run.substring(run.indexOf('/') + 1, run.indexOf(':'));
        equalsFullAfterEachChange(ManifestLoader.load(Path.of("src/test/resources/manifests/" + set)).model(),
            node.equals("cluster") ? null : node, Long.parseLong(run.substring(run.indexOf(':') + 1)), 40);
    }

    private ClusterModel truthTableModel() throws Exception
    {
        Files.writeString(dir.resolve("model.yaml"), NetpolTruthTableTest.model());
        final StringBuilder policies = new StringBuilder();
        final Set<String> seen = new HashSet<>();
        for (final NetpolTruthTableTest.Scenario s : NetpolTruthTableTest.scenarios())
        {
            if (seen.add(s.policies()))
            {
                policies.append(s.policies());
            }
        }
        Files.writeString(dir.resolve("policies.yaml"), policies.toString());
        Files.copy(Path.of("src/test/resources/manifests/services/services.yaml"), dir.resolve("services.yaml"));
        return ManifestLoader.load(dir).model();
    }

    private static void equalsFullAfterEachChange(final ClusterModel first, final String node, final long seed, final int steps)
    {
        ClusterModel model = first;
        final IncrementalCompiler inc = new IncrementalCompiler(model, node, DNS);
        final Random random = new Random(seed);
        for (int i = 0; i < steps; i++)
        {
            final ClusterModel next = mutate(model, random, i);
            final Set<String> beforeRaw = new HashSet<>(inc.current().flows().lines());
            final IncrementalCompiler.Delta d = inc.update(next);
            final FlowCompiler.Compiled full = new IncrementalCompiler(next, inc.current().layout(), DNS).current();
            final Set<String> want = normalized(full);
            final Set<String> got = normalized(inc.current());
            if (!want.equals(got))
            {
                final Set<String> missing = new TreeSet<>(want);
                missing.removeAll(got);
                final Set<String> extra = new TreeSet<>(got);
                extra.removeAll(want);
                org.junit.jupiter.api.Assertions.fail("step " + i + " owners " + d.owners() + "\nmissing " + missing + "\nextra " + extra);
            }
            final Set<String> applied = new HashSet<>(beforeRaw);
            applied.removeAll(d.removed());
            applied.addAll(d.added());
            assertEquals(new HashSet<>(inc.current().flows().lines()), applied, "step " + i + ": the delta");
            model = next;
        }
    }

    /** Flow lines with group ids replaced by the group's buckets (ids are allocation history). */
    private static Set<String> normalized(final FlowCompiler.Compiled c)
    {
        final Map<String, String> body = new HashMap<>();
        for (final String g : c.groups())
        {
            final int comma = g.indexOf(',');
            body.put(g.substring("group_id=".length(), comma), g.substring(comma + 1));
        }
        final Set<String> out = new TreeSet<>();
        for (final String l : c.flows().lines())
        {
            final Matcher m = GROUP.matcher(l);
            final StringBuilder sb = new StringBuilder();
            while (m.find())
            {
                m.appendReplacement(sb, Matcher.quoteReplacement("group:{" + body.get(m.group(1)) + "}"));
            }
            m.appendTail(sb);
            // Cookies name policy rules in the order a compiler met them: history, like group ids.
            out.add(sb.toString().replaceFirst(",cookie=0x[0-9a-f]+", ""));
        }
        return out;
    }

    private static ClusterModel mutate(final ClusterModel m, final Random r, final int step)
    {
        final List<Pod> pods = new ArrayList<>(m.pods());
        final List<NetworkPolicy> policies = new ArrayList<>(m.networkPolicies());
        final List<EndpointSlice> slices = new ArrayList<>(m.endpointSlices());
        final List<EgressFirewall> firewalls = new ArrayList<>(m.egressFirewalls());
        final List<EgressIp> egressIps = new ArrayList<>(m.egressIps());
        final List<Node> nodes = new ArrayList<>(m.nodes());
        final Pod p = pods.get(r.nextInt(pods.size()));
        switch (r.nextInt(12))
        {
            case 9 ->
            {
                firewalls.removeIf(f -> f.namespace().equals(p.namespace()));
                if (r.nextInt(4) != 0)
                {
                    firewalls.add(firewall(p.namespace(), r));
                }
            }
            case 10 ->
            {
                egressIps.clear();
                if (r.nextInt(4) != 0)
                {
                    final LabelSelector pods0 = r.nextBoolean() ? LabelSelector.EVERYTHING
                        : LabelSelector.of(Map.of("pod", r.nextBoolean() ? "a" : "b"));
                    egressIps.add(new EgressIp("e1", List.of(Ip.parse("172.18.0.100")),
                        LabelSelector.of(Map.of(Namespace.NAME_LABEL, p.namespace())), pods0,
                        List.of(new EgressIp.Assignment(NODES.get(r.nextInt(NODES.size())), Ip.parse("172.18.0.100")))));
                }
            }
            case 11 ->
            {
                final Node n = nodes.get(r.nextInt(nodes.size()));
                final Map<String, String> annotations = new HashMap<>(n.annotations());
                annotations.put(GatewayPort.NEXT_HOP_MAC, String.format("02:00:00:00:00:%02x", r.nextInt(256)));
                nodes.set(nodes.indexOf(n), new Node(n.name(), n.internalIps(), n.labels(), annotations, n.subnets(),
                    n.gatewayRouterJoinAddresses()));
            }
            case 6, 7, 8 ->
            {
                // Moved, completed, readdressed, a named port appearing or going, a new node's pod, ...
                return PodMutations.mutate(m, r, step);
            }
            case 0 -> pods.remove(p);
            // From .3 on: .1 is the gateway of the /24 the layout makes around the address (a pod
            // holding it answers ARP for it too, which the compiler refuses as two flows for one rule).
            case 1 -> pods.add(new Pod(p.namespace(), "new-" + step, p.labels(), p.nodeName(),
                List.of(Ip.parse("10.250." + (step / 200) + "." + (step % 200 + 3))), false, "Running", p.ports()));
            case 2 ->
            {
                final Map<String, String> labels = new HashMap<>(p.labels());
                labels.put("pod", labels.getOrDefault("pod", "a").equals("a") ? "b" : "a");
                pods.set(pods.indexOf(p), new Pod(p.namespace(), p.name(), labels, p.nodeName(), p.ips(), false, p.phase(),
                    p.ports()));
            }
            case 3 -> pods.set(pods.indexOf(p), new Pod(p.namespace(), p.name(), p.labels(),
                "node-" + (1 + r.nextInt(3)), p.ips(), false, p.phase(), p.ports()));
            case 4 ->
            {
                if (!policies.isEmpty())
                {
                    policies.remove(r.nextInt(policies.size()));
                }
            }
            default ->
            {
                PodMutations.dropEndpoint(slices, r);
            }
        }
        return new ClusterModel(m.namespaces(), nodes, pods, m.services(), slices, policies, firewalls, egressIps);
    }

    /** One to four rules of CIDRs, a dnsName (resolving or not), ports or none. */
    private static EgressFirewall firewall(final String namespace, final Random r)
    {
        final List<EgressFirewall.Rule> rules = new ArrayList<>();
        for (int i = 1 + r.nextInt(4); i > 0; i--)
        {
            final EgressFirewall.Action action = r.nextBoolean() ? EgressFirewall.Action.Allow : EgressFirewall.Action.Deny;
            final List<EgressFirewall.Port> ports = r.nextBoolean() ? List.of()
                : List.of(new EgressFirewall.Port(r.nextBoolean() ? Protocol.TCP : Protocol.UDP, r.nextInt(3) * 443));
            switch (r.nextInt(3))
            {
                case 0 -> rules.add(new EgressFirewall.Rule(action, null, r.nextBoolean() ? "api.example.com" : "nowhere.example.com",
                    null, ports));
                default -> rules.add(new EgressFirewall.Rule(action,
                    Cidr.parse(List.of("0.0.0.0/0", "203.0.113.0/24", "8.8.8.8/32", "fd00::/8").get(r.nextInt(4))), null, null, ports));
            }
        }
        return new EgressFirewall(namespace, "default", rules);
    }
}
