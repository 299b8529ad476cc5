package dev.junction.flowtable.ofp;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Parses {@code ovs-ofctl -O OpenFlow15 add-groups} text, one group per line:
 * {@code group_id=N,type=all|select|indirect|ff[,selection_method=hash|dp_hash]
 * [,selection_method_param=P][,fields(F[=MASK],...)|fields=F],bucket=[bucket_id:B,][weight:W,]
 * [watch_port:P,][watch_group:G,]actions=...[,bucket=...]}. It accepts and refuses what OVS
 * accepts and refuses (ovs-ofctl's parse_ofp_group_mod_str plus the checks the switch makes on
 * the group mod), and numbers buckets without an id as ovs-ofctl's OpenFlow 1.5 encoder does.
 * Errors name line and column.
 */
public final class GroupParser
{
    private static final long OFPG_MAX = 0xffff_ff00L;
    private static final long BUCKET_MAX = 0xffff_ff00L;
    private static final long UNSET_BUCKET_ID = -1;

    private final String source;
    private final FlowParser actions;
    private int lineNo;
    private String text;

    public GroupParser(final String source)
    {
        this.source = source;
        this.actions = new FlowParser(source);
    }

    /** Parses a whole groups file; the first bad line aborts the load, as ovs-ofctl add-groups. */
    public GroupTable parseAll(final List<String> lines) throws FlowParseException
    {
        final List<Group> groups = new ArrayList<>();
        final Set<Long> ids = new HashSet<>();
        for (int i = 0; i < lines.size(); i++)
        {
            String l = lines.get(i);
            final int hash = l.indexOf('#');
            if (hash >= 0)
            {
                l = l.substring(0, hash);
            }
            if (l.isBlank())
            {
                continue;
            }
            final Group g = parseLine(l, i + 1);
            if (!ids.add(g.id))
            {
                lineNo = i + 1;
                text = l;
                throw error(1, "group " + g.id + " already exists (OFPGMFC_GROUP_EXISTS)");
            }
            groups.add(g);
        }
        return new GroupTable(groups);
    }

    public Group parseLine(final String line, final int number) throws FlowParseException
    {
        this.lineNo = number;
        this.text = line;
        final int bucketsAt = line.indexOf("bucket=");
        final String head = bucketsAt < 0 ? line : line.substring(0, bucketsAt);
        long groupId = -1;
        Group.Type type = null;
        String method = "";
        long param = 0;
        final List<Group.HashSpec> fields = new ArrayList<>();
        for (final KeyValue kv : KeyValue.split(head, 1))
        {
            switch (kv.key)
            {
                case "group_id":
                    groupId = unsigned(kv, 0xffff_ffffL);
                    if (groupId > OFPG_MAX)
                    {
                        throw error(kv.valueCol, "invalid group id " + groupId + " (OFPGMFC_INVALID_GROUP)");
                    }
                    break;
                case "type":
                    type = type(kv);
                    break;
                case "selection_method":
                    method = kv.value;
                    if (method.length() >= 16)
                    {
                        throw error(kv.valueCol, "selection method is longer than 15 bytes long");
                    }
                    break;
                case "selection_method_param":
                    param = unsigned(kv, -1L);
                    break;
                case "fields":
                    hashFields(kv, fields);
                    break;
                default:
                    throw error(kv.col, "unknown keyword " + kv.key);
            }
        }
        if (groupId < 0)
        {
            throw error(1, "must specify a group_id");
        }
        if (type == null)
        {
            throw error(1, "must specify a type");
        }
        if (!method.equals("hash") && !fields.isEmpty())
        {
            throw error(1, "fields may only be specified with \"selection_method=hash\"");
        }
        if (method.isEmpty() && param != 0)
        {
            throw error(1, "selection_method_param is only allowed with \"selection_method\"");
        }
        if (!method.isEmpty() && (type != Group.Type.SELECT || !(method.equals("hash") || method.equals("dp_hash"))))
        {
            throw error(1, "selection_method=" + method + " is not valid for a " + type.ovsName
                + " group (OFPBPC_BAD_VALUE)");
        }
        fields.sort((a, b) -> Integer.compare(a.field().ordinal(), b.field().ordinal()));
        final List<long[]> heads = new ArrayList<>();
        final List<List<Action>> bucketActions = new ArrayList<>();
        int at = bucketsAt;
        while (at >= 0)
        {
            final int start = at + "bucket=".length();
            final int next = line.indexOf("bucket=", start);
            final String content = next < 0 ? line.substring(start) : line.substring(start, next);
            bucket(content, start + 1, type, heads, bucketActions);
            at = next;
        }
        if (type == Group.Type.INDIRECT && heads.size() != 1)
        {
            throw error(1, heads.isEmpty() ? "an indirect group needs one bucket (OFPGMFC_INVALID_GROUP)"
                : "Indirect groups can have at most one bucket.");
        }
        return new Group(groupId, type, method, param, fields, numberBuckets(heads, bucketActions));
    }

