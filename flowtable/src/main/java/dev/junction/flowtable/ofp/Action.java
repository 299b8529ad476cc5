package dev.junction.flowtable.ofp;

import dev.junction.flowtable.Field;

/**
 * An OpenFlow action as the switch holds it after {@code ovs-ofctl -O OpenFlow15} encoded it:
 * legacy spellings ({@code mod_nw_dst}, {@code mod_vlan_vid}, ...) arrive as {@code set_field},
 * {@code strip_vlan} as {@code pop_vlan}, so there is one code path per behaviour.
 */
public abstract class Action
{
    public static final int OFPP_IN_PORT = 0xfff8;
    public static final int OFPP_TABLE = 0xfff9;
    public static final int OFPP_NORMAL = 0xfffa;
    public static final int OFPP_FLOOD = 0xfffb;
    public static final int OFPP_ALL = 0xfffc;
    public static final int OFPP_CONTROLLER = 0xfffd;
    public static final int OFPP_LOCAL = 0xfffe;
    public static final int OFPP_NONE = 0xffff;
    public static final int OFPP_MAX = 0xff00;

    private Action()
    {
    }

    public static final class Output extends Action
    {
        public final int port;

        public Output(final int port)
        {
            this.port = port;
        }

        @Override
        public boolean equals(final Object o)
        {
            return o instanceof Output && ((Output)o).port == port;
        }

        @Override
        public int hashCode()
        {
            return port;
        }
    }

    /**
     * {@code controller(...)}: a packet-in, as OVS's ofpact_controller. The argument-less form
     * (reason action, controller 0, no userdata, no meter) is what ovs-ofctl keeps as an output to
     * CONTROLLER and prints {@code CONTROLLER:max_len}; anything else prints as {@code controller(...)}.
     */
    public static final class Controller extends Action
    {
        /** OVS's enum ofp_packet_in_reason values a flow may name. */
        public static final int REASON_NO_MATCH = 0;
        public static final int REASON_ACTION = 1;
        public static final int REASON_INVALID_TTL = 2;
        public static final int REASON_ACTION_SET = 3;
        public static final int REASON_GROUP = 4;
        public static final int REASON_PACKET_OUT = 5;
        /** OFPR_EXPLICIT_MISS: OVS names it by the empty string ({@code reason=}). */
        public static final int REASON_EXPLICIT_MISS = 6;
        /** NX_CTLR_NO_METER: no meter named. */
        public static final long NO_METER = 0xffff_ffffL;
        private static final byte[] NO_USERDATA = new byte[0];

        public final int reason;
        public final int maxLen;
        public final int controllerId;
        private final byte[] userdata;
        public final long meterId;

        public Controller()
        {
            this(REASON_ACTION, 0xffff, 0, null, NO_METER);
        }

        public Controller(final int reason, final int maxLen, final int controllerId, final byte[] userdata,
            final long meterId)
        {
            this.reason = reason;
            this.maxLen = maxLen;
            this.controllerId = controllerId;
            this.userdata = userdata == null ? NO_USERDATA : userdata.clone();
            this.meterId = meterId;
        }

        /** A copy of the bytes the packet-in carries to the controller (empty when none). */
        public byte[] userdata()
        {
            return userdata.clone();
        }

        public int userdataLength()
        {
            return userdata.length;
        }

        /** True when ovs-ofctl would keep this as a plain output to CONTROLLER (format_CONTROLLER's short form). */
        public boolean isPlainOutput()
        {
            return reason == REASON_ACTION && controllerId == 0 && userdata.length == 0 && meterId == NO_METER;
        }

        /** As ofputil_packet_in_reason_to_string. */
        public static String reasonName(final int reason)
        {
            switch (reason)
            {
                case REASON_NO_MATCH: return "no_match";
                case REASON_ACTION: return "action";
                case REASON_INVALID_TTL: return "invalid_ttl";
                case REASON_ACTION_SET: return "action_set";
                case REASON_GROUP: return "group";
                case REASON_PACKET_OUT: return "packet_out";
                case REASON_EXPLICIT_MISS: return "";
                default: return Integer.toString(reason);
            }
        }

        @Override
        public boolean equals(final Object o)
        {
            if (!(o instanceof Controller))
            {
                return false;
            }
            final Controller c = (Controller)o;
            return reason == c.reason && maxLen == c.maxLen && controllerId == c.controllerId && meterId == c.meterId
                && java.util.Arrays.equals(userdata, c.userdata);
        }

        @Override
        public int hashCode()
        {
            return ((reason * 31 + maxLen) * 31 + controllerId) * 31 + java.util.Arrays.hashCode(userdata);
        }
    }

    public static final class PushVlan extends Action
    {
        public final int tpid;

