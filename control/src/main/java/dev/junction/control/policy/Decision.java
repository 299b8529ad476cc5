package dev.junction.control.policy;

/** A connection is allowed when the source's egress allows it and the destination's ingress allows it. */
public record Decision(Verdict egress, Verdict ingress)
{
    public boolean allowed()
    {
        return egress.allowed() && ingress.allowed();
    }

    @Override
    public String toString()
    {
        return (allowed() ? "allowed" : "denied") + " (egress " + describe(egress) + "; ingress " + describe(ingress) + ")";
    }

    private static String describe(final Verdict v)
    {
        if (!v.isolated())
        {
            return "not isolated";
        }
        return v.allowed() ? "allowed by " + v.allowedBy() : "denied, isolated by " + v.isolatedBy();
    }
}