    private Group.Type type(final KeyValue kv) throws FlowParseException
    {
        switch (kv.value)
        {
            case "all": return Group.Type.ALL;
            case "select": return Group.Type.SELECT;
            case "indirect": return Group.Type.INDIRECT;
            case "ff":
            case "fast_failover": return Group.Type.FF;
            default: throw error(kv.valueCol, "invalid group type " + kv.value);
        }
    }

    /** One bucket: {bucket_id or UNSET, weight, watch_port, watch_group} and its actions. */
    private void bucket(final String content, final int col, final Group.Type type, final List<long[]> heads,
        final List<List<Action>> bucketActions) throws FlowParseException
    {
        long id = UNSET_BUCKET_ID;
        long weight = type == Group.Type.SELECT ? 1 : 0;
        long watchPort = Bucket.WATCH_PORT_NONE;
        long watchGroup = Bucket.WATCH_GROUP_NONE;
        final StringBuilder acts = new StringBuilder();
        int actsCol = -1;
        for (final KeyValue kv : KeyValue.split(content, col))
        {
            final String key = kv.key.toLowerCase(Locale.ROOT);
            switch (key)
            {
                case "weight":
                    weight = unsigned(kv, 0xffff);
                    break;
                case "watch_port":
                    watchPort = watchPort(kv);
                    break;
                case "watch_group":
                    watchGroup = unsigned(kv, 0xffff_ffffL);
                    if (watchGroup > OFPG_MAX)
                    {
                        throw error(kv.valueCol, "invalid watch_group id " + watchGroup);
                    }
                    break;
                case "bucket_id":
                    id = unsigned(kv, 0xffff_ffffL);
                    if (id > BUCKET_MAX)
                    {
                        throw error(kv.valueCol, "invalid bucket_id id " + id);
                    }
                    break;
                case "action":
                case "actions":
                    actsCol = actsCol < 0 ? kv.valueCol : actsCol;
                    acts.append(kv.value).append(',');
                    break;
                default:
                    // As ovs-ofctl: any other key is an action, key(value).
                    actsCol = actsCol < 0 ? kv.col : actsCol;
                    acts.append(kv.key);
                    if (!kv.value.isEmpty())
                    {
                        acts.append('(').append(kv.value).append(')');
                    }
                    acts.append(',');
                    break;
            }
        }
        if (acts.length() == 0)
        {
            throw error(col, "bucket must specify actions");
        }
        final boolean live = watchPort != Bucket.WATCH_PORT_NONE || watchGroup != Bucket.WATCH_GROUP_NONE;
        if (type == Group.Type.FF && !live)
        {
            throw error(col, "fast failover bucket requires watch_port or watch_group");
        }
        acts.setLength(acts.length() - 1);
        final List<Action> parsed = new ArrayList<>();
        for (final Action a : actions.parseBucketActions(acts.toString(), text, lineNo, actsCol))
        {
            parsed.add(asSetField(a));
        }
        if (type != Group.Type.SELECT && weight != 0)
        {
            throw error(col, "Only select groups can have bucket weights.");
        }
        if ((type == Group.Type.ALL || type == Group.Type.INDIRECT) && live)
        {
            throw error(col, "watch_port and watch_group are only for select and ff groups "
                + "(OFPGMFC_WATCH_UNSUPPORTED)");
        }
        heads.add(new long[] {id, weight, watchPort, watchGroup, col});
        bucketActions.add(parsed);
    }

