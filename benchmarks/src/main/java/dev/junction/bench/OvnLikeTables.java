package dev.junction.bench;

import dev.junction.flowtable.ofp.FlowParseException;
import dev.junction.flowtable.ofp.FlowParser;
import dev.junction.flowtable.ofp.FlowTables;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A seeded generator of an OVN-Kubernetes-shaped flow table set and of packets that walk it.
 *
 * <p>The shape follows what {@code ovn-controller} installs for one node of a small cluster: a
 * logical switch per node (8 x 25 pods), a cluster router, and the stages of the logical
 * pipelines as OpenFlow tables, keyed by {@code metadata} (the datapath) and {@code reg14} /
 * {@code reg15} (logical in/out port), with {@code reg0} carrying per-packet flags and the
 * router's next hop as OVN does. The big tables are the ones that are big in real clusters:
 * network-policy ACLs (CIDR prefixes and ports), load-balancer VIPs, and routes of every prefix
 * length. Rules are written as ovs-ofctl text and loaded through {@link FlowParser}, so the
 * benchmark pays for exactly what a real flows file would produce.
 *
 * <p>Setup-time only: nothing here runs in a measured method.
 */
public final class OvnLikeTables
{
    public static final int NODES = 8;
    public static final int PODS_PER_NODE = 25;
    public static final int PODS = NODES * PODS_PER_NODE;
    /** The uplink towards the gateway router (OVN's join switch), where off-cluster traffic leaves. */
    public static final int UPLINK_PORT = 250;

    // Tables, named after the OVN stages they stand for.
    static final int T_PHY_IN = 0;
    static final int T_IN_PORT_SEC_L2 = 1;
    static final int T_IN_PORT_SEC_IP = 2;
    static final int T_IN_PRE_ACL = 3;
    static final int T_IN_ACL = 4;
    static final int T_IN_ACL_ACTION = 5;
    static final int T_IN_LB = 6;
    static final int T_IN_L2_LKUP = 7;
    static final int T_LR_ADMISSION = 8;
    static final int T_LR_IP_INPUT = 9;
    static final int T_LR_IP_ROUTING = 10;
    static final int T_LR_ARP_RESOLVE = 11;
    static final int T_LR_TO_SWITCH = 12;
    static final int T_OUT_PRE_ACL = 13;
    static final int T_OUT_ACL = 14;
    static final int T_OUT_STATEFUL = 15;
    static final int T_OUT_PORT_SEC_IP = 16;
    static final int T_OUT_PORT_SEC_L2 = 17;
    static final int T_PHY_OUT = 18;
    static final int T_IN_ARP_RSP = 19;

    private static final int ROUTER_DP = 0x100;
    /** Logical port key of a switch's router port (reg14/reg15 on the switch side). */
    private static final int SWITCH_ROUTER_PORT = 1;
    /** Router-side port keys: one per node switch, one for the join switch. */
    private static final int ROUTER_PORT_BASE = 0x100;
    private static final int ROUTER_JOIN_PORT = 0x200;
    private static final int FLOOD = 0xffff;
    private static final int GATEWAYS = 50;
    private static final int DNS_VIP = Frames.ipv4(10, 96, 0, 10);
    private static final int[] POLICY_PORTS = {80, 443, 8080, 5432, 6379, 9090, 3306, 8443, 53, 9100};

    private final SplittableRandom random;
    private final int ingressAclRules;
    private final int egressAclRules;
    private final int lbRules;
    private final int routeRules;
    private final List<String> flows = new ArrayList<>();
    private final List<int[]> services = new ArrayList<>();
    private final List<int[]> routes = new ArrayList<>();

    /** A frame to receive and the OpenFlow port it arrives on. */
    public record Input(int inPort, byte[] frame, String kind)
    {
    }

    private OvnLikeTables(final long seed, final int targetRules)
    {
        random = new SplittableRandom(seed);
        // The fixed per-pod and per-switch stages come to about 3,000 rules; the rest is split
        // between the tables that grow with policies, services and routes, as in a real cluster.
        final int variable = Math.max(400, targetRules - fixedRuleCount());
        ingressAclRules = variable * 34 / 100;
        egressAclRules = variable * 29 / 100;
        lbRules = variable * 20 / 100;
        routeRules = variable - ingressAclRules - egressAclRules - lbRules;
        generate();
    }

