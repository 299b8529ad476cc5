package dev.junction.control.policy;

import java.util.List;

/**
 * One direction's answer for one pod. {@code isolatedBy} are the policies that select the pod for
 * this direction (none: the pod is not isolated and everything is allowed); {@code allowedBy} are
 * those of them with a rule that matches. These names are what ACL logging will report: the
 * allowing policies on allow, the isolating ones on deny.
 */
public record Verdict(List<String> isolatedBy, List<String> allowedBy)
{
    /** The verdict of a direction no pod is on (an address outside the pod network). */
    public static final Verdict NOT_APPLICABLE = new Verdict(List.of(), List.of());

    public Verdict
    {
        isolatedBy = List.copyOf(isolatedBy);
        allowedBy = List.copyOf(allowedBy);
    }

    public boolean isolated()
    {
        return !isolatedBy.isEmpty();
    }

    public boolean allowed()
    {
        return !isolated() || !allowedBy.isEmpty();
    }
}
