package dev.junction.conntrack;

import static dev.junction.conntrack.CtHarness.SEC;
import static dev.junction.conntrack.CtHarness.Spec.commit;
import static dev.junction.conntrack.Frames.ACK;
import static dev.junction.conntrack.Frames.FIN;
import static dev.junction.conntrack.Frames.RST;
import static dev.junction.conntrack.Frames.SYN;
import static dev.junction.conntrack.Frames.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The dump lines of a real OVS 3.1 run (ovs-oracle, sorted dpctl/dump-conntrack) for the same
 * packets and ct actions: tcp to/from port 22 ct(commit); other IPv4 ct(commit,zone=1,
 * exec(set_field:5->ct_mark,set_field:0x1234->ct_label)); IPv6 ct(commit,zone=2).
 */
class DumpFormatTest
{
    @Test
    void linesAsOvsPrintsThem()
    {
        final CtHarness h = new CtHarness();
        final CtHarness.Spec z1 = commit().zone(1).mark(5, 0xffffffffL).label(0, 0x1234, -1L, -1L);
        final CtHarness.Spec z0 = commit();
        h.run(Frames.tcp(ip("10.0.0.1"), ip("10.0.0.2"), 1234, 80, 1000, 0, SYN), z1, SEC);
        h.run(Frames.tcp(ip("10.0.0.2"), ip("10.0.0.1"), 80, 1234, 5000, 1001, SYN | ACK), z1, SEC);
        h.run(Frames.tcp(ip("10.0.0.1"), ip("10.0.0.2"), 1234, 80, 1001, 5001, ACK), z1, SEC);
        h.run(Frames.icmpEcho(ip("10.0.0.1"), ip("10.0.0.2"), 8, 77, 1), z1, SEC);
        h.run(Frames.icmpEcho(ip("10.0.0.2"), ip("10.0.0.1"), 0, 77, 1), z1, SEC);
        h.run(Frames.udp6(Frames.ip6("fe80::1"), Frames.ip6("2001:db8::2"), 5000, 53, new byte[] { 'x' }), commit().zone(2), SEC);
        h.run(Frames.udp(ip("10.0.0.3"), ip("10.0.0.4"), 4000, 4001, new byte[] { 'x' }), z1, SEC);
        h.run(Frames.tcp(ip("10.0.0.5"), ip("10.0.0.6"), 2000, 22, 1, 0, SYN), z0, SEC);
        h.run(Frames.tcp(ip("10.0.0.5"), ip("10.0.0.6"), 2000, 22, 2, 0, RST | ACK), z0, SEC);
        h.run(Frames.tcp(ip("10.0.0.7"), ip("10.0.0.6"), 2001, 22, 1, 0, SYN), z0, SEC);
        h.run(Frames.tcp(ip("10.0.0.6"), ip("10.0.0.7"), 22, 2001, 100, 2, SYN | ACK), z0, SEC);
        h.run(Frames.tcp(ip("10.0.0.7"), ip("10.0.0.6"), 2001, 22, 2, 101, ACK | FIN), z0, SEC);
        final List<String> d = h.ct.dump(-1);
        d.sort(null);
        assertEquals(List.of(
            "icmp,orig=(src=10.0.0.1,dst=10.0.0.2,id=77,type=8,code=0),reply=(src=10.0.0.2,dst=10.0.0.1,id=77,type=0,code=0),zone=1,mark=5,labels=0x1234",
            "tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1234,dport=80),reply=(src=10.0.0.2,dst=10.0.0.1,sport=80,dport=1234),zone=1,mark=5,labels=0x1234,protoinfo=(state=ESTABLISHED)",
            "tcp,orig=(src=10.0.0.5,dst=10.0.0.6,sport=2000,dport=22),reply=(src=10.0.0.6,dst=10.0.0.5,sport=22,dport=2000),protoinfo=(state=TIME_WAIT)",
            "tcp,orig=(src=10.0.0.7,dst=10.0.0.6,sport=2001,dport=22),reply=(src=10.0.0.6,dst=10.0.0.7,sport=22,dport=2001),protoinfo=(state=CLOSING)",
            "udp,orig=(src=10.0.0.3,dst=10.0.0.4,sport=4000,dport=4001),reply=(src=10.0.0.4,dst=10.0.0.3,sport=4001,dport=4000),zone=1,mark=5,labels=0x1234",
            "udp,orig=(src=fe80::1,dst=2001:db8::2,sport=5000,dport=53),reply=(src=2001:db8::2,dst=fe80::1,sport=53,dport=5000),zone=2"), d);
        assertEquals(2, h.ct.dump(0).size());
        assertEquals(1, h.ct.dump(2).size());
    }

    @Test
    void labelHexHasNoLeadingZerosAndOtherProtocolsPrintTheirNumber()
    {
        final StringBuilder sb = new StringBuilder();
        DumpFormat.hex(sb, 0x1L, 0xabL);
        assertEquals("0x100000000000000ab", sb.toString());
        final CtHarness h = new CtHarness();
        h.run(Frames.ipv4(ip("10.0.0.1"), ip("10.0.0.2"), 47, new byte[8]), commit().label(0x0f00L, 0, -1L, -1L), SEC);
        assertEquals("47,orig=(src=10.0.0.1,dst=10.0.0.2,sport=0,dport=0),reply=(src=10.0.0.2,dst=10.0.0.1,sport=0,dport=0),"
            + "labels=0xf000000000000000000", h.ct.dump(-1).get(0));
    }
}
