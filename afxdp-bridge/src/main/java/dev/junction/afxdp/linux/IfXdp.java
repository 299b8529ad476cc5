package dev.junction.afxdp.linux;

/**
 * {@code <linux/if_xdp.h>} and the socket/mmap numbers an AF_XDP socket needs (x86-64 and
 * aarch64 share them all). Struct layouts are given as byte offsets next to their sizes.
 */
public final class IfXdp
{
    public static final int AF_XDP = 44;
    public static final int SOCK_RAW = 3;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOL_XDP = 283;

    // setsockopt/getsockopt(SOL_XDP, ...)
    public static final int XDP_MMAP_OFFSETS = 1;
    public static final int XDP_RX_RING = 2;
    public static final int XDP_TX_RING = 3;
    public static final int XDP_UMEM_REG = 4;
    public static final int XDP_UMEM_FILL_RING = 5;
    public static final int XDP_UMEM_COMPLETION_RING = 6;
    public static final int XDP_STATISTICS = 7;
    public static final int XDP_OPTIONS = 8;

    // struct sockaddr_xdp { u16 family; u16 flags; u32 ifindex; u32 queue_id; u32 shared_umem_fd; }
    public static final int SOCKADDR_XDP_SIZE = 16;
    public static final int XDP_SHARED_UMEM = 1;
    /** Force copy mode: the kernel copies each frame between the skb/driver buffer and the UMEM. */
    public static final int XDP_COPY = 1 << 1;
    /** Force zero-copy: the driver DMAs straight into the UMEM; bind fails where the driver cannot (veth). */
    public static final int XDP_ZEROCOPY = 1 << 2;
    /** The kernel says through each ring's flags word when it needs a syscall to make progress. */
    public static final int XDP_USE_NEED_WAKEUP = 1 << 3;

    // struct xdp_umem_reg { u64 addr; u64 len; u32 chunk_size; u32 headroom; u32 flags; u32 tx_metadata_len; }
    public static final int UMEM_REG_SIZE = 32;

    // struct xdp_mmap_offsets { xdp_ring_offset rx, tx, fr, cr; }, each { u64 producer, consumer, desc, flags; }
    public static final int MMAP_OFFSETS_SIZE = 128;
    public static final int RING_OFFSET_SIZE = 32;
    public static final int OFF_RX = 0;
    public static final int OFF_TX = 32;
    public static final int OFF_FILL = 64;
    public static final int OFF_COMPLETION = 96;
    public static final int OFF_PRODUCER = 0;
    public static final int OFF_CONSUMER = 8;
    public static final int OFF_DESC = 16;
    public static final int OFF_FLAGS = 24;

    // mmap page offsets selecting the ring
    public static final long XDP_PGOFF_RX_RING = 0L;
    public static final long XDP_PGOFF_TX_RING = 0x80000000L;
    public static final long XDP_UMEM_PGOFF_FILL_RING = 0x100000000L;
    public static final long XDP_UMEM_PGOFF_COMPLETION_RING = 0x180000000L;

    /** Bit of a ring's flags word: the kernel waits for a syscall (sendto for TX, recvfrom/poll for fill). */
    public static final int XDP_RING_NEED_WAKEUP = 1;

    // struct xdp_desc { u64 addr; u32 len; u32 options; }
    public static final int DESC_SIZE = 16;
    /** Fill and completion rings hold bare u64 UMEM addresses. */
    public static final int ADDR_SIZE = 8;

    // struct xdp_statistics: six u64 counters
    public static final int STATISTICS_SIZE = 48;

    public static final int PROT_READ = 0x1;
    public static final int PROT_WRITE = 0x2;
    public static final int MAP_SHARED = 0x1;
    public static final int MAP_PRIVATE = 0x2;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_POPULATE = 0x8000;

    public static final int MSG_DONTWAIT = 0x40;

    private IfXdp()
    {
    }
}
