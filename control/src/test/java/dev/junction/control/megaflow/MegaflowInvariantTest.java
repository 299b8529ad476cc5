package dev.junction.control.megaflow;

import dev.junction.control.diff.FlowCaseAccess;
import dev.junction.flowtable.Field;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.PacketParser;
import dev.junction.flowtable.ofp.FlowParseException;
import dev.junction.flowtable.ofp.FlowParser;
import dev.junction.flowtable.ofp.FlowRule;
import dev.junction.flowtable.ofp.FlowTables;
import dev.junction.flowtable.xlate.BridgePorts;
import dev.junction.flowtable.xlate.OdpActions;
import dev.junction.flowtable.xlate.Translator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * Property tests of megaflow translation on the differential generator's random tables and
 * packets (seeded, no OVS needed): the classifier finds what a priority-ordered scan finds, and
 * any packet that falls inside another packet's megaflow is translated to the same datapath
 * actions, which is what makes caching the actions correct.
 */
class MegaflowInvariantTest
{
    static IntStream cases()
    {
        return IntStream.range(0, Integer.getInteger("junction.megaflow.cases", 150));
    }

    @ParameterizedTest(name = "case {0}")
    @MethodSource("cases")
    void packetsInsideAMegaflowGetItsActions(final int caseIndex) throws FlowParseException
    {
        final FlowCaseAccess.Case c = FlowCaseAccess.generate(0xFEED, caseIndex);
        final List<FlowRule> rules;
        try
        {
            rules = new FlowParser("flows").parseAll(Arrays.asList(c.flows().split("\n")));
        }
        catch (final FlowParseException ex)
        {
            return; // a case whose flows OVS refuses too: nothing to translate
        }
        final FlowTables tables = new FlowTables(rules);
        final BridgePorts bridge = new BridgePorts(new int[] {1, 2, 3, 4});
        final PacketParser parser = new PacketParser(1);
        final List<FlowKey> keys = new ArrayList<>();
        final List<Integer> sizes = new ArrayList<>();
        for (final FlowCaseAccess.In in : c.inputs())
        {
            final Packet p = new Packet(2048);
            final FlowKey k = new FlowKey();
            p.wrap(in.frame(), 0, in.frame().length);
            p.inPort = in.port();
            parser.parse(p, k);
            keys.add(k);
            sizes.add(in.frame().length);
        }
        final Translator a = new Translator(bridge);
        final Translator b = new Translator(bridge);
        final OdpActions actsA = new OdpActions();
        final OdpActions actsB = new OdpActions();
        int compared = 0;
        for (final FlowKey k : keys)
        {
            for (int t = 0; t < 3; t++)
            {
                if (tables.classifier(t) != null)
                {
                    final long[] wc = new long[FlowKey.WORDS];
                    assertSame(tables.lookupLinear(t, k), tables.lookup(t, k, wc, new dev.junction.flowtable.cls.Classifier.Context()),
                        "classifier and linear scan disagree in table " + t);
                }
            }
            final boolean okA = a.translate(tables, k, 64, actsA, null);
            final long[] mask = a.wildcards().words.clone();
            for (final FlowKey other : keys)
            {
                if (!inside(other, k, mask) || protoZeroIpv4(other))
                {
                    continue;
                }
                final boolean okB = b.translate(tables, other, 64, actsB, null);
                assertEquals(okA, okB, "translation success differs inside one megaflow");
                assertEquals(actsA.describe(), actsB.describe(), "packet inside the megaflow of another got other actions");
                compared++;
            }
        }
        // Every packet at least falls inside its own megaflow.
        assertEquals(true, compared >= keys.size() - keys.stream().filter(MegaflowInvariantTest::protoZeroIpv4).count());
    }

    private static boolean inside(final FlowKey packet, final FlowKey creator, final long[] mask)
    {
        for (int w = 0; w < FlowKey.WORDS; w++)
        {
            if (((packet.words[w] ^ creator.words[w]) & mask[w]) != 0)
            {
                return false;
            }
        }
        return true;
    }

    /**
     * OVS skips IPv4 rewrites when nw_proto reads 0 without matching nw_proto, so such packets may
     * legitimately get other actions than their megaflow's creator (and Junction copies that).
     */
    private static boolean protoZeroIpv4(final FlowKey k)
    {
        return k.isIpv4() && k.get(Field.NW_PROTO) == 0;
    }
}
