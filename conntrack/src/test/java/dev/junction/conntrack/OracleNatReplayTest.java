package dev.junction.conntrack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * NAT output bytes compared with a real OVS 3.1 run (ovs-oracle, flows in
 * {@code oracle/nat.flows}): SNAT of TCP, UDP (a port clash), ICMP echo, an ICMP error quoting
 * a translated packet, a zero-checksum UDP datagram, IPv6 UDP and TCP in zone 6; replies
 * through {@code ct(nat)}. Each output frame carries its ct_state in the Ethernet source's low
 * 32 bits, as the flows put it there.
 */
class OracleNatReplayTest
{
    private static final int N = Frames.ip("192.168.1.1");
    private static final long[] N6 = Frames.ip6("2001:db8::99");

    @Test
    void outputBytesMatchOvs() throws IOException
    {
        final List<byte[]> in = OracleTcpReplayTest.readPcap("/oracle/nat.pcap");
        final List<byte[]> port2 = new ArrayList<>();
        final List<byte[]> port3 = new ArrayList<>();
        final CtHarness h = new CtHarness();
        for (final byte[] f : in)
        {
            final boolean v6 = Frames.u16(f, 12) == 0x86dd;
            final boolean toNat = v6 ? NatTest.Frames6.dst(f)[0] == N6[0]
                && NatTest.Frames6.dst(f)[1] == N6[1] : Frames.u32(f, 30) == (N & 0xffffffffL);
            final int zone = v6 ? 6 : 0;
            final CtHarness.Spec spec = toNat ? CtHarness.Spec.ct().zone(zone).nat()
                : v6 ? CtHarness.Spec.commit().zone(zone).snat6(N6) : CtHarness.Spec.commit().snat(N, N);
            final int state = h.run(f, spec, CtHarness.SEC);
            final byte[] out = h.frame();
            out[8] = (byte)(state >>> 24);
            out[9] = (byte)(state >>> 16);
            out[10] = (byte)(state >>> 8);
            out[11] = (byte)state;
            (toNat ? port3 : port2).add(out);
        }
        assertFrames(OracleTcpReplayTest.readPcap("/oracle/nat.out2.pcap"), port2);
        assertFrames(OracleTcpReplayTest.readPcap("/oracle/nat.out3.pcap"), port3);
        final List<String> dump = h.ct.dump(-1);
        dump.sort(null);
        assertEquals(OracleTcpReplayTest.text("/oracle/nat.conntrack").trim(), String.join("\n", dump));
    }

    private static void assertFrames(final List<byte[]> expected, final List<byte[]> actual)
    {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++)
        {
            assertArrayEquals(expected.get(i), actual.get(i), "frame " + (i + 1));
        }
    }
}
