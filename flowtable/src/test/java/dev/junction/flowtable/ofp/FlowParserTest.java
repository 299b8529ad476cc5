package dev.junction.flowtable.ofp;

import dev.junction.flowtable.Field;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlowParserTest
{
    private static FlowRule parse(final String line) throws FlowParseException
    {
        return new FlowParser("test").parseLine(line, 1);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "priority=10,ip,actions=mod_nw_dst:10.0.0.9,output:2,dec_ttl,output:3",
        "table=3,priority=5,in_port=1,dl_vlan=10,actions=strip_vlan,output:2",
        "tcp,nw_src=10.0.0.0/8,tp_dst=0x50/0xfff0,actions=mod_tp_dst:8080,IN_PORT",
        "udp6,ipv6_src=fe80::/10,ipv6_label=0x12345,actions=set_field:fe80::2->ipv6_dst,output:4",
        "arp,arp_op=1,arp_spa=10.0.0.1,arp_sha=02:00:00:00:00:01,actions=load:0x2->NXM_OF_ARP_OP[],output:1",
        "icmp6,icmp_type=135,nd_target=fe80::1,actions=output:2",
        "reg3=0x5/0xff,metadata=0x1234,actions=move:NXM_NX_REG3[0..7]->NXM_NX_REG4[8..15],resubmit(,7)",
        "ip,nw_tos=16,nw_ecn=2,nw_ttl=9,ip_frag=later,actions=note:01.02,goto_table:9",
        "tcp,tcp_flags=+syn-ack,actions=mod_vlan_vid:5,mod_vlan_pcp:3,push_vlan:0x88a8,output:1",
        "dl_src=02:00:00:00:00:00/ff:00:00:00:00:00,dl_type=0x88cc,actions=CONTROLLER:65535",
        "cookie=0x42,vlan_tci=0x1000/0x1000,actions=resubmit(2,4),resubmit:3,output:1",
        // Found by FlowParserFuzzTest: a fully masked ct_state prints as OVS's "est|trk", and a
        // nat after exec(...) prints inside it; both must parse back.
        "ip,ct_state=0x22/0xff,actions=output:1",
        "ip,actions=ct(commit,zone=5,exec(set_field:0x1->ct_mark),nat(src=10.0.0.100)),output:1",
    })
    void printedFlowParsesBackToTheSameRule(final String line) throws FlowParseException
    {
        final FlowRule r = parse(line);
        final String printed = FlowPrinter.flowLine(r);
        final FlowRule again = parse(printed);
        assertEquals(r.match, again.match, printed);
        assertEquals(FlowPrinter.actions(r.actions), FlowPrinter.actions(again.actions), printed);
        assertEquals(r.table, again.table);
        assertEquals(r.priority, again.priority);
        assertEquals(printed, FlowPrinter.flowLine(again));
    }

    @Test
    void controllerArgumentsRoundTripAndUnknownKeysAreNamed() throws FlowParseException
    {
        final FlowRule r = parse("actions=controller(reason=no_match,id=7,userdata=de.ad.be.ef,max_len=128),output:2");
        final Action.Controller c = (Action.Controller)r.actions.get(0);
        assertEquals(Action.Controller.REASON_NO_MATCH, c.reason);
        assertEquals(7, c.controllerId);
        assertEquals(128, c.maxLen);
        assertEquals("[-34, -83, -66, -17]", java.util.Arrays.toString(c.userdata()));
        assertEquals("controller(reason=no_match,max_len=128,id=7,userdata=de.ad.be.ef),output:2",
            FlowPrinter.actions(parse("actions=" + FlowPrinter.actions(r.actions)).actions));
        final FlowParseException unknown = assertThrows(FlowParseException.class, () -> parse("actions=controller(colour=red)"));
        assertTrue(unknown.getMessage().contains("unknown key \"colour\" parsing controller action"), unknown.getMessage());
        final FlowParseException pause = assertThrows(FlowParseException.class, () -> parse("actions=controller(pause)"));
        assertTrue(pause.getMessage().contains("pause"), pause.getMessage());
    }

    @Test
    void legacyActionsBecomeOpenFlow15SetField() throws FlowParseException
    {
        final FlowRule r = parse("ip,actions=mod_nw_dst:10.0.0.9,mod_dl_src:02:00:00:00:00:01,mod_vlan_vid:5,strip_vlan");
        assertEquals("set_field:10.0.0.9->ip_dst,set_field:02:00:00:00:00:01->eth_src,push_vlan:0x8100,set_field:4101->vlan_vid,pop_vlan",
            FlowPrinter.actions(r.actions));
    }

    @Test
    void matchWithoutPrerequisiteIsNormalizedAway() throws FlowParseException
    {
        final FlowRule r = parse("tp_dst=80,nw_src=10.0.0.1,actions=drop");
        assertTrue(r.match.isWildcarded(Field.TP_DST));
        assertTrue(r.match.isWildcarded(Field.NW_SRC));
        assertEquals("", FlowPrinter.match(r.match, r.priority));
    }

    @Test
    void errorsNameLineColumnAndReason()
    {
        final FlowParser p = new FlowParser("flows.txt");
        final FlowParseException ex = assertThrows(FlowParseException.class,
            () -> p.parseAll(List.of("# comment", "ip,actions=output:1", "ip,nw_dst=10.0.0.300,actions=drop")));
        assertEquals(3, ex.line);
        assertEquals(11, ex.column);
        assertTrue(ex.getMessage().startsWith("flows.txt:3:11: 10.0.0.300: invalid IP address"), ex.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "actions=mod_nw_dst:1.2.3.4",              // needs ip under OpenFlow 1.5
        "ip,actions=mod_tp_dst:80",                // needs tcp/udp/sctp
        "in_port=1,actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG1[]", // source lacks prerequisites
        "table=3,actions=goto_table:1",            // goto_table must go forward
        "actions=output:2,goto_table:1,output:3",  // goto_table must be last
        "actions=load:0x1ff->NXM_NX_REG0[0..7]",   // value too wide
        "nw_proto=300,actions=drop",
        "in_port=1 actions=output:2 foo",
        "priority=10,ip",                          // no actions
        "ip,actions=set_field:1->nw_proto",        // read-only field
        "bogus=1,actions=drop",
        "actions=output:1,drop",                   // drop stands alone
        "actions=dec_ttl,output:2",                // dec_ttl needs ip/ipv6 under OpenFlow 1.5
        "actions=strip_vlan,output:2",             // pop needs a tag in the match
        "actions=set_field:4101->vlan_vid",        // so does set_field on vlan_vid
        "ip,actions=load:0x3f->NXM_OF_IP_TOS[]",   // ECN bits through the TOS field
    })
    void refusedAsOvsRefusesThem(final String line)
    {
        final FlowParseException ex = assertThrows(FlowParseException.class, () -> parse(line));
        assertEquals(1, ex.line);
        assertTrue(ex.column >= 1 && ex.column <= line.length() + 1, ex.getMessage());
    }
}
