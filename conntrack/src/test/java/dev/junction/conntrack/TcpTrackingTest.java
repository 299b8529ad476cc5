package dev.junction.conntrack;

import static dev.junction.conntrack.CtHarness.SEC;
import static dev.junction.conntrack.CtHarness.Spec.commit;
import static dev.junction.conntrack.Frames.ACK;
import static dev.junction.conntrack.Frames.FIN;
import static dev.junction.conntrack.Frames.RST;
import static dev.junction.conntrack.Frames.SYN;
import static dev.junction.conntrack.Frames.ip;
import static dev.junction.conntrack.Frames.tcp;
import static dev.junction.flowtable.ct.CtState.EST;
import static dev.junction.flowtable.ct.CtState.INV;
import static dev.junction.flowtable.ct.CtState.NEW;
import static dev.junction.flowtable.ct.CtState.RPL;
import static dev.junction.flowtable.ct.CtState.TRK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/** TCP state machine as conntrack-tcp.c: handshake, data, close, reset, invalid packets. */
class TcpTrackingTest
{
    static final int A = ip("10.0.0.1");
    static final int B = ip("10.0.0.2");

    private final CtHarness h = new CtHarness();

    private int c2s(final long seq, final long ack, final int flags, final long t)
    {
        return h.run(tcp(A, B, 1234, 80, seq, ack, flags), commit(), t);
    }

    private int s2c(final long seq, final long ack, final int flags, final long t)
    {
        return h.run(tcp(B, A, 80, 1234, seq, ack, flags), commit(), t);
    }

    private String state()
    {
        final List<String> d = h.ct.dump(-1);
        assertEquals(1, d.size(), d.toString());
        final String l = d.get(0);
        return l.substring(l.indexOf("state=") + 6, l.length() - 1);
    }

    @Test
    void handshakeDataAndFinClose()
    {
        assertEquals(TRK | NEW, c2s(1000, 0, SYN, SEC));
        assertEquals("SYN_SENT", state());
        assertEquals(TRK | EST | RPL, s2c(5000, 1001, SYN | ACK, SEC));
        assertEquals("ESTABLISHED", state());
        assertEquals(TRK | EST, c2s(1001, 5001, ACK, SEC));
        assertEquals(TRK | EST, h.run(tcp(A, B, 1234, 80, 1001, 5001, ACK | Frames.PSH, 65535, new byte[100]), commit(), SEC));
        assertEquals(TRK | EST | RPL, s2c(5001, 1101, ACK, SEC));
        assertEquals(TRK | EST, c2s(1101, 5001, FIN | ACK, SEC));
        assertEquals("CLOSING", state());
        assertEquals(TRK | EST | RPL, s2c(5001, 1102, FIN | ACK, SEC));
        assertEquals(TRK | EST, c2s(1102, 5002, ACK, SEC));
        assertEquals("TIME_WAIT", state()); // both FIN_WAIT_2, printed as TIME_WAIT
        assertEquals(1, h.ct.commits());
        assertEquals(1, h.ct.connections());
    }

    @Test
    void uncommittedSynIsNewAndNotKept()
    {
        assertEquals(TRK | NEW, h.run(tcp(A, B, 1234, 80, 1000, 0, SYN), CtHarness.Spec.ct(), SEC));
        assertEquals(0, h.ct.connections());
        assertEquals(TRK | NEW, h.run(tcp(A, B, 1234, 80, 1000, 0, SYN), CtHarness.Spec.ct(), SEC));
        assertTrue(h.ct.dump(-1).isEmpty());
    }

    @Test
    void synAckCannotStartAConnection()
    {
        assertEquals(TRK | INV, s2c(5000, 1001, SYN | ACK, SEC));
        assertEquals(0, h.ct.connections());
    }

    @Test
    void illegalFlagCombinationsAreInvalid()
    {
        assertEquals(TRK | INV, c2s(1000, 0, SYN | FIN, SEC));
        assertEquals(TRK | INV, c2s(1000, 0, 0, SEC)); // no SYN, ACK or RST
        assertEquals(TRK | INV, c2s(1000, 0, FIN, SEC)); // FIN without ACK
        c2s(1000, 0, SYN, SEC);
        assertEquals(TRK | INV, c2s(1001, 0, SYN | RST, SEC));
        assertEquals(4, h.ct.invalid());
    }

