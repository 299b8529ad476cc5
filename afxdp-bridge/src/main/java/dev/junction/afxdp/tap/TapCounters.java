package dev.junction.afxdp.tap;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A TAP port's counters. Each is written by one thread only (RX counters by the receiving
 * thread, TX counters by the sending thread), with an ordered store of get()+n instead of an
 * atomic add: no lock prefix on the packet path, and any thread may read them at any time.
 */
public final class TapCounters
{
    public static final int RX_PACKETS = 0;
    public static final int RX_BYTES = 1;
    /** GSO super-frames received (each counted once in RX_PACKETS). */
    public static final int RX_GSO = 2;
    /** Non-GSO frames whose partial checksum was completed. */
    public static final int RX_CSUM_COMPLETED = 3;
    /** Frames read but not delivered: bad checksum offsets, truncation. */
    public static final int RX_DROPS = 4;
    /** read(2) failures other than EAGAIN. */
    public static final int RX_ERRORS = 5;
    public static final int TX_PACKETS = 6;
    public static final int TX_BYTES = 7;
    /** Super-frames written with a GSO header (each counted once in TX_PACKETS). */
    public static final int TX_GSO = 8;
    /** Frames not sent because the kernel would have blocked (EAGAIN, ENOBUFS) or the frame was too big. */
    public static final int TX_DROPS = 9;
    /** write(2) failures of any other kind (e.g. EIO while the link is down). */
    public static final int TX_ERRORS = 10;

    private static final String[] NAMES = {
        "rx_packets", "rx_bytes", "rx_gso", "rx_csum_completed", "rx_drops", "rx_errors",
        "tx_packets", "tx_bytes", "tx_gso", "tx_drops", "tx_errors"};

    private final AtomicLongArray values = new AtomicLongArray(NAMES.length);

    void add(final int counter, final long n)
    {
        values.lazySet(counter, values.get(counter) + n);
    }

    void increment(final int counter)
    {
        add(counter, 1);
    }

    public long get(final int counter)
    {
        return values.get(counter);
    }

    public long rxPackets()
    {
        return get(RX_PACKETS);
    }

    public long rxBytes()
    {
        return get(RX_BYTES);
    }

    public long rxDrops()
    {
        return get(RX_DROPS);
    }

    public long txPackets()
    {
        return get(TX_PACKETS);
    }

    public long txBytes()
    {
        return get(TX_BYTES);
    }

    public long txDrops()
    {
        return get(TX_DROPS);
    }

    @Override
    public String toString()
    {
        final StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < NAMES.length; i++)
        {
            sb.append(i == 0 ? "" : ", ").append(NAMES[i]).append('=').append(values.get(i));
        }
        return sb.append('}').toString();
    }
}
