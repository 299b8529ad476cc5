package dev.junction.afxdp.xdp;

import dev.junction.afxdp.linux.Bpf;
import dev.junction.afxdp.linux.Ifreq;

/** How to open an {@link AfXdpPort}. Setters return {@code this}. */
public final class XdpConfig
{
    /** Where the XDP program runs. */
    public enum Mode
    {
        /**
         * Generic XDP ({@code XDP_FLAGS_SKB_MODE}): runs on the skb after the driver, works on
         * any interface (veth included); frames are copied into the UMEM.
         */
        GENERIC(Bpf.XDP_FLAGS_SKB_MODE),
        /** Native XDP in the driver ({@code XDP_FLAGS_DRV_MODE}); the driver must support it. */
        NATIVE(Bpf.XDP_FLAGS_DRV_MODE);

        final int flags;

        Mode(final int flags)
        {
            this.flags = flags;
        }
    }

    private final String interfaceName;
    /** Most queues one port binds; each has its own UMEM and socket. */
    public static final int MAX_QUEUES = 32;
    /** Queue ids beyond this are refused before the XSKMAP (indexed by queue id) is sized by them. */
    public static final int MAX_QUEUE_ID = 1024;

    private int queueId;
    private int queueCount = 1;
    private int frameCount = 4096;
    private int frameSize = 2048;
    private int ringSize = 2048;
    private Mode mode = Mode.GENERIC;
    private boolean zeroCopy;
    private boolean completeChecksums = true;

    /** @param interfaceName the interface to bind, in the opening thread's network namespace */
    public XdpConfig(final String interfaceName)
    {
        Ifreq.checkName(interfaceName);
        this.interfaceName = interfaceName;
    }

    public String interfaceName()
    {
        return interfaceName;
    }

    /**
     * The first interface RX/TX queue the port binds to (default 0; a veth has one unless made
     * with more). The port binds {@link #queueCount()} queues from here on.
     */
    public XdpConfig queueId(final int queueId)
    {
        if (queueId < 0 || queueId >= MAX_QUEUE_ID)
        {
            throw new IllegalArgumentException("queue id must be 0 to " + (MAX_QUEUE_ID - 1) + ": " + queueId);
        }
        this.queueId = queueId;
        return this;
    }

    public int queueId()
    {
        return queueId;
    }

    /**
     * How many consecutive queues, from {@link #queueId()}, the port binds: one AF_XDP socket
     * with its own UMEM each (default 1, at most {@link #MAX_QUEUES}: each pins
     * {@code frameCount * frameSize} bytes, 8 MiB by default). OVS's {@code options:n_rxq}.
     */
    public XdpConfig queueCount(final int queueCount)
    {
        if (queueCount < 1 || queueCount > MAX_QUEUES)
        {
            throw new IllegalArgumentException("queue count must be 1 to " + MAX_QUEUES + ": " + queueCount);
        }
        this.queueCount = queueCount;
        return this;
    }

    public int queueCount()
    {
        return queueCount;
    }

    /**
     * UMEM frames (a power of two, default 4096): {@link #ringSize()} of them are lent to the
     * kernel for RX through the fill ring, the rest are TX buffers.
     */
    public XdpConfig frameCount(final int frameCount)
    {
        if (Integer.bitCount(frameCount) != 1 || frameCount < 4)
        {
            throw new IllegalArgumentException("frame count must be a power of two >= 4: " + frameCount);
        }
        this.frameCount = frameCount;
        return this;
    }

    public int frameCount()
    {
        return frameCount;
    }

    /**
     * Bytes per UMEM frame: 2048 (default) or 4096, the sizes the kernel accepts in aligned
     * mode. RX frames keep 256 bytes of headroom (XDP_PACKET_HEADROOM), so 2048 holds 1792-byte
     * frames: enough for MTU 1500.
     */
    public XdpConfig frameSize(final int frameSize)
    {
        if (frameSize != 2048 && frameSize != 4096)
        {
            throw new IllegalArgumentException("frame size must be 2048 or 4096: " + frameSize);
        }
        this.frameSize = frameSize;
        return this;
    }

    public int frameSize()
    {
        return frameSize;
    }

    /**
     * Entries of the RX, TX and completion rings (a power of two, default 2048, fewer than the
     * frames); the fill ring gets twice as many. It is also the number of RX frames: the fill
     * ring can hold all of them and the stale entries the kernel has not yet reported read, so
     * handing a frame back after its callback always finds room.
     */
    public XdpConfig ringSize(final int ringSize)
    {
        if (Integer.bitCount(ringSize) != 1)
        {
            throw new IllegalArgumentException("ring size must be a power of two: " + ringSize);
        }
        this.ringSize = ringSize;
        return this;
    }

    public int ringSize()
    {
        return ringSize;
    }

    public XdpConfig mode(final Mode mode)
    {
        this.mode = mode;
        return this;
    }

    public Mode mode()
    {
        return mode;
    }

    /**
     * Bind with {@code XDP_ZEROCOPY} instead of {@code XDP_COPY}: the driver then DMAs into the
     * UMEM. Needs native mode and a driver with AF_XDP zero-copy support (i40e, ice, mlx5, ...);
     * veth has none, and bind fails there. Default false.
     */
    public XdpConfig zeroCopy(final boolean zeroCopy)
    {
        this.zeroCopy = zeroCopy;
        return this;
    }

    public boolean zeroCopy()
    {
        return zeroCopy;
    }

    /**
     * Complete TCP/UDP checksums senders left partial before handing frames to the sink
     * ({@link PartialChecksum}). Default true: on veth the pods' checksum offload leaves them so.
     */
    public XdpConfig completeChecksums(final boolean completeChecksums)
    {
        this.completeChecksums = completeChecksums;
        return this;
    }

    public boolean completeChecksums()
    {
        return completeChecksums;
    }

    void validate()
    {
        if (ringSize >= frameCount)
        {
            throw new IllegalArgumentException("ring size " + ringSize + " must be less than the " + frameCount + " frames");
        }
        if (queueId + queueCount > MAX_QUEUE_ID)
        {
            throw new IllegalArgumentException("queues " + queueId + " to " + (queueId + queueCount - 1) + " go beyond "
                + (MAX_QUEUE_ID - 1));
        }
        if (zeroCopy && mode != Mode.NATIVE)
        {
            throw new IllegalArgumentException("zero-copy needs native XDP mode");
        }
    }
}
