package dev.junction.flowtable.ofp;

import dev.junction.flowtable.Field;
import dev.junction.flowtable.FlowKey;
import dev.junction.flowtable.TunMetadataSlots;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** tun_metadata0-63 in flows: each mapped field in the key slot the TLV map gives it, printed by its own name. */
class TunMetadataFlowTest
{
    /** As a TLV map with tun_metadata13 (OVN's option) and tun_metadata63: slots 0 and 1. */
    private static final TunMetadataSlots MAP = TunMetadataSlots.of(63, 13);

    private static FlowRule parse(final String line) throws FlowParseException
    {
        return new FlowParser("test").tunMetadata(MAP).parseLine(line, 1);
    }

    @Test
    void aMappedFieldMatchesInItsSlotWithThatSlotsPresentBit() throws FlowParseException
    {
        final FlowRule r = parse("tun_metadata63=0x5,tun_metadata13=0x10002/0xffff,actions=drop");
        assertEquals(0x2L, r.match.value.get(Field.tunMetadata(0)), "a match keeps value & mask");
        assertEquals(0xffffL, r.match.mask.get(Field.tunMetadata(0)));
        assertEquals(5L, r.match.value.get(Field.tunMetadata(1)));
        assertEquals(3L, r.match.value.words[FlowKey.W_TUN_GBP] & Field.TUN_PRESENT_MASK);
        assertEquals(3L, r.match.mask.words[FlowKey.W_TUN_GBP] & Field.TUN_PRESENT_MASK);
        assertEquals("tun_metadata13=0x2/0xffff,tun_metadata63=0x5 actions=drop", FlowPrinter.flowLine(r));
    }

    @Test
    void actionsPrintTheFieldNotTheSlot() throws FlowParseException
    {
        final String flow = "actions=set_field:0x7->tun_metadata63,move:NXM_NX_TUN_METADATA13[16..30]->NXM_NX_REG14[0..14],"
            + "set_field:0x1/0x3->tun_metadata13,output:10";
        final FlowRule r = parse(flow);
        assertEquals(Field.tunMetadata(1), ((Action.SetField)r.actions.get(0)).field);
        assertEquals(Field.tunMetadata(0), ((Action.Move)r.actions.get(1)).src);
        assertEquals(flow, FlowPrinter.flowLine(r));
    }

    @Test
    void anUnmappedFieldIsRefusedAsOvsRefusesIt()
    {
        final FlowParseException ex = assertThrows(FlowParseException.class,
            () -> parse("tun_metadata0=1,actions=drop"));
        assertTrue(ex.getMessage().contains("NXFMFC_INVALID_TLV_FIELD"), ex.getMessage());
        assertThrows(FlowParseException.class, () -> parse("actions=set_field:1->tun_metadata12"));
        assertThrows(FlowParseException.class, () -> parse("actions=move:NXM_NX_TUN_METADATA1[]->NXM_NX_REG0[]"));
        assertThrows(FlowParseException.class, () -> parse("tun_metadata64=1,actions=drop"));
    }

    @Test
    void withoutASwitchFieldsGetSlotsOnFirstUseUpToEight() throws FlowParseException
    {
        final FlowParser p = new FlowParser("ofctl");
        for (int i = 0; i < 8; i++)
        {
            p.parseLine("tun_metadata" + (60 - i) + "=1,actions=drop", i + 1);
        }
        p.parseLine("tun_metadata53=2,actions=drop", 9);
        final FlowParseException ex = assertThrows(FlowParseException.class,
            () -> p.parseLine("tun_metadata0=1,actions=drop", 10));
        assertTrue(ex.getMessage().contains("at most 8"), ex.getMessage());
    }
}
