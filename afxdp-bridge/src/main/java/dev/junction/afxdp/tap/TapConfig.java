package dev.junction.afxdp.tap;

import dev.junction.afxdp.linux.Ifreq;
import dev.junction.afxdp.linux.Tun;

/** How to open a {@link TapDevice}. Setters return {@code this}. */
public final class TapConfig
{
    /** Checksum offload and TSO for IPv4 and IPv6, ECN included: the kernel hands us partial checksums and super-frames. */
    public static final int DEFAULT_OFFLOADS = Tun.TUN_F_CSUM | Tun.TUN_F_TSO4 | Tun.TUN_F_TSO6 | Tun.TUN_F_TSO_ECN;

    private final String name;
    private int mtu;
    private int offloads = DEFAULT_OFFLOADS;
    private boolean up = true;
    private boolean persistent;
    private boolean completeChecksums = true;

    /** @param name the interface name (1 to 15 characters); an existing TAP of that name is attached to */
    public TapConfig(final String name)
    {
        Ifreq.checkName(name);
        this.name = name;
    }

    public String name()
    {
        return name;
    }

    /** 0 (the default) leaves the kernel's MTU (1500). */
    public TapConfig mtu(final int mtu)
    {
        if (mtu < 0 || mtu > 65_535)
        {
            throw new IllegalArgumentException("mtu " + mtu);
        }
        this.mtu = mtu;
        return this;
    }

    public int mtu()
    {
        return mtu;
    }

    /**
     * {@code TUN_F_*} bits for {@code TUNSETOFFLOAD}. They also say what this port accepts on
     * TX: a GSO super-frame is written as one when the matching TSO bit is set
     * ({@link TapDevice#acceptsGso(int)}). TSO needs {@code TUN_F_CSUM} (the kernel refuses it alone).
     */
    public TapConfig offloads(final int offloads)
    {
        this.offloads = offloads;
        return this;
    }

    public int offloads()
    {
        return offloads;
    }

    /** Bring the link up after creating it (in the opening thread's network namespace). Default true. */
    public TapConfig up(final boolean up)
    {
        this.up = up;
        return this;
    }

    public boolean up()
    {
        return up;
    }

    /** Keep the device after close (TUNSETPERSIST). Default false: close removes it. */
    public TapConfig persistent(final boolean persistent)
    {
        this.persistent = persistent;
        return this;
    }

    public boolean persistent()
    {
        return persistent;
    }

    /** Complete partial checksums of non-GSO frames on RX, so the datapath sees valid packets. Default true. */
    public TapConfig completeChecksums(final boolean completeChecksums)
    {
        this.completeChecksums = completeChecksums;
        return this;
    }

    public boolean completeChecksums()
    {
        return completeChecksums;
    }
}
