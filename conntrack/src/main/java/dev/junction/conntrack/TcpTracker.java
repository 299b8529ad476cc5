package dev.junction.conntrack;

import dev.junction.flowtable.Packet;

/**
 * TCP connection tracking as OVS's lib/conntrack-tcp.c (itself pf's): per-peer sequence
 * windows after van Rooij, window scaling, and the simplified peer states OVS keeps
 * (CLOSED, SYN_SENT, ESTABLISHED, CLOSING, FIN_WAIT_2, TIME_WAIT with the {@code ct_dpif}
 * numbering). State lives in {@link ConnTable#l4}, {@link ConnTable#L4_INTS} ints per slot:
 *
 * <pre>
 *  +0 peer0 seqlo  +1 peer0 seqhi  +2 peer0 max_win (16 bits)
 *  +3 peer1 seqlo  +4 peer1 seqhi  +5 peer1 max_win
 *  +6 peer0 state(8) | peer0 wscale(8) | peer1 state(8) | peer1 wscale(8)   (low byte first)
 * </pre>
 *
 * <p>A connection put back from a checkpoint after a restart ({@link #restored}) keeps its peer
 * states but not its sequence windows: traffic went on between the checkpoint and the kill,
 * and while the daemon was down, so the stored windows are behind. Each peer that has sent
 * is marked to learn its window again from its next packet, as Linux conntrack's loose pickup
 * of a mid-stream connection (what conntrackd relies on) does: that packet sets the peer's
 * sequence edge and the window it may send into from the other peer's largest window, and
 * the ACK skew is not checked while either peer is still stale. After one packet each way the
 * usual checks apply. Without this the next packets fall outside the stale windows and come
 * out +inv, which a policy drops: the restored connection would be lost after all.
 * OVS has no such state (its userspace conntrack is not restored at all).
 *
 * Peer 0 is the originator. Sequence arithmetic is 32-bit and wraps, as OVS's {@code SEQ_*}.
 */
final class TcpTracker
{
    static final int CLOSED = 0;
    static final int SYN_SENT = 2;
    static final int ESTABLISHED = 4;
    static final int CLOSING = 7;
    static final int FIN_WAIT_2 = 9;
    static final int TIME_WAIT = 10;

    static final String[] STATE_NAMES = { "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "CLOSE_WAIT",
        "FIN_WAIT_1", "CLOSING", "LAST_ACK", "FIN_WAIT_2", "TIME_WAIT" };

    static final int FIN = 0x01;
    static final int SYN = 0x02;
    static final int RST = 0x04;
    static final int PSH = 0x08;
    static final int ACK = 0x10;
    static final int URG = 0x20;

    private static final int MAX_WSCALE = 14;
    private static final int WSCALE_FLAG = 0x80;
    private static final int WSCALE_UNKNOWN = 0x40;
    private static final int WSCALE_MASK = 0xf;
    /**
     * Beside a peer's window scale (a bit OVS does not have): this peer's sequence window is
     * stale, the connection having been restored from a checkpoint, and is learnt again from
     * its next packet.
     */
    private static final int WSCALE_RELEARN = 0x20;
    private static final int MAXACKWINDOW = 0xffff + 1500;

    // Results, as OVS's enum ct_update_res.
    static final int INVALID = 0;
    static final int VALID = 1;
    static final int NEW = 2;
    static final int VALID_NEW = 3;

    private TcpTracker()
    {
    }


    static boolean invalidFlags(final int flags)
    {
        if ((flags & SYN) != 0)
        {
            if ((flags & (RST | FIN)) != 0)
            {
                return true;
            }
        }
        else if ((flags & (ACK | RST)) == 0)
        {
            return true;
        }
        return (flags & ACK) == 0 && (flags & (FIN | PSH | URG)) != 0;
    }

    static int flags(final Packet p)
    {
        return p.u16(p.l4 + 12) & 0x0fff;
    }

    /** As {@code tcp_valid_new}: not invalid, and not a SYN+ACK (half-open connections are not picked up). */
    static boolean validNew(final Packet p)
    {
        final int f = flags(p);
        return !invalidFlags(f) && !((f & SYN) != 0 && (f & ACK) != 0);
    }

