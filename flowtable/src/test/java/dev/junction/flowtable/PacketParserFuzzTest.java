package dev.junction.flowtable;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PacketParser#parse} on arbitrary bytes, any in_port and vlan-limit: it never throws and
 * the layer offsets it records lie inside the frame, in order. The buffer ends exactly where the
 * frame does, so a read past the frame is an exception here, not a silent read of stale bytes.
 *
 * <p>Seeds (regression inputs): {@code src/test/resources/dev/junction/flowtable/PacketParserFuzzTestInputs/parse/},
 * raw frames; the fuzzed in_port and vlan-limit come from the input's last bytes.
 */
class PacketParserFuzzTest
{
    @FuzzTest(maxDuration = "15s")
    void parse(final FuzzedDataProvider data)
    {
        final int inPort = data.consumeInt();
        final int vlanLimit = data.consumeInt(-1, 3);
        final byte[] frame = data.consumeRemainingAsBytes();
        final Packet p = new Packet(frame.length);
        p.wrap(frame, 0, frame.length);
        p.inPort = inPort;
        final PacketParser parser = new PacketParser(vlanLimit);
        final FlowKey key = new FlowKey();
        parser.parse(p, key);

        assertEquals(inPort, key.inPort());
        assertTrue(p.l2Pad >= 0 && p.l2Pad <= frame.length, "l2Pad " + p.l2Pad);
        if (p.l3 >= 0)
        {
            assertTrue(p.l3 >= p.start + 14 && p.l3 <= p.end(), "l3 " + p.l3 + " outside the frame");
        }
        if (p.l4 >= 0)
        {
            assertTrue(p.l3 >= 0 && p.l4 > p.l3 && p.l4 <= p.end() - p.l2Pad, "l4 " + p.l4 + " outside L3 " + p.l3);
            assertTrue(p.l4Size() >= 0, "l4Size " + p.l4Size());
        }

        // Parsing keeps no state: the same frame gives the same key, whatever came before.
        final FlowKey again = new FlowKey();
        parser.parse(p, again);
        assertArrayEquals(key.words, again.words);
    }
}
