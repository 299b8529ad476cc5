package dev.junction.control.k8s;

/** One {@code containerPort} of a pod; its name is what a named port in a policy or a service targets. */
public record ContainerPort(String name, int port, Protocol protocol)
{
    /**
     * IANA_SVC_NAME as the API validates it: at most 15 characters, lower-case letters, digits
     * and '-', at least one letter, no leading, trailing or doubled '-'.
     */
    public static boolean isValidName(final String s)
    {
        return s.length() <= 15 && s.matches("[a-z0-9]([a-z0-9-]*[a-z0-9])?") && s.matches(".*[a-z].*")
            && !s.contains("--");
    }
}
