package dev.junction.control.k8s;

/**
 * Why one manifest object cannot enter the model. Thrown while decoding and caught by the
 * {@link ManifestLoader} around that one object only, so a bad object never takes the rest down.
 */
final class BadObject extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    BadObject(final String reason)
    {
        super(reason, null, false, false);
    }
}
