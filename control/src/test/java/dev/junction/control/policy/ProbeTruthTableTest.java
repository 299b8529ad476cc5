package dev.junction.control.policy;

import dev.junction.control.flows.BridgeLayout;
import dev.junction.control.flows.FlowCompiler;
import dev.junction.control.k8s.ManifestLoader;
import dev.junction.control.k8s.Protocol;
import dev.junction.control.probe.Prober;
import dev.junction.flowtable.ofp.FlowTables;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The upstream NetworkPolicy truth tables (the scenarios of {@link NetpolTruthTableTest}),
 * decided this time by packets: the manifests are compiled to flows, and a prober sends a TCP
 * handshake or a UDP request and reply for every ordered pod pair through a datapath running
 * them. Every cell must equal the expected one (SCTP cases are left to the engine: the probe
 * speaks TCP and UDP).
 */
class ProbeTruthTableTest
{
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.junction.control.policy.NetpolTruthTableTest#scenarios")
    void probeMatchesTruthTable(final NetpolTruthTableTest.Scenario scenario) throws Exception
    {
        probe(scenario, NetpolTruthTableTest.model(), false);
    }

    static java.util.stream.Stream<NetpolTruthTableTest.Scenario> withoutIpBlocks()
    {
        return NetpolTruthTableTest.scenarios().stream().filter(s -> !s.policies().contains("ipBlock"));
    }

    /**
     * The same manifests without any pod address (as written by hand, before a cluster ran them):
     * the layout gives each pod one from its node's switch, and the IPv4 matrices are unchanged.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("withoutIpBlocks")
    void probeMatchesTruthTableWithoutPodAddresses(final NetpolTruthTableTest.Scenario scenario) throws Exception
    {
        final String model = NetpolTruthTableTest.model().replaceAll("(?m)^  podIPs: .*\n", "");
        org.junit.jupiter.api.Assertions.assertFalse(model.contains("podIPs"));
        probe(scenario, model, true);
    }

    private void probe(final NetpolTruthTableTest.Scenario scenario, final String modelYaml, final boolean ipv4Only)
        throws Exception
    {
        Files.writeString(dir.resolve("model.yaml"), modelYaml);
        Files.writeString(dir.resolve("policies.yaml"), scenario.policies());
        final ManifestLoader.Result loaded = ManifestLoader.load(dir);
        assertEquals(List.of(), loaded.report().problems());
        final FlowCompiler.Compiled compiled = FlowCompiler.cluster(loaded.model());
        final FlowTables tables = compiled.tables();
        final StringBuilder failures = new StringBuilder();
        int probed = 0;
        for (final NetpolTruthTableTest.Case c : scenario.cases())
        {
            if (c.protocol() == Protocol.SCTP || ipv4Only && c.ipv6())
            {
                continue;
            }
            final Prober prober = new Prober(compiled.layout(), tables);
            final Map<String, Map<String, Prober.Result>> actual = prober.matrix(c.protocol(), c.port(), c.ipv6());
            for (final BridgeLayout.PodPort from : compiled.layout().ports())
            {
                for (final BridgeLayout.PodPort to : compiled.layout().ports())
                {
                    final boolean expected = c.expected().cells.get(from.name()).get(to.name());
                    final Prober.Result got = actual.get(from.name()).get(to.name());
                    probed++;
                    if (got.allowed() != expected)
                    {
                        failures.append(c).append(": ").append(from.name()).append(" -> ").append(to.name()).append(" expected ")
                            .append(expected ? "allowed" : "denied").append(", probe: ")
                            .append(got.allowed() ? "allowed" : "denied (" + got.detail() + ")").append('\n');
                    }
                }
            }
        }
        if (failures.length() > 0)
        {
            fail(scenario.name() + "\n" + failures);
        }
        if (scenario.cases().stream().anyMatch(c -> c.protocol() != Protocol.SCTP && !(ipv4Only && c.ipv6())))
        {
            org.junit.jupiter.api.Assertions.assertTrue(probed >= 81, "every pair probed: " + probed);
        }
    }
}
