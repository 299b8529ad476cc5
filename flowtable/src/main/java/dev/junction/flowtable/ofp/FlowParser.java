package dev.junction.flowtable.ofp;

import dev.junction.flowtable.Bits128;
import dev.junction.flowtable.Field;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.Match;
import dev.junction.flowtable.Prereq;
import dev.junction.flowtable.TunMetadataSlots;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Parses {@code ovs-ofctl add-flows} text with OpenFlow 1.5 semantics, as the oracle loads it:
 * matches whose prerequisites the match lacks are dropped (OVS normalizes them away), actions
 * that need a prerequisite the match lacks are refused, and legacy actions are turned into
 * their OpenFlow 1.5 encodings. Errors carry line, column and reason; a file loads whole or not.
 */
public final class FlowParser
{
    private final String source;
    private int lineNo;
    private String text;

    public FlowParser(final String source)
    {
        this.source = source;
    }

    /** Which group ids exist: a {@code group:N} action naming any other is refused, as OVS refuses it. */
    private java.util.function.LongPredicate groupExists = id -> false;
    /**
     * Parsing a group bucket's actions: there is no match, so OVS checks no prerequisites (they
     * are checked while translating) and does not check that groups named exist.
     */
    private boolean bucketMode;

    /**
     * Which tun_metadata fields exist and the key slot of each: by default slots are given out as
     * fields are named (as {@code ovs-ofctl parse-flow}, without a switch); a bridge passes its
     * TLV map's, and a field the map lacks is refused.
     */
    private TunMetadataSlots tunMetadata = TunMetadataSlots.onDemand();

    /** The tun_metadata fields flows may use: a bridge's TLV map, as {@link TunMetadataSlots#of}. */
    public FlowParser tunMetadata(final TunMetadataSlots slots)
    {
        this.tunMetadata = slots;
        return this;
    }

    /** The groups flows may name; by default none (as a switch with an empty group table). */
    public FlowParser groups(final GroupTable groups)
    {
        this.groupExists = groups::contains;
        return this;
    }

    /**
     * Parses the actions of a group bucket as {@code ovs-ofctl add-groups} does: an action list
     * without a match, in OpenFlow 1.5 encoding; {@code baseCol} is the 1-based column of
     * {@code s} in {@code line}.
     */
    List<Action> parseBucketActions(final String s, final String line, final int number, final int baseCol)
        throws FlowParseException
    {
        this.lineNo = number;
        this.text = line;
        final List<Action> out = new ArrayList<>();
        bucketMode = true;
        try
        {
            parseActions(s, baseCol, new Match(), 0, out);
        }
        finally
        {
            bucketMode = false;
        }
        return out;
    }

