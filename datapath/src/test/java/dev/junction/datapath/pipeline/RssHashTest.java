package dev.junction.datapath.pipeline;

import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RssHashTest
{
    @Test
    void sameFlowSameHashWhateverThePayload()
    {
        for (int flow = 0; flow < 30; flow++)
        {
            final byte[] a = TestFrames.frame(flow, 0);
            final byte[] b = TestFrames.frame(flow, 7);
            assertEquals(RssHash.hash(a, 0, a.length), RssHash.hash(b, 0, b.length), "flow " + flow);
        }
    }

    @Test
    void portsAndAddressesCount()
    {
        final byte[] a = TestFrames.frame(3, 0);
        final byte[] b = a.clone();
        b[14 + 20 + 1] ^= 1; // UDP source port
        assertNotEquals(RssHash.hash(a, 0, a.length), RssHash.hash(b, 0, b.length));
        final byte[] c = a.clone();
        c[14 + 12] ^= 1; // IPv4 source
        assertNotEquals(RssHash.hash(a, 0, a.length), RssHash.hash(c, 0, c.length));
    }

    @Test
    void fragmentsOfADatagramHashTogether()
    {
        final byte[] first = TestFrames.frame(3, 0);
        first[14 + 6] = 0x20; // MF, offset 0: ports present
        final byte[] later = first.clone();
        later[14 + 6] = 0x00;
        later[14 + 7] = 0x10; // offset 16 bytes: what sits where ports were is payload
        later[14 + 20] ^= 0x55;
        assertEquals(RssHash.hash(first, 0, first.length), RssHash.hash(later, 0, later.length));
    }

    @Test
    void vlanTaggedAndNonIpFramesHash()
    {
        final byte[] arp = HexFormat.of().parseHex("ffffffffffff020000000001080600010800060400010200000000010a000001000000000000000a000002");
        final byte[] otherSrc = arp.clone();
        otherSrc[11] = 9;
        assertNotEquals(RssHash.hash(arp, 0, arp.length), RssHash.hash(otherSrc, 0, otherSrc.length));

        final byte[] plain = TestFrames.frame(5, 0);
        final byte[] tagged = new byte[plain.length + 4];
        System.arraycopy(plain, 0, tagged, 0, 12);
        tagged[12] = (byte)0x81;
        tagged[14] = 0x00;
        tagged[15] = 0x0a;
        System.arraycopy(plain, 12, tagged, 16, plain.length - 12);
        assertEquals(RssHash.hash(plain, 0, plain.length), RssHash.hash(tagged, 0, tagged.length));
        assertEquals(0, RssHash.hash(new byte[10], 0, 10));
    }

    @Test
    void flowsSpreadOverWorkers()
    {
        final int[] perWorker = new int[4];
        for (int flow = 0; flow < 4000; flow++)
        {
            final byte[] f = TestFrames.frame(flow, 0);
            perWorker[Worker.workerFor(RssHash.hash(f, 0, f.length), perWorker.length)]++;
        }
        for (final int n : perWorker)
        {
            assertTrue(n > 800 && n < 1200, java.util.Arrays.toString(perWorker));
        }
    }
}
