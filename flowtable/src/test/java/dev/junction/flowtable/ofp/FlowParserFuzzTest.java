package dev.junction.flowtable.ofp;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link FlowParser} on arbitrary text (UTF-8, one flow per line, as a flows file): it loads, or
 * it throws {@link FlowParseException} with a line, column and reason. Any other exception is a
 * bug. What loads must print ({@link FlowPrinter}) without throwing, since {@code dump-flows}
 * and {@code trace} print every rule they are given.
 *
 * <p>Seeds: {@code src/test/resources/dev/junction/flowtable/ofp/FlowParserFuzzTestInputs/parseAll/},
 * the example flows and the flows of the parser's own tests, one file per flow.
 */
class FlowParserFuzzTest
{
    private static final GroupTable GROUPS = groups();

    @FuzzTest(maxDuration = "15s")
    @DictionaryFile(resourcePath = "flows.dict")
    void parseAll(final byte[] input)
    {
        final List<String> lines = new String(input, StandardCharsets.UTF_8).lines().toList();
        final List<FlowRule> rules;
        try
        {
            rules = new FlowParser("fuzz").groups(GROUPS).parseAll(lines);
        }
        catch (final FlowParseException ex)
        {
            assertNotNull(ex.reason, "a refusal names its reason");
            assertTrue(!ex.reason.isEmpty() && ex.line >= 1 && ex.line <= lines.size(), ex.getMessage());
            return;
        }
        for (final FlowRule r : rules)
        {
            final String printed = FlowPrinter.flowLine(r);
            try
            {
                new FlowParser("printed").groups(GROUPS).parseLine(printed, 1);
            }
            catch (final FlowParseException ex)
            {
                throw new AssertionError("printed flow does not parse back: " + printed + ": " + ex.getMessage(), ex);
            }
        }
    }

    private static GroupTable groups()
    {
        try
        {
            return new GroupParser("groups").parseAll(List.of("group_id=1,type=select,bucket=actions=output:1,bucket=actions=output:2"));
        }
        catch (final FlowParseException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
