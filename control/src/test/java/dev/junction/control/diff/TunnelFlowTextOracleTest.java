package dev.junction.control.diff;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Tunnel fields in {@code ovs-ofctl} syntax, judged by {@code ovs-ofctl parse-flow}: Junction
 * accepts what OVS accepts (at most eight tun_metadata fields) and prints matches and actions as OVS prints
 * them (order of format_flow_tunnel, +oam flags, set_field:oam->tun_flags, NXM names).
 */
class TunnelFlowTextOracleTest
{
    @ParameterizedTest
    @ValueSource(strings = {
        "in_port=10,tun_id=0x5,tun_metadata0=0x10002,actions=output:1",
        "tun_id=0x5/0xff,tun_src=1.1.1.1,tun_dst=2.2.2.0/24,actions=drop",
        "priority=5,tun_metadata1=0x3,tun_metadata0=0x10002,tun_flags=+oam,tun_dst=2.2.2.2,tun_src=1.1.1.1,tun_id=0x5,"
            + "tun_gbp_flags=1,tun_gbp_id=2,ip,nw_src=1.2.3.4,reg0=1,metadata=3,ct_state=+trk,ct_zone=3,dl_src=00:00:00:00:00:01,"
            + "actions=output:1",
        "tun_ipv6_src=fd00::2,tun_ipv6_dst=fd00::/64,tun_flags=-oam,actions=drop",
        "tun_flags=oam,actions=drop",
        "tun_flags=0,actions=drop",
        "tun_flags=0x1/0x1,actions=drop",
        "tun_metadata0=0x1/0x1,tun_metadata7=5,actions=drop",
        "tun_id=0,actions=drop",
        "actions=set_field:0x10002->tun_metadata0,set_field:1.2.3.4->tun_dst,load:0x5->NXM_NX_TUN_ID[],output:10",
        "actions=move:NXM_NX_TUN_METADATA0[16..30]->NXM_NX_REG14[0..14],move:NXM_NX_TUN_METADATA0[0..15]->NXM_NX_REG15[0..15],resubmit(,8)",
        "actions=set_field:0x1->tun_flags,set_field:fd00::1->tun_ipv6_dst,set_field:0x5->tun_id,output:10",
        "actions=load:1->NXM_NX_TUN_FLAGS[0],move:NXM_NX_TUN_ID[0..23]->NXM_NX_REG0[0..23],load:0x2->NXM_NX_TUN_IPV4_SRC[]",
        "actions=set_field:1->tun_gbp_id,load:1->NXM_NX_TUN_METADATA1[0..7],set_field:0x1/0x3->tun_metadata0",
        "actions=move:NXM_NX_REG0[]->NXM_NX_TUN_METADATA2[0..31],output:10",
        // Fields beyond tun_metadata7 (key slots are given out as fields are named, as ovs-ofctl does).
        "in_port=10,tun_metadata63=0x5,tun_metadata13=0x10002,tun_metadata40=0,actions=output:1",
        "actions=set_field:0x10002->tun_metadata13,load:0x7->NXM_NX_TUN_METADATA63[0..7],output:10",
        "actions=move:NXM_NX_TUN_METADATA63[16..30]->NXM_NX_REG14[0..14],move:NXM_NX_REG0[]->NXM_NX_TUN_METADATA8[0..31]",
        "tun_metadata64=1,actions=drop",
        // OVN's path-MTU check before the tunnel.
        "ip,actions=check_pkt_larger(1400)->NXM_NX_REG0[0],resubmit(,1)",
        "actions=check_pkt_larger(65535)->reg9[1],check_pkt_larger(0)->tun_metadata3[0],output:10",
        "actions=check_pkt_larger(1400)->NXM_NX_REG0[0..1]",
        "actions=check_pkt_larger(65536)->NXM_NX_REG0[0]",
        "actions=check_pkt_larger(1400)->NXM_OF_IP_PROTO[0]",
        // Refused by OVS: each must be refused by Junction too.
        "tun_flags=+oam-oam,actions=drop",
        "tun_flags=+df,actions=drop",
        "tun_flags=2,actions=drop",
        "tun_tos=4,actions=drop",
        "tun_ttl=3,actions=drop",
        "actions=set_field:4->tun_tos",
        "actions=set_field:64->tun_ttl",
        "tun_id=0x1ffffffffffffffff,actions=drop",
    })
    void printsAndRefusesAsOvsOfctl(final String flow) throws Exception
    {
        OfctlText.assertSameAsOvs(flow);
    }
}
