package dev.junction.datapath.pcap;

import java.nio.file.Path;

/** One {@code --in N=FILE} of a replay: the OpenFlow port the file's packets arrive on. */
public record PcapInput(int port, Path file)
{
    public static PcapInput parse(final String spec)
    {
        final int eq = spec.indexOf('=');
        if (eq <= 0)
        {
            throw new IllegalArgumentException("--in wants N=FILE.pcap, got '" + spec + "'");
        }
        final int port;
        try
        {
            port = Integer.parseInt(spec.substring(0, eq));
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("--in wants N=FILE.pcap with a numeric port, got '" + spec + "'");
        }
        if (port <= 0 || port >= 0xff00)
        {
            throw new IllegalArgumentException("--in port " + port + " out of range 1..65279");
        }
        return new PcapInput(port, Path.of(spec.substring(eq + 1)));
    }
}
