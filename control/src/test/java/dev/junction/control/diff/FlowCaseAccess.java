package dev.junction.control.diff;

import java.util.ArrayList;
import java.util.List;

/** The differential generator's cases for tests in other packages that need no oracle. */
public final class FlowCaseAccess
{
    public record In(int port, byte[] frame)
    {
    }

    public record Case(String flows, List<In> inputs)
    {
    }

    private FlowCaseAccess()
    {
    }

    public static Case generate(final long seed, final int index)
    {
        final FlowCaseGenerator.FlowCase c = new FlowCaseGenerator(seed).generate(index);
        final List<In> in = new ArrayList<>();
        for (final FlowCaseGenerator.Input i : c.inputs())
        {
            for (final FlowCaseGenerator.Packet p : i.packets())
            {
                in.add(new In(i.port(), p.frame()));
            }
        }
        return new Case(c.flows(), in);
    }
}
