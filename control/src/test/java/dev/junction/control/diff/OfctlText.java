package dev.junction.control.diff;

import dev.junction.flowtable.ofp.FlowParseException;
import dev.junction.flowtable.ofp.FlowParser;
import dev.junction.flowtable.ofp.FlowPrinter;
import dev.junction.flowtable.ofp.FlowRule;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One flow line judged by {@code ovs-ofctl parse-flow}: refused by both, or printed alike. */
final class OfctlText
{
    private static final String PREFIX = "OFPT_FLOW_MOD (OF1.5) (xid=0x1): ADD ";

    private OfctlText()
    {
    }

    static void assertSameAsOvs(final String flow) throws Exception
    {
        OracleRunner.require();
        final Process p = new ProcessBuilder("ovs-ofctl", "-O", "OpenFlow15", "parse-flow", flow)
            .redirectErrorStream(true).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "ovs-ofctl hung");
        final String last = out.strip().lines().reduce((a, b) -> b).orElse("");
        final boolean ovsAccepts = p.exitValue() == 0 && last.startsWith(PREFIX);
        final FlowParser parser = new FlowParser("test");
        if (!ovsAccepts)
        {
            assertThrows(FlowParseException.class, () -> parser.parseLine(flow, 1),
                "OVS refuses this flow (" + last + ") but Junction accepted it");
            return;
        }
        final String expected = last.substring(PREFIX.length()).replaceFirst("^table:\\d+ ", "");
        final FlowRule rule = parser.parseLine(flow, 1);
        final String m = FlowPrinter.match(rule.match, rule.priority, rule.tunMetadata);
        assertEquals(expected, (m.isEmpty() ? "" : m + " ") + "actions=" + FlowPrinter.actions(rule.actions, rule.tunMetadata));
    }
}
