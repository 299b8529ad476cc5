package dev.junction.control.diff;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Conntrack matches and actions in {@code ovs-ofctl} syntax, judged by {@code ovs-ofctl parse-flow}
 * itself: Junction accepts exactly the flows OVS accepts and prints them as OVS prints them
 * (which is what {@code dump-flows} and {@code flow-stats.txt} show).
 */
class CtFlowTextOracleTest
{
    @ParameterizedTest
    @ValueSource(strings = {
        "table=0,ip,ct_state=-trk,actions=ct(table=1,zone=5)",
        "table=1,ct_state=+trk+new,ip,actions=ct(commit,zone=5,exec(set_field:0x1->ct_mark)),output:2",
        "ip,ct_state=+est+trk-rpl,ct_mark=0x1/0xf,ct_label=0x5/0xff,ct_zone=5,actions=ct(commit,zone=NXM_NX_REG13[0..15],exec(load:0x5->NXM_NX_CT_MARK[],set_field:0x3/0xff->ct_label),nat(src=10.0.0.100)),ct_clear",
        "ip,actions=ct(commit,force,nat(dst=10.0.0.2:8080),table=2)",
        "ipv6,actions=ct(nat,zone=3,table=4)",
        "ip,ct_state=+new+trk,ct_nw_src=10.0.0.1,ct_nw_dst=10.0.0.0/24,ct_nw_proto=6,ct_tp_src=80,ct_tp_dst=0x50/0xfff0,actions=drop",
        "ipv6,ct_state=+est+trk,ct_ipv6_src=fd00::1,ct_ipv6_dst=fd00::/64,actions=drop",
        "ip,ct_state=+trk-inv,ct_nw_src=10.0.0.1,actions=drop",
        "ip,actions=ct(commit,nat(src=10.0.0.1-10.0.0.3:1000-2000,persistent,hash))",
        "ipv6,ct_ipv6_src=fd00::1,ct_state=+trk+est,actions=ct(commit,nat(src=[fd00::100]-[fd00::200]:1000-2000,random))",
        "ipv6,actions=ct(commit,nat(dst=[fd00::2]:8080))",
        "ipv6,actions=ct(commit,nat(dst=fd00::2))",
        "ipv6,actions=ct(commit,nat(dst=fd00::2-fd00::4))",
        "ct_state=0x21/0x21,actions=drop",
        "ct_state=0xff/0xff,actions=drop",
        "ct_state=0/0xff,actions=drop",
        "ct_state=+new-est-rel-rpl-inv+trk-snat-dnat,actions=drop",
        "ct_state=+inv+trk+rel+snat+dnat,actions=drop",
        "ct_mark=0,actions=drop",
        "ct_mark=0/1,ct_zone=0,actions=drop",
        "ct_label=0,actions=drop",
        "ct_label=0x10000000000000000/0x10000000000000000,actions=drop",
        "ip,actions=ct(commit,exec(set_field:1->ct_mark,set_field:0x1234567890abcdef1234/0xffffffffffffffffffff->ct_label),table=3)",
        "ip,actions=ct(commit,exec(set_field:0x1234567890abcdef1234->ct_label))",
        "ip,actions=ct(commit,exec(load:1->NXM_NX_CT_LABEL[64..127]))",
        "ip,actions=ct(commit,exec(set_field:0->ct_mark))",
        "ip,actions=ct(commit,exec(move:NXM_NX_REG0[]->NXM_NX_CT_MARK[]))",
        "ip,actions=ct(commit,nat)",
        "ip,actions=ct(commit,nat(src=10.0.0.1),exec(set_field:1->ct_mark))",
        "ip,actions=ct(commit,nat(src=10.0.0.5:1000))",
        "ip,actions=ct(commit,zone=0,table=0)",
        "ip,actions=ct()",
        "ip,actions=ct",
        "ip,actions=ct(zone=65535)",
        "ip,actions=ct(zone=NXM_NX_REG0[16..31])",
        "ip,ct_state=+trk,actions=move:NXM_NX_CT_STATE[]->NXM_NX_REG0[],move:NXM_NX_CT_ZONE[]->NXM_NX_REG1[0..15],move:NXM_NX_CT_MARK[]->NXM_NX_REG2[]",
        "priority=100,tcp,ct_state=+trk+est,ct_zone=7,actions=ct_clear,ct(table=3,zone=8)",
        // Refused by OVS: each must be refused by Junction too.
        "actions=ct(commit)",
        "ip,actions=set_field:1->ct_mark",
        "ip,actions=ct(commit,exec(output:1))",
        "ip,actions=ct(force)",
        "ip,ct_state=+trk,ct_nw_src=10.0.0.1,actions=drop",
        "ipv6,actions=ct(commit,nat(src=10.0.0.1))",
        "ip,actions=ct(commit,nat(src=10.0.0.1,dst=10.0.0.2))",
        "ip,actions=ct(nat(random))",
        "ip,actions=ct(commit,nat(src=10.0.0.3-10.0.0.1))",
        "ip,actions=ct(commit,bogus)",
        "ip,ct_state=+inv+trk,actions=ct(commit)",
        "ip,actions=ct(zone=70000)",
        "ct_state=+foo,actions=drop",
        "ip,actions=ct(commit,nat(src=10.0.0.1,hash,random))",
    })
    void printsAndRefusesAsOvsOfctl(final String flow) throws Exception
    {
        OfctlText.assertSameAsOvs(flow);
    }
}
