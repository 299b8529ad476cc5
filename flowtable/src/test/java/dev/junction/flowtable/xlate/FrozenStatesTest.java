package dev.junction.flowtable.xlate;

import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.ofp.FlowParser;
import dev.junction.flowtable.ofp.FlowTables;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Recirculation ids: equal states share one, distinct states are bounded, and a full table fails translation. */
class FrozenStatesTest
{
    private static FlowKey tcp(final int sport)
    {
        final FlowKey k = new FlowKey();
        k.inPort(1);
        dev.junction.flowtable.Field.DL_TYPE.set(k.words, 0x0800);
        dev.junction.flowtable.Field.NW_PROTO.set(k.words, 6);
        dev.junction.flowtable.Field.TP_SRC.set(k.words, sport);
        return k;
    }

    @Test
    void equalStatesShareAnIdAndTheLimitIsCounted()
    {
        final FrozenStates states = new FrozenStates(2);
        final FlowKey a = tcp(1);
        final FlowKey b = tcp(1);
        dev.junction.flowtable.Field.REG0.set(b.words, 7);
        final FlowKey c = tcp(1);
        dev.junction.flowtable.Field.REG0.set(c.words, 8);
        final int ia = states.idFor(1, true, a);
        assertEquals(ia, states.idFor(1, true, tcp(1)), "equal states share one id");
        final int ib = states.idFor(1, true, b);
        assertNotEquals(ia, ib);
        assertEquals(0, states.idFor(1, true, c), "a third distinct state is refused");
        assertEquals(1, states.refused());
        assertEquals(ib, states.idFor(1, true, b), "known states still resolve when full");
        assertEquals(2, states.size());
    }

    @Test
    void translationFailsWhenRecirculationIdsRunOut() throws Exception
    {
        // Each source port freezes a different reg0, so each packet needs a new state.
        final FlowTables tables = new FlowTables(new FlowParser("t").parseAll(List.of(
            "table=0,tcp,actions=move:NXM_OF_TCP_SRC[]->NXM_NX_REG0[0..15],ct(table=1,zone=1)",
            "table=1,actions=output:2")));
        final Translator t = new Translator(new BridgePorts(new int[] {1, 2}), new FrozenStates(3));
        final OdpActions out = new OdpActions();
        for (int sport = 1; sport <= 3; sport++)
        {
            assertTrue(t.translate(tables, tcp(sport), 64, out, null), "state " + sport + " fits");
        }
        assertFalse(t.translate(tables, tcp(4), 64, out, null));
        assertTrue(t.errorReason().contains("recirculation ids exhausted"), t.errorReason());
        assertEquals(0, out.size(), "a failed translation drops the packet");
        assertTrue(t.translate(tables, tcp(2), 64, out, null), "a known state still translates");
    }
}
