package dev.junction.control.k8s;

import java.util.Map;

/** What every object's {@code metadata} gives the model; the namespace is null for cluster-scoped kinds. */
record ObjectMeta(String kind, String namespace, String name, Map<String, String> labels, Map<String, String> annotations)
{
    static ObjectMeta decode(final String kind, final Fields obj, final boolean namespaced)
    {
        final Fields m = obj.object("metadata");
        final String name = m.requiredString("name");
        if (!name.matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?") || name.length() > 253)
        {
            throw new BadObject("metadata.name: '" + name + "' is not a valid object name (lower-case RFC 1123 subdomain)");
        }
        // kubectl puts an object without a namespace into the current context's namespace; with
        // no context here, "default" is what a fresh kubectl would use.
        final String ns = namespaced ? m.string("namespace", "default") : null;
        if (!namespaced && m.has("namespace"))
        {
            throw new BadObject("metadata.namespace: " + kind + " is cluster-scoped and has no namespace");
        }
        return new ObjectMeta(kind, ns, name, m.stringMap("labels"), m.stringMap("annotations"));
    }
}
