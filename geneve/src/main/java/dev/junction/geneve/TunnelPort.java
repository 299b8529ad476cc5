package dev.junction.geneve;

/**
 * One tunnel port, configured as OVS's {@code ovs-vsctl add-port ... type=geneve
 * options:remote_ip=... options:key=flow options:csum=true}: a null remote or local address
 * means {@code flow} (taken from tun_dst / tun_src), {@code keyFromFlow} means {@code key=flow}.
 */
public final class TunnelPort
{
    public static final int DEFAULT_TTL = 64;

    public final int port;
    public final TunnelType type;
    /** Fixed remote endpoint, or null for remote_ip=flow. */
    public final byte[] remoteIp;
    /** Fixed local endpoint, or null (the route's source address, or tun_src when local_ip=flow). */
    public final byte[] localIp;
    public final boolean localFromFlow;
    public final boolean keyFromFlow;
    /** The VNI sent when not key=flow, and the one received packets must carry. */
    public final long key;
    public final boolean csum;
    public final int dstPort;
    public final int ttl;
    /** Outer TOS (DSCP bits), or -1 for tos=inherit. */
    public final int tos;
    public final boolean dontFragment;

    public TunnelPort(final int port, final TunnelType type, final byte[] remoteIp, final byte[] localIp,
        final boolean localFromFlow, final boolean keyFromFlow, final long key, final boolean csum, final int dstPort,
        final int ttl, final int tos, final boolean dontFragment)
    {
        if (port <= 0 || port >= 0xff00)
        {
            throw new IllegalArgumentException("tunnel port number " + port + " out of range");
        }
        if (key < 0 || key > 0xffffff)
        {
            throw new IllegalArgumentException("tunnel port " + port + ": key " + key + " is not a 24-bit VNI");
        }
        if (remoteIp != null && localIp != null && remoteIp.length != localIp.length)
        {
            throw new IllegalArgumentException("tunnel port " + port + ": remote_ip and local_ip of different families");
        }
        if (ttl < 1 || ttl > 255 || tos < -1 || tos > 255 || dstPort < 1 || dstPort > 0xffff)
        {
            throw new IllegalArgumentException("tunnel port " + port + ": ttl, tos or dst_port out of range");
        }
        this.port = port;
        this.type = type;
        this.remoteIp = remoteIp == null ? null : remoteIp.clone();
        this.localIp = localIp == null ? null : localIp.clone();
        this.localFromFlow = localFromFlow;
        this.keyFromFlow = keyFromFlow;
        this.key = key;
        this.csum = csum;
        this.dstPort = dstPort;
        this.ttl = ttl;
        this.tos = tos;
        this.dontFragment = dontFragment;
    }

    /** A port with OVS's defaults: ttl 64, tos 0, df_default=true, csum off, the protocol's port. */
    public static TunnelPort of(final int port, final TunnelType type, final byte[] remoteIp, final boolean keyFromFlow,
        final long key, final boolean csum)
    {
        return new TunnelPort(port, type, remoteIp, null, false, keyFromFlow, key, csum, type.defaultPort,
            DEFAULT_TTL, 0, true);
    }
}
