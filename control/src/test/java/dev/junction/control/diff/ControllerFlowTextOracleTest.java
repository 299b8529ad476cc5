package dev.junction.control.diff;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The controller action's forms, judged by {@code ovs-ofctl parse-flow}: what OVS accepts prints
 * the same (the short {@code CONTROLLER:N} form when only max_len differs, else only the
 * arguments that differ from their defaults), what it refuses Junction refuses.
 */
class ControllerFlowTextOracleTest
{
    @ParameterizedTest
    @ValueSource(strings = {
        "actions=controller",
        "actions=controller:100",
        "actions=output:controller",
        "actions=controller(max_len=100)",
        "actions=controller(reason=action,id=0)",
        "actions=controller(reason=no_match,max_len=10,id=3,userdata=01.02.0a,meter_id=7)",
        "actions=controller(userdata=0102.0A)",
        "actions=controller(reason=invalid_ttl)",
        "actions=controller(reason=ACTION_SET)",
        "actions=controller(reason=)",
        "actions=controller(userdata=)",
        "tcp,actions=controller(userdata=00.00.00.16.00.00.00.00),output:2",
        // Refused by both.
        "actions=controller(foo=1)",
        "actions=controller(userdata=0g)",
        "actions=controller(userdata=0102 0a)",
        "actions=controller(id=70000)",
        "actions=controller(reason=later)",
        "actions=controller:65536",
    })
    void printedAsOvsPrintsIt(final String flow) throws Exception
    {
        OfctlText.assertSameAsOvs(flow);
    }
}
