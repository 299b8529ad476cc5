package dev.junction.afxdp.xdp;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The hand-assembled program's encoding, byte for byte as clang emits it for the same C. */
class XskRedirectProgramTest
{
    @Test
    void encodesTheRedirectProgram()
    {
        final long[] insns = XskRedirectProgram.instructions(7);
        assertEquals(6, insns.length);
        assertEquals("61 12 10 00 00 00 00 00", hex(insns[0])); // r2 = *(u32 *)(r1 + 16)
        assertEquals("18 11 00 00 07 00 00 00", hex(insns[1])); // r1 = map fd 7 (src = BPF_PSEUDO_MAP_FD)
        assertEquals("00 00 00 00 00 00 00 00", hex(insns[2]));
        assertEquals("b7 03 00 00 02 00 00 00", hex(insns[3])); // r3 = XDP_PASS
        assertEquals("85 00 00 00 33 00 00 00", hex(insns[4])); // call 51 (bpf_redirect_map)
        assertEquals("95 00 00 00 00 00 00 00", hex(insns[5])); // exit
    }

    @Test
    void negativeOffsetsAndImmediatesKeepTheirFields()
    {
        assertEquals("07 0a 00 00 f8 ff ff ff", hex(XskRedirectProgram.insn(0x07, 10, 0, 0, -8)));
        assertEquals("63 1a fc ff 00 00 00 00", hex(XskRedirectProgram.insn(0x63, 10, 1, -4, 0)));
    }

    /** The instruction's bytes in memory order (little-endian). */
    private static String hex(final long insn)
    {
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++)
        {
            sb.append(i == 0 ? "" : " ").append(String.format("%02x", (insn >>> (8 * i)) & 0xff));
        }
        return sb.toString();
    }
}
