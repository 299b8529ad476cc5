package dev.junction.datapath.pipeline;

import dev.junction.datapath.Datapath;
import dev.junction.flowtable.ofp.FlowParseException;
import dev.junction.flowtable.ofp.FlowParser;
import dev.junction.flowtable.ofp.FlowTables;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Frames for the pipeline tests: flow {@code f} is UDP/IPv4, TCP/IPv4 or UDP/IPv6 (by f % 3) with
 * addresses and ports derived from f; the last 8 bytes of every frame carry the flow number and a
 * per-flow sequence number, so a received frame says which packet it is.
 */
public final class TestFrames
{
    static final int[] DATAPATH_PORTS = {1, 2, 3};

    private TestFrames()
    {
    }

    public static FlowTables tables(final String... lines)
    {
        try
        {
            return new FlowTables(new FlowParser("test").parseAll(List.of(lines)));
        }
        catch (final FlowParseException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** A factory whose datapaths are workers of one bridge starting with {@code tables}, ports 1, 2 and 3. */
    static DatapathFactory factory(final FlowTables tables)
    {
        final dev.junction.datapath.Bridge bridge = new dev.junction.datapath.Bridge(tables);
        return (worker, transmitter) -> new Datapath(bridge, DATAPATH_PORTS, transmitter, Datapath.DEFAULT_MTU, 1,
            dev.junction.datapath.cache.CacheConfig.DEFAULTS, System::nanoTime);
    }

    public static byte[] frame(final int flow, final int seq)
    {
        final int payload = 8 + (flow * 7 + seq) % 40;
        final boolean v6 = flow % 3 == 2;
        final boolean tcp = flow % 3 == 1;
        final int l4Len = (tcp ? 20 : 8) + payload;
        final int l3Len = (v6 ? 40 : 20) + l4Len;
        final ByteBuffer b = ByteBuffer.allocate(14 + l3Len);
        b.putShort((short)0x0200).putInt(2);
        b.putShort((short)0x0200).putInt(1);
        if (v6)
        {
            b.putShort((short)0x86dd);
            b.putInt(0x60000000).putShort((short)l4Len).put((byte)17).put((byte)64);
            b.putLong(0xfd00000000000000L).putLong(flow);
            b.putLong(0xfd00000000000000L).putLong(2);
        }
        else
        {
            b.putShort((short)0x0800);
            final int ip = b.position();
            b.put((byte)0x45).put((byte)0).putShort((short)l3Len).putShort((short)seq).putShort((short)0x4000);
            b.put((byte)64).put((byte)(tcp ? 6 : 17)).putShort((short)0);
            b.putInt(0x0a010000 | (flow & 0xffff)).putInt(0x0a000002);
            b.putShort(ip + 10, (short)ipChecksum(b.array(), ip));
        }
        b.putShort((short)(1024 + flow % 50000)).putShort((short)(tcp ? 80 : 53));
        if (tcp)
        {
            b.putInt(seq).putInt(0).putShort((short)0x5010).putShort((short)1024).putInt(0);
        }
        else
        {
            b.putShort((short)l4Len).putShort((short)0);
        }
        b.position(b.limit() - 8);
        b.putInt(flow).putInt(seq);
        return b.array();
    }

    static int flowOf(final byte[] frame, final int length)
    {
        return ByteBuffer.wrap(frame, 0, length).getInt(length - 8);
    }

    static int seqOf(final byte[] frame, final int length)
    {
        return ByteBuffer.wrap(frame, 0, length).getInt(length - 4);
    }

    private static int ipChecksum(final byte[] b, final int at)
    {
        int sum = 0;
        for (int i = 0; i < 20; i += 2)
        {
            sum += (b[at + i] & 0xff) << 8 | (b[at + i + 1] & 0xff);
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return ~sum & 0xffff;
    }

    /** A TX port that records (flow, seq) of each frame it is sent, in the order it is sent them. */
    static final class Collector implements TxPort
    {
        final List<long[]> sent = new ArrayList<>();

        @Override
        public void send(final int worker, final TxBatch batch)
        {
            synchronized (sent)
            {
                for (int i = 0; i < batch.size(); i++)
                {
                    sent.add(new long[] {
                        flowOf(batch.frame(i), batch.length(i)), seqOf(batch.frame(i), batch.length(i)), worker});
                }
            }
        }

        List<long[]> snapshot()
        {
            synchronized (sent)
            {
                return new ArrayList<>(sent);
            }
        }
    }

    /** A TX port that drops everything; for ports that only receive. */
    static TxPort discard()
    {
        return (worker, batch) ->
        {
        };
    }
}
