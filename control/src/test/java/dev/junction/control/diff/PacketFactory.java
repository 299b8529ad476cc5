package dev.junction.control.diff;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

/**
 * Builds Ethernet frames for differential tests: layered builders (Ethernet, ARP, IPv4, IPv6 with
 * extension headers, TCP, UDP, SCTP, ICMP, ICMPv6/ND) that compute every checksum, plus a seeded
 * {@link #randomFrame()} that mixes them with the malformed shapes a switch meets in practice
 * (truncation, bad IHL, tot_len beyond the frame, Ethernet padding, fragments).
 *
 * <p>Addresses, ports and VLAN ids come from small pools shared with {@link FlowCaseGenerator}
 * so that generated rules actually match generated packets.
 */
final class PacketFactory
{
    static final int ETH_IPV4 = 0x0800;
    static final int ETH_ARP = 0x0806;
    static final int ETH_IPV6 = 0x86dd;
    static final int TPID_8021Q = 0x8100;
    static final int TPID_8021AD = 0x88a8;

    static final int PROTO_HOPOPTS = 0;
    static final int PROTO_ICMP = 1;
    static final int PROTO_TCP = 6;
    static final int PROTO_UDP = 17;
    static final int PROTO_ROUTING = 43;
    static final int PROTO_FRAGMENT = 44;
    static final int PROTO_ICMPV6 = 58;
    static final int PROTO_NONE = 59;
    static final int PROTO_DSTOPTS = 60;
    static final int PROTO_SCTP = 132;

    static final int TCP_FIN = 0x001;
    static final int TCP_SYN = 0x002;
    static final int TCP_RST = 0x004;
    static final int TCP_PSH = 0x008;
    static final int TCP_ACK = 0x010;

    static final byte[][] MACS =
    {
        mac("02:00:00:00:00:01"), mac("02:00:00:00:00:02"), mac("02:00:00:00:00:03"), mac("02:00:00:00:00:04"),
    };
    static final byte[] BROADCAST = mac("ff:ff:ff:ff:ff:ff");
    static final byte[] MULTICAST6 = mac("33:33:ff:00:00:01");
    static final int[] IPV4 = { 0x0a000001, 0x0a000002, 0x0a000003, 0x0a000004 };
    static final byte[][] IPV6 = { ip6("fe80::1"), ip6("fe80::2"), ip6("fe80::3"), ip6("fe80::4") };
    static final byte[][] IPV6_SEGMENTS = { ip6("2001:db8::1"), ip6("2001:db8::2"), ip6("2001:db8::3") };
    static final int[] L4_PORTS = { 53, 80, 443, 8080 };
    static final int[] VLAN_IDS = { 5, 10, 100 };
    static final int[] TTLS = { 0, 1, 2, 64, 255 };
    static final int[] FLOW_LABELS = { 0, 1, 0x12345, 0xfffff };

    private static final byte[] EMPTY = new byte[0];
    private static final int MIN_FRAME = 60;

    /** What a builder does with the upper-layer checksum: correct, zero (UDP "none"), or wrong. */
    enum Checksum
    {
        CORRECT, ZERO, BAD
    }

    private final SplittableRandom random;
    private final StringBuilder description = new StringBuilder();

    PacketFactory(final SplittableRandom random)
    {
        this.random = random;
    }

    /** One random frame; {@link #lastDescription()} then says what it is, for failure reports. */
    byte[] randomFrame()
    {
        description.setLength(0);
        final byte[] src = MACS[random.nextInt(MACS.length)];
        final byte[] dst = pickDstMac();
        final int[] tags = randomTags();

        final int l3Pick = random.nextInt(100);
        final int etherType;
        final byte[] l3;
        if (l3Pick < 15)
        {
            etherType = ETH_ARP;
            l3 = randomArp();
        }
        else if (l3Pick < 60)
        {
            etherType = ETH_IPV4;
            l3 = randomIpv4();
        }
        else if (l3Pick < 94)
        {
            etherType = ETH_IPV6;
            l3 = randomIpv6();
        }
        else
        {
            etherType = random.nextBoolean() ? 0x88b5 : 0x88cc;
            l3 = randomBytes(20 + random.nextInt(30));
            description.append(String.format("ethertype 0x%04x", etherType));
        }

        final int l2Pick = random.nextInt(100);
        byte[] frame;
        if (l2Pick < 5 && etherType != 0x88cc)
        {
            description.insert(0, "llc/snap ");
            frame = llcSnap(dst, src, tags, etherType, l3);
        }
        else if (l2Pick < 7)
        {
            description.setLength(0);
            description.append("llc (stp-like)");
            frame = llc(dst, src, tags, 0x42, 0x42, 0x03, randomBytes(10 + random.nextInt(30)));
        }
        else
        {
            frame = ethernet(dst, src, tags, etherType, l3);
        }

        final int l2Length = 14 + 4 * tags.length;
        final int damage = random.nextInt(100);
        if (damage < 6)
        {
            // Cut mostly inside L2/L3/L4 headers: that is where parsers go wrong.
            final int limit = Math.min(frame.length - 1, l2Length + 60);
            final int cut = 6 + random.nextInt(Math.max(1, limit - 6));
            frame = Arrays.copyOf(frame, Math.min(cut, frame.length));
            description.append(" truncated@").append(frame.length);
        }
        else if (frame.length < MIN_FRAME && random.nextInt(100) < 50)
        {
            // What a NIC delivers: short frames padded to 60 bytes, beyond IP tot_len.
            frame = Arrays.copyOf(frame, MIN_FRAME);
            description.append(" padded");
        }
        else if (random.nextInt(100) < 5)
        {
            frame = concat(frame, randomBytes(1 + random.nextInt(8)));
            description.append(" trailer");
        }
        return frame;
    }

