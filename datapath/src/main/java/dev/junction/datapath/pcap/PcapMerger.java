package dev.junction.datapath.pcap;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Yields the packets of several captures in timestamp order, ties broken by input order and
 * then file order, exactly as the oracle's stable sort. Files whose timestamps already ascend
 * (the usual case) are merged as streams in constant memory; a file that goes back in time is
 * loaded and stably sorted, since only that reproduces the contract's order.
 */
public final class PcapMerger implements AutoCloseable
{
    /** Receives each packet in replay order. */
    public interface Visitor
    {
        void packet(int port, long timestampNanos, byte[] frame, int length) throws IOException;
    }

    private final List<PcapInput> inputs;

    public PcapMerger(final List<PcapInput> inputs)
    {
        this.inputs = inputs;
    }

    public void forEach(final Visitor visitor) throws IOException
    {
        boolean sorted = true;
        for (final PcapInput in : inputs)
        {
            sorted &= ascending(in);
        }
        if (sorted)
        {
            streamMerge(visitor);
        }
        else
        {
            sortedInMemory(visitor);
        }
    }

    private static boolean ascending(final PcapInput in) throws IOException
    {
        try (PcapReader r = PcapReader.open(in.file()))
        {
            long last = Long.MIN_VALUE;
            while (r.next())
            {
                checkLinkType(r);
                if (r.timestampNanos() < last)
                {
                    return false;
                }
                last = r.timestampNanos();
            }
        }
        return true;
    }

    private static void checkLinkType(final PcapReader r) throws PcapFormatException
    {
        if (r.linkType() != PcapReader.LINKTYPE_ETHERNET)
        {
            throw new PcapFormatException(r.path() + ": link type " + r.linkType() + " is not Ethernet");
        }
    }

    private void streamMerge(final Visitor visitor) throws IOException
    {
        final int n = inputs.size();
        final PcapReader[] readers = new PcapReader[n];
        final boolean[] live = new boolean[n];
        try
        {
            for (int i = 0; i < n; i++)
            {
                readers[i] = PcapReader.open(inputs.get(i).file());
                live[i] = readers[i].next();
            }
            while (true)
            {
                int best = -1;
                for (int i = 0; i < n; i++)
                {
                    if (live[i] && (best < 0 || readers[i].timestampNanos() < readers[best].timestampNanos()))
                    {
                        best = i;
                    }
                }
                if (best < 0)
                {
                    return;
                }
                final PcapReader r = readers[best];
                visitor.packet(inputs.get(best).port(), r.timestampNanos(), r.frame(), r.length());
                live[best] = r.next();
            }
        }
        finally
        {
            for (final PcapReader r : readers)
            {
                if (r != null)
                {
                    r.close();
                }
            }
        }
    }

    private record Held(int port, long ts, byte[] frame)
    {
    }

    private void sortedInMemory(final Visitor visitor) throws IOException
    {
        final List<Held> all = new ArrayList<>();
        for (final PcapInput in : inputs)
        {
            try (PcapReader r = PcapReader.open(in.file()))
            {
                while (r.next())
                {
                    all.add(new Held(in.port(), r.timestampNanos(), java.util.Arrays.copyOf(r.frame(), r.length())));
                }
            }
        }
        all.sort(java.util.Comparator.comparingLong(Held::ts)); // List.sort is stable
        for (final Held h : all)
        {
            visitor.packet(h.port(), h.ts(), h.frame(), h.frame().length);
        }
    }

    @Override
    public void close()
    {
    }
}
