package dev.junction.control.flows;

import dev.junction.control.k8s.Ip;

import java.net.InetAddress;

import static dev.junction.control.flows.SwitchFlows.hex;

/**
 * Where ClientIP affinity keeps the VIP, the service port and the chosen backend while a packet
 * goes through the affinity stages, per address family. IPv4: VIP in {@code reg5}, protocol and
 * port in {@code reg6}, backend in {@code reg4}. IPv6 needs 128 bits twice, more than OVN's
 * {@code xxreg1} alone, so: VIP in {@code xreg2:xreg3} (reg4-reg7), protocol and port in
 * {@code reg13}, backend in {@code xreg1:xreg4} (reg2-reg3, reg8-reg9). Names are the NXM/OXM
 * ones, which both ovs-ofctl and Junction parse in learn and move.
 */
final class AffinityRegisters
{
    static final AffinityRegisters IPV4 = new AffinityRegisters(false);
    static final AffinityRegisters IPV6 = new AffinityRegisters(true);

    private final boolean v6;

    private AffinityRegisters(final boolean v6)
    {
        this.v6 = v6;
    }

    static AffinityRegisters of(final boolean ipv6)
    {
        return ipv6 ? IPV6 : IPV4;
    }

    /** Loads the VIP and its protocol and port (key) into the registers the affinity tables match. */
    String loadVip(final InetAddress vip, final long key)
    {
        final long[] a = words(vip);
        return v6
            ? "load:" + hex(a[0]) + "->OXM_OF_PKT_REG2[],load:" + hex(a[1]) + "->OXM_OF_PKT_REG3[],load:" + hex(key) + "->NXM_NX_REG13[],"
            : "load:" + hex(a[1]) + "->NXM_NX_REG5[],load:" + hex(key) + "->NXM_NX_REG6[],";
    }

    /** The match on the VIP and key registers, with the family's ethertype token. */
    String matchVip(final InetAddress vip, final long key)
    {
        final long[] a = words(vip);
        return v6
            ? "xreg2=" + hex(a[0]) + ",xreg3=" + hex(a[1]) + ",reg13=" + hex(key) + "," + Matches.ipToken(true)
            : "reg5=" + hex(a[1]) + ",reg6=" + hex(key) + "," + Matches.ipToken(false);
    }

    /** An established affine packet: the VIP and key back from conntrack's original destination. */
    String moveVipFromConntrack()
    {
        return v6
            ? "move:NXM_NX_CT_IPV6_DST[64..127]->OXM_OF_PKT_REG2[],move:NXM_NX_CT_IPV6_DST[0..63]->OXM_OF_PKT_REG3[],"
                + "move:NXM_NX_CT_TP_DST[]->NXM_NX_REG13[0..15],move:NXM_NX_CT_NW_PROTO[]->NXM_NX_REG13[16..23],"
            : "move:NXM_NX_CT_NW_DST[]->NXM_NX_REG5[],move:NXM_NX_CT_TP_DST[]->NXM_NX_REG6[0..15],"
                + "move:NXM_NX_CT_NW_PROTO[]->NXM_NX_REG6[16..23],";
    }

    String loadBackend(final InetAddress backend)
    {
        final long[] a = words(backend);
        return v6
            ? "load:" + hex(a[0]) + "->OXM_OF_PKT_REG1[],load:" + hex(a[1]) + "->OXM_OF_PKT_REG4[],"
            : "load:" + hex(a[1]) + "->NXM_NX_REG4[],";
    }

    String matchBackend(final InetAddress backend)
    {
        final long[] a = words(backend);
        return v6 ? "xreg1=" + hex(a[0]) + ",xreg4=" + hex(a[1]) : "reg4=" + hex(a[1]);
    }

    /** The learned flow's match (client address, VIP, key) and its loads (the backend). */
    String learnSpecs()
    {
        return v6
            ? "eth_type=0x86dd,NXM_NX_IPV6_SRC[],OXM_OF_PKT_REG2[],OXM_OF_PKT_REG3[],NXM_NX_REG13[],"
                + "load:OXM_OF_PKT_REG1[]->OXM_OF_PKT_REG1[],load:OXM_OF_PKT_REG4[]->OXM_OF_PKT_REG4[]"
            : "eth_type=0x800,NXM_OF_IP_SRC[],NXM_NX_REG5[],NXM_NX_REG6[],load:NXM_NX_REG4[]->NXM_NX_REG4[]";
    }

    /** The address as two 64-bit words, high first (an IPv4 address is the low word). */
    private static long[] words(final InetAddress a)
    {
        final byte[] b = a.getAddress();
        final long[] out = new long[2];
        for (int i = 0; i < b.length; i++)
        {
            final int w = b.length == 16 && i < 8 ? 0 : 1;
            out[w] = out[w] << 8 | (b[i] & 0xff);
        }
        return out;
    }

    static InetAddress backendAddress(final String addressAndPort)
    {
        final String a = addressAndPort.startsWith("[")
            ? addressAndPort.substring(1, addressAndPort.indexOf(']'))
            : addressAndPort.substring(0, addressAndPort.indexOf(':'));
        return Ip.parse(a);
    }
}
