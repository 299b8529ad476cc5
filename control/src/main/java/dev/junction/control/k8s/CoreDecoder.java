package dev.junction.control.k8s;

import dev.junction.control.yaml.SafeYaml;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Namespaces, Nodes, Pods, Services and EndpointSlices from their maps; anything wrong is a {@link BadObject}. */
final class CoreDecoder
{
    private static final Set<String> SERVICE_TYPES = Set.of("ClusterIP", "NodePort", "LoadBalancer", "ExternalName");
    private static final Set<String> TRAFFIC_POLICIES = Set.of("Cluster", "Local");

    private CoreDecoder()
    {
    }

    static Namespace namespace(final ObjectMeta meta)
    {
        final Map<String, String> labels = new java.util.LinkedHashMap<>(meta.labels());
        labels.put(Namespace.NAME_LABEL, meta.name());
        return new Namespace(meta.name(), labels, meta.annotations());
    }

    static Node node(final ObjectMeta meta, final Fields obj)
    {
        final List<InetAddress> internal = new ArrayList<>();
        for (final Fields a : obj.object("status").objects("addresses"))
        {
            if ("InternalIP".equals(a.string("type")))
            {
                internal.add(ip(a.requiredString("address"), a.at("address")));
            }
        }
        final String annotation = meta.annotations().get(Node.NODE_SUBNETS);
        final List<Cidr> subnets = annotation == null ? List.of() : nodeSubnets(annotation);
        final List<Cidr> join = new ArrayList<>();
        final String lrp = meta.annotations().get(Node.GATEWAY_LRP_IFADDR);
        final String lrps = meta.annotations().get(Node.GATEWAY_LRP_IFADDRS);
        if (lrp != null)
        {
            join.addAll(joinAddresses(json(lrp, Node.GATEWAY_LRP_IFADDR), Node.GATEWAY_LRP_IFADDR));
        }
        else if (lrps != null)
        {
            join.addAll(joinAddresses(json(lrps, Node.GATEWAY_LRP_IFADDRS).object("default"), Node.GATEWAY_LRP_IFADDRS));
        }
        return new Node(meta.name(), internal, meta.labels(), meta.annotations(), subnets, join);
    }

    private static Fields json(final String text, final String annotation)
    {
        final String where = "metadata.annotations." + annotation;
        try
        {
            return Fields.of(SafeYaml.checkTree(SafeYaml.yaml().load(text)), where);
        }
        catch (final BadObject ex)
        {
            throw ex;
        }
        catch (final RuntimeException ex)
        {
            throw new BadObject(where + ": not valid JSON");
        }
    }

    /** {@code {"ipv4":"100.64.0.2/16","ipv6":"fd98::2/64"}}: the gateway router's join-switch addresses. */
    private static List<Cidr> joinAddresses(final Fields f, final String annotation)
    {
        final List<Cidr> out = new ArrayList<>();
        for (final String family : new String[] {"ipv4", "ipv6"})
        {
            final String t = f.string(family);
            if (t != null)
            {
                final Cidr c = cidr(t, f.at(family));
                if (c.isIpv6() != family.equals("ipv6"))
                {
                    throw new BadObject(f.at(family) + ": " + t + " is not " + family);
                }
                out.add(c);
            }
        }
        if (out.isEmpty())
        {
            throw new BadObject("metadata.annotations." + annotation + ": neither ipv4 nor ipv6");
        }
        return out;
    }

    /**
     * {@code k8s.ovn.org/node-subnets}: {@code {"default":"10.244.1.0/24"}}, or a list under
     * "default" for dual stack. JSON is YAML's flow style, so SnakeYAML reads it.
     */
    static List<Cidr> nodeSubnets(final String json)
    {
        final String where = "metadata.annotations." + Node.NODE_SUBNETS;
        final Object doc;
        try
        {
            doc = SafeYaml.checkTree(SafeYaml.yaml().load(json));
        }
        catch (final RuntimeException ex)
        {
            throw new BadObject(where + ": not valid JSON");
        }
        final Fields f = Fields.of(doc, where);
        final Object def = f.raw("default");
        final List<String> texts = new ArrayList<>();
        if (def instanceof String)
        {
            texts.add((String)def);
        }
        else if (def instanceof List)
        {
            texts.addAll(f.strings("default"));
        }
        else
        {
            throw new BadObject(where + ": no \"default\" network subnet");
        }
        final List<Cidr> out = new ArrayList<>();
        final Set<Boolean> families = new HashSet<>();
        for (final String t : texts)
        {
            final Cidr c = cidr(t, where);
            if (!families.add(c.isIpv6()))
            {
                throw new BadObject(where + ": two subnets of one IP family");
            }
            out.add(c);
        }
        return out;
    }

