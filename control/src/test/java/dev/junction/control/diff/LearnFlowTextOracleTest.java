package dev.junction.control.diff;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The {@code learn} action in {@code ovs-ofctl} syntax, judged by {@code ovs-ofctl parse-flow}:
 * Junction accepts what OVS accepts and prints it as OVS prints it.
 */
class LearnFlowTextOracleTest
{
    @ParameterizedTest
    @ValueSource(strings = {
        // The form ovn-controller emits for load-balancer affinity (commit_lb_aff).
        "ip,actions=learn(table=78,idle_timeout=60,delete_learned,cookie=0x1,eth_type=0x800,NXM_OF_IP_SRC[],ip_dst=10.0.0.50,nw_proto=6,tcp_dst=80,load:0x1->NXM_NX_REG10[14],load:0xa000002->NXM_NX_REG4[],load:0x1f90->NXM_NX_REG8[0..15])",
        "ip,actions=learn(table=1,hard_timeout=10,priority=5,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],NXM_OF_VLAN_TCI[0..11],output:NXM_OF_IN_PORT[])",
        "ip,actions=learn(table=2,eth_type=0x800,nw_src=10.0.0.1,load:NXM_OF_IP_SRC[]->NXM_NX_REG0[])",
        "tcp,actions=learn(table=3,idle_timeout=5,eth_type=0x800,nw_proto=6,NXM_OF_IP_SRC[],NXM_OF_TCP_SRC[]=NXM_OF_TCP_DST[],load:1->NXM_NX_REG0[0])",
        "ip,actions=learn(table=3,eth_type=0x800,ip_src=NXM_OF_IP_DST[])",
        "ip,actions=learn(table=3,eth_type=0x800,reg1=5,load:reg2->reg3)",
        "ipv6,actions=learn(table=4,idle_timeout=30,hard_timeout=300,eth_type=0x86dd,NXM_NX_IPV6_SRC[],nw_proto=17,udp_dst=53,load:0x1->NXM_NX_REG10[14],load:NXM_NX_REG1[]->NXM_NX_REG4[])",
        "ip,actions=learn(table=5,send_flow_rem,eth_type=0x800,NXM_NX_REG0[0..7]=0x12,load:0xff->NXM_NX_REG1[8..15]),resubmit(,5)",
        "actions=learn(table=6,NXM_OF_ETH_SRC[],eth_dst=01:02:03:04:05:06,output:NXM_NX_REG0[0..15])",
        "ip,actions=learn(table=7,eth_type=0x800,NXM_OF_IP_DST[0..23]=NXM_OF_IP_SRC[8..31])",
        // Refused by OVS: each must be refused by Junction too.
        "actions=learn(table=3,NXM_OF_IP_SRC[])",
        "ip,actions=learn(table=3,NXM_OF_IP_SRC[])",
        "ip,actions=learn(table=3,eth_type=0x800,NXM_OF_IP_SRC[]=NXM_OF_TCP_SRC[])",
        "ip,actions=learn(table=3,bogus=1)",
        "ip,actions=learn(table=3,eth_type=0x800,load:0x1ff->NXM_NX_REG0[0..7])",
        "ip,actions=learn(table=3,eth_type=0x800,load:NXM_OF_IP_SRC[]->NXM_OF_ETH_TYPE[])",
    })
    void printsAndRefusesAsOvsOfctl(final String flow) throws Exception
    {
        OfctlText.assertSameAsOvs(flow);
    }
}