    /** Generates about {@code targetRules} rules over 20 tables; the same seed gives the same text. */
    public static OvnLikeTables generate(final long seed, final int targetRules)
    {
        return new OvnLikeTables(seed, targetRules);
    }

    /** The rules as ovs-ofctl add-flows lines. */
    public List<String> flows()
    {
        return Collections.unmodifiableList(flows);
    }

    /** The rules loaded as a table version, through the same parser {@code junction replay} uses. */
    public FlowTables load() throws FlowParseException
    {
        return new FlowTables(new FlowParser("ovn-like").parseAll(flows));
    }

    /** The bridge's OpenFlow ports: one per pod and the uplink. */
    public static int[] ports()
    {
        final int[] ports = new int[PODS + 1];
        for (int i = 0; i < PODS; i++)
        {
            ports[i] = podPort(i);
        }
        ports[PODS] = UPLINK_PORT;
        return ports;
    }

    /**
     * {@code count} 64-byte frames (IPv6 ones 70) over the paths an OVN node sees: same-node and
     * cross-node pod traffic, service VIPs, DNS, off-cluster destinations, ARP, spoofed sources
     * and IPv6 that port security drops. Separate seed so packets can vary with the same tables.
     */
    public List<Input> inputs(final int count, final long seed)
    {
        final SplittableRandom r = new SplittableRandom(seed);
        final List<Input> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++)
        {
            out.add(input(r));
        }
        return out;
    }

    private Input input(final SplittableRandom r)
    {
        final int src = r.nextInt(PODS);
        final int node = nodeOf(src);
        final int port = podPort(src);
        final int sport = 32768 + r.nextInt(28000);
        final int pick = r.nextInt(100);
        if (pick < 30)
        {
            final int dst = node * PODS_PER_NODE + r.nextInt(PODS_PER_NODE);
            return new Input(port, Frames.tcp4(podMac(src), podMac(dst), podIp(src), podIp(dst), sport,
                dstPort(r), 64), "same-node");
        }
        if (pick < 60)
        {
            final int dst = r.nextInt(PODS);
            return new Input(port, Frames.tcp4(podMac(src), routerMac(node), podIp(src), podIp(dst), sport,
                dstPort(r), 64), "cross-node");
        }
        if (pick < 75)
        {
            final int[] svc = services.get(r.nextInt(services.size()));
            return new Input(port, Frames.tcp4(podMac(src), routerMac(node), podIp(src), svc[0], sport, svc[1], 64),
                "service");
        }
        if (pick < 80)
        {
            return new Input(port, Frames.udp4(podMac(src), routerMac(node), podIp(src), DNS_VIP, sport, 53, 64),
                "dns");
        }
        if (pick < 88)
        {
            final int[] route = routes.get(r.nextInt(routes.size()));
            final int hostBits = 32 - route[1];
            final int dst = hostBits == 0 ? route[0] : route[0] | (r.nextInt() & (int)((1L << hostBits) - 1));
            return new Input(port, Frames.tcp4(podMac(src), routerMac(node), podIp(src), dst, sport, 443, 64),
                "off-cluster");
        }
        if (pick < 93)
        {
            final int target = r.nextBoolean() ? routerIp(node) : podIp(node * PODS_PER_NODE + r.nextInt(PODS_PER_NODE));
            final int unknown = Frames.ipv4(10, 244, node, 200 + r.nextInt(50));
            return new Input(port, Frames.arpRequest(podMac(src), podIp(src), r.nextInt(4) == 0 ? unknown : target),
                "arp");
        }
        if (pick < 97)
        {
            final int dst = node * PODS_PER_NODE + r.nextInt(PODS_PER_NODE);
            final boolean badMac = r.nextBoolean();
            final long mac = badMac ? podMac(src) ^ 0x0000_0000_ff00L : podMac(src);
            final int ip = badMac ? podIp(src) : podIp(src) ^ 0x0000_8000;
            return new Input(port, Frames.tcp4(mac, podMac(dst), ip, podIp(dst), sport, 80, 64), "spoofed");
        }
        final int dst = node * PODS_PER_NODE + r.nextInt(PODS_PER_NODE);
        return new Input(port, Frames.udp6(podMac(src), podMac(dst), new long[] {0xfd00_0010_0244_0000L | node, src},
            new long[] {0xfd00_0010_0244_0000L | node, dst}, sport, 5000, 70), "ipv6");
    }

    private static int dstPort(final SplittableRandom r)
    {
        // Mostly ports policies mention, some that only a default rule decides.
        return r.nextInt(10) < 7 ? POLICY_PORTS[r.nextInt(POLICY_PORTS.length)] : 1024 + r.nextInt(60000);
    }

    private void generate()
    {
        physicalIn();
        portSecurity();
        preAcl(T_IN_PRE_ACL, T_IN_ACL, "reg14");
        ingressAcl();
        aclAction(T_IN_ACL_ACTION, T_IN_LB, 16);
        loadBalancers();
        l2Lookup();
        arpResponder();
        routerAdmission();
        routerIpInput();
        routing();
        arpResolve();
        routerToSwitch();
        preAcl(T_OUT_PRE_ACL, T_OUT_ACL, "reg15");
        egressAcl();
        aclAction(T_OUT_STATEFUL, T_OUT_PORT_SEC_IP, 17);
        egressPortSecurity();
        physicalOut();
    }

    /** Port bindings: the OpenFlow port gives the logical datapath and input port, as OVN's table 0. */
    private void physicalIn()
    {
        for (int p = 0; p < PODS; p++)
        {
            add(T_PHY_IN, 100, "in_port=" + podPort(p),
                "set_field:" + hex(switchDp(nodeOf(p))) + "->metadata,set_field:" + hex(podKey(p)) + "->reg14,"
                + "resubmit(," + T_IN_PORT_SEC_L2 + ")");
        }
        add(T_PHY_IN, 0, "", "drop");
    }

    /** ls_in_port_sec_l2 and _ip: a pod may send only from its own MAC and IP (and ARP for them). */
    private void portSecurity()
    {
        add(T_IN_PORT_SEC_L2, 100, "dl_src=01:00:00:00:00:00/01:00:00:00:00:00", "drop");
        add(T_IN_PORT_SEC_L2, 100, "vlan_tci=0x1000/0x1000", "drop");
        for (int n = 0; n < NODES; n++)
        {
            add(T_IN_PORT_SEC_L2, 50, dp(n) + ",reg14=" + hex(SWITCH_ROUTER_PORT), next(T_IN_PORT_SEC_IP));
        }
        for (int p = 0; p < PODS; p++)
        {
            final String port = dp(nodeOf(p)) + ",reg14=" + hex(podKey(p));
            add(T_IN_PORT_SEC_L2, 50, port + ",dl_src=" + mac(podMac(p)), next(T_IN_PORT_SEC_IP));
            add(T_IN_PORT_SEC_IP, 90, "ip," + port + ",dl_src=" + mac(podMac(p)) + ",nw_src=" + ip(podIp(p)),
                next(T_IN_PRE_ACL));
            add(T_IN_PORT_SEC_IP, 90, "arp," + port + ",dl_src=" + mac(podMac(p)) + ",arp_spa=" + ip(podIp(p))
                + ",arp_sha=" + mac(podMac(p)), next(T_IN_PRE_ACL));
            add(T_IN_PORT_SEC_IP, 80, "ip," + port, "drop");
            add(T_IN_PORT_SEC_IP, 80, "arp," + port, "drop");
            add(T_IN_PORT_SEC_IP, 80, "ipv6," + port, "drop");
        }
        add(T_IN_PORT_SEC_L2, 0, "", "drop");
        add(T_IN_PORT_SEC_IP, 0, "", next(T_IN_PRE_ACL));
    }

    /** Marks IP traffic for the stateful ACL path (reg0[0]), except traffic from/to the router port. */
    private void preAcl(final int table, final int nextTable, final String portReg)
    {
        for (int n = 0; n < NODES; n++)
        {
            add(table, 110, "ip," + dp(n) + "," + portReg + "=" + hex(SWITCH_ROUTER_PORT), next(nextTable));
            add(table, 100, "ip," + dp(n), "load:0x1->NXM_NX_REG0[0]," + next(nextTable));
        }
        add(table, 0, "", next(nextTable));
    }

    /**
     * from-lport ACLs: egress network policies of every fourth pod (allow peers and ports, then
     * default deny; DNS always allowed) and a few cluster-wide admin denies.
     */
    private void ingressAcl()
    {
        final int start = flows.size();
        for (int i = 0; i < 40; i++)
        {
            // Narrow on purpose: a cluster-wide deny of a common port would drop most of the mix.
            add(T_IN_ACL, 3000 + i, "tcp,nw_src=" + cidr(randomClusterPrefix(), 26 + random.nextInt(7)) + ",nw_dst="
                + cidr(randomClusterPrefix(), 28 + random.nextInt(5)) + ",tp_dst=" + randomPort(), "drop");
        }
        final int policyPods = (PODS + 3) / 4;
        final int perPod = Math.max(1, (ingressAclRules - 40) / policyPods - 2);
        for (int p = 0; p < PODS && flows.size() - start < ingressAclRules; p += 4)
        {
            final String port = dp(nodeOf(p)) + ",reg14=" + hex(podKey(p));
            add(T_IN_ACL, 2100, "udp," + port + ",nw_dst=" + ip(DNS_VIP) + ",tp_dst=53", next(T_IN_ACL_ACTION));
            add(T_IN_ACL, 1000, "ip," + port + ",reg0=0x1/0x1", "drop");
            for (int i = 0; i < perPod; i++)
            {
                add(T_IN_ACL, 2000 - random.nextInt(900), (random.nextInt(5) == 0 ? "udp," : "tcp,") + port
                    + ",reg0=0x1/0x1,nw_dst=" + randomPeer(true) + ",tp_dst=" + randomPort(),
                    "load:0x1->NXM_NX_REG0[1]," + next(T_IN_ACL_ACTION));
            }
        }
        add(T_IN_ACL, 0, "", next(T_IN_ACL_ACTION));
    }

    /** to-lport ACLs: ingress network policies of every third pod, keyed by the output port. */
    private void egressAcl()
    {
        final int start = flows.size();
        final int policyPods = (PODS + 2) / 3;
        final int perPod = Math.max(1, egressAclRules / policyPods - 2);
        for (int p = 1; p < PODS && flows.size() - start < egressAclRules; p += 3)
        {
            final int node = nodeOf(p);
            final String port = dp(node) + ",reg15=" + hex(podKey(p));
            // OVN-Kubernetes always lets the node (management port) reach its pods, for probes.
            add(T_OUT_ACL, 1001, "ip," + port + ",nw_src=" + ip(Frames.ipv4(10, 244, node, 2)), next(T_OUT_STATEFUL));
            add(T_OUT_ACL, 1000, "ip," + port + ",reg0=0x1/0x1", "drop");
            for (int i = 0; i < perPod; i++)
            {
                add(T_OUT_ACL, 2000 - random.nextInt(900), (random.nextInt(5) == 0 ? "udp," : "tcp,") + port + ",reg0=0x1/0x1,nw_src="
                    + randomPeer(false) + ",tp_dst=" + randomPort(), "load:0x1->NXM_NX_REG0[1]," + next(T_OUT_STATEFUL));
            }
        }
        add(T_OUT_ACL, 0, "", next(T_OUT_STATEFUL));
    }

    /** Verdict bookkeeping OVN keeps in reg8 after an allow-related ACL. */
    private void aclAction(final int table, final int nextTable, final int bit)
    {
        for (int n = 0; n < NODES; n++)
        {
            add(table, 100, "ip," + dp(n) + ",reg0=0x2/0x2", "load:0x1->NXM_NX_REG8[" + bit + "]," + next(nextTable));
        }
        add(table, 0, "", next(nextTable));
    }

    /**
     * Service VIPs: nw_dst + tp_dst exact, DNAT to a backend. OVN picks the backend with a select
     * group; without groups the choice is made on the low bit of the source port, which keeps a
     * connection on one backend just the same.
     */
    private void loadBalancers()
    {
        final int start = flows.size();
        addService(DNS_VIP, 53, "udp", 5353);
        addService(DNS_VIP, 53, "tcp", 5353);
        int vip = 11;
        while (flows.size() - start < lbRules)
        {
            final int address = Frames.ipv4(10, 96, vip >>> 8 & 0xff, vip & 0xff);
            vip += 1 + random.nextInt(3);
            final int ports = 1 + random.nextInt(3);
            for (int i = 0; i < ports; i++)
            {
                addService(address, POLICY_PORTS[random.nextInt(POLICY_PORTS.length)], "tcp", 8000 + random.nextInt(1000));
            }
        }
        add(T_IN_LB, 0, "", next(T_IN_L2_LKUP));
    }

    private void addService(final int vip, final int port, final String proto, final int backendPort)
    {
        services.add(new int[] {vip, port});
        for (int half = 0; half < 2; half++)
        {
            final int backend = random.nextInt(PODS);
            add(T_IN_LB, 120, proto + ",nw_dst=" + ip(vip) + ",tp_dst=" + port + ",tp_src=" + half + "/0x1",
                "set_field:" + ip(podIp(backend)) + "->ip_dst,set_field:" + backendPort + "->" + proto + "_dst,"
                + "load:0x1->NXM_NX_REG0[2]," + next(T_IN_L2_LKUP));
        }
    }

    /** ls_in_l2_lkup: dl_dst to logical output port; the router MAC enters the router pipeline. */
    private void l2Lookup()
    {
        for (int n = 0; n < NODES; n++)
        {
            add(T_IN_L2_LKUP, 80, "arp," + dp(n) + ",arp_op=1", next(T_IN_ARP_RSP));
            add(T_IN_L2_LKUP, 70, dp(n) + ",dl_dst=01:00:00:00:00:00/01:00:00:00:00:00",
                "set_field:" + hex(FLOOD) + "->reg15," + next(T_OUT_PRE_ACL));
            add(T_IN_L2_LKUP, 50, dp(n) + ",dl_dst=" + mac(routerMac(n)),
                "set_field:" + hex(ROUTER_DP) + "->metadata,set_field:" + hex(ROUTER_PORT_BASE + n) + "->reg14,"
                + "set_field:0->reg15," + next(T_LR_ADMISSION));
            add(T_IN_L2_LKUP, 0, dp(n), "drop");
        }
        for (int p = 0; p < PODS; p++)
        {
            add(T_IN_L2_LKUP, 50, dp(nodeOf(p)) + ",dl_dst=" + mac(podMac(p)),
                "set_field:" + hex(podKey(p)) + "->reg15," + next(T_OUT_PRE_ACL));
        }
    }

    /** ls_in_arp_rsp: OVN answers ARP for known addresses itself, turning the request around in place. */
    private void arpResponder()
    {
        for (int n = 0; n < NODES; n++)
        {
            arpReply(n, routerIp(n), routerMac(n));
            for (int i = 0; i < PODS_PER_NODE; i++)
            {
                final int p = n * PODS_PER_NODE + i;
                arpReply(n, podIp(p), podMac(p));
            }
        }
        add(T_IN_ARP_RSP, 0, "", "set_field:" + hex(FLOOD) + "->reg15," + next(T_OUT_PRE_ACL));
    }

    private void arpReply(final int node, final int address, final long owner)
    {
        add(T_IN_ARP_RSP, 100, "arp," + dp(node) + ",arp_tpa=" + ip(address) + ",arp_op=1",
            "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],mod_dl_src:" + mac(owner) + ",load:0x2->NXM_OF_ARP_OP[],"
            + "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],load:" + hex(owner) + "->NXM_NX_ARP_SHA[],"
            + "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],load:" + hex(address & 0xffff_ffffL) + "->NXM_OF_ARP_SPA[],"
            + "output:in_port");
    }

    private void routerAdmission()
    {
        final String router = "metadata=" + hex(ROUTER_DP);
        add(T_LR_ADMISSION, 100, router + ",vlan_tci=0x1000/0x1000", "drop");
        add(T_LR_ADMISSION, 100, router + ",dl_src=01:00:00:00:00:00/01:00:00:00:00:00", "drop");
        for (int n = 0; n < NODES; n++)
        {
            add(T_LR_ADMISSION, 50, router + ",reg14=" + hex(ROUTER_PORT_BASE + n) + ",dl_dst=" + mac(routerMac(n)),
                next(T_LR_IP_INPUT));
        }
        add(T_LR_ADMISSION, 0, "", "drop");
    }

    /** lr_in_ip_input: martians, packets for the router itself, expiring TTLs. */
    private void routerIpInput()
    {
        final String router = "ip,metadata=" + hex(ROUTER_DP);
        add(T_LR_IP_INPUT, 100, router + ",nw_src=127.0.0.0/8", "drop");
        add(T_LR_IP_INPUT, 100, router + ",nw_src=224.0.0.0/4", "drop");
        add(T_LR_IP_INPUT, 100, router + ",nw_src=255.255.255.255", "drop");
        add(T_LR_IP_INPUT, 95, router + ",nw_ttl=0", "drop");
        add(T_LR_IP_INPUT, 95, router + ",nw_ttl=1", "drop");
        for (int n = 0; n < NODES; n++)
        {
            add(T_LR_IP_INPUT, 90, router + ",nw_dst=" + ip(routerIp(n)), "drop");
            add(T_LR_IP_INPUT, 90, router + ",nw_src=" + ip(routerIp(n)), "drop");
        }
        add(T_LR_IP_INPUT, 0, "", next(T_LR_IP_ROUTING));
    }

    /**
     * lr_in_ip_routing: longest prefix first through OVN's priority = 2 x prefix length + 1.
     * Connected node subnets take the destination as next hop; static routes of every length
     * go to one of the gateways on the join switch.
     */
    private void routing()
    {
        final String router = "ip,metadata=" + hex(ROUTER_DP);
        for (int n = 0; n < NODES; n++)
        {
            add(T_LR_IP_ROUTING, 2 * 24 + 1, router + ",nw_dst=" + cidr(Frames.ipv4(10, 244, n, 0), 24),
                "dec_ttl,move:NXM_OF_IP_DST[]->NXM_NX_REG0[],load:" + hex(routerIp(n) & 0xffff_ffffL) + "->NXM_NX_REG1[],"
                + "mod_dl_src:" + mac(routerMac(n)) + ",load:" + hex(ROUTER_PORT_BASE + n) + "->NXM_NX_REG15[],"
                + next(T_LR_ARP_RESOLVE));
        }
        final int start = flows.size();
        while (flows.size() - start < routeRules)
        {
            final int length = 8 + random.nextInt(25);
            final int prefix = randomExternalAddress() & (int)(0xffff_ffffL << (32 - length));
            if (addRoute(router, prefix, length, 2 * length + 1))
            {
                routes.add(new int[] {prefix, length});
            }
        }
        addRoute(router, 0, 0, 1);
    }

    private boolean addRoute(final String router, final int prefix, final int length, final int priority)
    {
        final int gateway = Frames.ipv4(100, 64, 0, 2 + random.nextInt(GATEWAYS));
        return add(T_LR_IP_ROUTING, priority, router + (length == 0 ? "" : ",nw_dst=" + cidr(prefix, length)),
            "dec_ttl,load:" + hex(gateway & 0xffff_ffffL) + "->NXM_NX_REG0[],load:" + hex(joinIp() & 0xffff_ffffL)
            + "->NXM_NX_REG1[],mod_dl_src:" + mac(joinMac()) + ",load:" + hex(ROUTER_JOIN_PORT) + "->NXM_NX_REG15[],"
            + next(T_LR_ARP_RESOLVE));
    }

    /** lr_in_arp_resolve: next-hop IP (reg0) and output port to the destination MAC. */
    private void arpResolve()
    {
        final String router = "ip,metadata=" + hex(ROUTER_DP);
        for (int p = 0; p < PODS; p++)
        {
            add(T_LR_ARP_RESOLVE, 100, router + ",reg15=" + hex(ROUTER_PORT_BASE + nodeOf(p)) + ",reg0="
                + hex(podIp(p) & 0xffff_ffffL), "mod_dl_dst:" + mac(podMac(p)) + "," + next(T_LR_TO_SWITCH));
        }
        for (int g = 0; g < GATEWAYS; g++)
        {
            add(T_LR_ARP_RESOLVE, 100, router + ",reg15=" + hex(ROUTER_JOIN_PORT) + ",reg0="
                + hex(Frames.ipv4(100, 64, 0, 2 + g) & 0xffff_ffffL),
                "mod_dl_dst:" + mac(Frames.mac(0x0a, 0x58, 0x64, 0x40, 0x00, 2 + g)) + "," + next(T_LR_TO_SWITCH));
        }
        add(T_LR_ARP_RESOLVE, 0, "", "drop");
    }

    /**
     * The patch port from the router to a node switch: OVN re-enters the switch's ingress
     * pipeline with the router port as input and registers cleared (a resubmit to an earlier
     * table, so it nests one level deeper). Off-cluster traffic leaves through the uplink.
     */
    private void routerToSwitch()
    {
        for (int n = 0; n < NODES; n++)
        {
            add(T_LR_TO_SWITCH, 100, "metadata=" + hex(ROUTER_DP) + ",reg15=" + hex(ROUTER_PORT_BASE + n),
                "set_field:" + hex(switchDp(n)) + "->metadata,set_field:" + hex(SWITCH_ROUTER_PORT) + "->reg14,"
                + "set_field:0->reg15,set_field:0->reg0," + next(T_IN_PORT_SEC_L2));
        }
        add(T_LR_TO_SWITCH, 100, "metadata=" + hex(ROUTER_DP) + ",reg15=" + hex(ROUTER_JOIN_PORT), "output:" + UPLINK_PORT);
        add(T_LR_TO_SWITCH, 0, "", "drop");
    }

    /** ls_out_port_sec_ip and _l2: a pod receives only what is addressed to it (or flooded). */
    private void egressPortSecurity()
    {
        for (int n = 0; n < NODES; n++)
        {
            add(T_OUT_PORT_SEC_L2, 100, dp(n) + ",reg15=" + hex(FLOOD), next(T_PHY_OUT));
        }
        for (int p = 0; p < PODS; p++)
        {
            final String port = dp(nodeOf(p)) + ",reg15=" + hex(podKey(p));
            add(T_OUT_PORT_SEC_IP, 90, "ip," + port + ",nw_dst=" + ip(podIp(p)), next(T_OUT_PORT_SEC_L2));
            add(T_OUT_PORT_SEC_IP, 80, "ip," + port, "drop");
            add(T_OUT_PORT_SEC_L2, 50, port + ",dl_dst=" + mac(podMac(p)), next(T_PHY_OUT));
        }
        add(T_OUT_PORT_SEC_IP, 0, "", next(T_OUT_PORT_SEC_L2));
        add(T_OUT_PORT_SEC_L2, 0, "", "drop");
    }

    /** Logical output port to OpenFlow port; the flood port outputs to every pod of the switch. */
    private void physicalOut()
    {
        for (int n = 0; n < NODES; n++)
        {
            final StringBuilder all = new StringBuilder();
            for (int i = 0; i < PODS_PER_NODE; i++)
            {
                all.append(i == 0 ? "" : ",").append("output:").append(podPort(n * PODS_PER_NODE + i));
            }
            add(T_PHY_OUT, 100, dp(n) + ",reg15=" + hex(FLOOD), all.toString());
        }
        for (int p = 0; p < PODS; p++)
        {
            add(T_PHY_OUT, 100, dp(nodeOf(p)) + ",reg15=" + hex(podKey(p)), "output:" + podPort(p));
        }
    }

    /** Adds a rule unless the same table/priority/match was already generated (a duplicate would replace it). */
    private boolean add(final int table, final int priority, final String match, final String actions)
    {
        final String line = "table=" + table + ",priority=" + priority + (match.isEmpty() ? "" : "," + match)
            + ",actions=" + actions;
        final String key = line.substring(0, line.indexOf(",actions="));
        for (int i = Math.max(0, flows.size() - 64); i < flows.size(); i++)
        {
            if (flows.get(i).startsWith(key + ",actions="))
            {
                return false;
            }
        }
        flows.add(line);
        return true;
    }

    private static int fixedRuleCount()
    {
        // Counted from the stages above with their fixed sizes; only the total's order matters.
        return 201 + (2 + NODES + PODS) + (5 * PODS + 1) + 2 * (2 * NODES + 1) + 2 * (NODES + 1)
            + (4 * NODES + PODS) + (NODES * (PODS_PER_NODE + 1) + 1) + (NODES + 3) + (2 * NODES + 6)
            + (PODS + GATEWAYS + 1) + (NODES + 2) + (NODES + 3 * PODS + 2) + (NODES + PODS) + NODES + 1;
    }

    private int randomClusterPrefix()
    {
        return Frames.ipv4(10, 244, random.nextInt(NODES), random.nextInt(256));
    }

    /**
     * A policy peer: a selected pod (/32), a pod-selector block (/26../28), a node subnet (/24),
     * the whole cluster (/16) or, for egress policies, an ipBlock outside the cluster.
     */
    private String randomPeer(final boolean egress)
    {
        final int pod = random.nextInt(PODS);
        switch (random.nextInt(egress ? 8 : 7))
        {
            case 0: case 1: case 2: return ip(podIp(pod));
            case 3: return cidr(podIp(pod), 26 + random.nextInt(3));
            case 4: case 5: return cidr(podIp(pod), 24);
            case 6: return cidr(podIp(pod), 16);
            default: return cidr(randomExternalAddress(), 8 + random.nextInt(17));
        }
    }

    private int randomPort()
    {
        return random.nextInt(4) == 0 ? 1024 + random.nextInt(60000) : POLICY_PORTS[random.nextInt(POLICY_PORTS.length)];
    }

    private int randomExternalAddress()
    {
        switch (random.nextInt(4))
        {
            case 0: return Frames.ipv4(172, 16 + random.nextInt(16), random.nextInt(256), random.nextInt(256));
            case 1: return Frames.ipv4(192, 168, random.nextInt(256), random.nextInt(256));
            case 2: return Frames.ipv4(10, random.nextInt(200), random.nextInt(256), random.nextInt(256));
            default: return Frames.ipv4(20 + random.nextInt(180), random.nextInt(256), random.nextInt(256), random.nextInt(256));
        }
    }

    static int nodeOf(final int pod)
    {
        return pod / PODS_PER_NODE;
    }

    static int podPort(final int pod)
    {
        return pod + 1;
    }

    static int podKey(final int pod)
    {
        return 2 + pod % PODS_PER_NODE;
    }

    static int switchDp(final int node)
    {
        return node + 1;
    }

    static long podMac(final int pod)
    {
        return Frames.mac(0x0a, 0x58, 0x0a, 0xf4, nodeOf(pod), 5 + pod % PODS_PER_NODE);
    }

    static int podIp(final int pod)
    {
        return Frames.ipv4(10, 244, nodeOf(pod), 5 + pod % PODS_PER_NODE);
    }

    static long routerMac(final int node)
    {
        return Frames.mac(0x0a, 0x58, 0x0a, 0xf4, node, 1);
    }

    static int routerIp(final int node)
    {
        return Frames.ipv4(10, 244, node, 1);
    }

    private static long joinMac()
    {
        return Frames.mac(0x0a, 0x58, 0x64, 0x40, 0x00, 0x01);
    }

    private static int joinIp()
    {
        return Frames.ipv4(100, 64, 0, 1);
    }

    private static String dp(final int node)
    {
        return "metadata=" + hex(switchDp(node));
    }

    private static String next(final int table)
    {
        return "resubmit(," + table + ")";
    }

    private static String hex(final long v)
    {
        return "0x" + Long.toHexString(v);
    }

    private static String mac(final long m)
    {
        return String.format(Locale.ROOT, "%02x:%02x:%02x:%02x:%02x:%02x", m >>> 40 & 0xff, m >>> 32 & 0xff,
            m >>> 24 & 0xff, m >>> 16 & 0xff, m >>> 8 & 0xff, m & 0xff);
    }

    private static String ip(final int a)
    {
        return (a >>> 24) + "." + (a >>> 16 & 0xff) + "." + (a >>> 8 & 0xff) + "." + (a & 0xff);
    }

    private static String cidr(final int address, final int length)
    {
        final int masked = length == 0 ? 0 : address & (int)(0xffff_ffffL << (32 - length));
        return ip(masked) + "/" + length;
    }
}