    /** OpenFlow 1.5 has no load: ovs-ofctl encodes it as set_field, and the switch prints it so. */
    private static Action asSetField(final Action a)
    {
        if (a instanceof Action.SetField && ((Action.SetField)a).load)
        {
            final Action.SetField s = (Action.SetField)a;
            return new Action.SetField(s.field, s.valueHi, s.value, s.maskHi, s.mask, false, s.ofs, s.nBits);
        }
        return a;
    }

    /**
     * Gives buckets without an id one as ovs-ofctl's OpenFlow 1.5 encoder does: a pool made at
     * the first such bucket holds the ids of the buckets after it, and each bucket without an id
     * takes the lowest free one. Equal ids are refused, as the switch refuses them.
     */
    private List<Bucket> numberBuckets(final List<long[]> heads, final List<List<Action>> acts)
        throws FlowParseException
    {
        final List<Bucket> out = new ArrayList<>();
        BitSet pool = null;
        final Set<Long> seen = new HashSet<>();
        for (int i = 0; i < heads.size(); i++)
        {
            final long[] h = heads.get(i);
            long id = h[0];
            if (id == UNSET_BUCKET_ID)
            {
                if (pool == null)
                {
                    pool = new BitSet();
                    for (int j = heads.size() - 1; j > i; j--)
                    {
                        if (heads.get(j)[0] != UNSET_BUCKET_ID && heads.get(j)[0] < Integer.MAX_VALUE)
                        {
                            pool.set((int)heads.get(j)[0]);
                        }
                    }
                }
                id = pool.nextClearBit(0);
                pool.set((int)id);
            }
            if (!seen.add(id))
            {
                throw error((int)h[4], "duplicate bucket_id " + id + " (OFPGMFC_BAD_BUCKET)");
            }
            out.add(new Bucket(id, (int)h[1], (int)h[2], h[3], acts.get(i)));
        }
        return out;
    }

    private long watchPort(final KeyValue kv) throws FlowParseException
    {
        final String v = kv.value.toUpperCase(Locale.ROOT);
        switch (v)
        {
            case "ANY":
            case "NONE":
                return Bucket.WATCH_PORT_NONE;
            case "CONTROLLER":
                return Action.OFPP_CONTROLLER;
            default:
                break;
        }
        final long p;
        try
        {
            p = Long.parseLong(kv.value);
        }
        catch (final NumberFormatException ex)
        {
            throw error(kv.valueCol, kv.value + ": invalid watch_port");
        }
        if (p < 0 || p > 0xffff || (p >= Action.OFPP_MAX && p != Bucket.WATCH_PORT_NONE && p != Action.OFPP_CONTROLLER))
        {
            throw error(kv.valueCol, kv.value + ": invalid watch_port");
        }
        return p;
    }

    /** fields(F[=MASK],...) or fields=F: the hash fields with the bits of each that count. */
    private void hashFields(final KeyValue kv, final List<Group.HashSpec> out) throws FlowParseException
    {
        for (final KeyValue f : KeyValue.split(kv.value, kv.valueCol))
        {
            final HashField h = HashField.byName(f.key);
            if (h == null)
            {
                throw error(f.col, f.key + ": unknown field " + f.key + " (or one Junction cannot hash)");
            }
            for (final Group.HashSpec s : out)
            {
                if (s.field() == h)
                {
                    throw error(f.col, f.key + ": duplicate field");
                }
            }
            long hi = h.nBytes == 16 ? -1L : 0;
            long lo = h.fullMask();
            if (!f.value.isEmpty())
            {
                final long[] m = maskValue(h, f);
                hi = m[0];
                lo = m[1];
                if (hi == 0 && lo == 0)
                {
                    throw error(f.valueCol, ": values are wildcards here and must not be all-zeros");
                }
                final boolean allOnes = lo == h.fullMask() && (h.nBytes != 16 || hi == -1L);
                if (!h.maskable && !allOnes)
                {
                    throw error(f.valueCol, f.value + ": invalid mask for field " + h.ovsName());
                }
            }
            out.add(new Group.HashSpec(h, hi, lo));
        }
    }

