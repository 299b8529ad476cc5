package dev.junction.afxdp.xdp;

import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ring index arithmetic over plain off-heap memory laid out as the kernel lays out a ring
 * (producer, consumer and flags words, then the entries); a second flyweight over the same
 * memory plays the kernel's side.
 */
class XdpRingTest
{
    private static final int PRODUCER = 0;
    private static final int CONSUMER = 64;
    private static final int FLAGS = 128;
    private static final int DESC = 192;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private final UnsafeBuffer memory = new UnsafeBuffer(BufferUtil.allocateDirectAligned(DESC + 8 * 16, 64));

    private XdpRing ring(final int entrySize)
    {
        return new XdpRing().wrap(memory.addressOffset(), memory.capacity(), PRODUCER, CONSUMER, FLAGS, DESC, 8, entrySize);
    }

    @Test
    void producerSeesRoomForTheWholeRingThenNone()
    {
        final XdpRing fill = ring(8);
        assertEquals(8, fill.freeEntries(100));
        for (int i = 0; i < 8; i++)
        {
            fill.putAddress(fill.producerIndex() + i, i * 2048L);
        }
        fill.advance(8);
        assertEquals(0, memory.getInt(PRODUCER, ORDER), "not visible before publish");
        fill.publish();
        assertEquals(8, memory.getInt(PRODUCER, ORDER));
        assertEquals(0, fill.freeEntries(1), "full until the consumer moves");
        assertEquals(8, fill.pending());
    }

    @Test
    void consumerReadsWhatTheProducerPublishedInOrderAndReleasesIt()
    {
        final XdpRing producer = ring(8);
        final XdpRing consumer = ring(8);
        assertEquals(0, consumer.available(16));
        final int n = producer.freeEntries(5);
        for (int i = 0; i < n; i++)
        {
            producer.putAddress(producer.producerIndex() + i, 1000 + i);
        }
        producer.advance(n);
        assertEquals(0, consumer.available(16), "nothing before publish");
        producer.publish();
        assertEquals(5, consumer.available(16));
        assertEquals(3, consumer.available(3), "bounded by max");
        final int at = consumer.consumerIndex();
        for (int i = 0; i < 5; i++)
        {
            assertEquals(1000 + i, consumer.address(at + i));
        }
        consumer.release(5);
        assertEquals(5, memory.getInt(CONSUMER, ORDER));
        assertEquals(0, consumer.available(16));
        assertEquals(8, producer.freeEntries(8), "room again once the consumer released");
    }

    @Test
    void indexesWrapAroundTheU32RangeAndTheSlots()
    {
        // Both indexes just below 2^32: entries in flight are still producer - consumer.
        memory.putInt(PRODUCER, -3, ORDER);
        memory.putInt(CONSUMER, -3, ORDER);
        final XdpRing producer = ring(16);
        final XdpRing consumer = ring(16);
        assertEquals(8, producer.freeEntries(8));
        for (int i = 0; i < 6; i++)
        {
            producer.putDesc(producer.producerIndex() + i, 4096L * i + 256, 60 + i, 0);
        }
        producer.advance(6);
        producer.publish();
        assertEquals(3, memory.getInt(PRODUCER, ORDER), "wrapped past 2^32");
        assertEquals(6, consumer.available(64));
        final int at = consumer.consumerIndex();
        for (int i = 0; i < 6; i++)
        {
            assertEquals(4096L * i + 256, consumer.descAddress(at + i));
            assertEquals(60 + i, consumer.descLength(at + i));
            assertEquals(0, consumer.descOptions(at + i));
        }
        // Slot of index -3 is 5 (of 8), -1 is 7, then 0: the entries sit in slots 5, 6, 7, 0, 1, 2.
        assertEquals(4096L * 3 + 256, memory.getLong(DESC + 0 * 16, ORDER));
        consumer.release(6);
        assertEquals(2, producer.freeEntries(2));
        assertEquals(8, producer.freeEntries(100));
    }

    @Test
    void producerReadsTheSharedConsumerIndexOnlyWhenItsCacheRunsShort()
    {
        final XdpRing producer = ring(8);
        producer.advance(producer.freeEntries(6));
        producer.publish();
        memory.putIntVolatile(CONSUMER, 6); // the kernel consumed all six
        assertEquals(2, producer.freeEntries(2), "the cache still says 2 free: enough, so not refreshed");
        assertEquals(6, producer.outstanding(), "cached view");
        assertEquals(3, producer.freeEntries(3), "asking for more refreshes it");
        assertEquals(0, producer.outstanding());
    }

    @Test
    void consumerReadsTheSharedProducerIndexOnlyWhenItsCacheIsEmpty()
    {
        final XdpRing consumer = ring(8);
        memory.putIntVolatile(PRODUCER, 2);
        assertEquals(2, consumer.available(8));
        memory.putIntVolatile(PRODUCER, 5);
        assertEquals(2, consumer.available(8), "two cached entries still unread: no refresh");
        consumer.release(2);
        assertEquals(3, consumer.available(8));
    }

    @Test
    void needWakeupFlag()
    {
        final XdpRing tx = ring(16);
        assertFalse(tx.needsWakeup());
        memory.putIntVolatile(FLAGS, 1);
        assertTrue(tx.needsWakeup());
    }

    @Test
    void refusesSizesThatAreNotPowersOfTwoOrDoNotFit()
    {
        assertThrows(IllegalArgumentException.class,
            () -> new XdpRing().wrap(memory.addressOffset(), memory.capacity(), PRODUCER, CONSUMER, FLAGS, DESC, 6, 8));
        assertThrows(IllegalArgumentException.class,
            () -> new XdpRing().wrap(memory.addressOffset(), memory.capacity(), PRODUCER, CONSUMER, FLAGS, DESC, 16, 16));
    }
}
