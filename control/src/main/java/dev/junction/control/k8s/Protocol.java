package dev.junction.control.k8s;

/** The L4 protocols the Kubernetes API names; TCP is the API's default wherever one is omitted. */
public enum Protocol
{
    TCP, UDP, SCTP;

    /** The API's spelling exactly (upper case); anything else is refused as the API server does. */
    public static Protocol parse(final String text, final String where)
    {
        if (text == null)
        {
            return TCP;
        }
        for (final Protocol p : values())
        {
            if (p.name().equals(text))
            {
                return p;
            }
        }
        throw new BadObject(where + ": unsupported protocol '" + text + "' (TCP, UDP or SCTP)");
    }
}
