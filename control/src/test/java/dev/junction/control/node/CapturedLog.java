package dev.junction.control.node;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;

/** A daemon's JSON log as a test reads it: every line kept, and written to stderr as well for the test's output. */
final class CapturedLog
{
    private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    private final JsonLog log;

    CapturedLog()
    {
        final OutputStream tee = new OutputStream()
        {
            @Override
            public synchronized void write(final int b)
            {
                System.err.write(b);
                logged.write(b);
            }

            @Override
            public synchronized void write(final byte[] b, final int off, final int len)
            {
                System.err.write(b, off, len);
                logged.write(b, off, len);
            }
        };
        log = new JsonLog(new PrintStream(tee, true));
    }

    JsonLog log()
    {
        return log;
    }

    /** Everything logged so far. */
    @Override
    public String toString()
    {
        return logged.toString();
    }
}
