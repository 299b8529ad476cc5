package dev.junction.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import dev.junction.conntrack.Conntrack;
import dev.junction.conntrack.ConntrackConfig;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Packet;
import dev.junction.flowtable.PacketParser;
import dev.junction.flowtable.ct.CtAction;
import dev.junction.flowtable.xlate.OdpActions;

/**
 * Connection tracking costs per packet (one op is one ct action on one packet): a packet of an
 * established connection among 64k, a commit creating a new connection (the table is flushed
 * each time it reaches 1M, amortised in), an SNAT translation of an established connection,
 * a full expiry sweep of 1M connections (one op is one sweep), and two threads on one
 * Conntrack sending the two directions of the same 64k connections ({@code bidir}: the score
 * is both threads' packets together; each thread's own is listed under it).
 */
public class ConntrackBenchmark extends PacketBenchmark
{
    private static final long NOW = 1_000_000_000L;
    private static final int A = 0x0a00_0001;
    private static final int B = 0x0a00_0002;
    private static final int N = 0xc0a8_0101;

    static CtAction action(final OdpActions out, final int flags, final int natAddr)
    {
        final long[] z = { 0, 0 };
        final long[] nat = { 0, natAddr & 0xffffffffL };
        CtAction.append(out, flags, 1, 0, 0, z, z, nat, nat, 0, 0);
        return new CtAction().wrap(out, 0);
    }

    static void parse(final Packet p, final FlowKey k, final byte[] frame)
    {
        p.wrap(frame, 0, frame.length);
        new PacketParser().parse(p, k);
    }

    @State(Scope.Thread)
    public static class Established
    {
        static final int FLOWS = 1 << 16;
        final Conntrack ct = new Conntrack(ConntrackConfig.defaults());
        final Packet[] packets = new Packet[FLOWS];
        final FlowKey[] keys = new FlowKey[FLOWS];
        /** Connections cycled through: a hot set and one whose packets and keys miss the caches. */
        @Param({ "1024", "65536" })
        int flows;
        CtAction lookup;
        int i;

        @Setup
        public void setup()
        {
            final CtAction commit = action(new OdpActions(), CtAction.F_COMMIT, 0);
            lookup = action(new OdpActions(), 0, 0);
            for (int f = 0; f < FLOWS; f++)
            {
                packets[f] = new Packet(128);
                keys[f] = new FlowKey();
                parse(packets[f], keys[f], Frames.udp4(1, 2, A, B, 1024 + (f & 0x3fff), 2000 + (f >>> 14), 64));
                ct.execute(packets[f], keys[f], commit, NOW);
                final Packet r = new Packet(128);
                final FlowKey rk = new FlowKey();
                parse(r, rk, Frames.udp4(2, 1, B, A, 2000 + (f >>> 14), 1024 + (f & 0x3fff), 64));
                ct.execute(r, rk, lookup, NOW);
            }
        }
    }

    @Benchmark
    public int established(final Established s)
    {
        final int f = s.i++ & (s.flows - 1);
        s.ct.execute(s.packets[f], s.keys[f], s.lookup, NOW);
        return s.keys[f].ctState();
    }

    /** 64k connections, both directions parsed; shared by the two threads of the {@code bidir} group. */
    @State(Scope.Group)
    public static class Bidir
    {
        static final int FLOWS = 1 << 16;
        final Conntrack ct = new Conntrack(ConntrackConfig.defaults());
        final Packet[] orig = new Packet[FLOWS];
        final FlowKey[] origKeys = new FlowKey[FLOWS];
        final Packet[] reply = new Packet[FLOWS];
        final FlowKey[] replyKeys = new FlowKey[FLOWS];
        CtAction lookup;

        @Setup
        public void setup()
        {
            final CtAction commit = action(new OdpActions(), CtAction.F_COMMIT, 0);
            lookup = action(new OdpActions(), 0, 0);
            for (int f = 0; f < FLOWS; f++)
            {
                orig[f] = new Packet(128);
                origKeys[f] = new FlowKey();
                parse(orig[f], origKeys[f], Frames.udp4(1, 2, A, B, 1024 + (f & 0x3fff), 2000 + (f >>> 14), 64));
                reply[f] = new Packet(128);
                replyKeys[f] = new FlowKey();
                parse(reply[f], replyKeys[f], Frames.udp4(2, 1, B, A, 2000 + (f >>> 14), 1024 + (f & 0x3fff), 64));
                ct.execute(orig[f], origKeys[f], commit, NOW);
                ct.execute(reply[f], replyKeys[f], lookup, NOW);
            }
        }
    }

    /**
     * Each thread's position in the connections: both start at 0 and step alike, so the two
     * directions of one connection are in flight together (the per-connection lock's worst case).
     */
    @State(Scope.Thread)
    public static class Cursor
    {
        int i;
    }