        public PushVlan(final int tpid)
        {
            this.tpid = tpid;
        }
    }

    public static final class PopVlan extends Action
    {
    }

    public static final class DecTtl extends Action
    {
    }

    /** set_field and load: writes {@code value} into the bits of {@code field} selected by {@code mask}. */
    public static final class SetField extends Action
    {
        public final Field field;
        public final long valueHi;
        public final long value;
        public final long maskHi;
        public final long mask;
        /** True when written as {@code load:}, printed back the same way. */
        public final boolean load;
        public final int ofs;
        public final int nBits;

        public SetField(final Field field, final long valueHi, final long value, final long maskHi,
            final long mask, final boolean load, final int ofs, final int nBits)
        {
            this.field = field;
            this.valueHi = valueHi;
            this.value = value;
            this.maskHi = maskHi;
            this.mask = mask;
            this.load = load;
            this.ofs = ofs;
            this.nBits = nBits;
        }

        /** Value equality: a learn that produces the same load again only refreshes its flow. */
        @Override
        public boolean equals(final Object o)
        {
            if (!(o instanceof SetField))
            {
                return false;
            }
            final SetField x = (SetField)o;
            return x.field == field && x.valueHi == valueHi && x.value == value && x.maskHi == maskHi
                && x.mask == mask && x.load == load && x.ofs == ofs && x.nBits == nBits;
        }

        @Override
        public int hashCode()
        {
            return java.util.Objects.hash(field, valueHi, value, maskHi, mask, ofs, nBits);
        }
    }

    /** move: copies {@code nBits} from src[srcOfs..] to dst[dstOfs..]. */
    public static final class Move extends Action
    {
        public final Field src;
        public final int srcOfs;
        public final Field dst;
        public final int dstOfs;
        public final int nBits;

        public Move(final Field src, final int srcOfs, final Field dst, final int dstOfs, final int nBits)
        {
            this.src = src;
            this.srcOfs = srcOfs;
            this.dst = dst;
            this.dstOfs = dstOfs;
            this.nBits = nBits;
        }
    }

    /**
     * {@code check_pkt_larger(LEN)->DST}: DST (one bit) is 1 when the packet is longer than LEN
     * bytes, else 0. Translation cannot know which: the rest of the action list is translated
     * for each answer, and the datapath picks one per packet (OVS's {@code check_pkt_len}).
     */
    public static final class CheckPktLarger extends Action
    {
        public final int pktLen;
        public final Field dst;
        public final int dstOfs;

        public CheckPktLarger(final int pktLen, final Field dst, final int dstOfs)
        {
            this.pktLen = pktLen;
            this.dst = dst;
            this.dstOfs = dstOfs;
        }
    }

    /** resubmit([port],[table]): {@code port} or {@code table} is -1 when omitted. */
    public static final class Resubmit extends Action
    {
        public final int port;
        public final int table;

        public Resubmit(final int port, final int table)
        {
            this.port = port;
            this.table = table;
        }
    }

    public static final class GotoTable extends Action
    {
        public final int table;

        public GotoTable(final int table)
        {
            this.table = table;
        }
    }

    public static final class Note extends Action
    {
        public final String hex;

        public Note(final String hex)
        {
            this.hex = hex;
        }
    }

    /**
     * ct(...): send the packet through connection tracking in a zone, optionally commit, write
     * ct_mark/ct_label ({@code exec}), set up or apply NAT, and recirculate to {@code table}
     * with the results ({@code NONE} when there is no table).
     */
    public static final class Ct extends Action
    {
        public static final int NO_TABLE = -1;

        public final boolean commit;
        public final boolean force;
        public final int table;
        /** The zone when immediate; {@code zoneField} null. */
        public final int zone;
        /** The zone read from a subfield, or null. */
        public final Field zoneField;
        public final int zoneOfs;
        public final int zoneBits;
        public final java.util.List<Action> exec;
        /** null when there is no nat. */
        public final Nat nat;
        /** Where nat stands among the nested actions (0: first), which decides how OVS prints it. */
        public final int natPosition;

        public Ct(final boolean commit, final boolean force, final int table, final int zone, final Field zoneField,
            final int zoneOfs, final int zoneBits, final java.util.List<Action> exec, final Nat nat,
            final int natPosition)
        {
            this.natPosition = natPosition;
            this.commit = commit;
            this.force = force;
            this.table = table;
            this.zone = zone;
            this.zoneField = zoneField;
            this.zoneOfs = zoneOfs;
            this.zoneBits = zoneBits;
            this.exec = java.util.List.copyOf(exec);
            this.nat = nat;
        }
    }

