package dev.junction.geneve;

import dev.junction.flowtable.Packet;

/**
 * ARP on the underlay, for IPv4 tunnel endpoints: answers requests for a local endpoint address
 * (as the underlay interface's own stack would), learns the senders of replies and gratuitous
 * ARPs into the neighbour table, and composes the requests that resolve a next hop the table does not know yet (OVS's
 * tnl_send_arp_request: broadcast, our MAC and address as sender, zero target MAC).
 */
public final class UnderlayArp
{
    public static final int ARP_LENGTH = 42;

    private final Underlay underlay;
    private final byte[] ip = new byte[4];

    public UnderlayArp(final Underlay underlay)
    {
        this.underlay = underlay;
    }

    /**
     * Handles an ARP frame received on the underlay: learns its sender and, for a request for
     * one of our addresses, writes the reply into {@code reply} and returns true.
     */
    public boolean receive(final Packet p, final Packet reply)
    {
        final byte[] b = p.buf;
        final int s = p.start;
        if (p.length < ARP_LENGTH || u16(b, s + 12) != 0x0806 || u16(b, s + 14) != 1 || u16(b, s + 16) != 0x0800
            || b[s + 18] != 6 || b[s + 19] != 4)
        {
            return false;
        }
        final int op = u16(b, s + 20);
        final long sha = Decapsulator.macAt(b, s + 22);
        System.arraycopy(b, s + 28, ip, 0, 4);
        // As OVS's tnl_arp_snoop: replies and gratuitous ARPs (sender address = target address) only.
        final boolean gratuitous = b[s + 28] == b[s + 38] && b[s + 29] == b[s + 39] && b[s + 30] == b[s + 40]
            && b[s + 31] == b[s + 41];
        if ((op == 2 || gratuitous) && sha != 0)
        {
            underlay.snoop(ip, sha);
        }
        System.arraycopy(b, s + 38, ip, 0, 4);
        if (op != 1 || !underlay.isLocal(ip))
        {
            return false;
        }
        compose(reply, 2, sha, underlay.mac, ip, sha, b, s + 28);
        return true;
    }

    /** An ARP request for {@code target} from our {@code source} address, into {@code out}. */
    public void request(final Packet out, final byte[] source, final byte[] target)
    {
        compose(out, 1, 0xffff_ffff_ffffL, underlay.mac, source, 0, target, 0);
    }

    private static void compose(final Packet out, final int op, final long ethDst, final long sha, final byte[] spa,
        final long tha, final byte[] tpa, final int tpaAt)
    {
        final int s = Packet.HEADROOM;
        if (out.buf.length < s + ARP_LENGTH)
        {
            out.buf = new byte[s + 2048];
        }
        final byte[] b = out.buf;
        putMac(b, s, ethDst);
        putMac(b, s + 6, sha);
        b[s + 12] = 0x08;
        b[s + 13] = 0x06;
        b[s + 14] = 0;
        b[s + 15] = 1;
        b[s + 16] = 0x08;
        b[s + 17] = 0;
        b[s + 18] = 6;
        b[s + 19] = 4;
        b[s + 20] = 0;
        b[s + 21] = (byte)op;
        putMac(b, s + 22, sha);
        System.arraycopy(spa, 0, b, s + 28, 4);
        putMac(b, s + 32, tha);
        System.arraycopy(tpa, tpaAt, b, s + 38, 4);
        out.start = s;
        out.length = ARP_LENGTH;
        out.l3 = s + 14;
        out.l4 = -1;
        out.l2Pad = 0;
    }

    private static void putMac(final byte[] b, final int at, final long mac)
    {
        for (int i = 0; i < 6; i++)
        {
            b[at + i] = (byte)(mac >>> (40 - 8 * i));
        }
    }

    private static int u16(final byte[] b, final int at)
    {
        return (b[at] & 0xff) << 8 | (b[at + 1] & 0xff);
    }
}
