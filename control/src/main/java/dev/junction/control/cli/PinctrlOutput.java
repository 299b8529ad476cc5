package dev.junction.control.cli;

import dev.junction.control.pinctrl.Pinctrl;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** A command's {@link Pinctrl}, its ACL log lines going to a file or, without one, stderr; closing flushes the file. */
final class PinctrlOutput implements AutoCloseable
{
    private final Pinctrl pinctrl;
    private final BufferedWriter file;

    private PinctrlOutput(final BufferedWriter file, final int rate)
    {
        this.file = file;
        this.pinctrl = new Pinctrl(file == null ? System.err::println : this::write, rate);
    }

    static PinctrlOutput open(final Path logFile, final int ratePerSecond) throws IOException
    {
        if (ratePerSecond < 1)
        {
            throw new IllegalArgumentException("--acl-log-rate must be >= 1: " + ratePerSecond);
        }
        return new PinctrlOutput(logFile == null ? null : Files.newBufferedWriter(logFile, StandardCharsets.UTF_8), ratePerSecond);
    }

    Pinctrl pinctrl()
    {
        return pinctrl;
    }

    private void write(final String line)
    {
        try
        {
            file.write(line);
            file.newLine();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    @Override
    public void close() throws IOException
    {
        if (file != null)
        {
            file.close();
        }
    }
}
