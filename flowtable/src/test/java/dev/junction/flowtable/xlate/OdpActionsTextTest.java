package dev.junction.flowtable.xlate;

import dev.junction.flowtable.Field;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.ofp.FlowParser;
import dev.junction.flowtable.ofp.FlowTables;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Datapath actions of translations printed as OVS 3.1's dpctl/dump-flows prints them: forms seen
 * in the oracle's megaflows.txt, the partly masked address as odp-util's format_eth writes it.
 */
class OdpActionsTextTest
{
    private static FlowKey udp(final int inPort)
    {
        final FlowKey k = new FlowKey();
        k.inPort(inPort);
        Field.DL_SRC.set(k.words, 0x020000000001L);
        Field.DL_DST.set(k.words, 0x020000000002L);
        Field.DL_TYPE.set(k.words, 0x0800);
        Field.NW_PROTO.set(k.words, 17);
        Field.NW_TTL.set(k.words, 64);
        return k;
    }

    private static String actions(final FlowKey key, final String... flows) throws Exception
    {
        final FlowTables tables = new FlowTables(new FlowParser("t").parseAll(List.of(flows)));
        final Translator t = new Translator(new BridgePorts(new int[] {1, 2, 3}));
        final OdpActions out = new OdpActions();
        assertTrue(t.translate(tables, key, 64, out, null));
        return out.describe();
    }

    @Test
    void bothAddressesSetWhollyAreOnePlainSet() throws Exception
    {
        assertEquals("set(eth(src=02:00:00:00:00:03,dst=02:00:00:00:00:04)),2", actions(udp(1),
            "actions=mod_dl_src:02:00:00:00:00:03,mod_dl_dst:02:00:00:00:00:04,output:2"));
    }

    @Test
    void oneAddressOrPartOfOneIsAMaskedSet() throws Exception
    {
        assertEquals("set(eth(dst=02:00:00:00:00:04)),2", actions(udp(1),
            "actions=mod_dl_dst:02:00:00:00:00:04,output:2"));
        assertEquals("set(eth(src=0a:00:00:00:00:00/ff:00:00:00:00:00)),2", actions(udp(1),
            "actions=set_field:0a:00:00:00:00:00/ff:00:00:00:00:00->eth_src,output:2"));
    }

    @Test
    void controllerActionsCarryReasonRecircIdAndCookie() throws Exception
    {
        assertEquals("userspace(pid=0,controller(reason=1,dont_send=0,continuation=0,recirc_id=1,"
            + "rule_cookie=0x461f,controller_id=0,max_len=65535)),3", actions(udp(1),
            "cookie=0x461f,udp,actions=controller,output:3"));
        // A table-miss rule's packet-in is an explicit miss; an expired TTL is invalid_ttl.
        assertEquals("userspace(pid=0,controller(reason=6,dont_send=0,continuation=0,recirc_id=1,"
            + "rule_cookie=0,controller_id=0,max_len=65535))", actions(udp(1), "priority=0,actions=controller"));
        final FlowKey ttl1 = udp(1);
        Field.NW_TTL.set(ttl1.words, 1);
        assertEquals("userspace(pid=0,controller(reason=2,dont_send=0,continuation=0,recirc_id=1,"
            + "rule_cookie=0,controller_id=0,max_len=65535))", actions(ttl1, "udp,actions=dec_ttl,output:2"));
    }

    @Test
    void controllerArgumentsReachTheUserspaceAction() throws Exception
    {
        // As OVS 3.1 installed it (ovs-oracle, megaflows.txt) for the same flow and a UDP packet.
        assertEquals("userspace(pid=0,controller(reason=0,dont_send=0,continuation=0,recirc_id=1,rule_cookie=0x77,"
            + "controller_id=3,max_len=10)),2", actions(udp(1),
            "table=0,priority=10,cookie=0x77,udp,actions=controller(reason=no_match,max_len=10,id=3,userdata=01.02),output:2"));
    }

    @Test
    void controllerUserdataIsFrozenUnderTheRecircId() throws Exception
    {
        final FlowTables tables = new FlowTables(new FlowParser("t").parseAll(List.of(
            "table=0,udp,actions=controller(userdata=01.02),resubmit(,3)",
            "table=3,udp,actions=controller(userdata=03),output:2")));
        final Translator t = new Translator(new BridgePorts(new int[] {1, 2, 3}));
        final OdpActions out = new OdpActions();
        assertTrue(t.translate(tables, udp(1), 64, out, null));
        // Two packet-ins with their own states: the table they ran in and their userdata.
        final FrozenStates.State first = t.frozenStates().get((int)out.get(2));
        final FrozenStates.State second = t.frozenStates().get((int)out.get(2 + 6));
        assertEquals(0, first.table);
        assertEquals("[1, 2]", java.util.Arrays.toString(first.userdata()));
        assertEquals(3, second.table);
        assertEquals("[3]", java.util.Arrays.toString(second.userdata()));
    }

    @Test
    void ipv4RewritesOfOneCommitAreOneMaskedSet() throws Exception
    {
        assertEquals("set(ipv4(src=10.0.0.2,ttl=63)),3", actions(udp(1),
            "udp,actions=mod_nw_src:10.0.0.2,dec_ttl,output:3"));
        assertEquals("set(ipv4(tos=0x28/0xfc)),3", actions(udp(1), "udp,actions=mod_nw_tos:40,output:3"));
        assertEquals("set(ipv4(dst=10.0.0.0/255.0.0.0)),3", actions(udp(1),
            "udp,actions=set_field:10.0.0.0/255.0.0.0->ip_dst,output:3"));
    }

    @Test
    void ipv6AndPortRewritesAreMaskedSets() throws Exception
    {
        final FlowKey tcp6 = new FlowKey();
        tcp6.inPort(1);
        Field.DL_TYPE.set(tcp6.words, 0x86dd);
        Field.NW_PROTO.set(tcp6.words, 6);
        Field.NW_TOS.set(tcp6.words, 0xc0);
        Field.NW_TTL.set(tcp6.words, 64);
        Field.TP_DST.set(tcp6.words, 443);
        assertEquals("set(ipv6(tclass=0x44/0xfc)),2", actions(tcp6, "tcp6,actions=mod_nw_tos:68,output:2"));
        assertEquals("set(tcp(dst=6525)),2", actions(tcp6, "tcp6,actions=mod_tp_dst:6525,output:2"));
        assertEquals("set(tcp(src=1,dst=2)),2", actions(tcp6, "tcp6,actions=mod_tp_src:1,mod_tp_dst:2,output:2"));
    }

    @Test
    void pushVlanNamesOnlyANonDefaultTpid() throws Exception
    {
        assertEquals("push_vlan(vid=100,pcp=0),2", actions(udp(1), "actions=mod_vlan_vid:100,output:2"));
        assertEquals("push_vlan(tpid=0x88a8,vid=5,pcp=0),2", actions(udp(1),
            "actions=push_vlan:0x88a8,set_field:0x1005->vlan_vid,output:2"));
    }
}