    String lastDescription()
    {
        return description.toString().trim();
    }

    private byte[] pickDstMac()
    {
        final int pick = random.nextInt(100);
        if (pick < 8)
        {
            return BROADCAST;
        }
        if (pick < 11)
        {
            return MULTICAST6;
        }
        return MACS[random.nextInt(MACS.length)];
    }

    private int[] randomTags()
    {
        final int pick = random.nextInt(100);
        if (pick < 65)
        {
            return new int[0];
        }
        if (pick < 88)
        {
            final int tci = randomTci();
            description.append("vlan ").append(tci & 0xfff).append(' ');
            return new int[]{ TPID_8021Q << 16 | tci };
        }
        final int outer = randomTci();
        final int inner = randomTci();
        final int outerTpid = pick < 97 ? TPID_8021AD : TPID_8021Q;
        description.append(String.format("qinq 0x%04x/%d/%d ", outerTpid, outer & 0xfff, inner & 0xfff));
        return new int[]{ outerTpid << 16 | outer, TPID_8021Q << 16 | inner };
    }

    private int randomTci()
    {
        // VID 0 is a priority tag: a tag that says "no VLAN", which matches treat specially.
        final int vid = random.nextInt(100) < 5 ? 0 : VLAN_IDS[random.nextInt(VLAN_IDS.length)];
        final int pcp = random.nextInt(100) < 60 ? 0 : random.nextInt(8);
        final int dei = random.nextInt(100) < 3 ? 1 : 0;
        return pcp << 13 | dei << 12 | vid;
    }

    private byte[] randomArp()
    {
        final int pick = random.nextInt(100);
        final int op = pick < 50 ? 1 : pick < 95 ? 2 : 3 + random.nextInt(8);
        final byte[] sha = MACS[random.nextInt(MACS.length)];
        final byte[] tha = op == 1 && random.nextBoolean() ? new byte[6] : MACS[random.nextInt(MACS.length)];
        final int spa = pickIpv4();
        final int tpa = pickIpv4();
        description.append("arp op=").append(op).append(' ').append(ip4String(spa)).append("->").append(ip4String(tpa));
        return arp(op, sha, spa, tha, tpa);
    }

    private int pickIpv4()
    {
        return random.nextInt(100) < 6 ? 0xc0a80000 | random.nextInt(1 << 16) : IPV4[random.nextInt(IPV4.length)];
    }

    private byte[] pickIpv6()
    {
        return random.nextInt(100) < 6 ? IPV6_SEGMENTS[random.nextInt(IPV6_SEGMENTS.length)] :
            IPV6[random.nextInt(IPV6.length)];
    }

    private int pickTtl()
    {
        return random.nextInt(100) < 50 ? 64 : TTLS[random.nextInt(TTLS.length)];
    }

    private int pickPort()
    {
        return random.nextInt(100) < 85 ? L4_PORTS[random.nextInt(L4_PORTS.length)] : 1024 + random.nextInt(64_000);
    }

