package dev.junction.control.k8s;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/** OVN-Kubernetes' own kinds (k8s.ovn.org/v1): EgressFirewall and EgressIP. */
final class OvnDecoder
{
    private OvnDecoder()
    {
    }

    static EgressFirewall egressFirewall(final ObjectMeta meta, final Fields obj)
    {
        // OVN-K acts on one EgressFirewall per namespace, the one named "default"; others are errors there.
        if (!meta.name().equals("default"))
        {
            throw new BadObject("metadata.name: an EgressFirewall must be named 'default' (OVN-K ignores others)");
        }
        final List<EgressFirewall.Rule> rules = new ArrayList<>();
        for (final Fields r : obj.object("spec").objects("egress"))
        {
            final String type = r.requiredString("type");
            final EgressFirewall.Action action;
            try
            {
                action = EgressFirewall.Action.valueOf(type);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new BadObject(r.at("type") + ": '" + type + "' (Allow or Deny)");
            }
            final Fields to = r.object("to");
            final String cidrText = to.string("cidrSelector");
            final String dns = to.string("dnsName");
            final LabelSelector nodes = LabelSelector.decode(to.optionalObject("nodeSelector"));
            final int given = (cidrText != null ? 1 : 0) + (dns != null ? 1 : 0) + (nodes != null ? 1 : 0);
            if (given != 1)
            {
                throw new BadObject(to.path() + ": exactly one of cidrSelector, dnsName, nodeSelector");
            }
            final List<EgressFirewall.Port> ports = new ArrayList<>();
            for (final Fields p : r.objects("ports"))
            {
                ports.add(new EgressFirewall.Port(Protocol.parse(p.requiredString("protocol"), p.at("protocol")),
                    CoreDecoder.port(p.integer("port"), p.at("port"), false)));
            }
            rules.add(new EgressFirewall.Rule(action, cidrText == null ? null : CoreDecoder.cidr(cidrText, to.at("cidrSelector")),
                dns, nodes, ports));
        }
        return new EgressFirewall(meta.namespace(), meta.name(), rules);
    }

    static EgressIp egressIp(final ObjectMeta meta, final Fields obj)
    {
        final Fields spec = obj.object("spec");
        final List<InetAddress> ips = new ArrayList<>();
        final List<String> texts = spec.strings("egressIPs");
        if (texts.isEmpty())
        {
            throw new BadObject("spec.egressIPs is required");
        }
        for (int i = 0; i < texts.size(); i++)
        {
            ips.add(CoreDecoder.ip(texts.get(i), "spec.egressIPs[" + i + "]"));
        }
        final LabelSelector namespaces = LabelSelector.decode(spec.optionalObject("namespaceSelector"));
        if (namespaces == null)
        {
            throw new BadObject("spec.namespaceSelector is required");
        }
        final LabelSelector pods = LabelSelector.decode(spec.optionalObject("podSelector"));
        final List<EgressIp.Assignment> assignments = new ArrayList<>();
        for (final Fields s : obj.object("status").objects("items"))
        {
            assignments.add(new EgressIp.Assignment(s.requiredString("node"),
                CoreDecoder.ip(s.requiredString("egressIP"), s.at("egressIP"))));
        }
        return new EgressIp(meta.name(), ips, namespaces, pods == null ? LabelSelector.EVERYTHING : pods, assignments);
    }
}
