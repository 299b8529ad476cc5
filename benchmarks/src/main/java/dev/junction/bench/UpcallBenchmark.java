package dev.junction.bench;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.PacketParser;
import dev.junction.flowtable.ofp.FlowParseException;
import dev.junction.flowtable.ofp.FlowTables;
import dev.junction.flowtable.xlate.OdpActions;
import dev.junction.flowtable.xlate.BridgePorts;
import dev.junction.flowtable.xlate.Translator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@link Translator#translate} over an OVN-sized table set ({@link OvnLikeTables}): what a
 * packet costs when it misses every cache and is translated through the OpenFlow tables, i.e.
 * the upcall. Keys cycle over a few thousand parsed packets taking different paths, so the
 * figure is an average over the mix rather than one lucky path. One op is one packet.
 *
 * <p>Not final: JMH generates subclasses of {@code @State} benchmark classes.
 */
@State(Scope.Thread)
public class UpcallBenchmark extends PacketBenchmark
{
    /** A power of two, so the cycling index is a mask rather than a division. */
    private static final int KEYS = 4096;

    @Param("10000")
    public int rules;

    @Param("1")
    public long seed;

    private FlowTables tables;
    private Translator translator;
    private final OdpActions actions = new OdpActions();
    private FlowKey[] keys;
    private int[] lengths;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws FlowParseException
    {
        final OvnLikeTables ovn = OvnLikeTables.generate(seed, rules);
        tables = ovn.load();
        translator = new Translator(new BridgePorts(OvnLikeTables.ports()));
        final List<OvnLikeTables.Input> inputs = ovn.inputs(KEYS, seed + 1);
        final PacketParser parser = new PacketParser();
        keys = new FlowKey[KEYS];
        lengths = new int[KEYS];
        final Map<String, int[]> outcomes = new TreeMap<>();
        for (int i = 0; i < KEYS; i++)
        {
            final OvnLikeTables.Input in = inputs.get(i);
            final Packet p = new Packet(in.frame().length);
            p.wrap(in.frame(), 0, in.frame().length);
            p.inPort = in.inPort();
            keys[i] = new FlowKey();
            parser.parse(p, keys[i]);
            lengths[i] = p.length;
            if (!translator.translate(tables, keys[i], lengths[i], actions, null))
            {
                throw new IllegalStateException("translation failed for a " + in.kind() + " packet: "
                    + translator.errorReason());
            }
            final int[] counts = outcomes.computeIfAbsent(in.kind(), k -> new int[2]);
            counts[actions.size() == 0 ? 1 : 0]++;
        }
        System.out.println("UpcallBenchmark: " + tables.rules().size() + " rules; packets by kind [forwarded, dropped]: "
            + describe(outcomes));
        checkPathsAreVaried(outcomes);
    }

    @Benchmark
    public OdpActions translate()
    {
        final int i = next++ & (KEYS - 1);
        translator.translate(tables, keys[i], lengths[i], actions, null);
        return actions;
    }

    /**
     * A generator change that made every packet drop in table 0 would turn this into a
     * benchmark of one lookup: refuse to measure that.
     */
    private static void checkPathsAreVaried(final Map<String, int[]> outcomes)
    {
        for (final String kind : new String[] {"same-node", "cross-node", "service", "off-cluster", "arp"})
        {
            final int[] c = outcomes.get(kind);
            if (c == null || c[0] == 0)
            {
                throw new IllegalStateException("no " + kind + " packet is forwarded: " + describe(outcomes));
            }
        }
    }

    private static String describe(final Map<String, int[]> outcomes)
    {
        final StringBuilder sb = new StringBuilder();
        outcomes.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ').append(v[0])
            .append('/').append(v[1]));
        return sb.toString();
    }
}