    private byte[] randomIpv4()
    {
        final Ip4 ip = new Ip4()
            .src(pickIpv4())
            .dst(pickIpv4())
            .ttl(pickTtl())
            .tos(random.nextBoolean() ? 0 : random.nextInt(256))
            .id(random.nextInt(1 << 16))
            .dontFragment(random.nextInt(100) < 30);
        description.append("ipv4 ").append(ip4String(ip.src)).append("->").append(ip4String(ip.dst))
            .append(" ttl=").append(ip.ttl);
        if (ip.tos != 0)
        {
            description.append(String.format(" tos=0x%02x", ip.tos));
        }
        if (random.nextInt(100) < 18)
        {
            ip.options(randomIpv4Options());
            description.append(" ihl=").append(5 + ip.options.length / 4);
        }

        final int proto = pickProto(false);
        final Checksum checksum = pickChecksum(proto);
        final byte[] upper = randomUpper(proto, false);

        final int fragPick = random.nextInt(100);
        if (fragPick < 6)
        {
            ip.fragment(0, true, firstFragmentBytes(proto, upper.length));
            description.append(" frag=first");
        }
        else if (fragPick < 12)
        {
            final int offset = 1 + random.nextInt(Math.max(1, upper.length / 8 + 1));
            ip.fragment(offset, random.nextBoolean(), -1);
            description.append(" frag=later@").append(offset).append(ip.moreFragments ? "+MF" : "");
        }

        final int damage = random.nextInt(100);
        if (damage < 2)
        {
            final int[] badIhl = { 0, 3, 4, 15 };
            ip.ihlOverride(badIhl[random.nextInt(badIhl.length)]);
            description.append(" bad-ihl=").append(ip.ihlOverride);
        }
        else if (damage < 4)
        {
            ip.totLenDelta(1 + random.nextInt(40));
            description.append(" tot_len+").append(ip.totLenDelta);
        }
        else if (damage < 5)
        {
            ip.badChecksum(true);
            description.append(" bad-ip-csum");
        }
        return ip.build(proto, upper, checksum);
    }

    private byte[] randomIpv6()
    {
        final Ip6 ip = new Ip6()
            .src(pickIpv6())
            .dst(pickIpv6())
            .hopLimit(pickTtl())
            .trafficClass(random.nextBoolean() ? 0 : random.nextInt(256))
            .flowLabel(random.nextInt(100) < 70 ? FLOW_LABELS[random.nextInt(FLOW_LABELS.length)] :
                random.nextInt(1 << 20));
        description.append("ipv6 ").append(ip6String(ip.src)).append("->").append(ip6String(ip.dst))
            .append(" hlim=").append(ip.hopLimit);
        final int proto = pickProto(true);
        final byte[] upper = randomUpper(proto, true);
        if (random.nextInt(100) < 30)
        {
            if (random.nextInt(100) < 40)
            {
                ip.hopByHop(random.nextBoolean());
                description.append(" +hbh");
            }
            if (random.nextInt(100) < 30)
            {
                ip.destinationOptions();
                description.append(" +dst");
            }
            if (random.nextInt(100) < 40)
            {
                final int segments = 1 + random.nextInt(3);
                final int segmentsLeft = random.nextBoolean() ? 0 : 1 + random.nextInt(segments);
                ip.routing(segmentsLeft, pickSegments(segments, segmentsLeft == 0 ? ip.dst : null));
                description.append(" +rh(segleft=").append(segmentsLeft).append(')');
            }
            if (random.nextInt(100) < 40)
            {
                if (random.nextBoolean())
                {
                    ip.fragment(0, true, firstFragmentBytes(proto, upper.length));
                    description.append(" +frag=first");
                }
                else
                {
                    final int offset = 1 + random.nextInt(Math.max(1, upper.length / 8 + 1));
                    ip.fragment(offset, random.nextBoolean(), -1);
                    description.append(" +frag=later@").append(offset);
                }
            }
        }
        return ip.build(proto, upper, pickChecksum(proto));
    }