    /**
     * The nat inside ct(): {@code kind} 0 for bare {@code nat} (apply the connection's NAT),
     * else {@code SRC} or {@code DST} with an address range (IPv4 in the low 32 bits of the low
     * words), an optional port range, and flags.
     */
    public static final class Nat
    {
        public static final int NONE = 0;
        public static final int SRC = 1;
        public static final int DST = 2;

        public final int kind;
        public final boolean v6;
        public final boolean hasAddr;
        public final long minHi;
        public final long minLo;
        public final long maxHi;
        public final long maxLo;
        public final boolean hasPorts;
        public final int minPort;
        public final int maxPort;
        public final boolean random;
        public final boolean hash;
        public final boolean persistent;

        public Nat(final int kind, final boolean v6, final boolean hasAddr, final long minHi, final long minLo,
            final long maxHi, final long maxLo, final boolean hasPorts, final int minPort, final int maxPort,
            final boolean random, final boolean hash, final boolean persistent)
        {
            this.kind = kind;
            this.v6 = v6;
            this.hasAddr = hasAddr;
            this.minHi = minHi;
            this.minLo = minLo;
            this.maxHi = maxHi;
            this.maxLo = maxLo;
            this.hasPorts = hasPorts;
            this.minPort = minPort;
            this.maxPort = maxPort;
            this.random = random;
            this.hash = hash;
            this.persistent = persistent;
        }
    }

    /** group:N: hands the packet to group N of the group table (which must exist when the flow is added). */
    public static final class Group extends Action
    {
        /** The group id, an unsigned 32-bit number. */
        public final long groupId;

        public Group(final long groupId)
        {
            this.groupId = groupId;
        }
    }

    /** ct_clear: the packet leaves conntrack (state, zone, mark, label, original tuple all zero). */
    public static final class CtClear extends Action
    {
    }

    /**
     * learn(...): adds (or refreshes) a flow in {@code table} whose match and actions are built
     * from the packet by {@link LearnSpec}s, as OVN's load-balancer affinity uses it.
     */
    public static final class Learn extends Action
    {
        public static final int PERMANENT = 0;

        public final int table;
        public final int idleTimeout;
        public final int hardTimeout;
        public final int finIdleTimeout;
        public final int finHardTimeout;
        public final int priority;
        public final long cookie;
        public final boolean sendFlowRem;
        public final boolean deleteLearned;
        public final java.util.List<LearnSpec> specs;
        /** The tun_metadata slots of the flows this learn was parsed with: its learned flows use the same. */
        public final dev.junction.flowtable.TunMetadataSlots tunMetadata;

        public Learn(final int table, final int idleTimeout, final int hardTimeout, final int finIdleTimeout,
            final int finHardTimeout, final int priority, final long cookie, final boolean sendFlowRem,
            final boolean deleteLearned, final java.util.List<LearnSpec> specs,
            final dev.junction.flowtable.TunMetadataSlots tunMetadata)
        {
            this.tunMetadata = tunMetadata;
            this.table = table;
            this.idleTimeout = idleTimeout;
            this.hardTimeout = hardTimeout;
            this.finIdleTimeout = finIdleTimeout;
            this.finHardTimeout = finHardTimeout;
            this.priority = priority;
            this.cookie = cookie;
            this.sendFlowRem = sendFlowRem;
            this.deleteLearned = deleteLearned;
            this.specs = java.util.List.copyOf(specs);
        }
    }

    /**
     * One part of a learn: the learned flow matches {@code dst[dstOfs..+nBits]} ({@code MATCH}),
     * loads it ({@code LOAD}) or outputs to the port it names ({@code OUTPUT}), with the bits taken
     * from the packet's {@code src[srcOfs..]} or from an immediate value ({@code src} null).
     */
    public static final class LearnSpec
    {
        public static final int MATCH = 0;
        public static final int LOAD = 1;
        public static final int OUTPUT = 2;

        public final int kind;
        public final Field src;
        public final int srcOfs;
        /** The immediate value, in the low {@code nBits} bits: {high, low}. */
        public final long immHi;
        public final long immLo;
        public final Field dst;
        public final int dstOfs;
        public final int nBits;
        /** The immediate was written as a whole-field value ({@code ip_dst=10.0.0.50}). */
        public final boolean wholeFieldValue;

        public LearnSpec(final int kind, final Field src, final int srcOfs, final long immHi, final long immLo,
            final Field dst, final int dstOfs, final int nBits, final boolean wholeFieldValue)
        {
            this.kind = kind;
            this.src = src;
            this.srcOfs = srcOfs;
            this.immHi = immHi;
            this.immLo = immLo;
            this.dst = dst;
            this.dstOfs = dstOfs;
            this.nBits = nBits;
            this.wholeFieldValue = wholeFieldValue;
        }
    }
}
