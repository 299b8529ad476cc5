package dev.junction.control.k8s;

import java.util.Map;
import java.util.Optional;

/**
 * A namespace. Its labels always carry {@code kubernetes.io/metadata.name}, as the API server
 * sets it on every namespace, so policies selecting namespaces by name work on manifests too.
 */
public record Namespace(String name, Map<String, String> labels, Map<String, String> annotations)
{
    public static final String NAME_LABEL = "kubernetes.io/metadata.name";
    /** OVN-K's per-namespace ACL logging: {@code {"deny": "alert", "allow": "notice"}}. */
    public static final String ACL_LOGGING = "k8s.ovn.org/acl-logging";

    public Namespace
    {
        labels = Map.copyOf(labels);
        annotations = Map.copyOf(annotations);
    }

    public Optional<String> aclLogging()
    {
        return Optional.ofNullable(annotations.get(ACL_LOGGING));
    }
}
