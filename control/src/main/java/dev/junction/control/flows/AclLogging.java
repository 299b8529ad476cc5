package dev.junction.control.flows;

import dev.junction.control.k8s.Namespace;
import dev.junction.control.pinctrl.ControllerOps;
import dev.junction.control.yaml.SafeYaml;

import java.util.Map;

/**
 * A namespace's {@code k8s.ovn.org/acl-logging} annotation, as OVN-K reads it: {@code deny} and
 * {@code allow} each name a severity (alert, warning, notice, info, debug); a missing or unknown
 * one, or an annotation that is not a JSON object, logs nothing for that verdict.
 */
record AclLogging(String allow, String deny)
{
    static final AclLogging NONE = new AclLogging(null, null);

    static AclLogging of(final Namespace ns)
    {
        return ns == null ? NONE : ns.aclLogging().map(AclLogging::parse).orElse(NONE);
    }

    static AclLogging parse(final String json)
    {
        final Object doc;
        try
        {
            doc = SafeYaml.yaml().load(json);
        }
        catch (final RuntimeException ex)
        {
            return NONE;
        }
        if (!(doc instanceof Map<?, ?> m))
        {
            return NONE;
        }
        return new AclLogging(severity(m.get("allow")), severity(m.get("deny")));
    }

    private static String severity(final Object v)
    {
        return v instanceof String s && ControllerOps.severity(s) >= 0 ? s : null;
    }
}
