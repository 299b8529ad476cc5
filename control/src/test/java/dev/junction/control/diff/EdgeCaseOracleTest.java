package dev.junction.control.diff;

import dev.junction.control.diff.FlowCaseGenerator.FlowCase;
import dev.junction.control.diff.FlowCaseGenerator.Input;
import dev.junction.control.diff.FlowCaseGenerator.Packet;
import dev.junction.control.diff.PacketFactory.Checksum;
import dev.junction.control.diff.PacketFactory.Ip4;
import dev.junction.control.diff.PacketFactory.Ip6;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static dev.junction.control.diff.PacketFactory.ETH_ARP;
import static dev.junction.control.diff.PacketFactory.ETH_IPV4;
import static dev.junction.control.diff.PacketFactory.ETH_IPV6;
import static dev.junction.control.diff.PacketFactory.IPV4;
import static dev.junction.control.diff.PacketFactory.IPV6;
import static dev.junction.control.diff.PacketFactory.IPV6_SEGMENTS;
import static dev.junction.control.diff.PacketFactory.MACS;
import static dev.junction.control.diff.PacketFactory.PROTO_ICMP;
import static dev.junction.control.diff.PacketFactory.PROTO_ICMPV6;
import static dev.junction.control.diff.PacketFactory.PROTO_NONE;
import static dev.junction.control.diff.PacketFactory.PROTO_TCP;
import static dev.junction.control.diff.PacketFactory.PROTO_UDP;
import static dev.junction.control.diff.PacketFactory.TCP_ACK;
import static dev.junction.control.diff.PacketFactory.TCP_PSH;
import static dev.junction.control.diff.PacketFactory.TCP_SYN;
import static dev.junction.control.diff.PacketFactory.TPID_8021AD;
import static dev.junction.control.diff.PacketFactory.TPID_8021Q;

/**
 * Hand-picked cases for the corners where a switch most easily differs from OVS. Each is judged
 * exactly like a generated case: OVS's output is the expectation, nothing here is typed by hand.
 */
class EdgeCaseOracleTest
{
    private static final byte[] A = MACS[0];
    private static final byte[] B = MACS[1];
    private static final int[] UNTAGGED = new int[0];
    private static final byte[] DATA = "junction-edge-case".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final long T0 = 1_700_000_000L * 1_000_000_000L;

