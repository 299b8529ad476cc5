package dev.junction.afxdp.xdp;

import dev.junction.afxdp.stats.PortCounters;

/**
 * An AF_XDP port's counters. Each is written by one thread only (RX counters by the receiving
 * thread, TX counters by the sending thread, the kernel's by whoever calls
 * {@link AfXdpPort#refreshKernelStatistics()}), with an ordered store of get()+n instead of an
 * atomic add: no lock prefix on the packet path, and any thread may read them at any time.
 */
public final class XdpCounters extends PortCounters
{
    public static final int RX_PACKETS = 0;
    public static final int RX_BYTES = 1;
    /** RX descriptors we refused (length 0 or beyond the frame): the frame went back to the fill ring. */
    public static final int RX_DROPS = 2;
    /** Fill-ring wakeups asked for by the kernel (XDP_RING_NEED_WAKEUP on the fill ring). */
    public static final int FILL_WAKEUPS = 3;
    public static final int TX_PACKETS = 4;
    public static final int TX_BYTES = 5;
    /** Frames not sent because the TX ring was full: a counted drop, never a wait. */
    public static final int TX_RING_FULL = 6;
    /** Frames not sent because every TX frame was in flight (the completion ring gave none back). */
    public static final int TX_NO_FRAME = 7;
    /** Frames not sent because they do not fit a UMEM frame. */
    public static final int TX_OVERSIZE = 8;
    /** sendto kicks (only when the TX ring says XDP_RING_NEED_WAKEUP). */
    public static final int TX_KICKS = 9;
    /** Kicks that failed with anything but EAGAIN/EBUSY/ENOBUFS (e.g. ENETDOWN). */
    public static final int TX_ERRORS = 10;
    /** TX frames the kernel gave back through the completion ring. */
    public static final int TX_COMPLETIONS = 11;
    // The kernel's struct xdp_statistics, as of the last refresh:
    /** Frames the kernel dropped for other reasons (e.g. too long for a frame). */
    public static final int KERNEL_RX_DROPPED = 12;
    public static final int KERNEL_RX_INVALID_DESCS = 13;
    public static final int KERNEL_TX_INVALID_DESCS = 14;
    /** Frames dropped because our RX ring was full (we did not keep up). */
    public static final int KERNEL_RX_RING_FULL = 15;
    /** Frames dropped because the fill ring was empty: fill-ring starvation. */
    public static final int KERNEL_RX_FILL_RING_EMPTY = 16;
    public static final int KERNEL_TX_RING_EMPTY = 17;
    /** Frames whose partial TCP/UDP checksum was completed on RX ({@link PartialChecksum}). */
    public static final int RX_CSUM_COMPLETED = 18;
    /** RX frames that found the fill ring full and waited in the port's stash (expected to stay 0). */
    public static final int FILL_DEFERRED = 19;

    private static final String[] NAMES = {
        "rx_packets", "rx_bytes", "rx_drops", "fill_wakeups", "tx_packets", "tx_bytes", "tx_ring_full", "tx_no_frame",
        "tx_oversize", "tx_kicks", "tx_errors", "tx_completions", "kernel_rx_dropped", "kernel_rx_invalid_descs",
        "kernel_tx_invalid_descs", "kernel_rx_ring_full", "kernel_rx_fill_ring_empty", "kernel_tx_ring_empty",
        "rx_csum_completed", "fill_deferred"};

    public XdpCounters()
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

    public long txPackets()
    {
        return get(TX_PACKETS);
    }

    public long txBytes()
    {
        return get(TX_BYTES);
    }

    /** Every frame lost on the way out: ring full, no free frame, oversize. */
    public long txDrops()
    {
        return get(TX_RING_FULL) + get(TX_NO_FRAME) + get(TX_OVERSIZE);
    }

    /** Every frame lost on the way in, ours and the kernel's (as of the last refresh). */
    public long rxDrops()
    {
        return get(RX_DROPS) + get(KERNEL_RX_DROPPED) + get(KERNEL_RX_RING_FULL) + get(KERNEL_RX_FILL_RING_EMPTY)
            + get(KERNEL_RX_INVALID_DESCS);
    }
}