    static Pod pod(final ObjectMeta meta, final Fields obj)
    {
        final Fields spec = obj.object("spec");
        final Fields status = obj.object("status");
        final List<InetAddress> ips = new ArrayList<>();
        for (final Fields p : status.objects("podIPs"))
        {
            ips.add(ip(p.requiredString("ip"), p.at("ip")));
        }
        final String podIp = status.string("podIP");
        if (podIp != null)
        {
            final InetAddress ip = ip(podIp, status.at("podIP"));
            if (ips.isEmpty())
            {
                ips.add(ip);
            }
            else if (!ips.get(0).equals(ip))
            {
                throw new BadObject("status.podIP " + podIp + " is not status.podIPs[0]");
            }
        }
        if (ips.size() > 2 || (ips.size() == 2 && Ip.isIpv6(ips.get(0)) == Ip.isIpv6(ips.get(1))))
        {
            throw new BadObject("status.podIPs: at most one address per IP family");
        }
        final List<ContainerPort> ports = new ArrayList<>();
        for (final Fields c : spec.objects("containers"))
        {
            for (final Fields p : c.objects("ports"))
            {
                final int port = port(p.integer("containerPort"), p.at("containerPort"), true);
                final String name = p.string("name");
                if (name != null && !ContainerPort.isValidName(name))
                {
                    throw new BadObject(p.at("name") + ": '" + name + "' is not a valid port name (IANA_SVC_NAME)");
                }
                ports.add(new ContainerPort(name, port, Protocol.parse(p.string("protocol"), p.at("protocol"))));
            }
        }
        return new Pod(meta.namespace(), meta.name(), meta.labels(), spec.string("nodeName"), ips,
            spec.bool("hostNetwork", false), status.string("phase", "Running"), ports);
    }

    static Service service(final ObjectMeta meta, final Fields obj)
    {
        final Fields spec = obj.object("spec");
        final String type = spec.string("type", "ClusterIP");
        if (!SERVICE_TYPES.contains(type))
        {
            throw new BadObject("spec.type: unknown service type '" + type + "'");
        }
        final List<String> clusterIpTexts = new ArrayList<>(spec.strings("clusterIPs"));
        final String clusterIp = spec.string("clusterIP");
        if (clusterIp != null && clusterIpTexts.isEmpty())
        {
            clusterIpTexts.add(clusterIp);
        }
        else if (clusterIp != null && !clusterIp.equals(clusterIpTexts.get(0)))
        {
            throw new BadObject("spec.clusterIP " + clusterIp + " is not spec.clusterIPs[0]");
        }
        final boolean headless = clusterIpTexts.size() == 1 && "None".equals(clusterIpTexts.get(0));
        final List<InetAddress> clusterIps = new ArrayList<>();
        if (!headless)
        {
            for (int i = 0; i < clusterIpTexts.size(); i++)
            {
                clusterIps.add(ip(clusterIpTexts.get(i), spec.at("clusterIPs") + "[" + i + "]"));
            }
        }
        final List<ServicePort> ports = new ArrayList<>();
        final Set<String> names = new HashSet<>();
        final List<Fields> portFields = spec.objects("ports");
        for (final Fields p : portFields)
        {
            final int port = port(p.integer("port"), p.at("port"), true);
            final String name = p.string("name", "");
            if (portFields.size() > 1 && name.isEmpty())
            {
                throw new BadObject(p.at("name") + " is required when a service has more than one port");
            }
            if (!names.add(name))
            {
                throw new BadObject(p.at("name") + ": '" + name + "' used twice");
            }
            final PortRef target = p.has("targetPort") ? PortRef.decode(p.raw("targetPort"), p.at("targetPort")) : PortRef.number(port);
            final Integer nodePort = p.integer("nodePort");
            ports.add(new ServicePort(name, port, target, Protocol.parse(p.string("protocol"), p.at("protocol")),
                nodePort == null ? 0 : port(nodePort, p.at("nodePort"), true)));
        }
        final List<InetAddress> externalIps = new ArrayList<>();
        final List<String> ext = spec.strings("externalIPs");
        for (int i = 0; i < ext.size(); i++)
        {
            externalIps.add(ip(ext.get(i), spec.at("externalIPs") + "[" + i + "]"));
        }
        final List<InetAddress> lbIngress = new ArrayList<>();
        for (final Fields in : obj.object("status").object("loadBalancer").objects("ingress"))
        {
            if (in.has("ip"))
            {
                lbIngress.add(ip(in.string("ip"), in.at("ip")));
            }
        }
        final String affinity = spec.string("sessionAffinity", "None");
        if (!affinity.equals("None") && !affinity.equals("ClientIP"))
        {
            throw new BadObject("spec.sessionAffinity: '" + affinity + "' (None or ClientIP)");
        }
        final Integer timeout = spec.object("sessionAffinityConfig").object("clientIP").integer("timeoutSeconds");
        if (timeout != null && (timeout < 1 || timeout > 86400))
        {
            throw new BadObject("spec.sessionAffinityConfig.clientIP.timeoutSeconds: " + timeout + " out of range 1-86400");
        }
        final String itp = spec.string("internalTrafficPolicy", "Cluster");
        // The API server keeps externalTrafficPolicy only for services reachable from outside.
        final boolean external = type.equals("NodePort") || type.equals("LoadBalancer") || !externalIps.isEmpty();
        final String etp = spec.string("externalTrafficPolicy", external ? "Cluster" : null);
        for (final String[] tp : new String[][] {{"internalTrafficPolicy", itp}, {"externalTrafficPolicy", etp}})
        {
            if (tp[1] != null && !TRAFFIC_POLICIES.contains(tp[1]))
            {
                throw new BadObject("spec." + tp[0] + ": '" + tp[1] + "' (Cluster or Local)");
            }
        }
        final List<String> families = spec.strings("ipFamilies");
        for (final String fam : families)
        {
            if (!fam.equals("IPv4") && !fam.equals("IPv6"))
            {
                throw new BadObject("spec.ipFamilies: '" + fam + "' (IPv4 or IPv6)");
            }
        }
        for (int i = 0; i < Math.min(families.size(), clusterIps.size()); i++)
        {
            if (Ip.isIpv6(clusterIps.get(i)) != families.get(i).equals("IPv6"))
            {
                throw new BadObject("spec.clusterIPs[" + i + "] is not of family " + families.get(i));
            }
        }
        return new Service(meta.namespace(), meta.name(), type, headless, clusterIps, ports, externalIps, lbIngress,
            affinity, affinity.equals("ClientIP") ? (timeout == null ? Service.DEFAULT_AFFINITY_TIMEOUT : timeout) : 0,
            itp, etp, families, spec.stringMap("selector"));
    }