    @Benchmark
    @Group("bidir")
    @GroupThreads(1)
    public int bidirOrig(final Bidir s, final Cursor c)
    {
        final int f = c.i++ & (Bidir.FLOWS - 1);
        s.ct.execute(s.orig[f], s.origKeys[f], s.lookup, NOW);
        return s.origKeys[f].ctState();
    }

    @Benchmark
    @Group("bidir")
    @GroupThreads(1)
    public int bidirReply(final Bidir s, final Cursor c)
    {
        final int f = c.i++ & (Bidir.FLOWS - 1);
        s.ct.execute(s.reply[f], s.replyKeys[f], s.lookup, NOW);
        return s.replyKeys[f].ctState();
    }

    @State(Scope.Thread)
    public static class Commit
    {
        static final int TABLE = 1 << 20;
        final Conntrack ct = new Conntrack(new ConntrackConfig(TABLE));
        final Packet packet = new Packet(128);
        final FlowKey key = new FlowKey();
        CtAction commit;
        int n;

        @Setup
        public void setup()
        {
            final byte[] f = Frames.udp4(1, 2, A, B, 1, 1, 64);
            f[40] = 0; // IPv4 UDP checksum 0: ports can change without fixing it
            f[41] = 0;
            parse(packet, key, f);
            commit = action(new OdpActions(), CtAction.F_COMMIT, 0);
        }

    }

    @Benchmark
    public int commitNew(final Commit s)
    {
        if (s.n == Commit.TABLE)
        {
            s.ct.flush(-1);
            s.n = 0;
        }
        final int n = ++s.n;
        final Packet p = s.packet;
        p.put16(p.l4, 1 + (n & 0xffff));
        p.put16(p.l4 + 2, 1 + (n >>> 16));
        s.ct.execute(p, s.key, s.commit, NOW);
        return s.key.ctState();
    }

    @State(Scope.Thread)
    public static class Nat
    {
        final Conntrack ct = new Conntrack(ConntrackConfig.defaults());
        final Packet packet = new Packet(128);
        final FlowKey key = new FlowKey();
        byte[] frame;
        CtAction nat;

        @Setup
        public void setup()
        {
            frame = Frames.tcp4(1, 2, A, B, 1234, 80, 64);
            frame[47] = 0x10; // ACK
            fixTcpChecksum(frame);
            final CtAction snat = action(new OdpActions(),
                CtAction.F_COMMIT | CtAction.F_NAT | CtAction.F_NAT_SRC | CtAction.F_NAT_ADDR, N);
            parse(packet, key, frame);
            ct.execute(packet, key, snat, NOW);
            nat = action(new OdpActions(), CtAction.F_NAT, 0);
        }
    }

    static void fixTcpChecksum(final byte[] f)
    {
        f[50] = 0;
        f[51] = 0;
        long sum = 0;
        for (int i = 26; i < 34; i += 2)
        {
            sum += (f[i] & 0xff) << 8 | (f[i + 1] & 0xff);
        }
        final int len = f.length - 34;
        sum += 6 + len;
        for (int i = 34; i < f.length; i += 2)
        {
            sum += (f[i] & 0xff) << 8 | (i + 1 < f.length ? f[i + 1] & 0xff : 0);
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        final int c = (int)~sum & 0xffff;
        f[50] = (byte)(c >>> 8);
        f[51] = (byte)c;
    }

    @Benchmark
    public int natTranslate(final Nat s)
    {
        final Packet p = s.packet;
        System.arraycopy(s.frame, 0, p.buf, p.start, s.frame.length); // untranslated again
        s.key.words[FlowKey.W_CT] = 0;
        s.ct.execute(p, s.key, s.nat, NOW);
        return p.buf[p.start + 26];
    }

    @State(Scope.Benchmark)
    public static class Sweep
    {
        final Conntrack ct = new Conntrack(new ConntrackConfig(1 << 20));

        @Setup
        public void setup()
        {
            final Packet p = new Packet(128);
            final FlowKey k = new FlowKey();
            final byte[] f = Frames.udp4(1, 2, A, B, 1, 1, 64);
            f[40] = 0;
            f[41] = 0;
            parse(p, k, f);
            final CtAction commit = action(new OdpActions(), CtAction.F_COMMIT, 0);
            for (int n = 1; n <= 1_000_000; n++)
            {
                p.put16(p.l4, 1 + (n & 0xffff));
                p.put16(p.l4 + 2, 1 + (n >>> 16));
                ct.execute(p, k, commit, NOW);
            }
        }

        @TearDown(Level.Trial)
        public void report()
        {
            System.out.printf("%n[conntrack] %d connections held, %.1f bytes/connection (table arrays)%n",
                ct.connections(), (double)ct.footprintBytes() / Math.max(1, ct.connections()));
        }
    }

    /** One op: a sweep over 1M live connections (none expire). */
    @Benchmark
    public int sweep1M(final Sweep s)
    {
        return s.ct.sweep(NOW + 1);
    }
}