    /** Parses a whole flows file; the first bad line aborts the load. */
    public List<FlowRule> parseAll(final List<String> lines) throws FlowParseException
    {
        final List<FlowRule> rules = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++)
        {
            final String l = lines.get(i).strip();
            if (l.isEmpty() || l.startsWith("#"))
            {
                continue;
            }
            rules.add(parseLine(l, i + 1));
        }
        return rules;
    }

    public FlowRule parseLine(final String line, final int number) throws FlowParseException
    {
        this.lineNo = number;
        this.text = line;
        final int actionsAt = findActions(line);
        if (actionsAt < 0)
        {
            throw error(line.length(), "must specify an action (no actions= found)");
        }
        int table = 0;
        int priority = FlowRule.DEFAULT_PRIORITY;
        long cookie = 0;
        int idle = 0;
        int hard = 0;
        final Match match = new Match();
        final List<int[]> vlanParts = new ArrayList<>();
        int pos = 0;
        final String head = line.substring(0, actionsAt);
        while (pos < head.length())
        {
            while (pos < head.length() && isSep(head.charAt(pos)))
            {
                pos++;
            }
            if (pos >= head.length())
            {
                break;
            }
            int end = pos;
            while (end < head.length() && !isSep(head.charAt(end)))
            {
                end++;
            }
            final String tok = head.substring(pos, end);
            final int eq = tok.indexOf('=');
            final String name = (eq < 0 ? tok : tok.substring(0, eq)).toLowerCase(Locale.ROOT);
            final String val = eq < 0 ? null : tok.substring(eq + 1);
            final int col = pos + 1;
            final int valCol = eq < 0 ? col : col + eq + 1;
            if (val == null)
            {
                shorthand(name, match, col);
            }
            else
            {
                switch (name)
                {
                    // As ovs-ofctl, table=255 ("all tables") adds to table 0.
                    case "table": table = (int)number(val, 0, 255, valCol) % 255; break;
                    case "priority": priority = (int)number(val, 0, 65535, valCol); break;
                    case "cookie": cookie = parseUnsigned(val, valCol); break;
                    case "idle_timeout": idle = (int)number(val, 0, 65535, valCol); break;
                    case "hard_timeout": hard = (int)number(val, 0, 65535, valCol); break;
                    default: matchField(name, val, match, vlanParts, col, valCol); break;
                }
            }
            pos = end;
        }
        applyVlan(vlanParts, match);
        normalize(match);
        checkMatchPrereqs(match, actionsAt);
        final String actText = line.substring(actionsAt + "actions=".length());
        final List<Action> actions = new ArrayList<>();
        parseActions(actText, actionsAt + "actions=".length() + 1, match, table, actions);
        return new FlowRule(table, priority, cookie, idle, hard, match, actions, number, tunMetadata);
    }

    private static int findActions(final String line)
    {
        final String lower = line.toLowerCase(Locale.ROOT);
        int i = lower.indexOf("actions=");
        while (i > 0 && !isSep(lower.charAt(i - 1)))
        {
            i = lower.indexOf("actions=", i + 1);
        }
        return i;
    }

    private static boolean isSep(final char c)
    {
        return c == ',' || c == ' ' || c == '\t';
    }

    private void shorthand(final String name, final Match m, final int col) throws FlowParseException
    {
        switch (name)
        {
            case "ip": dlType(m, 0x0800, -1); break;
            case "ipv6": dlType(m, 0x86dd, -1); break;
            case "arp": dlType(m, 0x0806, -1); break;
            case "rarp": dlType(m, 0x8035, -1); break;
            case "tcp": dlType(m, 0x0800, 6); break;
            case "udp": dlType(m, 0x0800, 17); break;
            case "sctp": dlType(m, 0x0800, 132); break;
            case "icmp": dlType(m, 0x0800, 1); break;
            case "tcp6": dlType(m, 0x86dd, 6); break;
            case "udp6": dlType(m, 0x86dd, 17); break;
            case "sctp6": dlType(m, 0x86dd, 132); break;
            case "icmp6": dlType(m, 0x86dd, 58); break;
            default: throw error(col, "unknown keyword " + name);
        }
    }

    private static void dlType(final Match m, final int type, final int proto)
    {
        m.set(Field.DL_TYPE, type, 0xffff);
        if (proto >= 0)
        {
            m.set(Field.NW_PROTO, proto, 0xff);
        }
    }

    private void matchField(final String name, final String val, final Match m, final List<int[]> vlan,
        final int col, final int valCol) throws FlowParseException
    {
        switch (name)
        {
            case "dl_vlan":
            {
                final long v = number(val, 0, 0xffff, valCol);
                if (v == 0xffff)
                {
                    vlan.add(new int[] {0, 0xffff});
                }
                else
                {
                    // ovs-ofctl keeps the low 12 bits (dl_vlan=4096 means 0).
                    vlan.add(new int[] {FlowKey.VLAN_CFI | (int)(v & 0xfff), 0x1fff});
                }
                return;
            }
            case "dl_vlan_pcp":
            {
                final long v = number(val, 0, 255, valCol) & 7; // ovs-ofctl keeps the low 3 bits
                vlan.add(new int[] {FlowKey.VLAN_CFI | (int)(v << 13), 0xf000});
                return;
            }
            case "vlan_vid":
            {
                final long[] vm = numberMasked(val, 0x1fff, valCol);
                vlan.add(new int[] {(int)vm[0], (int)vm[1]});
                return;
            }
            case "vlan_pcp":
            {
                final long v = number(val, 0, 7, valCol);
                vlan.add(new int[] {FlowKey.VLAN_CFI | (int)(v << 13), 0xf000 | FlowKey.VLAN_CFI});
                return;
            }
            case "ip_frag":
            case "nw_frag":
            {
                final int[] fm = fragValue(val, valCol);
                m.set(Field.IP_FRAG, fm[0], fm[1]);
                return;
            }
            case "tcp_flags":
            {
                final long[] fm = tcpFlags(val, valCol);
                m.set(Field.TCP_FLAGS, fm[0], fm[1]);
                return;
            }
            case "nw_tos":
            {
                final long v = number(val, 0, 255, valCol);
                m.set(Field.NW_TOS, v & 0xfc, 0xfc);
                return;
            }
            case "ip_dscp":
            {
                final long v = number(val, 0, 63, valCol);
                m.set(Field.NW_TOS, v << 2, 0xfc);
                return;
            }
            case "nw_ecn":
            case "ip_ecn":
            {
                final long v = number(val, 0, 3, valCol);
                m.set(Field.NW_ECN, v, 3);
                return;
            }
            default:
                break;
        }
        final Field f = field(name, col);
        if (f == Field.VLAN_TCI)
        {
            final long[] vm = numberMasked(val, 0xffff, valCol);
            vlan.add(new int[] {(int)vm[0], (int)vm[1]});
            return;
        }
        setFromText(f, val, m, valCol);
    }

    private void setFromText(final Field f, final String val, final Match m, final int valCol)
        throws FlowParseException
    {
        switch (f.format)
        {
            case MAC:
            {
                final int slash = val.indexOf('/');
                final long v = Values.mac(slash < 0 ? val : val.substring(0, slash));
                final long mk = slash < 0 ? 0xffffffffffffL : Values.mac(val.substring(slash + 1));
                if (v < 0 || mk < 0)
                {
                    throw error(valCol, val + ": invalid Ethernet address");
                }
                m.set(f, v, mk);
                return;
            }
            case IPV4:
            {
                final long[] vm = Values.ipv4Masked(val);
                if (vm == null)
                {
                    throw error(valCol, val + ": invalid IP address");
                }
                m.set(f, vm[0], vm[1]);
                return;
            }
            case IPV6:
            {
                final long[] vm = Values.ipv6Masked(val);
                if (vm == null)
                {
                    throw error(valCol, val + ": invalid IPv6 address");
                }
                m.setWide(f, vm[0], vm[1], vm[2], vm[3]);
                return;
            }
            case CT_STATE:
            {
                final long[] vm = ctState(val, valCol);
                m.set(f, vm[0], vm[1]);
                return;
            }
            case TUN_FLAGS:
            {
                final long[] vm = tunFlags(val, valCol);
                m.set(f, vm[0], vm[1]);
                return;
            }
            default:
            {
                if (f.isWide())
                {
                    final long[] vm = wideMasked(val, valCol);
                    m.setWide(f, vm[0], vm[1], vm[2], vm[3]);
                    return;
                }
                final long[] vm = numberMasked(val, f.allOnes(), valCol);
                if (f == Field.IN_PORT && (vm[0] == 0 || vm[1] != f.allOnes()))
                {
                    throw error(valCol, "in_port " + val + ": invalid port");
                }
                m.set(f, vm[0], vm[1]);
                if (f.isTunMetadata())
                {
                    // As OVS, a tun_metadata match also requires the option to be present.
                    final long bit = 1L << f.tunMetadataSlot();
                    m.value.words[FlowKey.W_TUN_GBP] |= bit;
                    m.mask.words[FlowKey.W_TUN_GBP] |= bit;
                }
            }
        }
    }

    /**
     * The field {@code name} names; {@code tun_metadataN} (or {@code NXM_NX_TUN_METADATAN}) is the
     * key slot the TLV map gives field N, refused when it has none.
     */
    private Field field(final String name, final int col) throws FlowParseException
    {
        final Field f = Field.byName(name);
        if (f != null)
        {
            return f;
        }
        final String n = name.toLowerCase(Locale.ROOT);
        final String digits = n.startsWith("tun_metadata") ? n.substring("tun_metadata".length())
            : n.startsWith("nxm_nx_tun_metadata") ? n.substring("nxm_nx_tun_metadata".length()) : null;
        if (digits != null && digits.matches("0|[1-9][0-9]?") && Integer.parseInt(digits) < TunMetadataSlots.FIELDS)
        {
            try
            {
                return Field.tunMetadata(tunMetadata.resolve(Integer.parseInt(digits)));
            }
            catch (final IllegalArgumentException ex)
            {
                throw error(col, ex.getMessage());
            }
        }
        throw error(col, "unknown field " + name);
    }

    /** tun_flags as flags ({@code +oam}, {@code -oam}, {@code oam}) or a number with a mask, as OVS. */
    private long[] tunFlags(final String val, final int col) throws FlowParseException
    {
        if (!val.isEmpty() && !Character.isDigit(val.charAt(0)))
        {
            long v = 0;
            long m = 0;
            int i = 0;
            while (i < val.length())
            {
                final char sign = val.charAt(i);
                final int from = sign == '+' || sign == '-' ? i + 1 : i;
                int j = from;
                while (j < val.length() && val.charAt(j) != '+' && val.charAt(j) != '-' && val.charAt(j) != '|')
                {
                    j++;
                }
                final String name = val.substring(from, j).toLowerCase(Locale.ROOT);
                if (!name.equals("oam"))
                {
                    throw error(col + from, name + ": unknown tunnel flag(s)");
                }
                if (m != 0)
                {
                    throw error(col + from, name + ": Each tunnel flag can be specified only once");
                }
                m = Field.TUN_F_OAM;
                v = sign == '-' ? 0 : Field.TUN_F_OAM;
                i = j < val.length() && val.charAt(j) == '|' ? j + 1 : j;
            }
            return new long[] {v, m};
        }
        final int slash = val.indexOf('/');
        final long v = number(slash < 0 ? val : val.substring(0, slash), 0, 0xffff, col);
        final long m = slash < 0 ? 0xffff : number(val.substring(slash + 1), 0, 0xffff, col + slash + 1);
        if (((v | m) & ~(long)Field.TUN_F_OAM) != 0 && (v & ~(long)Field.TUN_F_OAM) != 0)
        {
            throw error(col, val + ": unknown tunnel flag(s)");
        }
        return new long[] {v & Field.TUN_F_OAM, m & Field.TUN_F_OAM};
    }

    private static void applyVlan(final List<int[]> parts, final Match m)
    {
        if (parts.isEmpty())
        {
            return;
        }
        int v = 0;
        int mk = 0;
        for (final int[] p : parts)
        {
            v = (v & ~p[1]) | (p[0] & p[1]);
            mk |= p[1];
            // dl_vlan/dl_vlan_pcp both require a tag: carry CFI once seen.
            if ((p[0] & FlowKey.VLAN_CFI) != 0)
            {
                v |= FlowKey.VLAN_CFI;
            }
        }
        // OpenFlow 1.5 carries the TCI as OXM VLAN_VID (VID and CFI, maskable) and VLAN_PCP
        // (exact, sent only with a non-zero VID|CFI value), as nx_put_raw encodes it: what OVS's
        // classifier then holds, e.g. dl_vlan=0xffff ("no tag") becomes 0x0000/0x1fff.
        final int vidCfi = 0x1fff;
        final int pcp = 0xe000;
        final int oxmMask = (mk & vidCfi) | ((v & vidCfi) != 0 && (mk & pcp) != 0 ? pcp : 0);
        m.set(Field.VLAN_TCI, v & oxmMask, oxmMask);
    }

    /**
     * OVS normalization: fields whose prerequisites the match does not establish are wildcarded,
     * and the protocol-neutral names (nw_src with arp, tp_src with tcp) land on their real field.
     */
    private static void normalize(final Match m)
    {
        for (final Field f : new Field[] {Field.NW_TOS, Field.NW_ECN, Field.NW_TTL, Field.IP_FRAG})
        {
            if (!Prereq.IP_ANY.holds(m))
            {
                m.clear(f);
            }
        }
        if (!Prereq.IP_ANY.holds(m) && !Prereq.ARP.holds(m))
        {
            m.clear(Field.NW_PROTO); // arp_op shares the nw_proto bits
        }
        if (!Prereq.IPV4.holds(m) && !Prereq.ARP.holds(m))
        {
            m.clear(Field.NW_SRC);
            m.clear(Field.NW_DST);
        }
        if (!Prereq.ARP.holds(m))
        {
            m.clear(Field.ARP_SHA);
            m.clear(Field.ARP_THA);
        }
        if (Prereq.ARP.holds(m))
        {
            // arp_op lives in nw_proto; keep it only when given as arp_op (or nw_proto).
        }
        if (!Prereq.IPV6.holds(m))
        {
            m.clear(Field.IPV6_SRC);
            m.clear(Field.IPV6_DST);
            m.clear(Field.IPV6_LABEL);
        }
        // OVS's may_match: transport fields survive for these protocols whatever the fragment bits
        // (a later-fragment match on them is then refused by checkMatchPrereqs).
        final boolean ipExact = Prereq.IP_ANY.holds(m) && m.mask.get(Field.NW_PROTO) == 0xff;
        final long proto = m.value.get(Field.NW_PROTO);
        final boolean l4 = ipExact && (proto == 6 || proto == 17 || proto == 132)
            || Prereq.ICMPV4.holds(m) || Prereq.ICMPV6.holds(m);
        if (!l4)
        {
            m.clear(Field.TP_SRC);
            m.clear(Field.TP_DST);
        }
        if (!(ipExact && proto == 6))
        {
            m.clear(Field.TCP_FLAGS);
        }
        if (!Prereq.ND.holds(m))
        {
            m.clear(Field.ND_TARGET);
            if (!Prereq.ARP.holds(m))
            {
                m.clear(Field.ARP_SHA);
                m.clear(Field.ARP_THA);
            }
        }
        else
        {
            if (!Prereq.ND_SOLICIT.holds(m))
            {
                m.clear(Field.ND_SLL);
            }
            if (!Prereq.ND_ADVERT.holds(m))
            {
                m.clear(Field.ND_TLL);
            }
        }
    }

    /** What normalization keeps must still satisfy OXM prerequisites, or OVS refuses the flow. */
    private void checkMatchPrereqs(final Match m, final int col) throws FlowParseException
    {
        for (final Field f : new Field[] {Field.CT_NW_PROTO, Field.CT_NW_SRC, Field.CT_NW_DST, Field.CT_IPV6_SRC,
            Field.CT_IPV6_DST, Field.CT_TP_SRC, Field.CT_TP_DST})
        {
            if (!m.isWildcarded(f) && !Prereq.CT.holds(m))
            {
                throw error(col, f.canonicalName() + " needs a ct_state that implies a connection, "
                    + "e.g. +trk+est or +trk-inv (OFPBMC_BAD_PREREQ)");
            }
        }
        final boolean later = (m.value.get(Field.IP_FRAG) & FlowKey.FRAG_LATER) != 0;
        final int proto = (int)m.value.get(Field.NW_PROTO);
        if (later && (proto == 6 || proto == 17 || proto == 132)
            && (!m.isWildcarded(Field.TP_SRC) || !m.isWildcarded(Field.TP_DST) || !m.isWildcarded(Field.TCP_FLAGS)))
        {
            throw error(col, "transport ports or flags cannot be matched on later fragments (OFPBMC_BAD_PREREQ)");
        }
    }

    // ----------------------------------------------------------------------------------------
    // Actions

    private void parseActions(final String s, final int baseCol, final Match match, final int table,
        final List<Action> out) throws FlowParseException
    {
        int pos = 0;
        boolean sawGoto = false;
        // Tags the packet is known to carry at this point of the list, as ofpacts_check tracks them.
        vlanTags[0] = (match.value.get(Field.VLAN_TCI) & FlowKey.VLAN_CFI) != 0;
        vlanTags[1] = false;
        while (pos < s.length())
        {
            while (pos < s.length() && (s.charAt(pos) == ',' || s.charAt(pos) == ' '))
            {
                pos++;
            }
            if (pos >= s.length())
            {
                break;
            }
            final int end = itemEnd(s, pos, true);
            final String tok = s.substring(pos, end);
            final int col = baseCol + pos;
            if (sawGoto)
            {
                throw error(col, "goto_table must be the last instruction (found " + tok + " after it)");
            }
            if (inCtExec && tok.toLowerCase(Locale.ROOT).matches("nat(\\(.*\\))?"))
            {
                // ct's nat, written inside exec(...): OVS prints a nat that is not ct's first
                // nested action there, and parses it back from there.
                if (execNat != null)
                {
                    throw error(col, "ct: only one nat");
                }
                execNat = parseNat(tok.length() > 3 ? tok.substring(4, tok.length() - 1) : null, col + 4, match);
                execNatAt = out.size();
                pos = end;
                continue;
            }
            final Action a = action(tok, col, match, table);
            if (a instanceof Action.GotoTable)
            {
                sawGoto = true;
            }
            if (a != null)
            {
                trackVlan(a, tok, col, out);
                out.add(a);
            }
            pos = end;
        }
        if (out.isEmpty() && !s.strip().toLowerCase(Locale.ROOT).startsWith("drop") && !s.isBlank())
        {
            throw error(baseCol, "no actions");
        }
        if (!out.isEmpty() && s.toLowerCase(Locale.ROOT).matches("(.*[, ])?drop([, ].*)?"))
        {
            throw error(baseCol, "\"drop\" must not be accompanied by any other action or instruction");
        }
    }

    private final boolean[] vlanTags = new boolean[2];
    /** A nat met inside ct's exec(...), and how many nested actions came before it. */
    private Action.Nat execNat;
    private int execNatAt;

    private void trackVlan(final Action a, final String tok, final int col, final List<Action> out)
        throws FlowParseException
    {
        if (a instanceof Action.PushVlan)
        {
            if (vlanTags[1])
            {
                throw error(col, tok + ": at most two VLAN headers (OFPBAC_BAD_TAG)");
            }
            vlanTags[1] = vlanTags[0];
            vlanTags[0] = true;
        }
        else if (a instanceof Action.PopVlan)
        {
            if (!vlanTags[0] && !bucketMode)
            {
                throw error(col, tok + " needs a VLAN tag in the match under OpenFlow 1.5 (no usable protocol)");
            }
            vlanTags[0] = vlanTags[1];
            vlanTags[1] = false;
        }
        else if (a instanceof Action.SetField && ((Action.SetField)a).field == Field.VLAN_TCI)
        {
            final String lower = tok.toLowerCase(Locale.ROOT);
            if (lower.startsWith("mod_vlan_"))
            {
                // OpenFlow 1.1+ has no "push if needed": ovs-ofctl encodes a push_vlan first.
                if (!vlanTags[0])
                {
                    if (vlanTags[1])
                    {
                        throw error(col, tok + ": at most two VLAN headers (OFPBAC_BAD_TAG)");
                    }
                    out.add(new Action.PushVlan(0x8100));
                    vlanTags[1] = vlanTags[0];
                    vlanTags[0] = true;
                }
            }
            else if (!((Action.SetField)a).load && !vlanTags[0] && !bucketMode)
            {
                throw error(col, tok + ": needs a VLAN tag in the match (OFPBAC_MATCH_INCONSISTENT)");
            }
        }
    }

    private Action action(final String tok, final int col, final Match match, final int table)
        throws FlowParseException
    {
        if (tok.toLowerCase(Locale.ROOT).startsWith("check_pkt_larger("))
        {
            return parseCheckPktLarger(tok.substring("check_pkt_larger(".length()), col + "check_pkt_larger(".length());
        }
        String name = tok;
        String arg = null;
        final int colon = tok.indexOf(':');
        final int paren = tok.indexOf('(');
        if (colon >= 0 && (paren < 0 || colon < paren))
        {
            name = tok.substring(0, colon);
            arg = tok.substring(colon + 1);
        }
        else if (paren >= 0)
        {
            if (!tok.endsWith(")"))
            {
                throw error(col, tok + ": missing )");
            }
            name = tok.substring(0, paren);
            arg = tok.substring(paren + 1, tok.length() - 1);
        }
        final int argCol = col + name.length() + 1;
        final String lname = name.toLowerCase(Locale.ROOT);
        if (arg == null && lname.chars().allMatch(Character::isDigit) && !lname.isEmpty())
        {
            return new Action.Output(port(lname, col));
        }
        switch (lname)
        {
            case "drop":
                return null;
            case "output":
                if (arg == null)
                {
                    throw error(col, "output needs a port");
                }
                final int outPort = port(arg, argCol);
                // As ovs-ofctl: output:CONTROLLER is the controller action's short form (CONTROLLER:65535).
                return outPort == Action.OFPP_CONTROLLER ? new Action.Controller() : new Action.Output(outPort);
            case "in_port":
                if (arg == null)
                {
                    return new Action.Output(Action.OFPP_IN_PORT);
                }
                break;
            case "normal":
            case "flood":
            case "all":
            case "local":
                return new Action.Output(port(lname, col));
            case "controller":
                return controller(arg, argCol);
            case "strip_vlan":
            case "pop_vlan":
                return new Action.PopVlan();
            case "push_vlan":
            {
                final long tpid = number(arg, 0, 0xffff, argCol);
                if (tpid != 0x8100 && tpid != 0x88a8)
                {
                    throw error(argCol, "push_vlan: ethertype " + arg + " is not 0x8100 or 0x88a8");
                }
                return new Action.PushVlan((int)tpid);
            }
            case "dec_ttl":
                requireIp(match, col, "dec_ttl");
                return new Action.DecTtl();
            case "note":
            {
                final String hex = arg == null ? "" : arg;
                if (!hex.replace(".", "").matches("([0-9a-fA-F]{2})*"))
                {
                    throw error(argCol, "note: \"" + hex + "\" is not hex bytes (e.g. note:01.02.ab)");
                }
                return new Action.Note(hex);
            }
            case "mod_dl_src":
                return setField(Field.DL_SRC, arg, argCol, match);
            case "mod_dl_dst":
                return setField(Field.DL_DST, arg, argCol, match);
            case "mod_nw_src":
                return setField(legacyL3(match, argCol, Field.NW_SRC), arg, argCol, match);
            case "mod_nw_dst":
                return setField(legacyL3(match, argCol, Field.NW_DST), arg, argCol, match);
            case "mod_nw_tos":
            {
                final long v = number(arg, 0, 255, argCol);
                if ((v & 3) != 0)
                {
                    throw error(argCol, "invalid IP_DSCP value " + v + " (low bits must be zero)");
                }
                requireIp(match, argCol, "mod_nw_tos");
                return new Action.SetField(Field.IP_DSCP, 0, v >>> 2, 0, 0x3f, false, 0, 6);
            }
            case "mod_nw_ecn":
            {
                final long v = number(arg, 0, 3, argCol);
                requireIp(match, argCol, "mod_nw_ecn");
                return new Action.SetField(Field.NW_ECN, 0, v, 0, 3, false, 0, 2);
            }
            case "mod_nw_ttl":
            {
                final long v = number(arg, 0, 255, argCol);
                requireIp(match, argCol, "mod_nw_ttl");
                return new Action.SetField(Field.NW_TTL, 0, v, 0, 0xff, false, 0, 8);
            }
            case "mod_tp_src":
            case "mod_tp_dst":
            {
                final boolean src = lname.endsWith("src");
                final Field f = Prereq.TCP.holds(match) ? (src ? Field.TCP_SRC : Field.TCP_DST)
                    : Prereq.UDP.holds(match) ? (src ? Field.UDP_SRC : Field.UDP_DST)
                    : Prereq.SCTP.holds(match) ? (src ? Field.SCTP_SRC : Field.SCTP_DST) : null;
                if (f == null && bucketMode)
                {
                    throw error(col, lname + " in a group bucket is not supported by Junction "
                        + "(write set_field:N->tcp_src and the like)");
                }
                if (f == null)
                {
                    throw error(col, lname + " needs tcp, udp or sctp in the match under OpenFlow 1.5 "
                        + "(no usable protocol)");
                }
                return new Action.SetField(f, 0, number(arg, 0, 0xffff, argCol), 0, 0xffff, false, 0, 16);
            }
            case "mod_vlan_vid":
            {
                final long v = number(arg, 0, 4095, argCol);
                return new Action.SetField(Field.VLAN_TCI, 0, FlowKey.VLAN_CFI | v, 0, 0x1fff, false, 0, 13);
            }
            case "mod_vlan_pcp":
            {
                final long v = number(arg, 0, 7, argCol);
                return new Action.SetField(Field.VLAN_TCI, 0, FlowKey.VLAN_CFI | (v << 13), 0,
                    0xf000, false, 13, 3);
            }
            case "ct":
                return parseCt(arg, argCol, match);
            case "ct_clear":
                return new Action.CtClear();
            case "learn":
                return parseLearn(arg, argCol, match);
            case "group":
            {
                final long id = number(arg, 0, 0xffff_ffffL, argCol);
                if (!bucketMode && !groupExists.test(id))
                {
                    throw error(col, "group " + id + " does not exist (OFPBAC_BAD_OUT_GROUP)");
                }
                return new Action.Group(id);
            }
            case "set_field":
                return parseSetField(arg, argCol, match);
            case "load":
                return parseLoad(arg, argCol, match);
            case "move":
                return parseMove(arg, argCol, match);
            case "resubmit":
                return parseResubmit(arg, argCol);
            case "goto_table":
            {
                if (bucketMode)
                {
                    throw error(col, "goto_table instruction not allowed here");
                }
                final int t = (int)number(arg, 0, 254, argCol);
                if (t <= table)
                {
                    throw error(argCol, "goto_table:" + t + " must go to a later table than " + table
                        + " (OFPBIC_BAD_TABLE_ID)");
                }
                return new Action.GotoTable(t);
            }
            default:
                break;
        }
        throw error(col, "unknown action " + tok);
    }

    private Field legacyL3(final Match match, final int col, final Field f) throws FlowParseException
    {
        if (!bucketMode && !Prereq.IPV4.holds(match))
        {
            throw error(col, (f == Field.NW_SRC ? "mod_nw_src" : "mod_nw_dst")
                + " needs ip in the match under OpenFlow 1.5 (no usable protocol)");
        }
        return f;
    }

    private void requireIp(final Match match, final int col, final String what) throws FlowParseException
    {
        if (!bucketMode && !Prereq.IP_ANY.holds(match))
        {
            throw error(col, what + " needs ip or ipv6 in the match under OpenFlow 1.5 (no usable protocol)");
        }
    }

    private Action setField(final Field f, final String arg, final int col, final Match match)
        throws FlowParseException
    {
        if (arg == null)
        {
            throw error(col, "missing value");
        }
        final Match tmp = new Match();
        setFromText(f, arg, tmp, col);
        checkPrereq(f, match, col, "set_field");
        return fromMatch(f, tmp, false, 0, f.bits);
    }

    private static Action.SetField fromMatch(final Field f, final Match tmp, final boolean load, final int ofs,
        final int nBits)
    {
        if (f.isWide())
        {
            return new Action.SetField(f, tmp.value.words[f.word], tmp.value.words[f.word + 1],
                tmp.mask.words[f.word], tmp.mask.words[f.word + 1], load, ofs, nBits);
        }
        return new Action.SetField(f, 0, tmp.value.get(f), 0, tmp.mask.get(f), load, ofs, nBits);
    }

    private Action parseSetField(final String arg, final int col, final Match match) throws FlowParseException
    {
        final int arrow = arg == null ? -1 : arg.indexOf("->");
        if (arrow < 0)
        {
            throw error(col, "set_field: missing '->'");
        }
        final String val = arg.substring(0, arrow);
        final String fname = arg.substring(arrow + 2).toLowerCase(Locale.ROOT);
        final int fcol = col + arrow + 2;
        switch (fname)
        {
            case "vlan_vid":
            {
                final long[] vm = numberMasked(val, 0x1fff, col);
                checkVlanValue(vm[0] & vm[1], 0x1fff, col);
                if ((vm[0] & FlowKey.VLAN_CFI) == 0)
                {
                    throw error(col, "invalid value for set field vlan_vid: " + val
                        + " (needs the 0x1000 present bit; OFPBAC_BAD_SET_ARGUMENT)");
                }
                return new Action.SetField(Field.VLAN_TCI, 0, vm[0] & vm[1] | FlowKey.VLAN_CFI, 0,
                    vm[1] | FlowKey.VLAN_CFI, false, 0, 13);
            }
            case "vlan_pcp":
            {
                final long v = number(val, 0, 7, col);
                return new Action.SetField(Field.VLAN_TCI, 0, FlowKey.VLAN_CFI | (v << 13), 0,
                    0xf000, false, 13, 3);
            }
            case "ip_dscp":
            {
                requireIp(match, fcol, "set_field ip_dscp");
                return new Action.SetField(Field.IP_DSCP, 0, number(val, 0, 63, col), 0, 0x3f, false, 0, 6);
            }
            case "nw_tos":
            {
                requireIp(match, fcol, "set_field nw_tos");
                return new Action.SetField(Field.NW_TOS, 0, number(val, 0, 255, col) & 0xfc, 0, 0xfc, false, 0, 8);
            }
            default:
                break;
        }
        final Field f = field(fname, fcol);
        if (!f.writable)
        {
            throw error(fcol, "set_field: field " + fname + " is read-only");
        }
        checkCtWrite(f, fcol);
        return setField(f, val, col, match);
    }

    private void checkCtWrite(final Field f, final int col) throws FlowParseException
    {
        if ((f == Field.CT_MARK || f == Field.CT_LABEL) && !inCtExec)
        {
            throw error(col, "cannot set CT fields outside of ct action");
        }
    }

    private void checkVlanValue(final long v, final long mask, final int col) throws FlowParseException
    {
        if ((v & ~mask) != 0)
        {
            throw error(col, "vlan value out of range");
        }
    }

    private void checkPrereq(final Field f, final Match match, final int col, final String what)
        throws FlowParseException
    {
        if (!bucketMode && !f.prereq.holds(match))
        {
            throw error(col, what + ": field " + f.canonicalName() + " lacks correct prerequisites in the match "
                + "(OFPBAC_MATCH_INCONSISTENT)");
        }
    }

    /** A subfield reference {@code NAME[a..b]}, {@code NAME[a]}, {@code NAME[]} or {@code NAME}. */
    private int[] subfield(final String s, final int col, final Field[] fieldOut) throws FlowParseException
    {
        final int br = s.indexOf('[');
        final String name = br < 0 ? s : s.substring(0, br);
        final Field f = field(name, col);
        fieldOut[0] = f;
        final int width = nxmWidth(f, name);
        if (br < 0 || s.substring(br).equals("[]"))
        {
            return new int[] {0, width};
        }
        if (!s.endsWith("]"))
        {
            throw error(col, s + ": missing ]");
        }
        final String range = s.substring(br + 1, s.length() - 1);
        final int dots = range.indexOf("..");
        try
        {
            final int a = Integer.parseInt(dots < 0 ? range : range.substring(0, dots));
            final int b = dots < 0 ? a : Integer.parseInt(range.substring(dots + 2));
            if (a < 0 || b < a || b >= width)
            {
                throw error(col, s + ": bit range out of field width " + width);
            }
            return new int[] {a, b - a + 1};
        }
        catch (final NumberFormatException ex)
        {
            throw error(col, s + ": bad bit range");
        }
    }

    private static int nxmWidth(final Field f, final String name)
    {
        final String n = name.toUpperCase(Locale.ROOT);
        if (n.equals("NXM_OF_IN_PORT"))
        {
            return 16;
        }
        if (f == Field.ARP_OP)
        {
            return 16;
        }
        if (f == Field.CT_STATE)
        {
            return 32; // NXM_NX_CT_STATE is 32 bits; the states use the low 8
        }
        return f == Field.NW_TOS ? 8 : f.bits;
    }

    private Action parseLoad(final String arg, final int col, final Match match) throws FlowParseException
    {
        final int arrow = arg == null ? -1 : arg.indexOf("->");
        if (arrow < 0)
        {
            throw error(col, "load: missing '->'");
        }
        final Field[] f = new Field[1];
        final int[] sf = subfield(arg.substring(arrow + 2), col + arrow + 2, f);
        final String text = arg.substring(0, arrow);
        final java.math.BigInteger v;
        try
        {
            v = text.startsWith("0x") || text.startsWith("0X")
                ? new java.math.BigInteger(text.substring(2), 16) : new java.math.BigInteger(text);
        }
        catch (final NumberFormatException ex)
        {
            throw error(col, "\"" + text + "\" is not a valid number");
        }
        if (v.signum() < 0 || v.bitLength() > sf[1])
        {
            throw error(col, "load: value " + text + " does not fit in " + sf[1] + " bits");
        }
        checkWritable(f[0], col + arrow + 2);
        checkPrereq(f[0], match, col + arrow + 2, "load");
        final long[] value = new long[2];
        final long[] mask = new long[2];
        Bits128.shl(v.shiftRight(64).longValue(), v.longValue(), sf[0], value);
        Bits128.lowMask(sf[1], mask);
        Bits128.shl(mask[0], mask[1], sf[0], mask);
        if (!f[0].isWide())
        {
            // NXM widths that exceed our field (arp_op's 16 bits) or fall short of it (the 16-bit
            // NXM_OF_IN_PORT) still mean "the whole field" when the whole NXM field is loaded.
            final boolean wholeNxm = sf[0] == 0 && (mask[1] & f[0].allOnes()) == f[0].allOnes()
                || f[0] == Field.IN_PORT && sf[0] == 0 && sf[1] == 16;
            mask[1] = wholeNxm ? f[0].allOnes() : mask[1] & f[0].allOnes();
            value[1] &= mask[1];
        }
        if (f[0] == Field.NW_TOS && (value[1] & 0x03) != 0)
        {
            throw error(col, "load: " + text + " sets ECN bits of NXM_OF_IP_TOS (OFPBAC_BAD_SET_ARGUMENT)");
        }
        return new Action.SetField(f[0], value[0], value[1], mask[0], mask[1], true, sf[0], sf[1]);
    }

    private void checkWritable(final Field f, final int col) throws FlowParseException
    {
        checkCtWrite(f, col);
        if (!f.writable)
        {
            throw error(col, "destination field " + f.canonicalName() + " is read-only");
        }
    }

    private Action parseMove(final String arg, final int col, final Match match) throws FlowParseException
    {
        final int arrow = arg == null ? -1 : arg.indexOf("->");
        if (arrow < 0)
        {
            throw error(col, "move: missing '->'");
        }
        final Field[] src = new Field[1];
        final Field[] dst = new Field[1];
        final int[] s = subfield(arg.substring(0, arrow), col, src);
        final int[] d = subfield(arg.substring(arrow + 2), col + arrow + 2, dst);
        if (s[1] != d[1])
        {
            throw error(col, "move: source field is " + s[1] + " bits wide but destination is " + d[1] + " bits wide");
        }
        checkPrereq(src[0], match, col, "move source");
        checkWritable(dst[0], col + arrow + 2);
        checkPrereq(dst[0], match, col + arrow + 2, "move destination");
        return new Action.Move(src[0], s[0], dst[0], d[0], s[1]);
    }

    /** {@code LEN)->DST}, DST one bit wide, as OVS's parse_CHECK_PKT_LARGER. */
    private Action parseCheckPktLarger(final String arg, final int col) throws FlowParseException
    {
        final int arrow = arg.indexOf(")->");
        if (arrow < 0)
        {
            throw error(col, "check_pkt_larger: expected check_pkt_larger(LEN)->DST");
        }
        final long len = number(arg.substring(0, arrow).strip(), 0, 0xffff, col);
        final Field[] dst = new Field[1];
        final int[] d = subfield(arg.substring(arrow + 3), col + arrow + 3, dst);
        if (d[1] != 1)
        {
            throw error(col + arrow + 3, "Only 1-bit destination field is allowed");
        }
        checkWritable(dst[0], col + arrow + 3);
        return new Action.CheckPktLarger((int)len, dst[0], d[0]);
    }

    private Action parseResubmit(final String arg, final int col) throws FlowParseException
    {
        if (arg == null)
        {
            throw error(col, "resubmit needs a port or table");
        }
        final int comma = arg.indexOf(',');
        if (comma < 0)
        {
            return new Action.Resubmit(port(arg, col), -1);
        }
        final String p = arg.substring(0, comma).strip();
        final String t = arg.substring(comma + 1).strip();
        if (t.indexOf(',') >= 0)
        {
            throw error(col, "resubmit(port,table,ct) is not supported yet");
        }
        final int port = p.isEmpty() ? -1 : port(p, col);
        final int tbl = t.isEmpty() ? -1 : (int)number(t, 0, 254, col + comma + 1);
        if (port < 0 && tbl < 0)
        {
            throw error(col, "at least one \"in_port\" or \"table\" must be specified on resubmit");
        }
        return new Action.Resubmit(port, tbl);
    }

    private int port(final String s, final int col) throws FlowParseException
    {
        switch (s.toLowerCase(Locale.ROOT))
        {
            case "in_port": return Action.OFPP_IN_PORT;
            case "table": return Action.OFPP_TABLE;
            case "normal": return Action.OFPP_NORMAL;
            case "flood": return Action.OFPP_FLOOD;
            case "all": return Action.OFPP_ALL;
            case "controller": return Action.OFPP_CONTROLLER;
            case "local": return Action.OFPP_LOCAL;
            case "none": return Action.OFPP_NONE;
            default: break;
        }
        final long p = number(s, 0, 0xffffffffL, col);
        if (p >= Action.OFPP_MAX)
        {
            throw error(col, s + ": invalid port number");
        }
        return (int)p;
    }

    // ----------------------------------------------------------------------------------------
    // Values

    private int[] fragValue(final String v, final int col) throws FlowParseException
    {
        switch (v)
        {
            case "no": return new int[] {0, 3};
            case "yes": return new int[] {1, 1};
            case "first": return new int[] {1, 3};
            case "later": return new int[] {3, 3};
            case "not_later": return new int[] {0, 2};
            default: throw error(col, v + ": unknown fragment type (want no, yes, first, later, not_later)");
        }
    }

    private long[] tcpFlags(final String v, final int col) throws FlowParseException
    {
        if (!v.isEmpty() && (v.charAt(0) == '+' || v.charAt(0) == '-'))
        {
            long value = 0;
            long mask = 0;
            int i = 0;
            while (i < v.length())
            {
                final char sign = v.charAt(i);
                if (sign != '+' && sign != '-')
                {
                    throw error(col + i, "tcp_flags: expected + or -");
                }
                int j = i + 1;
                while (j < v.length() && v.charAt(j) != '+' && v.charAt(j) != '-')
                {
                    j++;
                }
                final long bit = tcpFlagBit(v.substring(i + 1, j), col + i + 1);
                if ((mask & bit) != 0)
                {
                    throw error(col + i, "tcp_flags: flag given twice");
                }
                mask |= bit;
                if (sign == '+')
                {
                    value |= bit;
                }
                i = j;
            }
            return new long[] {value, mask};
        }
        final long[] vm = numberMasked(v, 0xfff, col);
        return vm;
    }

    private long tcpFlagBit(final String name, final int col) throws FlowParseException
    {
        switch (name)
        {
            case "fin": return 0x001;
            case "syn": return 0x002;
            case "rst": return 0x004;
            case "psh": return 0x008;
            case "ack": return 0x010;
            case "urg": return 0x020;
            case "ece": return 0x040;
            case "cwr": return 0x080;
            case "ns": return 0x100;
            default: throw error(col, "tcp_flags: unknown flag " + name);
        }
    }

    private long[] numberMasked(final String s, final long max, final int col) throws FlowParseException
    {
        final int slash = s.indexOf('/');
        final long v = number(slash < 0 ? s : s.substring(0, slash), 0, max, col);
        final long m = slash < 0 ? max : number(s.substring(slash + 1), 0, max, col + slash + 1);
        return new long[] {v & m, m};
    }

    private long number(final String s, final long min, final long max, final int col) throws FlowParseException
    {
        if (s == null || s.isEmpty())
        {
            throw error(col, "missing number");
        }
        final long v = parseUnsigned(s, col);
        if (Long.compareUnsigned(v, max) > 0 || v < min)
        {
            throw error(col, s + ": value out of range " + min + ".." + max);
        }
        return v;
    }

    private long parseUnsigned(final String s, final int col) throws FlowParseException
    {
        try
        {
            if (s.startsWith("0x") || s.startsWith("0X"))
            {
                return Long.parseUnsignedLong(s.substring(2), 16);
            }
            return Long.parseUnsignedLong(s);
        }
        catch (final NumberFormatException ex)
        {
            throw error(col, "\"" + s + "\" is not a valid number");
        }
    }

    /**
     * ct_state as masked flags ({@code +trk-new}), flags that must all be set and no others
     * ({@code est|trk}), or a number with an optional mask, as OVS's parse_ct_state.
     */
    private long[] ctState(final String val, final int col) throws FlowParseException
    {
        if (!val.isEmpty() && (val.charAt(0) == '+' || val.charAt(0) == '-'))
        {
            long v = 0;
            long m = 0;
            int i = 0;
            while (i < val.length())
            {
                final char sign = val.charAt(i);
                if (sign != '+' && sign != '-')
                {
                    throw error(col + i, "ct_state: expected + or - before a flag name in " + val);
                }
                int j = i + 1;
                while (j < val.length() && val.charAt(j) != '+' && val.charAt(j) != '-')
                {
                    j++;
                }
                final String name = val.substring(i + 1, j).toLowerCase(Locale.ROOT);
                final int bit = dev.junction.flowtable.ct.CtState.bit(name);
                if (bit == 0)
                {
                    throw error(col + i + 1, "ct_state: unknown flag " + name);
                }
                if ((m & bit) != 0)
                {
                    throw error(col + i + 1, "ct_state: flag " + name + " given twice");
                }
                m |= bit;
                if (sign == '+')
                {
                    v |= bit;
                }
                i = j;
            }
            return new long[] {v, m};
        }
        if (val.indexOf('|') >= 0 || !val.isEmpty() && Character.isLetter(val.charAt(0)))
        {
            // OVS's unmasked form, the one dump-flows prints for a fully masked ct_state
            // ("est|trk"): flag names or numbers joined by '|', every flag matched.
            long v = 0;
            int at = 0;
            for (final String part : val.split("\\|", -1))
            {
                final int bit = dev.junction.flowtable.ct.CtState.bit(part);
                if (bit != 0)
                {
                    v |= bit;
                }
                else if (!part.isEmpty() && Character.isDigit(part.charAt(0)))
                {
                    v |= number(part, 0, 0xff, col + at);
                }
                else
                {
                    throw error(col + at, "ct_state: unknown flag " + part);
                }
                at += part.length() + 1;
            }
            return new long[] {v, 0xff};
        }
        final int slash = val.indexOf('/');
        final long v = number(slash < 0 ? val : val.substring(0, slash), 0, 0xffffffffL, col);
        final long m = slash < 0 ? 0xffffffffL : number(val.substring(slash + 1), 0, 0xffffffffL, col + slash + 1);
        if (((v & m) & ~0xffL) != 0)
        {
            throw error(col, "ct_state: " + val + " sets bits no conntrack state has");
        }
        return new long[] {v & m & 0xff, m & 0xff};
    }

    /** A 128-bit number with an optional mask: {value hi, value lo, mask hi, mask lo}. */
    private long[] wideMasked(final String val, final int col) throws FlowParseException
    {
        final int slash = val.indexOf('/');
        final java.math.BigInteger v = big(slash < 0 ? val : val.substring(0, slash), col);
        final java.math.BigInteger m = slash < 0 ? java.math.BigInteger.ONE.shiftLeft(128).subtract(java.math.BigInteger.ONE)
            : big(val.substring(slash + 1), col + slash + 1);
        final java.math.BigInteger vm = v.and(m);
        return new long[] {vm.shiftRight(64).longValue(), vm.longValue(), m.shiftRight(64).longValue(), m.longValue()};
    }

    private java.math.BigInteger big(final String text, final int col) throws FlowParseException
    {
        try
        {
            final java.math.BigInteger v = text.startsWith("0x") || text.startsWith("0X")
                ? new java.math.BigInteger(text.substring(2), 16) : new java.math.BigInteger(text);
            if (v.signum() < 0 || v.bitLength() > 128)
            {
                throw error(col, text + ": value out of range for 128 bits");
            }
            return v;
        }
        catch (final NumberFormatException ex)
        {
            throw error(col, "\"" + text + "\" is not a valid number");
        }
    }

    // ----------------------------------------------------------------------------------------
    // learn

    private Action parseLearn(final String arg, final int col, final Match match) throws FlowParseException
    {
        int table = 1;
        int idle = Action.Learn.PERMANENT;
        int hard = Action.Learn.PERMANENT;
        final int finIdle = 0;
        final int finHard = 0;
        int priority = FlowRule.DEFAULT_PRIORITY;
        long cookie = 0;
        boolean sendFlowRem = false;
        boolean deleteLearned = false;
        final List<Action.LearnSpec> specs = new ArrayList<>();
        // What the learned flow's match establishes so far, for its fields' prerequisites.
        final Match learned = new Match();
        for (final String[] kv : keyValues(arg == null ? "" : arg, col))
        {
            final String key = kv[0];
            final String value = kv[1];
            final int at = Integer.parseInt(kv[2]);
            switch (key)
            {
                case "table": table = (int)number(value, 0, 254, at); continue;
                case "idle_timeout": idle = (int)number(value, 0, 65535, at); continue;
                case "hard_timeout": hard = (int)number(value, 0, 65535, at); continue;
                case "fin_idle_timeout":
                case "fin_hard_timeout":
                    // The learned flow would need OVS's fin_timeout action, which Junction lacks.
                    throw error(at, "learn: " + key + " is not supported yet");
                case "priority": priority = (int)number(value, 0, 65535, at); continue;
                case "cookie": cookie = parseUnsigned(value == null ? "" : value, at); continue;
                case "send_flow_rem": sendFlowRem = true; continue;
                case "delete_learned": deleteLearned = true; continue;
                case "limit":
                case "result_dst":
                    throw error(at, "learn: " + key + " is not supported yet");
                default:
                    break;
            }
            specs.add(learnSpec(key, value, at, match, learned));
        }
        return new Action.Learn(table, idle, hard, finIdle, finHard, priority, cookie, sendFlowRem, deleteLearned,
            specs, tunMetadata);
    }

    /** One learn spec, as OVS's learn_parse_spec, checked as learn_check does. */
    private Action.LearnSpec learnSpec(final String key, final String value, final int at, final Match match,
        final Match learned) throws FlowParseException
    {
        final Field[] f = new Field[1];
        if (key.startsWith("load:") || key.startsWith("output:"))
        {
            final boolean load = key.startsWith("load:");
            final String body = key.substring(load ? 5 : 7);
            if (!load)
            {
                final int[] src = subfield(body, at, f);
                checkPrereq(f[0], match, at, "learn output source");
                return new Action.LearnSpec(Action.LearnSpec.OUTPUT, f[0], src[0], 0, 0, null, 0, src[1], false);
            }
            final int arrow = body.indexOf("->");
            if (arrow < 0)
            {
                throw error(at, "learn: " + key + ": missing '->'");
            }
            final String srcText = body.substring(0, arrow);
            final Field[] d = new Field[1];
            final int[] dst = subfield(body.substring(arrow + 2), at, d);
            checkWritable(d[0], at);
            checkPrereq(d[0], learned, at, "learn load destination");
            if (!srcText.isEmpty() && Character.isDigit(srcText.charAt(0)))
            {
                final java.math.BigInteger v = big(srcText, at);
                if (v.bitLength() > dst[1])
                {
                    throw error(at, "learn: " + srcText + " does not fit in " + dst[1] + " bits");
                }
                return new Action.LearnSpec(Action.LearnSpec.LOAD, null, 0, v.shiftRight(64).longValue(), v.longValue(),
                    d[0], dst[0], dst[1], false);
            }
            final int[] src = subfield(srcText, at, f);
            if (src[1] != dst[1])
            {
                throw error(at, "learn: source is " + src[1] + " bits wide but destination is " + dst[1]);
            }
            checkPrereq(f[0], match, at, "learn load source");
            return new Action.LearnSpec(Action.LearnSpec.LOAD, f[0], src[0], 0, 0, d[0], dst[0], dst[1], false);
        }
        // A match spec: DST[=SRC] with SRC a subfield or an immediate value.
        final int[] dst = subfield(key, at, f);
        final Field dstField = f[0];
        checkPrereq(dstField, learned, at, "learn match field");
        if (value == null || value.indexOf('[') >= 0)
        {
            final Field[] s = new Field[1];
            final int[] src = value == null ? dst : subfield(value, at, s);
            final Field srcField = value == null ? dstField : s[0];
            if (src[1] != dst[1])
            {
                throw error(at, "learn: source is " + src[1] + " bits wide but destination is " + dst[1]);
            }
            checkPrereq(srcField, match, at, "learn match source");
            return new Action.LearnSpec(Action.LearnSpec.MATCH, srcField, src[0], 0, 0, dstField, dst[0], dst[1], false);
        }
        final boolean whole = key.indexOf('[') < 0;
        long hi;
        long lo;
        if (whole)
        {
            final Match tmp = new Match();
            setFromText(dstField, value, tmp, at);
            if (dstField.isWide())
            {
                hi = tmp.value.words[dstField.word];
                lo = tmp.value.words[dstField.word + 1];
            }
            else
            {
                hi = 0;
                lo = tmp.value.get(dstField);
            }
        }
        else
        {
            final java.math.BigInteger v = big(value, at);
            hi = v.shiftRight(64).longValue();
            lo = v.longValue();
        }
        final Action.LearnSpec spec = new Action.LearnSpec(Action.LearnSpec.MATCH, null, 0, hi, lo, dstField, dst[0],
            dst[1], whole);
        // Later specs may rely on this one for their prerequisites (eth_type before ip_src).
        LearnedFlow.setBits(learned, dstField, dst[0], dst[1], hi, lo);
        return spec;
    }

    // ----------------------------------------------------------------------------------------
    // ct

    /** Set while parsing ct(exec(...)): the only place ct_mark and ct_label may be written. */
    private boolean inCtExec;

    private Action parseCt(final String arg, final int col, final Match match) throws FlowParseException
    {
        if (!bucketMode && !Prereq.IP_ANY.holds(match))
        {
            throw error(col, "ct needs ip or ipv6 in the match (OFPBAC_MATCH_INCONSISTENT)");
        }
        boolean commit = false;
        boolean force = false;
        int table = Action.Ct.NO_TABLE;
        int zone = 0;
        Field zoneField = null;
        int zoneOfs = 0;
        int zoneBits = 0;
        final List<Action> exec = new ArrayList<>();
        Action.Nat nat = null;
        int natAt = 0;
        for (final String[] kv : keyValues(arg == null ? "" : arg, col))
        {
            final String key = kv[0];
            final String value = kv[1];
            final int at = Integer.parseInt(kv[2]);
            switch (key)
            {
                case "commit": commit = true; break;
                case "force": force = true; break;
                case "table":
                    table = (int)number(value, 0, 254, at);
                    break;
                case "zone":
                    if (value != null && !value.isEmpty() && Character.isDigit(value.charAt(0)))
                    {
                        zone = (int)number(value, 0, 0xffff, at);
                    }
                    else
                    {
                        final Field[] f = new Field[1];
                        final int[] sf = subfield(value == null ? "" : value, at, f);
                        if (sf[1] != 16)
                        {
                            throw error(at, "zone: " + value + " must be 16 bits wide");
                        }
                        checkPrereq(f[0], match, at, "ct zone");
                        zoneField = f[0];
                        zoneOfs = sf[0];
                        zoneBits = sf[1];
                    }
                    break;
                case "nat":
                    if (nat != null)
                    {
                        throw error(at, "ct: only one nat");
                    }
                    nat = parseNat(value, at, match);
                    natAt = exec.size();
                    break;
                case "exec":
                {
                    final boolean outer = inCtExec;
                    final boolean[] tags = vlanTags.clone();
                    inCtExec = true;
                    execNat = null;
                    try
                    {
                        final List<Action> nested = new ArrayList<>();
                        parseActions(value == null ? "" : value, at, match, -1, nested);
                        if (execNat != null)
                        {
                            if (nat != null)
                            {
                                throw error(at, "ct: only one nat");
                            }
                            nat = execNat;
                            natAt = exec.size() + execNatAt;
                        }
                        for (final Action a : nested)
                        {
                            final Field dst = a instanceof Action.SetField ? ((Action.SetField)a).field
                                : a instanceof Action.Move ? ((Action.Move)a).dst : null;
                            if (dst != Field.CT_MARK && dst != Field.CT_LABEL)
                            {
                                throw error(at, "ct action doesn't support nested action other than set_field, "
                                    + "load or move into ct_mark or ct_label");
                            }
                            if (a instanceof Action.SetField)
                            {
                                final Action.SetField sf = (Action.SetField)a;
                                // Nested loads are encoded as set_field, and print so.
                                exec.add(new Action.SetField(sf.field, sf.valueHi, sf.value, sf.maskHi, sf.mask,
                                    false, sf.ofs, sf.nBits));
                            }
                            else
                            {
                                exec.add(a);
                            }
                        }
                    }
                    finally
                    {
                        inCtExec = outer;
                        vlanTags[0] = tags[0];
                        vlanTags[1] = tags[1];
                    }
                    break;
                }
                case "alg":
                    throw error(at, "ct: alg (FTP/TFTP helpers) is not supported");
                default:
                    throw error(at, "invalid argument to \"ct\" action: `" + key + "'");
            }
        }
        if (force && !commit)
        {
            throw error(col, "\"force\" flag requires \"commit\" flag.");
        }
        if (commit && (match.mask.get(Field.CT_STATE) & match.value.get(Field.CT_STATE)
            & dev.junction.flowtable.ct.CtState.INV) != 0)
        {
            throw error(col, "ct(commit) on +inv packets (OFPBAC_MATCH_INCONSISTENT)");
        }
        return new Action.Ct(commit, force, table, zone, zoneField, zoneOfs, zoneBits, exec, nat, natAt);
    }

    private Action.Nat parseNat(final String arg, final int col, final Match match) throws FlowParseException
    {
        int kind = Action.Nat.NONE;
        boolean random = false;
        boolean hash = false;
        boolean persistent = false;
        String range = null;
        int rangeCol = col;
        for (final String[] kv : keyValues(arg == null ? "" : arg, col))
        {
            final int at = Integer.parseInt(kv[2]);
            switch (kv[0])
            {
                case "src":
                case "dst":
                    if (kind != Action.Nat.NONE)
                    {
                        throw error(at, "May only specify one of \"src\" or \"dst\".");
                    }
                    kind = kv[0].equals("src") ? Action.Nat.SRC : Action.Nat.DST;
                    range = kv[1];
                    rangeCol = at;
                    break;
                case "persistent": persistent = true; break;
                case "hash": hash = true; break;
                case "random": random = true; break;
                default:
                    throw error(at, "invalid key \"" + kv[0] + "\" in \"nat\" argument");
            }
        }
        if (kind == Action.Nat.NONE && (random || hash || persistent))
        {
            throw error(col, "Flags allowed only with \"src\" or \"dst\".");
        }
        if (hash && random)
        {
            throw error(col, "Both \"hash\" and \"random\" are not allowed.");
        }
        boolean v6 = false;
        boolean hasAddr = false;
        final long[] min = new long[2];
        final long[] max = new long[2];
        boolean hasPorts = false;
        int minPort = 0;
        int maxPort = 0;
        if (range != null && !range.isEmpty())
        {
            final java.util.regex.Matcher m4 = java.util.regex.Pattern
                .compile("([0-9.]+)(?:-([0-9.]+))?(?::(\\d+)(?:-(\\d+))?)?").matcher(range);
            final java.util.regex.Matcher m6 = java.util.regex.Pattern
                .compile("\\[([0-9a-fA-F:.]+)\\](?:-\\[([0-9a-fA-F:.]+)\\])?(?::(\\d+)(?:-(\\d+))?)?|([0-9a-fA-F:.]+?)(?:-([0-9a-fA-F:.]+))?")
                .matcher(range);
            String lo;
            String hi;
            String p1;
            String p2;
            if (m4.matches() && Values.ipv4(m4.group(1)) >= 0)
            {
                lo = m4.group(1);
                hi = m4.group(2);
                p1 = m4.group(3);
                p2 = m4.group(4);
                min[1] = Values.ipv4(lo);
                max[1] = hi == null ? min[1] : Values.ipv4(hi);
                if (max[1] < 0 || max[1] < min[1])
                {
                    throw error(rangeCol, "invalid nat range \"" + range + "\"");
                }
            }
            else if (m6.matches())
            {
                v6 = true;
                lo = m6.group(1) != null ? m6.group(1) : m6.group(5);
                hi = m6.group(1) != null ? m6.group(2) : m6.group(6);
                p1 = m6.group(3);
                p2 = m6.group(4);
                final long[] a = Values.ipv6(lo);
                final long[] b = hi == null ? a : Values.ipv6(hi);
                if (a == null || b == null || Long.compareUnsigned(b[0], a[0]) < 0
                    || (b[0] == a[0] && Long.compareUnsigned(b[1], a[1]) < 0))
                {
                    throw error(rangeCol, "invalid nat range \"" + range + "\"");
                }
                min[0] = a[0];
                min[1] = a[1];
                max[0] = b[0];
                max[1] = b[1];
            }
            else
            {
                throw error(rangeCol, "invalid nat range \"" + range + "\"");
            }
            hasAddr = true;
            if (p1 != null)
            {
                minPort = (int)number(p1, 0, 0xffff, rangeCol);
                maxPort = p2 == null ? minPort : (int)number(p2, 0, 0xffff, rangeCol);
                if (maxPort < minPort)
                {
                    throw error(rangeCol, "invalid nat range \"" + range + "\"");
                }
                hasPorts = minPort != 0;
            }
        }
        final boolean ok = bucketMode || Prereq.IP_ANY.holds(match) && (!hasAddr || (v6 ? Prereq.IPV6 : Prereq.IPV4).holds(match));
        if (!ok)
        {
            throw error(col, "nat range does not fit the match's IP version (OFPBAC_MATCH_INCONSISTENT)");
        }
        return new Action.Nat(kind, v6, hasAddr, min[0], min[1], max[0], max[1], hasPorts, minPort,
            hasPorts ? maxPort : 0, random, hash, persistent);
    }

    /**
     * Where the list item starting at {@code pos} ends: at the first comma (or space, when
     * {@code spaceEnds}) outside parentheses. -1 when its parentheses do not balance.
     */
    private static int itemEnd(final String s, final int pos, final boolean spaceEnds)
    {
        int depth = 0;
        int end = pos;
        while (end < s.length())
        {
            final char c = s.charAt(end);
            if (c == '(')
            {
                depth++;
            }
            else if (c == ')')
            {
                depth--;
            }
            else if ((c == ',' || (spaceEnds && c == ' ')) && depth == 0)
            {
                break;
            }
            end++;
        }
        return depth == 0 || spaceEnds ? end : -1;
    }

    /**
     * {@code controller}, {@code controller:MAX_LEN} or {@code controller(key=value,...)} with
     * OVS's keys (parse_CONTROLLER): reason, max_len, id, userdata (hex bytes, dots allowed),
     * meter_id. {@code pause} needs continuations, which Junction does not resume: refused.
     */
    private Action controller(final String arg, final int argCol) throws FlowParseException
    {
        if (arg == null || arg.isEmpty())
        {
            return new Action.Controller();
        }
        if (arg.chars().allMatch(Character::isDigit))
        {
            return new Action.Controller(Action.Controller.REASON_ACTION, (int)number(arg, 0, 0xffff, argCol), 0, null,
                Action.Controller.NO_METER);
        }
        int reason = Action.Controller.REASON_ACTION;
        int maxLen = 0xffff;
        int id = 0;
        byte[] userdata = null;
        long meter = Action.Controller.NO_METER;
        // OVS's ofputil_parse_key_value ends a value at blanks as at commas: "userdata=01 02" is two keys.
        for (final String[] kv : keyValues(arg.replaceAll("[ \t\r\n]", ","), argCol))
        {
            final int col = Integer.parseInt(kv[2]);
            final String value = kv[1];
            switch (kv[0])
            {
                case "reason":
                    reason = packetInReason(value, col);
                    break;
                case "max_len":
                    maxLen = (int)number(value, 0, 0xffff, col);
                    break;
                case "id":
                    id = (int)number(value, 0, 0xffff, col);
                    break;
                case "userdata":
                    userdata = hexBytes(value == null ? "" : value, col);
                    break;
                case "meter_id":
                    meter = number(value, 0, 0xffff_ffffL, col);
                    break;
                case "pause":
                    throw error(col, "controller: pause (a continuation) is not supported");
                default:
                    throw error(col, "unknown key \"" + kv[0] + "\" parsing controller action"
                        + " (keys: reason, max_len, id, userdata, meter_id)");
            }
        }
        return new Action.Controller(reason, maxLen, id, userdata == null || userdata.length == 0 ? null : userdata, meter);
    }

    /** As ofputil_packet_in_reason_from_string: the names OVS prints, any case. */
    private int packetInReason(final String value, final int col) throws FlowParseException
    {
        for (int r = Action.Controller.REASON_NO_MATCH; r <= Action.Controller.REASON_EXPLICIT_MISS; r++)
        {
            if (Action.Controller.reasonName(r).equalsIgnoreCase(value == null ? "" : value))
            {
                return r;
            }
        }
        throw error(col, "unknown reason \"" + value + "\" (no_match, action, invalid_ttl, action_set, group, packet_out)");
    }

    /** Hex bytes as OVS's ofpbuf_put_hex reads them: pairs of hex digits, dots and blanks between. */
    private byte[] hexBytes(final String text, final int col) throws FlowParseException
    {
        final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int i = 0;
        while (true)
        {
            while (i < text.length() && " .\t\r\n".indexOf(text.charAt(i)) >= 0)
            {
                i++;
            }
            if (i + 1 >= text.length() || Character.digit(text.charAt(i), 16) < 0 || Character.digit(text.charAt(i + 1), 16) < 0)
            {
                break;
            }
            out.write(Character.digit(text.charAt(i), 16) << 4 | Character.digit(text.charAt(i + 1), 16));
            i += 2;
        }
        if (i < text.length())
        {
            throw error(col + i, "bad hex digit in `controller' action `userdata'");
        }
        return out.toByteArray();
    }

    /**
     * Splits {@code key=value, key(value), key} items at top-level commas, as OVS's
     * ofputil_parse_key_value; each item is {key, value or null, column}.
     */
    private List<String[]> keyValues(final String s, final int col) throws FlowParseException
    {
        final List<String[]> out = new ArrayList<>();
        int pos = 0;
        while (pos < s.length())
        {
            while (pos < s.length() && (s.charAt(pos) == ',' || s.charAt(pos) == ' '))
            {
                pos++;
            }
            if (pos >= s.length())
            {
                break;
            }
            final int end = itemEnd(s, pos, false);
            if (end < 0)
            {
                throw error(col + pos, "unbalanced parentheses in " + s.substring(pos));
            }
            final String item = s.substring(pos, end);
            final int eq = item.indexOf('=');
            final int paren = item.indexOf('(');
            if (paren >= 0 && (eq < 0 || paren < eq) && item.endsWith(")"))
            {
                out.add(new String[] {item.substring(0, paren).strip(), item.substring(paren + 1, item.length() - 1),
                    Integer.toString(col + pos + paren + 1)});
            }
            else if (eq >= 0)
            {
                out.add(new String[] {item.substring(0, eq).strip(), item.substring(eq + 1),
                    Integer.toString(col + pos + eq + 1)});
            }
            else
            {
                out.add(new String[] {item.strip(), null, Integer.toString(col + pos)});
            }
            pos = end;
        }
        return out;
    }

    private FlowParseException error(final int col, final String reason)
    {
        return new FlowParseException(source, lineNo, col, reason + " [in: " + text + "]");
    }
}