    @Test
    void outOfWindowIsInvalidAndStateUnchanged()
    {
        c2s(1000, 0, SYN, SEC);
        s2c(5000, 1001, SYN | ACK, SEC);
        c2s(1001, 5001, ACK, SEC);
        // Far beyond what the peer's window allows.
        assertEquals(TRK | INV, h.run(tcp(A, B, 1234, 80, 1001 + 10_000_000, 5001, ACK, 65535, new byte[10]), commit(), SEC));
        // Acking data never sent.
        assertEquals(TRK | INV, s2c(5001, 1001 + 50_000_000, ACK, SEC));
        assertEquals("ESTABLISHED", state());
        assertEquals(TRK | EST, c2s(1001, 5001, ACK, SEC));
    }

    @Test
    void sequenceCheckCanBeDisabled()
    {
        h.ct.setTcpSeqCheck(false);
        c2s(1000, 0, SYN, SEC);
        s2c(5000, 1001, SYN | ACK, SEC);
        assertEquals(TRK | EST, h.run(tcp(A, B, 1234, 80, 1001 + 10_000_000, 5001, ACK, 65535, new byte[10]), commit(), SEC));
    }

    @Test
    void resetNeedsExactSequenceAndClosesToTimeWait()
    {
        c2s(1000, 0, SYN, SEC);
        s2c(5000, 1001, SYN | ACK, SEC);
        c2s(1001, 5001, ACK, SEC);
        assertEquals(TRK | INV, s2c(5000 + 30_000, 1001, RST | ACK, SEC)); // in window but not exact
        assertEquals("ESTABLISHED", state());
        assertEquals(TRK | EST | RPL, s2c(5001, 1001, RST | ACK, SEC));
        assertEquals("TIME_WAIT", state());
    }

    @Test
    void synAfterCloseStartsANewConnection()
    {
        c2s(1000, 0, SYN, SEC);
        s2c(5000, 1001, SYN | ACK, SEC);
        c2s(1001, 5001, ACK, SEC);
        s2c(5001, 1001, RST | ACK, SEC);
        assertEquals(TRK | NEW, c2s(90000, 0, SYN, 2 * SEC));
        assertEquals("SYN_SENT", state()); // the old one is expired (awaiting the sweep) and not dumped
        assertEquals(2, h.ct.connections());
        assertEquals(1, h.ct.sweep(2 * SEC));
        assertEquals(1, h.ct.connections());
    }

    @Test
    void retransmittedSynIsStillNew()
    {
        assertEquals(TRK | NEW, c2s(1000, 0, SYN, SEC));
        assertEquals(TRK | NEW, c2s(1000, 0, SYN, 2 * SEC));
        assertEquals(1, h.ct.connections());
    }

    @Test
    void midstreamPickupIsLiberal()
    {
        // A connection first seen established (no SYN): OVS accepts and tracks it with unknown window scale.
        assertEquals(TRK | NEW, c2s(7777, 4444, ACK, SEC));
        assertEquals(TRK | EST | RPL, s2c(4444, 7777, ACK, SEC));
        assertEquals(TRK | EST, h.run(tcp(A, B, 1234, 80, 7777, 4444, ACK, 100, new byte[1000]), commit(), SEC));
    }

    @Test
    void timeoutsFollowTheState()
    {
        c2s(1000, 0, SYN, 0);
        // SYN_SENT: 30 s
        assertEquals(TRK | EST | RPL, s2c(5000, 1001, SYN | ACK, 29 * SEC));
        c2s(1001, 5001, ACK, 29 * SEC);
        // ESTABLISHED: 24 h
        assertEquals(TRK | EST, c2s(1001, 5001, ACK, 29 * SEC + 86_399 * SEC));
        assertEquals(0, h.ct.sweep(29 * SEC + 86_399 * SEC + 86_399 * SEC));
        assertEquals(1, h.ct.sweep(29 * SEC + 86_399 * SEC + 86_400 * SEC));
        assertEquals(1, h.ct.expired());
    }

    @Test
    void firstSynExpiresAfterThirtySeconds()
    {
        c2s(1000, 0, SYN, 0);
        assertEquals(1, h.ct.dump(-1, 29_999_999_999L).size());
        assertEquals(0, h.ct.dump(-1, 30 * SEC).size());
        // An expired connection is absent: the SYN-ACK now cannot start one.
        assertEquals(TRK | INV, s2c(5000, 1001, SYN | ACK, 30 * SEC));
    }
}