    /** Payload length, as {@code dp_packet_get_tcp_payload_length}. */
    static int payloadLength(final Packet p)
    {
        final int size = p.l4Size();
        if (size >= 20)
        {
            final int len = (p.u8(p.l4 + 12) >>> 4) * 4;
            if (len >= 20 && len <= size)
            {
                return size - len;
            }
        }
        return 0;
    }

    /** The window scale option, as {@code tcp_get_wscale}: WSCALE_FLAG | shift, or 0. */
    static int wscale(final Packet p)
    {
        int len = (p.u8(p.l4 + 12) >>> 4) * 4 - 20;
        int opt = p.l4 + 20;
        int ws = 0;
        while (len >= 3)
        {
            final int kind = p.u8(opt);
            if (kind == 0)
            {
                return ws;
            }
            if (kind == 1)
            {
                opt++;
                len--;
                continue;
            }
            if (kind == 3)
            {
                ws = Math.min(p.u8(opt + 2), MAX_WSCALE) | WSCALE_FLAG;
            }
            int optLen = p.u8(opt + 1);
            if (optLen < 2)
            {
                optLen = 2;
            }
            len -= optLen;
            opt += optLen;
        }
        return ws;
    }

    private static int state(final int[] l4, final int b, final int peer)
    {
        return (l4[b + 6] >>> (peer * 16)) & 0xff;
    }

    private static int ws(final int[] l4, final int b, final int peer)
    {
        return (l4[b + 6] >>> (peer * 16 + 8)) & 0xff;
    }

    private static void setState(final int[] l4, final int b, final int peer, final int st)
    {
        final int sh = peer * 16;
        l4[b + 6] = (l4[b + 6] & ~(0xff << sh)) | (st & 0xff) << sh;
    }

    private static void setWs(final int[] l4, final int b, final int peer, final int w)
    {
        final int sh = peer * 16 + 8;
        l4[b + 6] = (l4[b + 6] & ~(0xff << sh)) | (w & 0xff) << sh;
    }

    /** Initialises slot state for the packet that creates the connection, as {@code tcp_new_conn}. */
    static void init(final int[] l4, final int b, final Packet p)
    {
        final int flags = flags(p);
        final int seq = (int)p.u32(p.l4 + 4);
        l4[b] = seq;
        l4[b + 1] = seq + payloadLength(p) + 1;
        l4[b + 3] = 0;
        l4[b + 4] = 1;
        l4[b + 5] = 1;
        l4[b + 6] = 0;
        int ws0;
        if ((flags & SYN) != 0)
        {
            l4[b + 1]++;
            ws0 = wscale(p);
            setWs(l4, b, 1, 0);
        }
        else
        {
            ws0 = WSCALE_UNKNOWN;
            setWs(l4, b, 1, WSCALE_UNKNOWN);
        }
        setWs(l4, b, 0, ws0);
        int maxWin = Math.max(p.u16(p.l4 + 14), 1);
        if ((ws0 & WSCALE_MASK) != 0)
        {
            final int sws = ws0 & WSCALE_MASK;
            maxWin = (maxWin + (1 << sws) - 1) >>> sws;
        }
        l4[b + 2] = maxWin & 0xffff;
        if ((flags & FIN) != 0)
        {
            l4[b + 1]++;
        }
        setState(l4, b, 0, SYN_SENT);
        setState(l4, b, 1, CLOSED);
    }

