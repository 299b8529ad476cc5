package dev.junction.control.diff;

import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.k8s.ManifestLoader;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The traffic generator of {@link ManifestOracleTest} on its own (no OVS needed): the same seed
 * writes the same pcaps, timestamps never tie, every IPv4 header and every TCP, UDP, ICMP and
 * ICMPv6 checksum is right (checked here independently of the builders), and the mix holds what
 * the oracle test counts on.
 */
class ManifestTrafficGeneratorTest
{
    private static final Path SERVICES = Path.of("src/test/resources/manifests/oracle/services");

    @Test
    void sameSeedSameTrafficAndEveryChecksumRight() throws Exception
    {
        final ManifestLoader.Result loaded = ManifestLoader.load(SERVICES);
        final FlowCompiler.Compiled compiled = FlowCompiler.cluster(loaded.model());
        final ManifestTrafficGenerator.Traffic a = new ManifestTrafficGenerator(compiled, loaded.model(), 6, false).generate(200);
        final ManifestTrafficGenerator.Traffic b = new ManifestTrafficGenerator(compiled, loaded.model(), 6, false).generate(200);
        final ManifestTrafficGenerator.Traffic c = new ManifestTrafficGenerator(compiled, loaded.model(), 8, false).generate(200);
        assertEquals(flatten(a), flatten(b), "deterministic for a seed");
        assertNotEquals(flatten(a), flatten(c), "another seed, other traffic");

        final TreeMap<Long, Integer> times = new TreeMap<>();
        int ip = 0;
        for (final FlowCaseGenerator.Input in : a.inputs())
        {
            assertTrue(compiled.layout().ports().stream().anyMatch(p -> p.ofport() == in.port())
                || compiled.layout().managementPorts().stream().anyMatch(m -> m.ofport() == in.port())
                || compiled.layout().gateways().stream().anyMatch(g -> g.local() && g.ofport() == in.port()),
                "a pod port, a management port or a gateway router's external port: " + in.port());
            long last = Long.MIN_VALUE;
            for (final FlowCaseGenerator.Packet p : in.packets())
            {
                assertTrue(p.timestampNanos() > last, "in timestamp order on port " + in.port());
                last = p.timestampNanos();
                assertEquals(null, times.put(p.timestampNanos(), in.port()), "no two packets at the same time");
                final String bad = checksumProblem(p.frame());
                assertEquals(null, bad, p.description());
                ip += isIp(p.frame()) ? 1 : 0;
            }
        }
        assertEquals(a.packets(), times.size());
        // The check catches a wrong checksum: one flipped byte in the first TCP segment's payload.
        final byte[] tcp = a.inputs().stream().flatMap(in -> in.packets().stream()).map(FlowCaseGenerator.Packet::frame)
            .filter(f -> u16(f, 12) == 0x0800 && f[23] == PacketFactory.PROTO_TCP && u16(f, 16) > 40).findFirst().orElseThrow()
            .clone();
        tcp[tcp.length - 1] ^= 0x01;
        assertEquals("transport checksum (protocol 6)", checksumProblem(tcp));
        assertTrue(ip > a.packets() / 2, "mostly IP: " + ip + " of " + a.packets());
        final String log = String.join("\n", a.log());
        for (final String kind : List.of("TCP SYN ", "TCP SYN-ACK", "TCP FIN", "UDP request", "UDP reply", "ICMP echo request",
            "ARP who-has", "neighbour solicitation", "spoofed source MAC", "spoofed address", "with TTL 1", "random ",
            "shop/api", "shop/web (node port)", "(nobody)", "multicast mDNS", "MLDv2 report", "shop/cache", "fd00:10:96::",
            "-> outside ", "from outside ", "unasked ", " from backend ", "too big about"))
        {
            assertTrue(log.contains(kind), "the mix has " + kind);
        }
    }

    @Test
    void fragmentsOnlyWhenAskedFor() throws Exception
    {
        final ManifestLoader.Result loaded = ManifestLoader.load(SERVICES);
        final FlowCompiler.Compiled compiled = FlowCompiler.cluster(loaded.model());
        final ManifestTrafficGenerator.Traffic off = new ManifestTrafficGenerator(compiled, loaded.model(), 3, false).generate(200);
        final ManifestTrafficGenerator.Traffic on = new ManifestTrafficGenerator(compiled, loaded.model(), 3, true).generate(200);
        assertFalse(String.join("\n", off.log()).contains("fragment"));
        assertTrue(String.join("\n", on.log()).contains("UDP reply fragment 2"));
    }

    private static Map<Integer, List<String>> flatten(final ManifestTrafficGenerator.Traffic t)
    {
        final Map<Integer, List<String>> out = new TreeMap<>();
        for (final FlowCaseGenerator.Input in : t.inputs())
        {
            final List<String> frames = new ArrayList<>();
            in.packets().forEach(p -> frames.add(p.timestampNanos() + " " + Arrays.toString(p.frame())));
            out.put(in.port(), frames);
        }
        return out;
    }

    private static boolean isIp(final byte[] f)
    {
        final int type = u16(f, 12);
        return type == 0x0800 || type == 0x86dd;
    }

    /** Null when the frame's IPv4 header and transport checksums are right (or it has none), else what is wrong. */
    static String checksumProblem(final byte[] f)
    {
        final int type = u16(f, 12);
        final int proto;
        final int l4;
        final int l4Length;
        long pseudo;
        if (type == 0x0800)
        {
            final int ihl = (f[14] & 0x0f) * 4;
            if (PacketFactory.checksum(f, 14, ihl, 0) != 0)
            {
                return "IPv4 header checksum";
            }
            if ((u16(f, 20) & 0x3fff) != 0)
            {
                return null;                          // a fragment: the transport checksum spans the datagram
            }
            proto = f[23] & 0xff;
            l4 = 14 + ihl;
            l4Length = u16(f, 16) - ihl;
            pseudo = u16(f, 26) + u16(f, 28) + u16(f, 30) + u16(f, 32);
        }
        else if (type == 0x86dd)
        {
            // A hop-by-hop header (MLD's router alert) comes before the transport; it is not in the pseudo-header length.
            final int hopByHop = (f[20] & 0xff) == 0 ? ((f[55] & 0xff) + 1) * 8 : 0;
            proto = f[20 + (hopByHop > 0 ? 34 : 0)] & 0xff;
            l4 = 54 + hopByHop;
            l4Length = u16(f, 18) - hopByHop;
            pseudo = 0;
            for (int i = 22; i < 54; i += 2)
            {
                pseudo += u16(f, i);
            }
        }
        else
        {
            return null;
        }
        if (l4 + l4Length > f.length)
        {
            return "IP length beyond the frame";
        }
        pseudo += proto + l4Length;
        return switch (proto)
        {
            case PacketFactory.PROTO_TCP, PacketFactory.PROTO_UDP, PacketFactory.PROTO_ICMPV6 ->
                PacketFactory.checksum(f, l4, l4Length, pseudo) == 0 ? null : "transport checksum (protocol " + proto + ")";
            case PacketFactory.PROTO_ICMP -> PacketFactory.checksum(f, l4, l4Length, 0) == 0 ? null : "ICMP checksum";
            default -> null;
        };
    }

    private static int u16(final byte[] b, final int at)
    {
        return (b[at] & 0xff) << 8 | (b[at + 1] & 0xff);
    }
}
