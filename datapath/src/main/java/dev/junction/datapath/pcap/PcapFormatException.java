package dev.junction.datapath.pcap;

import java.io.IOException;

/** A pcap or pcapng file that does not follow its format; the message names file and offset. */
public final class PcapFormatException extends IOException
{
    private static final long serialVersionUID = 1L;

    public PcapFormatException(final String message)
    {
        super(message);
    }
}
