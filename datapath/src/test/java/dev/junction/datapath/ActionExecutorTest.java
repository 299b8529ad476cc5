package dev.junction.datapath;

import dev.junction.datapath.exec.ActionExecutor;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.PacketParser;
import dev.junction.flowtable.xlate.OdpActions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ActionExecutorTest
{
    private static final String TCP_SYN_IPV4 = "020000000002020000000001" + "0800"
        + "45000028000040004006f9c80a0000010a000002" + "04d20050000000010000000050020000e3880000";

    /** Full (non-incremental) Internet checksum over a range, for checking incremental updates. */
    private static int sum(final byte[] b, final int off, final int len, final long seed)
    {
        long s = seed;
        for (int i = 0; i + 1 < len; i += 2)
        {
            s += ((b[off + i] & 0xff) << 8) | (b[off + i + 1] & 0xff);
        }
        if ((len & 1) != 0)
        {
            s += (b[off + len - 1] & 0xff) << 8;
        }
        while ((s >>> 16) != 0)
        {
            s = (s & 0xffff) + (s >>> 16);
        }
        return (int)s;
    }

    @ParameterizedTest
    @ValueSource(longs = {7L, 8L, 9L})
    void incrementalChecksumsStayValidUnderRandomRewrites(final long seed)
    {
        final SplittableRandom rnd = new SplittableRandom(seed);
        final byte[] frame = HexFormat.of().parseHex(TCP_SYN_IPV4);
        // Make the starting checksums valid.
        final Packet p = new Packet(128);
        p.wrap(frame, 0, frame.length);
        final int l3 = p.start + 14;
        final int l4 = l3 + 20;
        p.put16(l3 + 10, 0);
        p.put16(l3 + 10, ~sum(p.buf, l3, 20, 0) & 0xffff);
        p.put16(l4 + 16, 0);
        p.put16(l4 + 16, ~sum(p.buf, l4, 20, pseudo(p, l3, 20)) & 0xffff);
        final PacketParser parser = new PacketParser();
        final ActionExecutor exec = new ActionExecutor();
        final List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < 500; i++)
        {
            parser.parse(p, new FlowKey());
            final OdpActions a = new OdpActions();
            a.add0(OdpActions.SET_IPV4);
            a.operand(rnd.nextLong() & 0xffffffffL);
            a.operand(rnd.nextBoolean() ? 0xffffffffL : rnd.nextLong() & 0xffffffffL);
            a.operand(rnd.nextLong() & 0xffffffffL);
            a.operand(rnd.nextBoolean() ? 0xffffffffL : rnd.nextLong() & 0xffffffffL);
            a.operand(rnd.nextInt(256));
            a.operand(rnd.nextBoolean() ? 0xff : rnd.nextInt(256));
            a.operand(rnd.nextInt(256));
            a.operand(rnd.nextBoolean() ? 0xff : rnd.nextInt(256));
            a.add0(OdpActions.SET_TCP_PORTS);
            a.operand(rnd.nextInt(65536));
            a.operand(0xffff);
            a.operand(rnd.nextInt(65536));
            a.operand(rnd.nextBoolean() ? 0 : rnd.nextInt(65536));
            a.add1(OdpActions.OUTPUT, 1);
            out.clear();
            exec.execute(p, a, (port, pkt) -> out.add(java.util.Arrays.copyOfRange(pkt.buf, pkt.start, pkt.end())));
            assertEquals(1, out.size());
            assertEquals(0xffff, sum(p.buf, l3, 20, 0), "IPv4 header checksum");
            assertEquals(0xffff, sum(p.buf, l4, 20, pseudo(p, l3, 20)), "TCP checksum");
        }
    }

    private static long pseudo(final Packet p, final int l3, final int l4Len)
    {
        return p.u16(l3 + 12) + p.u16(l3 + 14) + p.u16(l3 + 16) + p.u16(l3 + 18) + 6 + l4Len;
    }

    @ParameterizedTest
    @ValueSource(ints = {0x8100, 0x88a8})
    void pushThenPopRestoresTheFrame(final int tpid)
    {
        final byte[] frame = HexFormat.of().parseHex(TCP_SYN_IPV4);
        final Packet p = new Packet(128);
        p.wrap(frame, 0, frame.length);
        final OdpActions a = new OdpActions();
        a.add2(OdpActions.PUSH_VLAN, tpid, 0x1000 | 0x2005);
        a.add1(OdpActions.OUTPUT, 1);
        a.add0(OdpActions.POP_VLAN);
        a.add1(OdpActions.OUTPUT, 2);
        final List<String> out = new ArrayList<>();
        new ActionExecutor().execute(p, a, (port, pkt) -> out.add(HexFormat.of().formatHex(pkt.buf, pkt.start, pkt.end())));
        assertEquals(TCP_SYN_IPV4.substring(0, 24) + String.format("%04x", tpid) + "2005" + TCP_SYN_IPV4.substring(24), out.get(0));
        assertEquals(TCP_SYN_IPV4, out.get(1));
    }
}
