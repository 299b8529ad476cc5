package dev.junction.control.k8s;

/**
 * An IntOrString port: a number, or the name of a container port. Named ports are resolved
 * late, against the pod a connection goes to, because one name may mean different numbers in
 * different pods.
 */
public record PortRef(int number, String name)
{
    public static PortRef number(final int n)
    {
        return new PortRef(n, null);
    }

    public static PortRef named(final String name)
    {
        return new PortRef(0, name);
    }

    public boolean isNamed()
    {
        return name != null;
    }

    static PortRef decode(final Object raw, final String where)
    {
        if (raw == null)
        {
            return null;
        }
        if (raw instanceof Integer || raw instanceof Long)
        {
            final long n = ((Number)raw).longValue();
            if (n < 1 || n > 65535)
            {
                throw new BadObject(where + ": port " + n + " out of range 1-65535");
            }
            return number((int)n);
        }
        if (raw instanceof String)
        {
            final String s = (String)raw;
            if (s.matches("\\d+"))
            {
                // The API server keeps "80" as a string, and a string port is a name; a name
                // must hold a letter, so "80" is refused, as IsValidPortName refuses it.
                throw new BadObject(where + ": '" + s + "' is a string of digits; write the number unquoted");
            }
            if (!ContainerPort.isValidName(s))
            {
                throw new BadObject(where + ": '" + s + "' is not a valid port name (IANA_SVC_NAME)");
            }
            return named(s);
        }
        throw new BadObject(where + ": expected a port number or name, found " + Fields.describe(raw));
    }

    @Override
    public String toString()
    {
        return isNamed() ? name : Integer.toString(number);
    }
}