    static Stream<Arguments> cases()
    {
        return Stream.of(
            truncatedHeaders(),
            ipv4OptionsWithModNwDst(),
            laterFragmentsWithModTpDst(),
            decTtlAtTtlZeroOneTwo(),
            qinqVlanOperations(),
            ipv6RoutingHeaderWithSetIpv6Dst(),
            udpZeroChecksumWithModNwSrc(),
            outputToInPortVersusInPortAction(),
            resubmitDepthLimit(),
            modVlanVidOnUntagged(),
            llcSnapFrames(),
            badIhlAndTotLen(),
            paddingBeyondTotLen(),
            neighborDiscovery(),
            unknownIpProtocols(),
            equalTimestampsAcrossInputs(),
            checkPktLargerAroundItsLength(),
            checkPktLargerNotLastAction()
        ).map(c -> Arguments.of(c.name(), c));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void replayMatchesOpenVswitch(final String name, final FlowCase flowCase) throws Exception
    {
        DifferentialOracleTest.verifyAgainstOracle(flowCase,
            "mvn -pl control test -Dtest='EdgeCaseOracleTest' (case \"" + name + "\")");
    }

    // ---- The cases ----

    private static FlowCase truncatedHeaders()
    {
        final byte[] tcp = eth(UNTAGGED, ETH_IPV4, tcp4(IPV4[0], IPV4[1], 64, 1234, 80));
        final byte[] tagged = eth(new int[]{ TPID_8021Q << 16 | 5 }, ETH_IPV4, udp4(IPV4[0], IPV4[2], 64, 53, 53));
        final byte[] udp6 = eth(UNTAGGED, ETH_IPV6,
            new Ip6().src(IPV6[0]).dst(IPV6[1]).hopByHop(false).build(PROTO_UDP, PacketFactory.udp(53, 53, DATA),
                Checksum.CORRECT));
        final byte[] arp = eth(UNTAGGED, ETH_ARP, PacketFactory.arp(1, A, IPV4[0], new byte[6], IPV4[1]));
        return flowCase("truncated headers",
            "priority=100,tcp,actions=mod_tp_dst:8080,mod_nw_src:10.0.0.9,output:2\n" +
            "priority=90,udp6,actions=set_field:99->udp_src,output:3\n" +
            "priority=80,ip,actions=mod_nw_dst:10.0.0.3,output:4\n" +
            "priority=70,arp,actions=set_field:10.0.0.9->arp_tpa,output:2\n" +
            "priority=60,dl_vlan=5,actions=strip_vlan,output:3\n" +
            "priority=0,actions=output:4\n",
            input(1,
                cut(tcp, 12), cut(tcp, 14), cut(tcp, 14 + 10), cut(tcp, 14 + 19), cut(tcp, 14 + 20 + 3),
                cut(tcp, 14 + 20 + 13), cut(tcp, 14 + 20 + 19), tcp,
                cut(tagged, 16), cut(tagged, 18), cut(tagged, 18 + 12), cut(tagged, 18 + 20 + 4), tagged,
                cut(udp6, 14 + 30), cut(udp6, 14 + 40 + 4), cut(udp6, 14 + 48 + 6), udp6,
                cut(arp, 14 + 7), cut(arp, 14 + 20), arp));
    }

    private static FlowCase ipv4OptionsWithModNwDst()
    {
        final byte[] routerAlert = { (byte)0x94, 4, 0, 0 };
        final byte[] recordRoute = new byte[12];
        recordRoute[0] = 7;
        recordRoute[1] = 11;
        recordRoute[2] = 4;
        final byte[] maxOptions = new byte[40];
        Arrays.fill(maxOptions, (byte)1);
        return flowCase("ipv4 options with mod_nw_dst",
            "priority=100,tcp,actions=mod_nw_dst:10.0.0.3,output:2\n" +
            "priority=90,udp,actions=mod_nw_src:10.0.0.4,mod_tp_dst:53,output:3\n" +
            "priority=80,ip,actions=mod_nw_dst:10.0.0.2,dec_ttl,output:4\n",
            input(1,
                eth(UNTAGGED, ETH_IPV4, new Ip4().src(IPV4[0]).dst(IPV4[1]).options(routerAlert)
                    .build(PROTO_TCP, tcpSegment(1234, 80), Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV4, new Ip4().src(IPV4[0]).dst(IPV4[1]).options(recordRoute)
                    .build(PROTO_UDP, PacketFactory.udp(5000, 53, DATA), Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV4, new Ip4().src(IPV4[0]).dst(IPV4[1]).options(maxOptions)
                    .build(PROTO_TCP, tcpSegment(1234, 80), Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV4, new Ip4().src(IPV4[0]).dst(IPV4[1]).options(recordRoute)
                    .build(PROTO_ICMP, PacketFactory.icmp(8, 0, 0x00010001, DATA), Checksum.CORRECT))));
    }

    private static FlowCase laterFragmentsWithModTpDst()
    {
        final byte[] udp = PacketFactory.udp(5000, 53, new byte[40]);
        return flowCase("later fragments with mod_tp_dst",
            "priority=100,udp,actions=mod_tp_dst:9999,output:2\n" +
            "priority=100,udp6,actions=set_field:9999->udp_dst,output:3\n" +
            "priority=90,ip,ip_frag=later,actions=mod_nw_dst:10.0.0.4,output:4\n" +
            "priority=200,tcp,ip_frag=first,actions=mod_tp_src:7,output:4\n",
            input(1,
                eth(UNTAGGED, ETH_IPV4, new Ip4().id(7).fragment(0, true, 16).build(PROTO_UDP, udp, Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV4, new Ip4().id(7).fragment(2, true, 16).build(PROTO_UDP, udp, Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV4, new Ip4().id(7).fragment(4, false, -1).build(PROTO_UDP, udp, Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV4, new Ip4().id(8).fragment(0, true, 24)
                    .build(PROTO_TCP, tcpSegment(1234, 80), Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV4, new Ip4().id(8).fragment(3, false, -1)
                    .build(PROTO_TCP, tcpSegment(1234, 80), Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV6, new Ip6().fragment(0, true, 16).build(PROTO_UDP, udp, Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV6, new Ip6().fragment(2, false, -1).build(PROTO_UDP, udp, Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV6, new Ip6().hopByHop(true).fragment(1, true, 8)
                    .build(PROTO_UDP, udp, Checksum.CORRECT))));
    }

    private static FlowCase decTtlAtTtlZeroOneTwo()
    {
        final List<byte[]> frames = new ArrayList<>();
        for (final int ttl : new int[]{ 0, 1, 2, 3, 64 })
        {
            frames.add(eth(UNTAGGED, ETH_IPV4, udp4(IPV4[0], IPV4[1], ttl, 5000, 53)));
            frames.add(eth(UNTAGGED, ETH_IPV6, new Ip6().hopLimit(ttl)
                .build(PROTO_UDP, PacketFactory.udp(5000, 53, DATA), Checksum.CORRECT)));
        }
        return flowCase("dec_ttl at TTL 0/1/2 followed by output",
            "in_port=1,ip,actions=dec_ttl,output:2,dec_ttl,output:3\n" +
            "in_port=1,ipv6,actions=output:4,dec_ttl,output:2\n" +
            "in_port=2,ip,actions=dec_ttl,resubmit(,1)\n" +
            "table=1,ip,actions=mod_nw_tos:8,output:3\n",
            input(1, frames.toArray(new byte[0][])),
            input(2, frames.get(0), frames.get(2), frames.get(4)));
    }

    private static FlowCase qinqVlanOperations()
    {
        final byte[] payload = tcp4(IPV4[0], IPV4[1], 64, 1234, 80);
        final int[] qinq = { TPID_8021AD << 16 | 100, TPID_8021Q << 16 | 3 << 13 | 5 };
        final int[] single = { TPID_8021Q << 16 | 5 };
        return flowCase("QinQ with strip_vlan/push_vlan/mod_vlan_vid",
            "in_port=1,dl_vlan=100,actions=strip_vlan,output:2,mod_vlan_vid:7,output:3,strip_vlan,output:4\n" +
            "in_port=2,dl_vlan=5,actions=push_vlan:0x88a8,set_field:4196->vlan_vid,output:3,pop_vlan,pop_vlan,output:4\n" +
            "in_port=3,actions=push_vlan:0x8100,set_field:4101->vlan_vid,push_vlan:0x88a8,output:4,mod_vlan_pcp:5,output:2\n" +
            "in_port=4,vlan_tci=0x1000/0x1000,actions=mod_vlan_vid:9,mod_vlan_pcp:7,output:1\n",
            input(1, eth(qinq, ETH_IPV4, payload), eth(single, ETH_IPV4, payload)),
            input(2, eth(single, ETH_IPV4, payload), eth(qinq, ETH_IPV4, payload)),
            input(3, eth(UNTAGGED, ETH_IPV4, payload), eth(single, ETH_IPV4, payload)),
            input(4, eth(qinq, ETH_IPV4, payload), eth(new int[]{ TPID_8021Q << 16 | 0 }, ETH_IPV4, payload)));
    }

    private static FlowCase ipv6RoutingHeaderWithSetIpv6Dst()
    {
        final byte[][] segments = { IPV6_SEGMENTS[0], IPV6_SEGMENTS[1], IPV6_SEGMENTS[2] };
        return flowCase("IPv6 routing header (segleft>0) with set_field ipv6_dst",
            "priority=100,udp6,actions=set_field:fe80::4->ipv6_dst,output:2\n" +
            "priority=100,tcp6,actions=set_field:fe80::3->ipv6_dst,set_field:fe80::9->ipv6_src,output:3\n" +
            "priority=100,icmp6,actions=set_field:fe80::2->ipv6_dst,output:4\n",
            input(1,
                eth(UNTAGGED, ETH_IPV6, new Ip6().dst(IPV6_SEGMENTS[0]).routing(0, segments)
                    .build(PROTO_UDP, PacketFactory.udp(5000, 53, DATA), Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV6, new Ip6().routing(2, segments)
                    .build(PROTO_UDP, PacketFactory.udp(5000, 53, DATA), Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV6, new Ip6().hopByHop(false).routing(1, segments).destinationOptions()
                    .build(PROTO_TCP, tcpSegment(1234, 80), Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV6, new Ip6().routing(3, segments)
                    .build(PROTO_ICMPV6, PacketFactory.icmp6(128, 0, 0x00010001, DATA), Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV6, new Ip6().routing(1, segments).fragment(0, true, 8)
                    .build(PROTO_UDP, PacketFactory.udp(5000, 53, DATA), Checksum.CORRECT))));
    }

    private static FlowCase udpZeroChecksumWithModNwSrc()
    {
        return flowCase("UDP zero checksum with mod_nw_src",
            "priority=100,udp,actions=mod_nw_src:10.0.0.9,output:2,mod_tp_src:1234,output:3\n" +
            "priority=100,udp6,actions=set_field:fe80::9->ipv6_src,output:4\n",
            input(1,
                eth(UNTAGGED, ETH_IPV4, new Ip4().build(PROTO_UDP, PacketFactory.udp(5000, 53, DATA), Checksum.ZERO)),
                eth(UNTAGGED, ETH_IPV4, new Ip4().build(PROTO_UDP, PacketFactory.udp(5000, 53, DATA),
                    Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV4, new Ip4().build(PROTO_UDP, PacketFactory.udp(5000, 53, new byte[0]),
                    Checksum.ZERO)),
                eth(UNTAGGED, ETH_IPV6, new Ip6().build(PROTO_UDP, PacketFactory.udp(5000, 53, DATA), Checksum.ZERO))));
    }

    private static FlowCase outputToInPortVersusInPortAction()
    {
        final byte[] frame = eth(UNTAGGED, ETH_IPV4, udp4(IPV4[0], IPV4[1], 64, 5000, 53));
        return flowCase("output to in_port vs in_port action",
            "in_port=1,actions=output:1\n" +
            "in_port=2,actions=in_port\n" +
            "in_port=3,actions=output:3,in_port,output:in_port,output:4\n" +
            "in_port=4,actions=resubmit(1,1),output:4,load:1->NXM_OF_IN_PORT[],output:1,output:4\n" +
            "table=1,in_port=1,actions=output:1,output:2\n",
            input(1, frame), input(2, frame), input(3, frame), input(4, frame));
    }

    private static FlowCase resubmitDepthLimit()
    {
        // Only a resubmit to the same or a lower table deepens OVS's recursion; past 64 of them
        // the whole packet is dropped, outputs already translated included. Forward chains never
        // count. Ports 1-3 enter a descending chain 63, 64 and 65 deep; port 4 sends one packet
        // down a 100-table forward chain and one into a self-loop that outputs before recursing.
        final StringBuilder flows = new StringBuilder();
        flows.append("table=0,priority=100,in_port=1,actions=load:1->NXM_NX_REG0[],resubmit(,63)\n");
        flows.append("table=0,priority=100,in_port=2,actions=load:1->NXM_NX_REG0[],resubmit(,64)\n");
        flows.append("table=0,priority=100,in_port=3,actions=load:1->NXM_NX_REG0[],resubmit(,65)\n");
        flows.append("table=0,priority=150,in_port=4,udp,tp_src=5005,actions=resubmit(,100)\n");
        flows.append("table=0,priority=100,in_port=4,actions=output:1,resubmit(,80)\n");
        flows.append("table=0,priority=200,reg0=1,actions=output:1,output:2,output:3,output:4\n");
        for (int t = 1; t < 70; t++)
        {
            flows.append("table=").append(t).append(",actions=resubmit(,").append(t - 1).append(")\n");
        }
        flows.append("table=80,actions=output:2,resubmit(,80)\n");
        for (int t = 100; t < 200; t++)
        {
            flows.append("table=").append(t).append(",actions=resubmit(,").append(t + 1).append(")\n");
        }
        flows.append("table=200,actions=output:3\n");
        return flowCase("resubmit depth limit", flows.toString(),
            input(1, eth(UNTAGGED, ETH_IPV4, udp4(IPV4[0], IPV4[1], 64, 5001, 53))),
            input(2, eth(UNTAGGED, ETH_IPV4, udp4(IPV4[0], IPV4[1], 64, 5002, 53))),
            input(3, eth(UNTAGGED, ETH_IPV4, udp4(IPV4[0], IPV4[1], 64, 5003, 53))),
            input(4, eth(UNTAGGED, ETH_IPV4, udp4(IPV4[0], IPV4[1], 64, 5004, 53)),
                eth(UNTAGGED, ETH_IPV4, udp4(IPV4[0], IPV4[1], 64, 5005, 53))));
    }

    private static FlowCase modVlanVidOnUntagged()
    {
        final byte[] payload = udp4(IPV4[0], IPV4[1], 64, 5000, 53);
        return flowCase("mod_vlan_vid on an untagged packet",
            "table=0,in_port=1,actions=mod_vlan_vid:10,output:2,resubmit(,1)\n" +
            "table=1,actions=mod_vlan_pcp:6,output:3\n" +
            "table=0,in_port=2,dl_vlan=5,actions=mod_vlan_vid:10,output:4\n" +
            "table=0,in_port=2,priority=1,actions=mod_vlan_pcp:2,output:4\n",
            input(1, eth(UNTAGGED, ETH_IPV4, payload), eth(new int[]{ TPID_8021Q << 16 | 5 }, ETH_IPV4, payload),
                eth(new int[]{ TPID_8021AD << 16 | 100, TPID_8021Q << 16 | 5 }, ETH_IPV4, payload)),
            input(2, eth(UNTAGGED, ETH_IPV4, payload), eth(new int[]{ TPID_8021Q << 16 | 5 }, ETH_IPV4, payload)));
    }

    private static FlowCase llcSnapFrames()
    {
        return flowCase("LLC/SNAP and plain LLC frames",
            "priority=100,ip,actions=mod_nw_dst:10.0.0.3,output:2\n" +
            "priority=100,arp,actions=output:3\n" +
            "priority=100,dl_type=0x05ff,actions=output:4\n" +
            "priority=0,actions=output:1\n",
            input(1,
                PacketFactory.llcSnap(B, A, UNTAGGED, ETH_IPV4, tcp4(IPV4[0], IPV4[1], 64, 1234, 80)),
                PacketFactory.llcSnap(B, A, UNTAGGED, ETH_ARP, PacketFactory.arp(1, A, IPV4[0], new byte[6], IPV4[1])),
                PacketFactory.llcSnap(B, A, new int[]{ TPID_8021Q << 16 | 5 }, ETH_IPV4, udp4(IPV4[0], IPV4[1], 64, 1, 2)),
                PacketFactory.llc(B, A, UNTAGGED, 0x42, 0x42, 0x03, DATA),
                PacketFactory.llc(B, A, UNTAGGED, 0xaa, 0xaa, 0x03, new byte[]{ 0, 0x0c, 0x01, 0x08, 0x00 })));
    }

    private static FlowCase badIhlAndTotLen()
    {
        final byte[] udp = PacketFactory.udp(5000, 53, DATA);
        return flowCase("bad IHL and tot_len beyond the frame",
            "priority=100,udp,actions=mod_nw_src:10.0.0.9,mod_tp_dst:7,output:2\n" +
            "priority=90,ip,actions=mod_nw_dst:10.0.0.3,output:3\n" +
            "priority=0,actions=output:4\n",
            input(1,
                eth(UNTAGGED, ETH_IPV4, new Ip4().ihlOverride(4).build(PROTO_UDP, udp, Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV4, new Ip4().ihlOverride(0).build(PROTO_UDP, udp, Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV4, new Ip4().ihlOverride(15).build(PROTO_UDP, udp, Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV4, new Ip4().totLenDelta(20).build(PROTO_UDP, udp, Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV4, new Ip4().totLenDelta(-30).build(PROTO_UDP, udp, Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV4, new Ip4().badChecksum(true).build(PROTO_UDP, udp, Checksum.BAD))));
    }

    private static FlowCase paddingBeyondTotLen()
    {
        return flowCase("padding beyond tot_len with rewrites",
            "priority=100,tcp,actions=mod_nw_src:10.0.0.9,mod_tp_dst:8080,output:2\n" +
            "priority=100,udp,actions=dec_ttl,mod_tp_src:7,output:3\n" +
            "priority=100,icmp,actions=set_field:0->icmp_type,output:4\n" +
            "priority=100,udp6,actions=set_field:fe80::9->ipv6_dst,output:4\n",
            input(1,
                PacketFactory.pad(eth(UNTAGGED, ETH_IPV4, new Ip4().build(PROTO_TCP,
                    PacketFactory.tcp(1234, 80, 1, 0, TCP_SYN, new byte[0], new byte[0]), Checksum.CORRECT)), 60),
                PacketFactory.pad(eth(UNTAGGED, ETH_IPV4, new Ip4().build(PROTO_UDP,
                    PacketFactory.udp(5000, 53, new byte[]{ 1, 2 }), Checksum.CORRECT)), 60),
                PacketFactory.pad(eth(UNTAGGED, ETH_IPV4, new Ip4().build(PROTO_ICMP,
                    PacketFactory.icmp(8, 0, 0x00010001, new byte[0]), Checksum.CORRECT)), 60),
                PacketFactory.concat(eth(UNTAGGED, ETH_IPV4, udp4(IPV4[0], IPV4[1], 64, 5000, 53)),
                    new byte[]{ (byte)0xde, (byte)0xad, (byte)0xbe, (byte)0xef }),
                PacketFactory.pad(eth(new int[]{ TPID_8021Q << 16 | 5 }, ETH_IPV6, new Ip6()
                    .build(PROTO_UDP, PacketFactory.udp(5000, 53, new byte[0]), Checksum.CORRECT)), 90)));
    }

    /**
     * check_pkt_larger(1400) with frames of 1399, 1400 and 1401 bytes (untagged and tagged),
     * check_pkt_larger(50) with a 42-byte UDP frame padded to 60, check_pkt_larger(59) with ARP of
     * 42 and (padded) 60 bytes: which length OVS compares (the frame without the padding beyond
     * the IP length, VLAN tags included) decides the port each leaves on.
     */
    private static FlowCase checkPktLargerAroundItsLength()
    {
        return flowCase("check_pkt_larger around its length",
            "priority=100,udp,actions=check_pkt_larger(1400)->NXM_NX_REG0[0],resubmit(,1)\n" +
            "priority=110,udp,tp_dst=9,actions=check_pkt_larger(50)->reg1[3],resubmit(,2)\n" +
            "priority=100,arp,actions=check_pkt_larger(59)->reg1[3],resubmit(,2)\n" +
            "table=1,priority=100,reg0=0x1/0x1,actions=mod_nw_tos:16,output:3\n" +
            "table=1,priority=0,actions=output:2\n" +
            "table=2,priority=100,reg1=0x8/0x8,actions=output:3\n" +
            "table=2,priority=0,actions=output:4\n",
            input(1,
                udpFrame(UNTAGGED, 1399), udpFrame(UNTAGGED, 1400), udpFrame(UNTAGGED, 1401),
                udpFrame(new int[]{ TPID_8021Q << 16 | 5 }, 1400), udpFrame(new int[]{ TPID_8021Q << 16 | 5 }, 1401),
                udpFrame(UNTAGGED, 1401), udpFrame(UNTAGGED, 1399),
                PacketFactory.pad(eth(UNTAGGED, ETH_IPV4, new Ip4().src(IPV4[0]).dst(IPV4[1]).build(PROTO_UDP,
                    PacketFactory.udp(5000, 9, new byte[0]), Checksum.CORRECT)), 60),
                PacketFactory.pad(eth(UNTAGGED, ETH_ARP, PacketFactory.arp(1, A, IPV4[0], new byte[6], IPV4[1])), 60),
                eth(UNTAGGED, ETH_ARP, PacketFactory.arp(1, A, IPV4[0], new byte[6], IPV4[1]))));
    }

    /**
     * A check_pkt_len that is not the last datapath action (the resubmit's caller outputs
     * after it): the branch rewrites its own copy, the later output sends the packet unchanged.
     */
    private static FlowCase checkPktLargerNotLastAction()
    {
        return flowCase("check_pkt_larger before the caller's own output",
            "priority=100,udp,actions=resubmit(,3),output:4\n" +
            "table=3,priority=100,actions=check_pkt_larger(200)->reg2[0],resubmit(,4)\n" +
            "table=4,priority=100,reg2=1,actions=mod_nw_dst:10.9.9.9,output:2\n" +
            "table=4,priority=0,actions=mod_dl_dst:02:00:00:00:00:99,output:3\n",
            input(1, udpFrame(UNTAGGED, 200), udpFrame(UNTAGGED, 201), udpFrame(UNTAGGED, 120), udpFrame(UNTAGGED, 900)));
    }

    /** A UDP frame of exactly {@code length} bytes (Ethernet header and tags included). */
    private static byte[] udpFrame(final int[] tags, final int length)
    {
        final int payload = length - 14 - 4 * tags.length - 20 - 8;
        return eth(tags, ETH_IPV4, new Ip4().src(IPV4[0]).dst(IPV4[1]).build(PROTO_UDP,
            PacketFactory.udp(5000, 53, new byte[payload]), Checksum.CORRECT));
    }

    private static FlowCase neighborDiscovery()
    {
        return flowCase("ND NS/NA with SLL/TLL and nd_target rewrites",
            "priority=100,icmp6,icmp_type=135,nd_target=fe80::2,actions=set_field:fe80::3->nd_target,output:2\n" +
            "priority=90,icmp6,icmp_type=135,actions=set_field:02:00:00:00:00:09->nd_sll,output:3\n" +
            "priority=100,icmp6,icmp_type=136,nd_tll=02:00:00:00:00:02,actions=set_field:02:00:00:00:00:09->nd_tll,output:4\n" +
            "priority=90,icmp6,icmp_type=136,actions=output:4\n",
            input(1,
                eth(UNTAGGED, ETH_IPV6, new Ip6().hopLimit(255).build(PROTO_ICMPV6,
                    PacketFactory.neighborSolicitation(IPV6[1], A), Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV6, new Ip6().hopLimit(255).build(PROTO_ICMPV6,
                    PacketFactory.neighborSolicitation(IPV6[2], null), Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV6, new Ip6().hopLimit(255).build(PROTO_ICMPV6,
                    PacketFactory.neighborSolicitation(IPV6[2], A), Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV6, new Ip6().hopLimit(255).build(PROTO_ICMPV6,
                    PacketFactory.neighborAdvertisement(0x6000_0000, IPV6[1], B), Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV6, new Ip6().hopLimit(255).build(PROTO_ICMPV6,
                    PacketFactory.neighborAdvertisement(0x2000_0000, IPV6[1], null), Checksum.CORRECT))));
    }

    private static FlowCase unknownIpProtocols()
    {
        return flowCase("IP proto 0 and unknown protocols",
            "priority=100,ip,nw_proto=0,actions=mod_nw_dst:10.0.0.4,output:2\n" +
            "priority=90,ip,actions=mod_nw_tos:16,output:3\n" +
            "priority=100,ipv6,nw_proto=59,actions=set_field:fe80::4->ipv6_dst,output:4\n" +
            "priority=90,ipv6,actions=mod_nw_ecn:1,output:4\n",
            input(1,
                eth(UNTAGGED, ETH_IPV4, new Ip4().build(0, DATA, Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV4, new Ip4().build(253, DATA, Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV6, new Ip6().build(PROTO_NONE, new byte[0], Checksum.CORRECT)),
                eth(UNTAGGED, ETH_IPV6, new Ip6().destinationOptions().build(253, DATA, Checksum.CORRECT))));
    }

    private static FlowCase equalTimestampsAcrossInputs()
    {
        // Every input sends at the same instants: order on port 4 must follow the --in order.
        final List<Input> inputs = new ArrayList<>();
        for (final int port : new int[]{ 3, 1, 2 })
        {
            final List<Packet> packets = new ArrayList<>();
            for (int i = 0; i < 5; i++)
            {
                final byte[] frame = eth(UNTAGGED, ETH_IPV4, udp4(IPV4[port - 1], IPV4[3], 64, 5000 + i, 53));
                packets.add(new Packet(T0 + (i / 2) * 1_000_000L, frame, "udp from port " + port + " #" + i));
            }
            inputs.add(new Input(port, packets));
        }
        return new FlowCase("equal timestamps across inputs", "actions=output:4\n", inputs, List.of());
    }

    // ---- Helpers ----

    private static FlowCase flowCase(final String name, final String flows, final Input... inputs)
    {
        return new FlowCase(name, flows, List.of(inputs), List.of());
    }

    /** One input; packets 1 ms apart, each input starting 0.5 ms after the previous port's. */
    private static Input input(final int port, final byte[]... frames)
    {
        final List<Packet> packets = new ArrayList<>();
        for (int i = 0; i < frames.length; i++)
        {
            packets.add(new Packet(T0 + i * 1_000_000L + port * 100_000L, frames[i], "edge #" + i));
        }
        return new Input(port, packets);
    }

    private static byte[] eth(final int[] tags, final int etherType, final byte[] payload)
    {
        return PacketFactory.ethernet(B, A, tags, etherType, payload);
    }

    private static byte[] cut(final byte[] frame, final int length)
    {
        return Arrays.copyOf(frame, length);
    }

    private static byte[] tcpSegment(final int sport, final int dport)
    {
        return PacketFactory.tcp(sport, dport, 1000, 2000, TCP_PSH | TCP_ACK, new byte[]{ 2, 4, 5, (byte)0xb4 }, DATA);
    }

    private static byte[] tcp4(final int src, final int dst, final int ttl, final int sport, final int dport)
    {
        return new Ip4().src(src).dst(dst).ttl(ttl).build(PROTO_TCP, tcpSegment(sport, dport), Checksum.CORRECT);
    }

    private static byte[] udp4(final int src, final int dst, final int ttl, final int sport, final int dport)
    {
        return new Ip4().src(src).dst(dst).ttl(ttl).build(PROTO_UDP, PacketFactory.udp(sport, dport, DATA),
            Checksum.CORRECT);
    }
}
