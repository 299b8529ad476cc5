package dev.junction.flowtable.ofp;

/** A flow line that cannot be loaded; the message names line, column and reason. */
public final class FlowParseException extends Exception
{
    private static final long serialVersionUID = 1L;

    public final int line;
    public final int column;
    public final String reason;

    public FlowParseException(final String source, final int line, final int column, final String reason)
    {
        super(source + ":" + line + ":" + column + ": " + reason);
        this.line = line;
        this.column = column;
        this.reason = reason;
    }
}