    /**
     * One packet of an existing connection, as {@code tcp_conn_update}: returns INVALID, VALID,
     * NEW (a SYN reopening a closed connection) or VALID_NEW, and leaves the timeout attribute
     * to apply in {@code out[0]} (-1: none).
     */
    static int update(final int[] l4, final int b, final Packet p, final boolean reply, final boolean seqCheck,
        final int[] out)
    {
        out[0] = -1;
        final int si = reply ? 1 : 0;
        final int di = reply ? 0 : 1;
        final int s = b + si * 3;
        final int d = b + di * 3;
        final int flags = flags(p);
        int win = p.u16(p.l4 + 14);
        final int pLen = payloadLength(p);

        if (invalidFlags(flags))
        {
            return INVALID;
        }

        if ((flags & (SYN | ACK)) == SYN)
        {
            if (state(l4, b, di) >= FIN_WAIT_2 && state(l4, b, si) >= FIN_WAIT_2)
            {
                setState(l4, b, si, CLOSED);
                setState(l4, b, di, CLOSED);
                return NEW;
            }
            else if (state(l4, b, si) <= SYN_SENT)
            {
                setState(l4, b, si, SYN_SENT);
                out[0] = TimeoutPolicy.TCP_SYN_SENT;
                return VALID_NEW;
            }
        }

        int sws = 0;
        int dws = 0;
        final int srcWs = ws(l4, b, si);
        final int dstWs = ws(l4, b, di);
        if ((srcWs & WSCALE_FLAG) != 0 && (dstWs & WSCALE_FLAG) != 0 && (flags & SYN) == 0)
        {
            sws = srcWs & WSCALE_MASK;
            dws = dstWs & WSCALE_MASK;
        }
        else if ((srcWs & WSCALE_UNKNOWN) != 0 && (dstWs & WSCALE_UNKNOWN) != 0 && (flags & SYN) == 0)
        {
            sws = MAX_WSCALE;
            dws = MAX_WSCALE;
        }

        final int origSeq = (int)p.u32(p.l4 + 4);
        int seq = origSeq;
        int ack = (int)p.u32(p.l4 + 8);
        int end;
        boolean checkAckskew = true;
        if (state(l4, b, si) < SYN_SENT)
        {
            // First packet from this end: set its state.
            end = seq + pLen;
            if ((flags & SYN) != 0)
            {
                end++;
                if ((ws(l4, b, di) & WSCALE_FLAG) != 0)
                {
                    final int w = wscale(p);
                    setWs(l4, b, si, w);
                    if ((w & WSCALE_FLAG) != 0)
                    {
                        sws = w & WSCALE_MASK;
                        win = (win + (1 << sws) - 1) >>> sws;
                        dws = ws(l4, b, di) & WSCALE_MASK;
                    }
                    else
                    {
                        // Fix up the other window; in case of a retransmitted SYN|ACK.
                        l4[d + 2] = (l4[d + 2] << (ws(l4, b, di) & WSCALE_MASK)) & 0xffff;
                        setWs(l4, b, di, ws(l4, b, di) & WSCALE_RELEARN);
                    }
                }
            }
            if ((flags & FIN) != 0)
            {
                end++;
            }
            l4[s] = seq;
            setState(l4, b, si, SYN_SENT);
            final int slide = end + Math.max(1, l4[d + 2] << dws);
            if (l4[s + 1] == 1 || slide - l4[s + 1] >= 0)
            {
                l4[s + 1] = slide;
                checkAckskew = false; // picking up a new or already established connection
            }
            if (win > l4[s + 2])
            {
                l4[s + 2] = win;
            }
        }
        else
        {
            end = seq + pLen;
            if ((flags & SYN) != 0)
            {
                end++;
            }
            if ((flags & FIN) != 0)
            {
                end++;
            }
            if ((srcWs & WSCALE_RELEARN) != 0)
            {
                // Restored: this packet, whatever its sequence, is where this peer now is.
                l4[s] = seq;
                l4[s + 1] = end + Math.max(1, l4[d + 2] << dws);
                setWs(l4, b, si, srcWs & ~WSCALE_RELEARN);
                checkAckskew = false;
            }
            if ((dstWs & WSCALE_RELEARN) != 0)
            {
                checkAckskew = false; // what the other peer sent last is not known yet
            }
        }

        if ((flags & ACK) == 0)
        {
            ack = l4[d]; // let it pass through the ack skew check
        }
        else if (ack == 0 && (flags & (ACK | RST)) == (ACK | RST))
        {
            ack = l4[d]; // broken stacks do not set ack on RST
        }

        if (seq == end)
        {
            // Ease sequencing restrictions on no-data packets.
            seq = l4[s];
            end = seq;
        }

        final int ackskew = checkAckskew ? l4[d] - ack : 0;
        final int dMaxWin = l4[d + 2];
        if ((l4[s + 1] - end >= 0
            && seq - (l4[s] - (dMaxWin << dws)) >= 0
            && ackskew >= -MAXACKWINDOW
            && ackskew <= (MAXACKWINDOW << sws)
            && ((flags & RST) == 0 || origSeq == l4[s] || origSeq == l4[s] + 1 || origSeq + 1 == l4[s]))
            || !seqCheck)
        {
            if (l4[s + 2] < win)
            {
                l4[s + 2] = win;
            }
            if (end - l4[s] > 0)
            {
                l4[s] = end;
            }
            if (ack + (win << sws) - l4[d + 1] >= 0)
            {
                l4[d + 1] = ack + Math.max(win << sws, 1);
            }
            int srcState = state(l4, b, si);
            int dstState = state(l4, b, di);
            if ((flags & SYN) != 0 && srcState < SYN_SENT)
            {
                srcState = SYN_SENT;
            }
            if ((flags & FIN) != 0 && srcState < CLOSING)
            {
                srcState = CLOSING;
            }
            if ((flags & ACK) != 0)
            {
                if (dstState == SYN_SENT)
                {
                    dstState = ESTABLISHED;
                }
                else if (dstState == CLOSING)
                {
                    dstState = FIN_WAIT_2;
                }
            }
            if ((flags & RST) != 0)
            {
                srcState = TIME_WAIT;
                dstState = TIME_WAIT;
            }
            setState(l4, b, si, srcState);
            setState(l4, b, di, dstState);

            if (srcState >= FIN_WAIT_2 && dstState >= FIN_WAIT_2)
            {
                out[0] = TimeoutPolicy.TCP_CLOSE;
            }
            else if (srcState >= CLOSING && dstState >= CLOSING)
            {
                out[0] = TimeoutPolicy.TCP_TIME_WAIT;
            }
            else if (srcState < ESTABLISHED || dstState < ESTABLISHED)
            {
                out[0] = TimeoutPolicy.TCP_SYN_RECV;
            }
            else if (srcState >= CLOSING || dstState >= CLOSING)
            {
                out[0] = TimeoutPolicy.TCP_FIN_WAIT;
            }
            else
            {
                out[0] = TimeoutPolicy.TCP_ESTABLISHED;
            }
        }
        else if ((state(l4, b, di) < SYN_SENT || state(l4, b, di) >= FIN_WAIT_2 || state(l4, b, si) >= FIN_WAIT_2)
            && (l4[s + 1] + MAXACKWINDOW) - end >= 0
            && seq - (l4[s] - MAXACKWINDOW) >= 0)
        {
            // Shotgunned SYNs, a picked-up stream, or stragglers after close: accept without
            // refreshing the expiry, so floods cannot keep the connection alive.
            if (l4[s + 2] < win)
            {
                l4[s + 2] = win;
            }
            if (end - l4[s] > 0)
            {
                l4[s] = end;
            }
            if (ack + (win << sws) - l4[d + 1] >= 0)
            {
                l4[d + 1] = ack + Math.max(win << sws, 1);
            }
            if ((flags & FIN) != 0 && state(l4, b, si) < CLOSING)
            {
                setState(l4, b, si, CLOSING);
            }
            if ((flags & RST) != 0)
            {
                setState(l4, b, si, TIME_WAIT);
                setState(l4, b, di, TIME_WAIT);
            }
        }
        else
        {
            return INVALID;
        }
        return VALID;
    }

    /** The state {@code dpctl/dump-conntrack} prints: the later peer state, FIN_WAIT_2 shown as TIME_WAIT. */
    static String dumpState(final int[] l4, final int b)
    {
        int st = Math.max(state(l4, b, 0), state(l4, b, 1));
        if (st == FIN_WAIT_2)
        {
            st = TIME_WAIT;
        }
        else if (st == 3)
        {
            st = ESTABLISHED;
        }
        return st < STATE_NAMES.length ? STATE_NAMES[st] : "[" + st + "]";
    }

    /** Marks the peers that have sent to learn their windows again (a connection restored from a checkpoint). */
    static void restored(final int[] l4, final int b)
    {
        for (int peer = 0; peer < 2; peer++)
        {
            if (state(l4, b, peer) >= SYN_SENT)
            {
                setWs(l4, b, peer, ws(l4, b, peer) | WSCALE_RELEARN);
            }
        }
    }

    static int peerState(final int[] l4, final int b, final int peer)
    {
        return state(l4, b, peer);
    }
}
