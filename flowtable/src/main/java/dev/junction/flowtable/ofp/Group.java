package dev.junction.flowtable.ofp;

import java.util.List;

/**
 * One group as {@code ovs-ofctl -O OpenFlow15 add-groups} installs it, plus how OVS 3.1's
 * ofproto-dpif would select among the buckets of a select group (group_set_selection_method):
 * with no selection method, dp_hash over a symmetric L3/L4 hash when at most 256 hash values
 * represent the weights, else the default (a hash of the flow computed in translation);
 * {@code dp_hash} with the algorithm and basis from selection_method_param; {@code hash} over
 * the given fields.
 */
public final class Group
{
    public enum Type
    {
        ALL("all"), SELECT("select"), INDIRECT("indirect"), FF("ff");

        public final String ovsName;

        Type(final String ovsName)
        {
            this.ovsName = ovsName;
        }
    }

    /** How translation picks a select group's bucket. */
    public enum Selection
    {
        /** Not a select group. */
        NONE,
        /** flow_hash_symmetric_l4 of the flow, scored per bucket (OVS's pick_default_select_group). */
        DEFAULT,
        /** A hash of the configured fields, scored per bucket. */
        HASH,
        /** The datapath computes dp_hash and recirculates; the bucket is read from a hash table. */
        DP_HASH
    }

    /** OVS_HASH_ALG_L4: the packet's 5-tuple hash. */
    public static final int HASH_ALG_L4 = 0;
    /** OVS_HASH_ALG_SYM_L4: a symmetric L3/L4 hash. */
    public static final int HASH_ALG_SYM_L4 = 1;

    /** One field of a hash selection with the mask of the bits that count (hi: bytes 0-7 of 16-byte fields). */
    public record HashSpec(HashField field, long maskHi, long mask)
    {
    }

    public final long id;
    public final Type type;
    /** "" when none was given. */
    public final String selectionMethod;
    public final long selectionMethodParam;
    /** Ordered as OVS orders them (meta-flow id). */
    public final List<HashSpec> fields;
    public final List<Bucket> buckets;

    public final Selection selection;
    public final int hashAlg;
    public final int hashBasis;
    /** dp_hash bits that pick the bucket; 0 unless DP_HASH. */
    public final int hashMask;
    /** Bucket per masked dp_hash value; null unless DP_HASH. */
    private final Bucket[] hashMap;

    public Group(final long id, final Type type, final String selectionMethod, final long selectionMethodParam,
        final List<HashSpec> fields, final List<Bucket> buckets)
    {
        this.id = id;
        this.type = type;
        this.selectionMethod = selectionMethod;
        this.selectionMethodParam = selectionMethodParam;
        this.fields = List.copyOf(fields);
        this.buckets = List.copyOf(buckets);
        Selection sel = Selection.NONE;
        int alg = 0;
        int basis = 0;
        Bucket[] map = null;
        if (type == Type.SELECT)
        {
            final int limit = selectionMethod.isEmpty() ? 256 : 0;
            if (selectionMethod.isEmpty() || selectionMethod.equals("dp_hash"))
            {
                map = DpHashTable.build(this.buckets, limit);
                if (map != null)
                {
                    sel = Selection.DP_HASH;
                    if (selectionMethod.isEmpty())
                    {
                        alg = HASH_ALG_SYM_L4;
                    }
                    else
                    {
                        alg = (int)(selectionMethodParam >>> 32);
                        alg = alg == HASH_ALG_L4 || alg == HASH_ALG_SYM_L4 ? alg : HASH_ALG_L4;
                        basis = (int)selectionMethodParam;
                    }
                }
                else
                {
                    sel = Selection.DEFAULT;
                }
            }
            else
            {
                sel = this.fields.isEmpty() ? Selection.DEFAULT : Selection.HASH;
            }
        }
        this.selection = sel;
        this.hashAlg = alg;
        this.hashBasis = basis;
        this.hashMap = map;
        this.hashMask = map == null ? 0 : map.length - 1;
    }

    /** The bucket for masked dp_hash value {@code i} (0..hashMask). */
    public Bucket hashBucket(final int i)
    {
        return hashMap[i];
    }
}
