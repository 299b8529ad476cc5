package dev.junction.datapath;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.junction.datapath.cache.CacheConfig;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.ofp.FlowParseException;
import dev.junction.flowtable.ofp.FlowParser;
import dev.junction.flowtable.ofp.FlowTables;
import dev.junction.flowtable.ofp.GroupParser;
import dev.junction.flowtable.ofp.GroupTable;
import dev.junction.geneve.IpPrefix;
import dev.junction.geneve.TlvMap;
import dev.junction.geneve.TunnelPort;
import dev.junction.geneve.TunnelType;
import dev.junction.geneve.Tunnels;
import dev.junction.geneve.Underlay;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Datapath#receive} end to end on arbitrary frames: a few packets per input, each on one
 * of the bridge's ports (the underlay port included), through a small table set that has
 * conntrack with NAT, a select group, learn, NORMAL, VLAN actions, the controller and a Geneve
 * tunnel. It never throws, and every packet is forwarded or counted as a drop. Each input gets a
 * fresh datapath, so a finding replays on its own.
 *
 * <p>Seeds: {@code src/test/resources/dev/junction/datapath/DatapathFuzzTestInputs/receive/}:
 * frames followed by the port and timestamp bytes the test reads from the input's end.
 */
class DatapathFuzzTest
{
    private static final int[] PORTS = {1, 2, 3, 9};
    private static final int UNDERLAY = 9;
    private static final int GENEVE = 10;

    private static final List<String> FLOWS = List.of(
        "table=0,priority=200,in_port=10,actions=output:1",
        "table=0,priority=150,dl_vlan=5,actions=strip_vlan,output:3",
        "table=0,priority=140,ipv6,actions=push_vlan:0x8100,set_field:4101->vlan_vid,output:2",
        "table=0,priority=130,icmp6,icmp_type=128,actions=controller",
        "table=0,priority=100,ip,actions=ct(table=10,zone=5,nat)",
        "table=0,priority=50,arp,actions=NORMAL",
        "table=0,priority=0,actions=drop",
        "table=10,priority=300,ct_state=+inv+trk,actions=drop",
        "table=10,priority=200,ct_state=-new+est+trk,ip,actions=resubmit(,30)",
        "table=10,priority=200,ct_state=-new+rel+trk,ip,actions=resubmit(,30)",
        "table=10,priority=100,ct_state=+new+trk,tcp,nw_dst=10.96.0.10,tp_dst=80,actions=resubmit(,20),resubmit(,21)",
        "table=10,priority=90,ct_state=+new+trk,udp,actions=ct(commit,zone=5,nat(src=10.0.0.100-10.0.0.101:1024-1030)),resubmit(,30)",
        "table=10,priority=0,actions=drop",
        "table=21,priority=200,tcp,reg10=0x4000/0x4000,reg4=0x0af40106,"
            + "actions=ct(commit,zone=5,nat(dst=10.244.1.6:8080),exec(set_field:0x2->ct_mark),table=30)",
        "table=21,priority=100,tcp,actions=group:1",
        "table=22,priority=100,tcp,actions=learn(table=20,idle_timeout=10800,eth_type=0x800,NXM_OF_IP_SRC[],"
            + "ip_dst=10.96.0.10,nw_proto=6,tcp_dst=80,load:0x1->NXM_NX_REG10[14],load:NXM_NX_REG4[]->NXM_NX_REG4[]),"
            + "load:0x1->NXM_NX_REG10[14],resubmit(,21)",
        "table=30,priority=100,ip,nw_dst=10.244.1.6,actions=mod_dl_src:0a:58:0a:f4:01:01,mod_dl_dst:0a:58:0a:f4:01:06,"
            + "dec_ttl,output:2",
        "table=30,priority=100,ip,nw_dst=10.244.0.5,actions=mod_dl_src:0a:58:0a:f4:00:01,dec_ttl,output:1",
        "table=30,priority=90,ip,nw_dst=10.9.0.0/16,actions=set_field:172.31.1.2->tun_dst,set_field:0x5->tun_id,"
            + "set_field:0x10002->tun_metadata0,output:10",
        "table=30,priority=0,actions=check_pkt_larger(200)->NXM_NX_REG0[0],resubmit(,31)",
        "table=31,priority=10,reg0=0x1/0x1,actions=output:3",
        "table=31,priority=0,actions=output:2,output:3");
    private static final String GROUP = "group_id=1,type=select,selection_method=hash,fields(ip_src,tcp_src),"
        + "bucket=bucket_id=0,weight:100,actions=load:0x0af40106->NXM_NX_REG4[],resubmit(,22),"
        + "bucket=bucket_id=1,weight:100,actions=load:0x0af40107->NXM_NX_REG4[],resubmit(,22)";

    private static final Tunnels SLOTS_FROM = tunnels();
    /** Parsed once: a table version is immutable (learned flows make new versions in each input's bridge). */
    private static final FlowTables TABLES = tables(SLOTS_FROM);

    private long sent;

    @FuzzTest(maxDuration = "15s")
    void receive(final FuzzedDataProvider data)
    {
        final Tunnels tunnels = tunnels();
        final Bridge bridge = new Bridge(TABLES).tunnels(tunnels);
        long clock = 1_000_000_000L;
        final Datapath dp = new Datapath(bridge, PORTS, (port, p) -> sent++, Datapath.DEFAULT_MTU, 1,
            CacheConfig.DEFAULTS.withEmc(8192, 1), () -> 0L).packetTime(true);
        final int packets = data.consumeInt(1, 4);
        for (int i = 0; i < packets && data.remainingBytes() > 0; i++)
        {
            final int port = PORTS[data.consumeInt(0, PORTS.length - 1)];
            clock += data.consumeLong(0, 20_000_000_000L);
            final byte[] frame = i == packets - 1 ? data.consumeRemainingAsBytes() : data.consumeBytes(data.consumeInt(0, 1600));
            final Packet p = new Packet(frame.length);
            p.wrap(frame, 0, frame.length);
            p.inPort = port;
            p.timestampNanos = clock;

            final long sentBefore = sent;
            final long dropsBefore = drops(dp);
            final long inBefore = dp.packetsIn();
            dp.receive(p, null);
            if (frame.length < 14)
            {
                assertEquals(inBefore, dp.packetsIn(), "a runt is not received");
            }
            else
            {
                assertEquals(inBefore + 1, dp.packetsIn());
            }
            assertTrue(sent > sentBefore || drops(dp) > dropsBefore, "packet " + i + " neither forwarded nor counted as a drop");
        }
    }

    private static long drops(final Datapath dp)
    {
        long n = 0;
        for (final DropReason r : DropReason.values())
        {
            n += dp.drops(r);
        }
        return n;
    }

    private static Tunnels tunnels()
    {
        final Underlay u = new Underlay(UNDERLAY, 0xaa55aa550001L).address(IpPrefix.parse("172.31.1.1/24"))
            .address(IpPrefix.parse("fd00:31::1/64")).neighbour(IpPrefix.address("172.31.1.2"), 0xaa55aa550002L);
        return new Tunnels(u, new TlvMap().parse("{class=0x102,type=0x80,len=4}->tun_metadata0"),
            List.of(TunnelPort.of(GENEVE, TunnelType.GENEVE, null, true, 0, true)));
    }

    private static FlowTables tables(final Tunnels tunnels)
    {
        try
        {
            final GroupTable groups = new GroupParser("groups").parseAll(List.of(GROUP));
            return new FlowTables(new FlowParser("flows").groups(groups).tunMetadata(tunnels.tlvMap().slots()).parseAll(FLOWS),
                groups);
        }
        catch (final FlowParseException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
