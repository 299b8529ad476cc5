package dev.junction.control.k8s;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** NetworkPolicy from its map, checked as the API server's validation checks it. */
final class PolicyDecoder
{
    private PolicyDecoder()
    {
    }

    static NetworkPolicy networkPolicy(final ObjectMeta meta, final Fields obj)
    {
        final Fields spec = obj.object("spec");
        // A missing podSelector decodes to the empty selector in the API server: all pods.
        final LabelSelector podSelector = spec.has("podSelector") ? LabelSelector.decode(spec.object("podSelector"))
            : LabelSelector.EVERYTHING;
        final List<NetworkPolicy.Rule> ingress = rules(spec, "ingress", "from");
        final List<NetworkPolicy.Rule> egress = rules(spec, "egress", "to");
        final Set<NetworkPolicy.Type> types = EnumSet.noneOf(NetworkPolicy.Type.class);
        final List<String> declared = spec.strings("policyTypes");
        if (declared.isEmpty())
        {
            // Defaulting (pkg/apis/networking/v1/defaults.go): Ingress always, Egress when
            // there are egress rules; "egress: []" is no rules and does not count.
            types.add(NetworkPolicy.Type.Ingress);
            if (!egress.isEmpty())
            {
                types.add(NetworkPolicy.Type.Egress);
            }
        }
        for (final String t : declared)
        {
            final NetworkPolicy.Type type;
            try
            {
                type = NetworkPolicy.Type.valueOf(t);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new BadObject("spec.policyTypes: '" + t + "' (Ingress or Egress)");
            }
            if (!types.add(type))
            {
                throw new BadObject("spec.policyTypes: " + t + " given twice");
            }
        }
        return new NetworkPolicy(meta.namespace(), meta.name(), podSelector, types, ingress, egress);
    }

    private static List<NetworkPolicy.Rule> rules(final Fields spec, final String key, final String peersKey)
    {
        final List<NetworkPolicy.Rule> rules = new ArrayList<>();
        for (final Fields r : spec.objects(key))
        {
            final List<NetworkPolicy.Peer> peers = new ArrayList<>();
            for (final Fields p : r.objects(peersKey))
            {
                peers.add(peer(p));
            }
            final List<NetworkPolicy.Port> ports = new ArrayList<>();
            for (final Fields p : r.objects("ports"))
            {
                ports.add(port(p));
            }
            rules.add(new NetworkPolicy.Rule(peers, ports));
        }
        return rules;
    }

    private static NetworkPolicy.Peer peer(final Fields p)
    {
        final LabelSelector pods = LabelSelector.decode(p.optionalObject("podSelector"));
        final LabelSelector namespaces = LabelSelector.decode(p.optionalObject("namespaceSelector"));
        final Fields ipb = p.optionalObject("ipBlock");
        if (ipb == null && pods == null && namespaces == null)
        {
            throw new BadObject(p.path() + ": a peer needs a podSelector, a namespaceSelector or an ipBlock");
        }
        if (ipb != null && (pods != null || namespaces != null))
        {
            throw new BadObject(p.path() + ": an ipBlock cannot be combined with selectors in one peer");
        }
        return new NetworkPolicy.Peer(pods, namespaces, ipb == null ? null : ipBlock(ipb));
    }

    private static NetworkPolicy.IpBlock ipBlock(final Fields f)
    {
        final Cidr cidr = CoreDecoder.cidr(f.requiredString("cidr"), f.at("cidr"));
        final List<Cidr> except = new ArrayList<>();
        final List<String> texts = f.strings("except");
        for (int i = 0; i < texts.size(); i++)
        {
            final String where = f.at("except") + "[" + i + "]";
            final Cidr e = CoreDecoder.cidr(texts.get(i), where);
            if (!cidr.contains(e) || e.prefix() <= cidr.prefix())
            {
                throw new BadObject(where + ": " + e + " must be a strict subset of the cidr " + cidr);
            }
            except.add(e);
        }
        return new NetworkPolicy.IpBlock(cidr, except);
    }

    private static NetworkPolicy.Port port(final Fields p)
    {
        final Protocol protocol = Protocol.parse(p.string("protocol"), p.at("protocol"));
        final PortRef port = PortRef.decode(p.raw("port"), p.at("port"));
        final Integer endPort = p.integer("endPort");
        if (endPort != null)
        {
            if (port == null || port.isNamed())
            {
                throw new BadObject(p.at("endPort") + " needs a numeric port");
            }
            if (endPort < port.number() || endPort > 65535)
            {
                throw new BadObject(p.at("endPort") + ": " + endPort + " must be between port " + port.number() + " and 65535");
            }
        }
        return new NetworkPolicy.Port(protocol, port, endPort);
    }
}