    static EndpointSlice endpointSlice(final ObjectMeta meta, final Fields obj)
    {
        final String addressType = obj.requiredString("addressType");
        if (!addressType.equals("IPv4") && !addressType.equals("IPv6"))
        {
            throw new BadObject("addressType: '" + addressType + "' (IPv4 or IPv6; FQDN slices are not load-balanced)");
        }
        final List<EndpointSlice.Endpoint> endpoints = new ArrayList<>();
        for (final Fields e : obj.objects("endpoints"))
        {
            final List<InetAddress> addrs = new ArrayList<>();
            final List<String> texts = e.strings("addresses");
            if (texts.isEmpty())
            {
                throw new BadObject(e.at("addresses") + " is required");
            }
            for (int i = 0; i < texts.size(); i++)
            {
                final InetAddress a = ip(texts.get(i), e.at("addresses") + "[" + i + "]");
                if (Ip.isIpv6(a) != addressType.equals("IPv6"))
                {
                    throw new BadObject(e.at("addresses") + "[" + i + "]: not an " + addressType + " address");
                }
                addrs.add(a);
            }
            final Fields c = e.object("conditions");
            final boolean ready = c.bool("ready", true);
            final Fields ref = e.optionalObject("targetRef");
            endpoints.add(new EndpointSlice.Endpoint(addrs, ready, c.bool("serving", ready), c.bool("terminating", false),
                e.string("nodeName"), ref == null ? null
                    : new EndpointSlice.ObjectRef(ref.string("kind"), ref.string("namespace"), ref.string("name"))));
        }
        final List<EndpointSlice.Port> ports = new ArrayList<>();
        for (final Fields p : obj.objects("ports"))
        {
            final Integer n = p.integer("port");
            ports.add(new EndpointSlice.Port(p.string("name", ""), n == null ? null : port(n, p.at("port"), true),
                Protocol.parse(p.string("protocol"), p.at("protocol"))));
        }
        return new EndpointSlice(meta.namespace(), meta.name(), meta.labels().get(EndpointSlice.SERVICE_NAME),
            addressType, endpoints, ports);
    }

    static int port(final Integer n, final String where, final boolean required)
    {
        if (n == null)
        {
            if (required)
            {
                throw new BadObject(where + " is required");
            }
            return 0;
        }
        if (n < 1 || n > 65535)
        {
            throw new BadObject(where + ": " + n + " out of range 1-65535");
        }
        return n;
    }

    static InetAddress ip(final String text, final String where)
    {
        try
        {
            return Ip.parse(text);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new BadObject(where + ": " + ex.getMessage());
        }
    }

    static Cidr cidr(final String text, final String where)
    {
        try
        {
            return Cidr.parse(text);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new BadObject(where + ": " + ex.getMessage());
        }
    }
}
