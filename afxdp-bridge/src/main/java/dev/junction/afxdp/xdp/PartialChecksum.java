package dev.junction.afxdp.xdp;

import dev.junction.afxdp.tap.InternetChecksum;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Finds and completes a TCP/UDP checksum a sender's stack left partial for an offload that
 * never happened.
 *
 * <p>Why: a pod's veth has TX checksum offload on, so its stack sends TCP/UDP with
 * {@code CHECKSUM_PARTIAL}: the checksum field holds only the pseudo-header sum, to be finished
 * by "hardware". Through a bridge or OVS the skb keeps that mark and the receiving pod trusts
 * it. XDP sees bytes, not the skb: the AF_XDP frame carries the unfinished field and no flag,
 * and what we transmit leaves as a plain frame ({@code CHECKSUM_NONE}), which the receiving
 * stack verifies and drops. Turning offloads off on the switch-side veth does not help (the
 * sender's device decides); turning them off in the pods is not ours to do.
 *
 * <p>How, without the skb's flag: the field of a partial checksum equals the folded
 * pseudo-header sum (the stack stores {@code ~csum_tcpudp_magic(...)}, i.e. the sum itself).
 * Only frames whose field equals that value are summed over their payload; others cost one
 * pseudo-header sum. A complete checksum that happens to equal it (1 in 65,536) is recomputed to
 * the same value: no harm, only the work. Plain IPv4 (not fragmented) and IPv6 without
 * extension headers, behind at most two VLAN tags; anything else is left as it is.
 * Allocation-free.
 */
public final class PartialChecksum
{
    private static final int ETH_P_IP = 0x0800;
    private static final int ETH_P_IPV6 = 0x86dd;
    private static final int ETH_P_8021Q = 0x8100;
    private static final int ETH_P_8021AD = 0x88a8;
    private static final int TCP = 6;
    private static final int UDP = 17;

    private PartialChecksum()
    {
    }

    /**
     * Completes the frame's TCP/UDP checksum in place if it is partial.
     *
     * @return true when it was partial and has been completed
     */
    public static boolean complete(final MutableDirectBuffer frame, final int offset, final int length)
    {
        final int end = offset + length;
        int at = offset + 12;
        if (at + 2 > end)
        {
            return false;
        }
        int type = frame.getShort(at, ByteOrder.BIG_ENDIAN) & 0xffff;
        for (int tags = 0; tags < 2 && (type == ETH_P_8021Q || type == ETH_P_8021AD) && at + 6 <= end; tags++)
        {
            at += 4;
            type = frame.getShort(at, ByteOrder.BIG_ENDIAN) & 0xffff;
        }
        final int ip = at + 2;
        final int protocol;
        final int l4;
        final int l4Length;
        final long pseudo;
        if (type == ETH_P_IP)
        {
            if (ip + 20 > end)
            {
                return false;
            }
            final int ihl = (frame.getByte(ip) & 0x0f) * 4;
            final int total = frame.getShort(ip + 2, ByteOrder.BIG_ENDIAN) & 0xffff;
            final int fragment = frame.getShort(ip + 6, ByteOrder.BIG_ENDIAN) & 0x3fff; // MF and offset
            protocol = frame.getByte(ip + 9) & 0xff;
            if ((frame.getByte(ip) & 0xf0) != 0x40 || ihl < 20 || fragment != 0 || total < ihl || ip + total > end)
            {
                return false;
            }
            l4 = ip + ihl;
            l4Length = total - ihl;
            pseudo = protocol == TCP || protocol == UDP ? InternetChecksum.pseudoHeaderV4(frame, ip, protocol, l4Length) : 0;
        }
        else if (type == ETH_P_IPV6)
        {
            if (ip + 40 > end)
            {
                return false;
            }
            protocol = frame.getByte(ip + 6) & 0xff;
            l4 = ip + 40;
            l4Length = frame.getShort(ip + 4, ByteOrder.BIG_ENDIAN) & 0xffff;
            if (l4 + l4Length > end)
            {
                return false;
            }
            pseudo = protocol == TCP || protocol == UDP ? InternetChecksum.pseudoHeaderV6(frame, ip, protocol, l4Length) : 0;
        }
        else
        {
            return false;
        }
        final int field;
        if (protocol == TCP)
        {
            if (l4Length < 20)
            {
                return false;
            }
            field = l4 + 16;
        }
        else if (protocol == UDP)
        {
            if (l4Length < 8)
            {
                return false;
            }
            field = l4 + 6;
        }
        else
        {
            return false;
        }
        final int stored = frame.getShort(field, ByteOrder.BIG_ENDIAN) & 0xffff;
        if (protocol == UDP && stored == 0)
        {
            return false; // no checksum at all (IPv4)
        }
        final int folded = InternetChecksum.fold(pseudo);
        if (stored != folded && !(stored == 0xffff && folded == 0) && !(stored == 0 && folded == 0xffff))
        {
            return false;
        }
        frame.putShort(field, (short)0, ByteOrder.BIG_ENDIAN);
        int checksum = InternetChecksum.finish(InternetChecksum.sum(frame, l4, l4Length, pseudo));
        if (checksum == 0 && protocol == UDP)
        {
            checksum = 0xffff; // 0 means "no checksum" in UDP
        }
        frame.putShort(field, (short)checksum, ByteOrder.BIG_ENDIAN);
        return true;
    }
}
