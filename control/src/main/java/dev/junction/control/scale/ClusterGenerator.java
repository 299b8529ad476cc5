package dev.junction.control.scale;

import dev.junction.control.k8s.Cidr;
import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.ContainerPort;
import dev.junction.control.k8s.EndpointSlice;
import dev.junction.control.k8s.Ip;
import dev.junction.control.k8s.LabelSelector;
import dev.junction.control.k8s.Namespace;
import dev.junction.control.k8s.NetworkPolicy;
import dev.junction.control.k8s.Node;
import dev.junction.control.k8s.Pod;
import dev.junction.control.k8s.PortRef;
import dev.junction.control.k8s.Protocol;
import dev.junction.control.k8s.Service;
import dev.junction.control.k8s.ServicePort;

import java.io.IOException;
import java.io.Writer;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * A seeded generator of an OVN-Kubernetes cluster as a {@link ClusterModel}, for scale tests and
 * benchmarks: the same parameters and seed always give the same model, and
 * {@link #writeManifests(Path)} writes it as manifests that {@code ManifestLoader} reads back
 * into an equal model.
 *
 * <p>Shape: nodes {@code node-0000...} with an InternalIP in 172.18.0.0/16, a join address in
 * 100.64.0.0/16 and a pod subnet of the cluster network 10.128.0.0/9 sized for twice the
 * average pods per node (at least a /24) in {@code k8s.ovn.org/node-subnets}; one namespace per
 * 30 pods ({@code kube-system} first) labelled team/env; {@code max(services, namespaces)} apps
 * spread over the namespaces, app {@code a} in namespace {@code a % namespaces}, each with its
 * share of the pods (labels app, tier, version; named container ports by tier) on random nodes,
 * addresses from their node's subnet after the gateway and management addresses. Service
 * {@code s} selects app {@code s}: ClusterIP mostly, some NodePort, some ClientIP affinity,
 * some {@code internalTrafficPolicy: Local}, a named or numeric target port and sometimes a
 * metrics port; one EndpointSlice per service lists its pods, a few terminating. Policies go
 * round-robin over the namespaces, the k-th of a namespace of kind {@code k % 6}: default deny,
 * ingress from the namespace's frontends on a named port, from a namespace selector combined
 * with a pod selector, from an ipBlock with an except on a port range (endPort), egress to DNS
 * and to the internet minus the private range, ingress from namespaces by a matchExpressions
 * selector.
 */
public final class ClusterGenerator
{
    public static final int DEFAULT_NODES = 1_000;
    public static final int DEFAULT_PODS = 30_000;
    public static final int DEFAULT_SERVICES = 5_000;
    public static final int DEFAULT_POLICIES = 5_000;
    public static final long DEFAULT_SEED = 1;

    public static final int PODS_PER_NAMESPACE = 30;
    public static final Cidr CLUSTER_NETWORK = Cidr.parse("10.128.0.0/9");
    public static final Cidr NODE_NETWORK = Cidr.parse("172.18.0.0/16");
    public static final Cidr SERVICE_NETWORK = Cidr.parse("10.96.0.0/12");
    public static final Cidr JOIN_NETWORK = Cidr.parse("100.64.0.0/16");

    /** Out of 100 services: NodePort, ClientIP affinity, internalTrafficPolicy Local. */
    private static final int NODE_PORT_PERCENT = 4;
    private static final int AFFINITY_PERCENT = 3;
    private static final int LOCAL_PERCENT = 3;
    /** Out of 100 endpoints: terminating (not ready, still serving). */
    private static final int TERMINATING_PERCENT = 3;
    /** The API server's default node port range, 30000-32767. */
    private static final int FIRST_NODE_PORT = 30000;
    private static final int LAST_NODE_PORT = 32767;

    private static final String[] TEAMS = {"payments", "search", "identity", "catalog", "checkout", "platform", "data", "ml",
        "growth", "ads", "infra", "mobile", "web", "billing", "support", "risk", "media", "maps", "mail", "chat"};
    private static final String[] ENVS = {"prod", "staging", "dev"};
    /** App kinds by position in a namespace: name, tier. */
    private static final String[][] KINDS = {{"web", "frontend"}, {"api", "backend"}, {"worker", "backend"},
        {"db", "db"}, {"cache", "db"}, {"auth", "backend"}, {"queue", "backend"}, {"search", "backend"}};

    private final int nodeCount;
    private final int podCount;
    private final int serviceCount;
    private final int policyCount;
    private final long seed;
    private final Random random;

    private final List<Namespace> namespaces = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    private final List<Pod> pods = new ArrayList<>();
    private final List<Service> services = new ArrayList<>();
    private final List<EndpointSlice> slices = new ArrayList<>();
    private final List<NetworkPolicy> policies = new ArrayList<>();
    private final List<Cidr> nodeSubnets = new ArrayList<>();
    private final int[] podsOnNode;
    private int nextNodePort = FIRST_NODE_PORT;
    private final ClusterModel model;

    /** The scale: 1,000 nodes, 30,000 pods, 5,000 services, 5,000 policies. */
    public ClusterGenerator()
    {
        this(DEFAULT_NODES, DEFAULT_PODS, DEFAULT_SERVICES, DEFAULT_POLICIES, DEFAULT_SEED);
    }

    public ClusterGenerator(final int nodes, final int pods, final int services, final int policies, final long seed)
    {
        if (nodes < 1 || pods < 0 || services < 0 || policies < 0)
        {
            throw new IllegalArgumentException("at least one node, and no negative counts");
        }
        this.nodeCount = nodes;
        this.podCount = pods;
        this.serviceCount = services;
        this.policyCount = policies;
        this.seed = seed;
        this.random = new Random(seed);
        this.podsOnNode = new int[nodes];
        generateNodes();
        generateNamespaces();
        generateApps();
        generatePolicies();
        model = new ClusterModel(namespaces, this.nodes, this.pods, this.services, slices, this.policies, List.of(), List.of());
    }

    public ClusterModel model()
    {
        return model;
    }

    public long seed()
    {
        return seed;
    }

    /** Node {@code i}'s name: {@code node-0000}, ... */
    public static String nodeName(final int i)
    {
        return String.format("node-%04d", i);
    }

    /** Node {@code i}'s pod subnet. */
    public Cidr nodeSubnet(final int i)
    {
        return nodeSubnets.get(i);
    }

    /** The address the next pod scheduled on node {@code i} gets (one more than the last one given). */
    public InetAddress nextPodIp(final int i)
    {
        return nodeSubnets.get(i).host(3 + podsOnNode[i]);
    }

    private void generateNodes()
    {
        final int perNode = (podCount + nodeCount - 1) / nodeCount;
        // Room for twice the average, plus network, gateway, management and broadcast addresses.
        final int hostBits = Math.max(8, 32 - Integer.numberOfLeadingZeros(2 * perNode + 4));
        final long blocks = 1L << (32 - CLUSTER_NETWORK.prefix() - hostBits);
        if (nodeCount > blocks || nodeCount > 65000)
        {
            throw new IllegalArgumentException(nodeCount + " nodes do not fit in " + CLUSTER_NETWORK);
        }
        for (int i = 0; i < nodeCount; i++)
        {
            final Cidr subnet = Cidr.of(CLUSTER_NETWORK.host((long)i << hostBits), 32 - hostBits);
            nodeSubnets.add(subnet);
            final String name = nodeName(i);
            final Map<String, String> annotations = new LinkedHashMap<>();
            annotations.put(Node.NODE_SUBNETS, "{\"default\":\"" + subnet + "\"}");
            final Cidr join = Cidr.of(JOIN_NETWORK.host(2 + i), JOIN_NETWORK.prefix());
            annotations.put(Node.GATEWAY_LRP_IFADDR, "{\"ipv4\":\"" + join.addressText() + "\"}");
            final Map<String, String> labels = new LinkedHashMap<>();
            labels.put("kubernetes.io/hostname", name);
            labels.put("kubernetes.io/os", "linux");
            labels.put("topology.kubernetes.io/zone", "zone-" + (char)('a' + i % 3));
            nodes.add(new Node(name, List.of(NODE_NETWORK.host(2 + i)), labels, annotations, List.of(subnet), List.of(join)));
        }
    }

    private void generateNamespaces()
    {
        final int count = Math.max(1, podCount / PODS_PER_NAMESPACE);
        for (int i = 0; i < count; i++)
        {
            final String name = i == 0 ? "kube-system" : String.format("%s-%04d", TEAMS[i % TEAMS.length], i);
            final Map<String, String> labels = new LinkedHashMap<>();
            labels.put("team", TEAMS[i % TEAMS.length]);
            labels.put("env", ENVS[random.nextInt(ENVS.length)]);
            labels.put(Namespace.NAME_LABEL, name);
            namespaces.add(new Namespace(name, labels, Map.of()));
        }
    }

    private String appName(final int app)
    {
        final int position = app / namespaces.size();
        if (app == 0)
        {
            return "coredns";
        }
        final String kind = KINDS[position % KINDS.length][0];
        return position < KINDS.length ? kind : kind + "-" + position / KINDS.length;
    }

    private String tier(final int app)
    {
        return app == 0 ? "dns" : KINDS[(app / namespaces.size()) % KINDS.length][1];
    }

    private static List<ContainerPort> containerPorts(final String tier)
    {
        switch (tier)
        {
            case "dns":
                return List.of(new ContainerPort("dns", 53, Protocol.UDP), new ContainerPort("dns-tcp", 53, Protocol.TCP),
                    new ContainerPort("metrics", 9153, Protocol.TCP));
            case "frontend":
                return List.of(new ContainerPort("http", 8080, Protocol.TCP), new ContainerPort("metrics", 9090, Protocol.TCP));
            case "db":
                return List.of(new ContainerPort("db", 5432, Protocol.TCP), new ContainerPort("metrics", 9187, Protocol.TCP));
            default:
                return List.of(new ContainerPort("http", 8080, Protocol.TCP), new ContainerPort("grpc", 50051, Protocol.TCP),
                    new ContainerPort("metrics", 9090, Protocol.TCP));
        }
    }

    /** Apps with their pods, and a service with its EndpointSlice for each of the first {@code services} apps. */
    private void generateApps()
    {
        final int apps = Math.max(serviceCount, namespaces.size());
        for (int a = 0; a < apps; a++)
        {
            final Namespace ns = namespaces.get(a % namespaces.size());
            final String app = appName(a);
            final String tier = tier(a);
            final List<ContainerPort> ports = containerPorts(tier);
            final int replicas = podCount / apps + (a < podCount % apps ? 1 : 0);
            final String template = Integer.toHexString(0x10000000 | random.nextInt(0x0fffffff)).substring(1, 8);
            final List<Pod> appPods = new ArrayList<>();
            for (int r = 0; r < replicas; r++)
            {
                final Map<String, String> labels = new LinkedHashMap<>();
                labels.put("app", app);
                labels.put("tier", tier);
                labels.put("version", random.nextInt(4) == 0 ? "v2" : "v1");
                labels.put("pod-template-hash", template);
                final int node = schedule();
                final InetAddress ip = nodeSubnets.get(node).host(3 + podsOnNode[node]++);
                final Pod pod = new Pod(ns.name(), app + "-" + template + "-" + suffix(r), labels, nodeName(node), List.of(ip),
                    false, "Running", ports);
                pods.add(pod);
                appPods.add(pod);
            }
            if (a < serviceCount)
            {
                service(a, ns.name(), app, tier, ports, appPods);
            }
        }
    }

    /** A random node with room left (the subnets hold twice the average, so a free one is near). */
    private int schedule()
    {
        int node = random.nextInt(nodeCount);
        final long capacity = (1L << (32 - nodeSubnets.get(node).prefix())) - 4;
        while (podsOnNode[node] >= capacity)
        {
            node = (node + 1) % nodeCount;
        }
        return node;
    }

    /** Five base-36 characters, distinct for distinct {@code r}, the way ReplicaSets name pods. */
    private static String suffix(final int r)
    {
        final String alphabet = "bcdfghjklmnpqrstvwxz2456789";
        final StringBuilder sb = new StringBuilder();
        int v = r;
        for (int i = 0; i < 5; i++)
        {
            sb.append(alphabet.charAt(v % alphabet.length()));
            v /= alphabet.length();
        }
        return sb.toString();
    }

    private void service(final int s, final String namespace, final String app, final String tier,
        final List<ContainerPort> containerPorts, final List<Pod> backends)
    {
        final int roll = random.nextInt(100);
        // Node ports are cluster-wide: a NodePort service when two are still free, else a ClusterIP one.
        final boolean nodePort = roll < NODE_PORT_PERCENT && nextNodePort + 1 <= LAST_NODE_PORT;
        final boolean affinity = roll >= NODE_PORT_PERCENT && roll < NODE_PORT_PERCENT + AFFINITY_PERCENT;
        final boolean local = roll >= 100 - LOCAL_PERCENT;
        final List<ServicePort> ports = new ArrayList<>();
        final ContainerPort main = containerPorts.get(0);
        final boolean named = random.nextBoolean();
        final int port = "dns".equals(tier) ? 53 : "db".equals(tier) ? main.port() : 80;
        ports.add(new ServicePort(main.name(), port, named ? PortRef.named(main.name()) : PortRef.number(main.port()),
            main.protocol(), nodePort ? nextNodePort++ : 0));
        if ("dns".equals(tier))
        {
            final ContainerPort tcp = containerPorts.get(1);
            ports.add(new ServicePort(tcp.name(), 53, PortRef.named(tcp.name()), Protocol.TCP, 0));
        }
        if (random.nextInt(3) == 0)
        {
            final ContainerPort metrics = containerPorts.get(containerPorts.size() - 1);
            ports.add(new ServicePort(metrics.name(), metrics.port(), PortRef.number(metrics.port()), Protocol.TCP,
                nodePort ? nextNodePort++ : 0));
        }
        final String type = nodePort ? "NodePort" : "ClusterIP";
        final InetAddress clusterIp = SERVICE_NETWORK.host(10 + s);
        services.add(new Service(namespace, app, type, false, List.of(clusterIp), ports, List.of(), List.of(),
            affinity ? "ClientIP" : "None", affinity ? 600 + s % 3000 : 0, local ? "Local" : "Cluster",
            nodePort ? "Cluster" : null, List.of("IPv4"), Map.of("app", app)));

        final List<EndpointSlice.Endpoint> endpoints = new ArrayList<>();
        for (final Pod p : backends)
        {
            final boolean terminating = random.nextInt(100) < TERMINATING_PERCENT;
            endpoints.add(new EndpointSlice.Endpoint(p.ips(), !terminating, true, terminating, p.nodeName(),
                new EndpointSlice.ObjectRef("Pod", p.namespace(), p.name())));
        }
        final List<EndpointSlice.Port> slicePorts = new ArrayList<>();
        for (final ServicePort sp : ports)
        {
            final int number = sp.targetPort().isNamed() ? containerPorts.stream()
                .filter(c -> c.name().equals(sp.targetPort().name())).findFirst().orElseThrow().port() : sp.targetPort().number();
            slicePorts.add(new EndpointSlice.Port(sp.name(), number, sp.protocol()));
        }
        slices.add(new EndpointSlice(namespace, app + "-" + suffix(s), app, "IPv4", endpoints, slicePorts));
    }

    private void generatePolicies()
    {
        final int nsCount = namespaces.size();
        final int apps = Math.max(serviceCount, nsCount);
        final int appsPerNs = (apps + nsCount - 1) / nsCount;
        for (int p = 0; p < policyCount; p++)
        {
            final int nsIndex = p % nsCount;
            final int k = p / nsCount;
            final String ns = namespaces.get(nsIndex).name();
            // An app of this namespace to protect: app index nsIndex + j * nsCount.
            final int appIndex = nsIndex + (k % appsPerNs) * nsCount;
            final String app = appName(appIndex < apps ? appIndex : nsIndex);
            final LabelSelector selectApp = LabelSelector.of(Map.of("app", app));
            final String name;
            final LabelSelector podSelector;
            final Set<NetworkPolicy.Type> types;
            final List<NetworkPolicy.Rule> ingress = new ArrayList<>();
            final List<NetworkPolicy.Rule> egress = new ArrayList<>();
            switch (k % 6)
            {
                case 0:
                    name = "default-deny";
                    podSelector = LabelSelector.EVERYTHING;
                    types = EnumSet.of(NetworkPolicy.Type.Ingress);
                    break;
                case 1:
                    name = "allow-frontend-to-" + app;
                    podSelector = selectApp;
                    types = EnumSet.of(NetworkPolicy.Type.Ingress);
                    ingress.add(new NetworkPolicy.Rule(
                        List.of(new NetworkPolicy.Peer(LabelSelector.of(Map.of("tier", "frontend")), null, null)),
                        List.of(tcp(PortRef.named("http"), null), tcp(PortRef.named("db"), null))));
                    break;
                case 2:
                    name = "allow-team-to-" + app;
                    podSelector = selectApp;
                    types = EnumSet.of(NetworkPolicy.Type.Ingress);
                    ingress.add(new NetworkPolicy.Rule(
                        List.of(new NetworkPolicy.Peer(LabelSelector.of(Map.of("app", "api")),
                            LabelSelector.of(Map.of("team", TEAMS[random.nextInt(TEAMS.length)], "env", "prod")), null)),
                        List.of(tcp(PortRef.number(8080), null))));
                    break;
                case 3:
                    name = "allow-lb-to-" + app;
                    podSelector = selectApp;
                    types = EnumSet.of(NetworkPolicy.Type.Ingress);
                    ingress.add(new NetworkPolicy.Rule(
                        List.of(new NetworkPolicy.Peer(null, null, new NetworkPolicy.IpBlock(Cidr.parse("172.16.0.0/12"),
                            List.of(Cidr.parse("172.18.0.0/16"), Cidr.parse("172.31.255.0/24"))))),
                        List.of(tcp(PortRef.number(30000), 30100), tcp(PortRef.number(8080), null))));
                    break;
                case 4:
                    name = "egress-" + app;
                    podSelector = selectApp;
                    types = EnumSet.of(NetworkPolicy.Type.Egress);
                    egress.add(new NetworkPolicy.Rule(
                        List.of(new NetworkPolicy.Peer(LabelSelector.of(Map.of("app", "coredns")),
                            LabelSelector.of(Map.of(Namespace.NAME_LABEL, "kube-system")), null)),
                        List.of(new NetworkPolicy.Port(Protocol.UDP, PortRef.number(53), null),
                            tcp(PortRef.number(53), null))));
                    egress.add(new NetworkPolicy.Rule(
                        List.of(new NetworkPolicy.Peer(null, null, new NetworkPolicy.IpBlock(Cidr.parse("0.0.0.0/0"),
                            List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("172.16.0.0/12"), Cidr.parse("192.168.0.0/16"))))),
                        List.of(tcp(PortRef.number(443), null))));
                    egress.add(new NetworkPolicy.Rule(
                        List.of(new NetworkPolicy.Peer(LabelSelector.of(Map.of("tier", "db")), null, null)),
                        List.of(tcp(PortRef.named("db"), null))));
                    break;
                default:
                    name = "allow-envs-to-" + app;
                    podSelector = LabelSelector.of(Map.of("app", app),
                        new LabelSelector.Requirement("version", LabelSelector.Operator.In, Set.of("v1", "v2")));
                    types = EnumSet.of(NetworkPolicy.Type.Ingress);
                    ingress.add(new NetworkPolicy.Rule(
                        List.of(new NetworkPolicy.Peer(LabelSelector.of(Map.of("tier", "frontend")),
                            LabelSelector.of(Map.of("team", TEAMS[nsIndex % TEAMS.length]),
                                new LabelSelector.Requirement("env", LabelSelector.Operator.In, Set.of("prod", "staging"))),
                            null)),
                        List.of(tcp(PortRef.number(9090), null))));
                    break;
            }
            policies.add(new NetworkPolicy(ns, k < 6 ? name : name + "-" + k / 6, podSelector, types, ingress, egress));
        }
    }

    private static NetworkPolicy.Port tcp(final PortRef port, final Integer endPort)
    {
        return new NetworkPolicy.Port(Protocol.TCP, port, endPort);
    }

    /**
     * Writes the model as multi-document YAML, one file per kind in the model's order
     * ({@code 00-namespaces.yaml} ... {@code 05-networkpolicies.yaml}), so that loading the
     * directory gives an equal model.
     */
    public void writeManifests(final Path dir) throws IOException
    {
        Files.createDirectories(dir);
        final Yaml y = new Yaml();
        write(dir.resolve("00-namespaces.yaml"), y, namespaces.stream().map(ClusterGenerator::namespaceObject).toList());
        write(dir.resolve("01-nodes.yaml"), y, nodes.stream().map(ClusterGenerator::nodeObject).toList());
        write(dir.resolve("02-pods.yaml"), y, pods.stream().map(ClusterGenerator::podObject).toList());
        write(dir.resolve("03-services.yaml"), y, services.stream().map(ClusterGenerator::serviceObject).toList());
        write(dir.resolve("04-endpointslices.yaml"), y, slices.stream().map(ClusterGenerator::sliceObject).toList());
        write(dir.resolve("05-networkpolicies.yaml"), y, policies.stream().map(ClusterGenerator::policyObject).toList());
    }

    private static void write(final Path file, final Yaml y, final List<Map<String, Object>> objects) throws IOException
    {
        try (Writer w = Files.newBufferedWriter(file))
        {
            for (final Map<String, Object> o : objects)
            {
                w.write("---\n");
                final StringBuilder sb = new StringBuilder();
                y.block(sb, o, 0, false);
                w.write(sb.toString());
            }
        }
    }

    private static Map<String, Object> object(final String apiVersion, final String kind, final String namespace,
        final String name, final Map<String, String> labels, final Map<String, String> annotations)
    {
        final Map<String, Object> o = new LinkedHashMap<>();
        o.put("apiVersion", apiVersion);
        o.put("kind", kind);
        final Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("name", name);
        if (namespace != null)
        {
            meta.put("namespace", namespace);
        }
        if (!labels.isEmpty())
        {
            meta.put("labels", new LinkedHashMap<>(labels));
        }
        if (!annotations.isEmpty())
        {
            meta.put("annotations", new LinkedHashMap<>(annotations));
        }
        o.put("metadata", meta);
        return o;
    }

    private static Map<String, Object> namespaceObject(final Namespace ns)
    {
        return object("v1", "Namespace", null, ns.name(), ns.labels(), ns.annotations());
    }

    private static Map<String, Object> nodeObject(final Node n)
    {
        final Map<String, Object> o = object("v1", "Node", null, n.name(), n.labels(), n.annotations());
        final List<Object> addresses = new ArrayList<>();
        for (final InetAddress ip : n.internalIps())
        {
            addresses.add(map("type", "InternalIP", "address", Ip.text(ip)));
        }
        addresses.add(map("type", "Hostname", "address", n.name()));
        o.put("status", map("addresses", addresses));
        return o;
    }

    private static Map<String, Object> podObject(final Pod p)
    {
        final Map<String, Object> o = object("v1", "Pod", p.namespace(), p.name(), p.labels(), Map.of());
        final List<Object> ports = new ArrayList<>();
        for (final ContainerPort cp : p.ports())
        {
            ports.add(map("name", cp.name(), "containerPort", cp.port(), "protocol", cp.protocol().name()));
        }
        final String image = "registry.example/" + p.labels().getOrDefault("app", "app") + ":" + p.labels().getOrDefault("version", "v1");
        o.put("spec", map("nodeName", p.nodeName(), "containers", List.of(map("name", "main", "image", image, "ports", ports))));
        final List<Object> ips = new ArrayList<>();
        for (final InetAddress ip : p.ips())
        {
            ips.add(map("ip", Ip.text(ip)));
        }
        o.put("status", map("phase", p.phase(), "podIP", Ip.text(p.ips().get(0)), "podIPs", ips));
        return o;
    }

    private static Map<String, Object> serviceObject(final Service s)
    {
        final Map<String, Object> o = object("v1", "Service", s.namespace(), s.name(), Map.of("app", s.name()), Map.of());
        final Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("type", s.type());
        spec.put("selector", new LinkedHashMap<>(s.selector()));
        spec.put("clusterIP", Ip.text(s.clusterIps().get(0)));
        spec.put("clusterIPs", s.clusterIps().stream().map(Ip::text).toList());
        spec.put("ipFamilies", s.ipFamilies());
        final List<Object> ports = new ArrayList<>();
        for (final ServicePort sp : s.ports())
        {
            final Map<String, Object> port = map("name", sp.name(), "port", sp.port(), "protocol", sp.protocol().name());
            port.put("targetPort", sp.targetPort().isNamed() ? sp.targetPort().name() : sp.targetPort().number());
            if (sp.nodePort() > 0)
            {
                port.put("nodePort", sp.nodePort());
            }
            ports.add(port);
        }
        spec.put("ports", ports);
        spec.put("sessionAffinity", s.sessionAffinity());
        if (s.hasClientIpAffinity())
        {
            spec.put("sessionAffinityConfig", map("clientIP", map("timeoutSeconds", s.affinityTimeoutSeconds())));
        }
        spec.put("internalTrafficPolicy", s.internalTrafficPolicy());
        if (s.externalTrafficPolicy() != null)
        {
            spec.put("externalTrafficPolicy", s.externalTrafficPolicy());
        }
        o.put("spec", spec);
        return o;
    }

    private static Map<String, Object> sliceObject(final EndpointSlice s)
    {
        final Map<String, Object> o = object("discovery.k8s.io/v1", "EndpointSlice", s.namespace(), s.name(),
            Map.of(EndpointSlice.SERVICE_NAME, s.serviceName()), Map.of());
        o.put("addressType", s.addressType());
        final List<Object> endpoints = new ArrayList<>();
        for (final EndpointSlice.Endpoint e : s.endpoints())
        {
            final Map<String, Object> ep = map("addresses", e.addresses().stream().map(Ip::text).toList(),
                "conditions", map("ready", e.ready(), "serving", e.serving(), "terminating", e.terminating()));
            ep.put("nodeName", e.nodeName());
            ep.put("targetRef", map("kind", e.targetRef().kind(), "namespace", e.targetRef().namespace(),
                "name", e.targetRef().name()));
            endpoints.add(ep);
        }
        o.put("endpoints", endpoints);
        final List<Object> ports = new ArrayList<>();
        for (final EndpointSlice.Port p : s.ports())
        {
            ports.add(map("name", p.name(), "port", p.port(), "protocol", p.protocol().name()));
        }
        o.put("ports", ports);
        return o;
    }

    private static Map<String, Object> policyObject(final NetworkPolicy p)
    {
        final Map<String, Object> o = object("networking.k8s.io/v1", "NetworkPolicy", p.namespace(), p.name(), Map.of(), Map.of());
        final Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("podSelector", selector(p.podSelector()));
        spec.put("policyTypes", Arrays.stream(NetworkPolicy.Type.values()).filter(p::affects).map(Enum::name).toList());
        if (!p.ingress().isEmpty())
        {
            spec.put("ingress", rules(p.ingress(), "from"));
        }
        if (!p.egress().isEmpty())
        {
            spec.put("egress", rules(p.egress(), "to"));
        }
        o.put("spec", spec);
        return o;
    }

    private static List<Object> rules(final List<NetworkPolicy.Rule> rules, final String peersKey)
    {
        final List<Object> out = new ArrayList<>();
        for (final NetworkPolicy.Rule r : rules)
        {
            final Map<String, Object> rule = new LinkedHashMap<>();
            final List<Object> peers = new ArrayList<>();
            for (final NetworkPolicy.Peer peer : r.peers())
            {
                final Map<String, Object> m = new LinkedHashMap<>();
                if (peer.podSelector() != null)
                {
                    m.put("podSelector", selector(peer.podSelector()));
                }
                if (peer.namespaceSelector() != null)
                {
                    m.put("namespaceSelector", selector(peer.namespaceSelector()));
                }
                if (peer.ipBlock() != null)
                {
                    final Map<String, Object> b = map("cidr", peer.ipBlock().cidr().toString());
                    if (!peer.ipBlock().except().isEmpty())
                    {
                        b.put("except", peer.ipBlock().except().stream().map(Cidr::toString).toList());
                    }
                    m.put("ipBlock", b);
                }
                peers.add(m);
            }
            if (!peers.isEmpty())
            {
                rule.put(peersKey, peers);
            }
            final List<Object> ports = new ArrayList<>();
            for (final NetworkPolicy.Port port : r.ports())
            {
                final Map<String, Object> m = map("protocol", port.protocol().name());
                if (port.port() != null)
                {
                    m.put("port", port.port().isNamed() ? port.port().name() : port.port().number());
                }
                if (port.endPort() != null)
                {
                    m.put("endPort", port.endPort());
                }
                ports.add(m);
            }
            if (!ports.isEmpty())
            {
                rule.put("ports", ports);
            }
            out.add(rule);
        }
        return out;
    }

    private static Map<String, Object> selector(final LabelSelector s)
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        if (!s.matchLabels().isEmpty())
        {
            m.put("matchLabels", new TreeMap<>(s.matchLabels()));
        }
        if (!s.matchExpressions().isEmpty())
        {
            final List<Object> exprs = new ArrayList<>();
            for (final LabelSelector.Requirement r : s.matchExpressions())
            {
                final Map<String, Object> e = map("key", r.key(), "operator", r.operator().name());
                if (!r.values().isEmpty())
                {
                    e.put("values", r.values().stream().sorted().toList());
                }
                exprs.add(e);
            }
            m.put("matchExpressions", exprs);
        }
        return m;
    }

    private static Map<String, Object> map(final Object... keysAndValues)
    {
        final Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2)
        {
            m.put((String)keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    /** A block-style YAML writer for maps, lists, strings (always double-quoted), numbers and booleans. */
    private static final class Yaml
    {
        void block(final StringBuilder sb, final Object value, final int indent, final boolean inlineFirst)
        {
            boolean first = true;
            if (value instanceof Map)
            {
                for (final Map.Entry<?, ?> e : ((Map<?, ?>)value).entrySet())
                {
                    if (!(first && inlineFirst))
                    {
                        pad(sb, indent);
                    }
                    first = false;
                    sb.append(e.getKey()).append(':');
                    entry(sb, e.getValue(), indent + 2);
                }
            }
            else
            {
                for (final Object item : (List<?>)value)
                {
                    if (!(first && inlineFirst))
                    {
                        pad(sb, indent);
                    }
                    first = false;
                    sb.append("- ");
                    if (isCollection(item) && !isEmpty(item))
                    {
                        block(sb, item, indent + 2, true);
                    }
                    else
                    {
                        scalar(sb, item);
                        sb.append('\n');
                    }
                }
            }
        }

        private void entry(final StringBuilder sb, final Object v, final int indent)
        {
            if (isCollection(v) && !isEmpty(v))
            {
                sb.append('\n');
                block(sb, v, indent, false);
            }
            else
            {
                sb.append(' ');
                scalar(sb, v);
                sb.append('\n');
            }
        }

        private static boolean isCollection(final Object v)
        {
            return v instanceof Map || v instanceof List;
        }

        private static boolean isEmpty(final Object v)
        {
            return v instanceof Map ? ((Map<?, ?>)v).isEmpty() : ((List<?>)v).isEmpty();
        }

        private static void scalar(final StringBuilder sb, final Object v)
        {
            if (v instanceof Map)
            {
                sb.append("{}");
            }
            else if (v instanceof List)
            {
                sb.append("[]");
            }
            else if (v instanceof String)
            {
                sb.append('"');
                final String s = (String)v;
                for (int i = 0; i < s.length(); i++)
                {
                    final char c = s.charAt(i);
                    if (c == '"' || c == '\\')
                    {
                        sb.append('\\');
                    }
                    sb.append(c);
                }
                sb.append('"');
            }
            else
            {
                sb.append(v);
            }
        }

        private static void pad(final StringBuilder sb, final int n)
        {
            for (int i = 0; i < n; i++)
            {
                sb.append(' ');
            }
        }
    }
}
