package dev.junction.afxdp.tap;

import dev.junction.afxdp.stats.PortCounters;

/** A TAP port's counters (single-writer, see {@link PortCounters}). */
public final class TapCounters extends PortCounters
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

    public TapCounters()
    {
        super(NAMES);
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
}