    private byte[][] pickSegments(final int count, final byte[] finalDestination)
    {
        final byte[][] segments = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            segments[i] = random.nextBoolean() ? IPV6_SEGMENTS[random.nextInt(IPV6_SEGMENTS.length)] :
                IPV6[random.nextInt(IPV6.length)];
        }
        if (finalDestination != null)
        {
            // Segments left 0: the current destination is the final one, Segment List[0].
            segments[0] = finalDestination;
        }
        return segments;
    }

    private int firstFragmentBytes(final int proto, final int upperLength)
    {
        // Usually the whole L4 header rides in the first fragment; sometimes (tiny fragments) not.
        final int header = proto == PROTO_TCP ? 20 : 8;
        final int want = random.nextInt(100) < 90 ? header + random.nextInt(24) : 8;
        return Math.min(upperLength, (want + 7) & ~7);
    }

    private int pickProto(final boolean v6)
    {
        final int pick = random.nextInt(100);
        if (pick < 30)
        {
            return PROTO_TCP;
        }
        if (pick < 58)
        {
            return PROTO_UDP;
        }
        if (pick < 80)
        {
            return v6 ? PROTO_ICMPV6 : PROTO_ICMP;
        }
        if (pick < 90)
        {
            return PROTO_SCTP;
        }
        if (pick < 94)
        {
            return v6 ? PROTO_NONE : 0;
        }
        final int[] unknown = { 0, 99, 253 };
        return v6 ? 253 : unknown[random.nextInt(unknown.length)];
    }

    private Checksum pickChecksum(final int proto)
    {
        final int pick = random.nextInt(100);
        if (proto == PROTO_UDP && pick < 15)
        {
            description.append(" udp-csum=0");
            return Checksum.ZERO;
        }
        if (pick >= 98)
        {
            description.append(" bad-l4-csum");
            return Checksum.BAD;
        }
        return Checksum.CORRECT;
    }

    private byte[] randomUpper(final int proto, final boolean v6)
    {
        final byte[] payload = randomBytes(random.nextInt(100) < 40 ? 0 : random.nextInt(48));
        switch (proto)
        {
            case PROTO_TCP:
            {
                final int flags = randomTcpFlags();
                final int sport = pickPort();
                final int dport = pickPort();
                description.append(String.format(" tcp %d->%d flags=0x%03x", sport, dport, flags));
                final byte[] options = random.nextInt(100) < 35 ? randomTcpOptions() : EMPTY;
                final byte[] tcp = tcp(sport, dport, random.nextLong() & 0xffffffffL,
                    random.nextLong() & 0xffffffffL, flags, options, payload);
                if (random.nextInt(100) < 2)
                {
                    // A data offset below 5 or beyond the segment: the header cannot be trusted.
                    final int doff = random.nextBoolean() ? random.nextInt(5) : 15;
                    tcp[12] = (byte)(doff << 4 | (tcp[12] & 0x0f));
                    description.append(" bad-doff=").append(doff);
                }
                return tcp;
            }
            case PROTO_UDP:
            {
                final int sport = pickPort();
                final int dport = pickPort();
                description.append(" udp ").append(sport).append("->").append(dport);
                return udp(sport, dport, payload);
            }
            case PROTO_SCTP:
            {
                final int sport = pickPort();
                final int dport = pickPort();
                description.append(" sctp ").append(sport).append("->").append(dport);
                return sctp(sport, dport, random.nextLong() & 0xffffffffL, sctpDataChunk(payload));
            }
            case PROTO_ICMP:
                return randomIcmp(payload);
            case PROTO_ICMPV6:
                return randomIcmp6(payload);
            default:
                description.append(" proto=").append(proto);
                return payload;
        }
    }

    private int randomTcpFlags()
    {
        final int[] common =
        {
            TCP_SYN, TCP_SYN | TCP_ACK, TCP_ACK, TCP_PSH | TCP_ACK, TCP_FIN | TCP_ACK, TCP_RST, TCP_RST | TCP_ACK,
        };
        final int pick = random.nextInt(100);
        if (pick < 75)
        {
            return common[random.nextInt(common.length)];
        }
        // Anything goes, including ECE/CWR/NS and the three reserved bits OVS also matches on.
        return pick < 95 ? random.nextInt(0x200) : random.nextInt(0x1000);
    }

    private byte[] randomTcpOptions()
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (random.nextBoolean())
        {
            out.writeBytes(new byte[]{ 2, 4, 0x05, (byte)0xb4 });                       // MSS 1460
        }
        if (random.nextBoolean())
        {
            out.writeBytes(new byte[]{ 1, 3, 3, (byte)random.nextInt(15) });         // NOP, window scale
        }
        if (random.nextBoolean())
        {
            out.writeBytes(new byte[]{ 1, 1, 4, 2 });                                 // NOP NOP SACK-permitted
        }
        if (random.nextBoolean())
        {
            out.writeBytes(new byte[]{ 1, 1, 8, 10 });                                // NOP NOP timestamps
            out.writeBytes(randomBytes(8));
        }
        while (out.size() % 4 != 0 || out.size() == 0)
        {
            out.write(1);
        }
        return out.toByteArray();
    }

    private byte[] randomIpv4Options()
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final int pick = random.nextInt(4);
        if (pick == 0)
        {
            out.writeBytes(new byte[]{ (byte)0x94, 4, 0, 0 });                         // router alert
        }
        else if (pick == 1)
        {
            final int slots = 1 + random.nextInt(9);                                 // record route
            out.writeBytes(new byte[]{ 7, (byte)(3 + 4 * slots), 4 });
            out.writeBytes(new byte[4 * slots]);
        }
        else if (pick == 2)
        {
            out.writeBytes(new byte[]{ 0x44, 12, 5, 0 });                              // timestamp
            out.writeBytes(randomBytes(8));
        }
        else
        {
            out.writeBytes(new byte[]{ 1, 1, 1 });                                     // NOPs
        }
        while (out.size() % 4 != 0)
        {
            out.write(0);                                                            // EOL padding
        }
        return out.toByteArray();
    }

    private byte[] randomIcmp(final byte[] payload)
    {
        final int pick = random.nextInt(100);
        if (pick < 70)
        {
            final int type = random.nextBoolean() ? 8 : 0;
            description.append(" icmp echo type=").append(type);
            return icmp(type, 0, random.nextInt(1 << 16) << 16 | random.nextInt(1 << 16), payload);
        }
        final int type = pick < 90 ? 3 : 11;
        final int code = random.nextInt(type == 3 ? 16 : 2);
        description.append(" icmp type=").append(type).append(" code=").append(code);
        // The offending datagram's header and first 8 bytes, as a router quotes it.
        final byte[] quoted = new Ip4().src(IPV4[0]).dst(IPV4[1]).ttl(1)
            .build(PROTO_UDP, udp(pickPort(), pickPort(), randomBytes(8)), Checksum.CORRECT);
        return icmp(type, code, 0, Arrays.copyOf(quoted, 28));
    }

    private byte[] randomIcmp6(final byte[] payload)
    {
        final int pick = random.nextInt(100);
        if (pick < 45)
        {
            final int type = random.nextBoolean() ? 128 : 129;
            description.append(" icmp6 echo type=").append(type);
            return icmp6(type, 0, random.nextInt(1 << 16) << 16 | random.nextInt(1 << 16), payload);
        }
        final byte[] target = IPV6[random.nextInt(IPV6.length)];
        final byte[] lladdr = random.nextInt(100) < 80 ? MACS[random.nextInt(MACS.length)] : null;
        if (pick < 72)
        {
            description.append(" nd-ns target=").append(ip6String(target)).append(lladdr != null ? " +sll" : "");
            final byte[] ns = neighborSolicitation(target, lladdr);
            if (lladdr != null && random.nextInt(100) < 4)
            {
                ns[ns.length - 7] = 0;                                               // option length 0: invalid
                description.append(" bad-opt-len");
            }
            return ns;
        }
        if (pick < 95)
        {
            final int flags = random.nextInt(8) << 29;
            description.append(" nd-na target=").append(ip6String(target)).append(lladdr != null ? " +tll" : "");
            return neighborAdvertisement(flags, target, lladdr);
        }
        final int type = random.nextInt(100) < 50 ? 1 : random.nextInt(256);
        description.append(" icmp6 type=").append(type);
        return icmp6(type, random.nextInt(4), 0, payload);
    }

    private byte[] randomBytes(final int n)
    {
        final byte[] b = new byte[n];
        for (int i = 0; i < n; i++)
        {
            b[i] = (byte)random.nextInt(256);
        }
        return b;
    }

    // ---- Layered builders: static so hand-written edge cases can use them directly. ----

    /** Ethernet II frame; {@code tags} are {@code tpid << 16 | tci}, outermost first. */
    static byte[] ethernet(final byte[] dst, final byte[] src, final int[] tags, final int etherType, final byte[] payload)
    {
        final Buf b = new Buf();
        b.put(dst).put(src);
        for (final int tag : tags)
        {
            b.put32(tag);
        }
        b.put16(etherType).put(payload);
        return b.toArray();
    }

    /** IEEE 802.3 frame with an LLC/SNAP header (OUI 0) carrying {@code etherType}. */
    static byte[] llcSnap(final byte[] dst, final byte[] src, final int[] tags, final int etherType, final byte[] payload)
    {
        final Buf body = new Buf().put8(0xaa).put8(0xaa).put8(0x03).put8(0).put8(0).put8(0).put16(etherType).put(payload);
        return ethernet(dst, src, tags, body.size(), body.toArray());
    }

    /** IEEE 802.3 frame with a plain LLC header (no SNAP): OVS classifies it as dl_type 0x05ff. */
    static byte[] llc(
        final byte[] dst, final byte[] src, final int[] tags, final int dsap, final int ssap, final int control,
        final byte[] payload)
    {
        final Buf body = new Buf().put8(dsap).put8(ssap).put8(control).put(payload);
        return ethernet(dst, src, tags, body.size(), body.toArray());
    }

    static byte[] arp(final int op, final byte[] sha, final int spa, final byte[] tha, final int tpa)
    {
        return new Buf().put16(1).put16(ETH_IPV4).put8(6).put8(4).put16(op)
            .put(sha).put32(spa).put(tha).put32(tpa).toArray();
    }

    /** TCP segment with checksum 0; the IP builder fills it in. {@code flags} has 12 bits. */
    static byte[] tcp(
        final int sport, final int dport, final long seq, final long ack, final int flags, final byte[] options,
        final byte[] payload)
    {
        final int doff = 5 + options.length / 4;
        return new Buf().put16(sport).put16(dport).put32((int)seq).put32((int)ack)
            .put8(doff << 4 | (flags >> 8 & 0x0f)).put8(flags & 0xff).put16(8192).put16(0).put16(0)
            .put(options).put(payload).toArray();
    }

    static byte[] udp(final int sport, final int dport, final byte[] payload)
    {
        return new Buf().put16(sport).put16(dport).put16(8 + payload.length).put16(0).put(payload).toArray();
    }

    static byte[] sctp(final int sport, final int dport, final long verificationTag, final byte[] chunks)
    {
        return new Buf().put16(sport).put16(dport).put32((int)verificationTag).put32(0).put(chunks).toArray();
    }

    static byte[] sctpDataChunk(final byte[] data)
    {
        final Buf b = new Buf().put8(0).put8(0x03).put16(16 + data.length).put32(1).put16(0).put16(0).put32(0).put(data);
        while (b.size() % 4 != 0)
        {
            b.put8(0);
        }
        return b.toArray();
    }

    /** ICMPv4 message; {@code rest} is the 4 bytes after the checksum (id/seq, unused, MTU). */
    static byte[] icmp(final int type, final int code, final int rest, final byte[] body)
    {
        return new Buf().put8(type).put8(code).put16(0).put32(rest).put(body).toArray();
    }

    static byte[] icmp6(final int type, final int code, final int rest, final byte[] body)
    {
        return icmp(type, code, rest, body);
    }

    /** Neighbor Solicitation, with a source link-layer address option when {@code sll} is given. */
    static byte[] neighborSolicitation(final byte[] target, final byte[] sll)
    {
        final Buf b = new Buf().put8(135).put8(0).put16(0).put32(0).put(target);
        if (sll != null)
        {
            b.put8(1).put8(1).put(sll);
        }
        return b.toArray();
    }

    /** Neighbor Advertisement; {@code flags} holds R/S/O in its top bits. */
    static byte[] neighborAdvertisement(final int flags, final byte[] target, final byte[] tll)
    {
        final Buf b = new Buf().put8(136).put8(0).put16(0).put32(flags).put(target);
        if (tll != null)
        {
            b.put8(2).put8(1).put(tll);
        }
        return b.toArray();
    }

    /** IPv4 header fields; the defaults make a plain valid header. */
    static final class Ip4
    {
        int src = IPV4[0];
        int dst = IPV4[1];
        int tos;
        int ttl = 64;
        int id;
        boolean dontFragment;
        boolean moreFragments;
        int fragmentOffset;
        int fragmentBytes = -1;
        byte[] options = EMPTY;
        int ihlOverride = -1;
        int totLenDelta;
        boolean badChecksum;

        Ip4 src(final int src)
        {
            this.src = src;
            return this;
        }

        Ip4 dst(final int dst)
        {
            this.dst = dst;
            return this;
        }

        Ip4 tos(final int tos)
        {
            this.tos = tos;
            return this;
        }

        Ip4 ttl(final int ttl)
        {
            this.ttl = ttl;
            return this;
        }

        Ip4 id(final int id)
        {
            this.id = id;
            return this;
        }

        Ip4 dontFragment(final boolean dontFragment)
        {
            this.dontFragment = dontFragment;
            return this;
        }

        /** Options, already padded to a multiple of 4 bytes (at most 40). */
        Ip4 options(final byte[] options)
        {
            this.options = options;
            return this;
        }

        /**
         * Makes this a fragment: {@code offset} in 8-byte units into the upper-layer datagram,
         * carrying {@code bytes} of it (-1: up to its end; random bytes when the offset is past it).
         */
        Ip4 fragment(final int offset, final boolean more, final int bytes)
        {
            this.fragmentOffset = offset;
            this.moreFragments = more;
            this.fragmentBytes = bytes;
            return this;
        }

        Ip4 ihlOverride(final int ihl)
        {
            this.ihlOverride = ihl;
            return this;
        }

        Ip4 totLenDelta(final int delta)
        {
            this.totLenDelta = delta;
            return this;
        }

        Ip4 badChecksum(final boolean bad)
        {
            this.badChecksum = bad;
            return this;
        }

        byte[] build(final int proto, final byte[] upper, final Checksum l4Checksum)
        {
            final byte[] l4 = upper.clone();
            final long pseudo = sum32(src) + sum32(dst) + proto + l4.length;
            fillL4Checksum(proto, l4, pseudo, false, l4Checksum);
            final byte[] carried = fragmentSlice(l4, fragmentOffset, moreFragments, fragmentBytes);

            final int headerLength = 20 + options.length;
            final int ihl = ihlOverride >= 0 ? ihlOverride : headerLength / 4;
            final int flags = (dontFragment ? 0x4000 : 0) | (moreFragments ? 0x2000 : 0) | (fragmentOffset & 0x1fff);
            final Buf b = new Buf().put8(0x40 | ihl).put8(tos).put16(headerLength + carried.length + totLenDelta)
                .put16(id).put16(flags).put8(ttl).put8(proto).put16(0).put32(src).put32(dst).put(options);
            final byte[] header = b.toArray();
            int checksum = checksum(header, 0, header.length, 0);
            if (badChecksum)
            {
                checksum ^= 0x5a5a;
            }
            putShort(header, 10, checksum);
            return concat(header, carried);
        }
    }

    /** IPv6 header fields and an ordered chain of extension headers. */
    static final class Ip6
    {
        byte[] src = IPV6[0];
        byte[] dst = IPV6[1];
        int trafficClass;
        int flowLabel;
        int hopLimit = 64;
        private final Buf extensions = new Buf();
        private int[] extensionTypes = new int[0];
        private int[] extensionStarts = new int[0];
        private byte[] finalDestination;
        private int fragmentOffset;
        private boolean moreFragments;
        private int fragmentBytes = -1;
        private int fragmentIndex = -1;

        Ip6 src(final byte[] src)
        {
            this.src = src;
            return this;
        }

        Ip6 dst(final byte[] dst)
        {
            this.dst = dst;
            return this;
        }

        Ip6 trafficClass(final int trafficClass)
        {
            this.trafficClass = trafficClass;
            return this;
        }

        Ip6 flowLabel(final int flowLabel)
        {
            this.flowLabel = flowLabel;
            return this;
        }

        Ip6 hopLimit(final int hopLimit)
        {
            this.hopLimit = hopLimit;
            return this;
        }

        /** Hop-by-hop options: PadN only, or a router alert plus padding. */
        Ip6 hopByHop(final boolean routerAlert)
        {
            final byte[] options = routerAlert ? new byte[]{ 5, 2, 0, 0, 1, 0 } : new byte[]{ 1, 4, 0, 0, 0, 0 };
            return extension(PROTO_HOPOPTS, new Buf().put8(0).put8(0).put(options).toArray());
        }

        Ip6 destinationOptions()
        {
            return extension(PROTO_DSTOPTS, new Buf().put8(0).put8(1).put8(1).put8(12).put(new byte[12]).toArray());
        }

        /** Segment routing header (type 4); the final destination is {@code segments[0]}. */
        Ip6 routing(final int segmentsLeft, final byte[][] segments)
        {
            final Buf b = new Buf().put8(0).put8(2 * segments.length).put8(4).put8(segmentsLeft)
                .put8(segments.length - 1).put8(0).put16(0);
            for (final byte[] segment : segments)
            {
                b.put(segment);
            }
            if (segmentsLeft > 0)
            {
                finalDestination = segments[0];
            }
            return extension(PROTO_ROUTING, b.toArray());
        }

        /** Fragment header; see {@link Ip4#fragment(int, boolean, int)} for the arguments. */
        Ip6 fragment(final int offset, final boolean more, final int bytes)
        {
            fragmentOffset = offset;
            moreFragments = more;
            fragmentBytes = bytes;
            fragmentIndex = extensionTypes.length;
            return extension(PROTO_FRAGMENT, new Buf().put8(0).put8(0).put16(offset << 3 | (more ? 1 : 0))
                .put32(0x1234_5678).toArray());
        }

        private Ip6 extension(final int type, final byte[] header)
        {
            extensionTypes = Arrays.copyOf(extensionTypes, extensionTypes.length + 1);
            extensionStarts = Arrays.copyOf(extensionStarts, extensionStarts.length + 1);
            extensionTypes[extensionTypes.length - 1] = type;
            extensionStarts[extensionStarts.length - 1] = extensions.size();
            extensions.put(header);
            return this;
        }

        byte[] build(final int proto, final byte[] upper, final Checksum l4Checksum)
        {
            final byte[] l4 = upper.clone();
            // RFC 8200 8.1: with a routing header the pseudo-header names the final destination.
            final byte[] pseudoDst = finalDestination != null ? finalDestination : dst;
            final long pseudo = sum(src) + sum(pseudoDst) + l4.length + proto;
            fillL4Checksum(proto, l4, pseudo, true, l4Checksum);
            final byte[] carried = fragmentIndex >= 0 ?
                fragmentSlice(l4, fragmentOffset, moreFragments, fragmentBytes) : l4;

            // Chain next-header fields: first in the fixed header, then each extension's first byte.
            final byte[] ext = extensions.toArray();
            for (int i = 0; i < extensionTypes.length; i++)
            {
                ext[extensionStarts[i]] = (byte)(i + 1 < extensionTypes.length ? extensionTypes[i + 1] : proto);
            }
            final int firstNext = extensionTypes.length > 0 ? extensionTypes[0] : proto;
            return new Buf()
                .put32(6 << 28 | (trafficClass & 0xff) << 20 | (flowLabel & 0xfffff))
                .put16(ext.length + carried.length).put8(firstNext).put8(hopLimit)
                .put(src).put(dst).put(ext).put(carried).toArray();
        }
    }

    // ---- Checksums and byte helpers. ----

    private static byte[] fragmentSlice(final byte[] l4, final int offsetUnits, final boolean more, final int bytes)
    {
        if (offsetUnits == 0 && !more)
        {
            return l4;
        }
        final int from = offsetUnits * 8;
        if (from >= l4.length)
        {
            // Past the datagram we built: any bytes do, it is a later fragment of something bigger.
            final byte[] filler = new byte[bytes > 0 ? bytes : 16];
            Arrays.fill(filler, (byte)0xa5);
            return filler;
        }
        final int to = bytes < 0 ? l4.length : Math.min(l4.length, from + bytes);
        return Arrays.copyOfRange(l4, from, to);
    }

    private static void fillL4Checksum(
        final int proto, final byte[] l4, final long pseudoHeaderSum, final boolean v6, final Checksum mode)
    {
        final int offset;
        final boolean pseudo;
        switch (proto)
        {
            case PROTO_TCP:
                offset = 16;
                pseudo = true;
                break;
            case PROTO_UDP:
                offset = 6;
                pseudo = true;
                break;
            case PROTO_ICMP:
                offset = v6 ? -1 : 2;
                pseudo = false;
                break;
            case PROTO_ICMPV6:
                offset = v6 ? 2 : -1;
                pseudo = true;
                break;
            case PROTO_SCTP:
                if (l4.length >= 12)
                {
                    final CRC32C crc = new CRC32C();
                    crc.update(l4, 0, l4.length);
                    // SCTP stores CRC32c least significant byte first (RFC 9260 appendix A).
                    final int value = (int)crc.getValue() ^ (mode == Checksum.BAD ? 0x5a5a : 0);
                    l4[8] = (byte)value;
                    l4[9] = (byte)(value >>> 8);
                    l4[10] = (byte)(value >>> 16);
                    l4[11] = (byte)(value >>> 24);
                }
                return;
            default:
                return;
        }
        if (offset < 0 || l4.length < offset + 2)
        {
            return;
        }
        if (mode == Checksum.ZERO && proto == PROTO_UDP)
        {
            return;
        }
        int value = checksum(l4, 0, l4.length, pseudo ? pseudoHeaderSum : 0);
        if (proto == PROTO_UDP && value == 0)
        {
            value = 0xffff;                 // 0 means "no checksum" for UDP
        }
        if (mode == Checksum.BAD)
        {
            value ^= 0x5a5a;
        }
        putShort(l4, offset, value);
    }

    /** Internet checksum over {@code b[off, off+len)} plus a pre-summed pseudo header. */
    static int checksum(final byte[] b, final int off, final int len, final long initial)
    {
        long sum = initial;
        for (int i = 0; i + 1 < len; i += 2)
        {
            sum += (b[off + i] & 0xff) << 8 | (b[off + i + 1] & 0xff);
        }
        if ((len & 1) != 0)
        {
            sum += (b[off + len - 1] & 0xff) << 8;
        }
        while (sum >>> 16 != 0)
        {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int)(~sum & 0xffff);
    }

    private static long sum32(final int v)
    {
        return (v >>> 16) + (v & 0xffff);
    }

    private static long sum(final byte[] b)
    {
        long s = 0;
        for (int i = 0; i + 1 < b.length; i += 2)
        {
            s += (b[i] & 0xff) << 8 | (b[i + 1] & 0xff);
        }
        return s;
    }

    private static void putShort(final byte[] b, final int off, final int v)
    {
        b[off] = (byte)(v >>> 8);
        b[off + 1] = (byte)v;
    }

    static byte[] concat(final byte[] a, final byte[] b)
    {
        final byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** Ethernet padding to {@code length} bytes, as a NIC would deliver a short frame. */
    static byte[] pad(final byte[] frame, final int length)
    {
        return frame.length >= length ? frame : Arrays.copyOf(frame, length);
    }

    static byte[] mac(final String text)
    {
        return HexFormat.ofDelimiter(":").parseHex(text);
    }

    static String macString(final byte[] mac)
    {
        return HexFormat.ofDelimiter(":").formatHex(mac);
    }

    static byte[] ip6(final String text)
    {
        try
        {
            return java.net.InetAddress.getByName(text).getAddress();
        }
        catch (final java.net.UnknownHostException ex)
        {
            throw new IllegalArgumentException(text, ex);
        }
    }

    static String ip4String(final int ip)
    {
        return (ip >>> 24) + "." + (ip >>> 16 & 0xff) + "." + (ip >>> 8 & 0xff) + "." + (ip & 0xff);
    }

    static String ip6String(final byte[] ip)
    {
        final StringBuilder s = new StringBuilder();
        for (int i = 0; i < 16; i += 2)
        {
            s.append(i == 0 ? "" : ":").append(Integer.toHexString((ip[i] & 0xff) << 8 | (ip[i + 1] & 0xff)));
        }
        // Compress the longest run of zero groups the way ovs-ofctl prints it.
        return s.toString().replaceFirst("(^|:)0(:0)+(:|$)", "::").replaceFirst(":::", "::");
    }

    /** Minimal growable big-endian byte buffer. */
    private static final class Buf
    {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream(128);

        Buf put8(final int v)
        {
            out.write(v);
            return this;
        }

        Buf put16(final int v)
        {
            out.write(v >>> 8);
            out.write(v);
            return this;
        }

        Buf put32(final int v)
        {
            return put16(v >>> 16).put16(v);
        }

        Buf put(final byte[] b)
        {
            out.writeBytes(b);
            return this;
        }

        int size()
        {
            return out.size();
        }

        byte[] toArray()
        {
            return out.toByteArray();
        }
    }
}