    private long[] maskValue(final HashField h, final KeyValue f) throws FlowParseException
    {
        try
        {
            switch (h.field.format)
            {
                case MAC:
                    return new long[] {0, Values.mac(f.value)};
                case IPV4:
                    return new long[] {0, Values.ipv4(f.value)};
                case IPV6:
                    return Values.ipv6(f.value);
                default:
                    final String v = f.value;
                    final long n = v.startsWith("0x") || v.startsWith("0X") ? Long.parseUnsignedLong(v.substring(2), 16)
                        : Long.parseUnsignedLong(v);
                    if (h.nBytes < 8 && (n & ~h.fullMask()) != 0)
                    {
                        throw error(f.valueCol, v + ": value too large for field " + h.ovsName());
                    }
                    return new long[] {0, n};
            }
        }
        catch (final IllegalArgumentException ex)
        {
            throw error(f.valueCol, f.value + ": invalid mask for field " + h.ovsName());
        }
    }

    private long unsigned(final KeyValue kv, final long max) throws FlowParseException
    {
        final String v = kv.value;
        try
        {
            final long n = v.startsWith("0x") || v.startsWith("0X") ? Long.parseUnsignedLong(v.substring(2), 16)
                : Long.parseUnsignedLong(v);
            if (max != -1L && Long.compareUnsigned(n, max) > 0)
            {
                throw error(kv.valueCol, kv.key + ": " + v + " is out of range (at most " + max + ")");
            }
            return n;
        }
        catch (final NumberFormatException ex)
        {
            throw error(kv.valueCol, kv.key + ": \"" + v + "\" is not a valid number");
        }
    }

    private FlowParseException error(final int col, final String reason)
    {
        return new FlowParseException(source, lineNo, col, reason + " [in: " + text + "]");
    }

    /** A {@code key=value}, {@code key:value}, {@code key(value)} or bare {@code key} item, as ofputil_parse_key_value splits them. */
    private record KeyValue(String key, String value, int col, int valueCol)
    {
        static List<KeyValue> split(final String s, final int baseCol)
        {
            final List<KeyValue> out = new ArrayList<>();
            int pos = 0;
            final int n = s.length();
            while (true)
            {
                while (pos < n && ", \t\r\n".indexOf(s.charAt(pos)) >= 0)
                {
                    pos++;
                }
                if (pos >= n)
                {
                    return out;
                }
                final int keyStart = pos;
                while (pos < n && ":=(, \t\r\n".indexOf(s.charAt(pos)) < 0)
                {
                    pos++;
                }
                final String key = s.substring(keyStart, pos);
                final char delim = pos < n ? s.charAt(pos) : '\0';
                if (delim != ':' && delim != '=' && delim != '(')
                {
                    out.add(new KeyValue(key, "", baseCol + keyStart, baseCol + pos));
                    if (pos < n)
                    {
                        pos++;
                    }
                    continue;
                }
                pos++;
                final String stops = delim == '(' ? ")" : ", \t\r\n";
                final int valueStart = pos;
                int depth = 0;
                while (pos < n)
                {
                    final char c = s.charAt(pos);
                    if (depth == 0 && stops.indexOf(c) >= 0)
                    {
                        break;
                    }
                    if (c == '(')
                    {
                        depth++;
                    }
                    else if (c == ')')
                    {
                        depth--;
                    }
                    pos++;
                }
                out.add(new KeyValue(key, s.substring(valueStart, pos), baseCol + keyStart, baseCol + valueStart));
                if (pos < n)
                {
                    pos++;
                }
            }
        }
    }
}
