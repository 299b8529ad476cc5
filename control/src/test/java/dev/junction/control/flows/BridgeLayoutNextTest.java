package dev.junction.control.flows;

import dev.junction.control.k8s.ClusterModel;
import dev.junction.control.k8s.ManifestLoader;
import dev.junction.control.policy.NetpolTruthTableTest;
import dev.junction.control.scale.ClusterGenerator;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The layout edited pod by pod ({@link BridgeLayout#next(ClusterModel, BridgeLayout, ModelChange)})
 * against the layout built whole from the same previous one: a seeded sequence of pod changes,
 * each laid out both ways from the incrementally kept layout, must give the same switches,
 * ports (numbers, keys, MACs, addresses), remote pods, notes and per-namespace pods.
 */
class BridgeLayoutNextTest
{
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"generated:node:1", "generated:cluster:2", "truth:node:3", "truth:cluster:4"})
    void podByPodEqualsWhole(final String run) throws Exception
    {
        final String[] p = run.split(":");
        ClusterModel model = p[0].equals("generated") ? new ClusterGenerator(6, 150, 10, 10, 7).model() : truthTable();
        final String node = p[1].equals("node") ? model.pods().get(0).nodeName() : null;
        BridgeLayout layout = node == null ? BridgeLayout.cluster(model) : BridgeLayout.node(model, node);
        final Random random = new Random(Long.parseLong(p[2]));
        int edited = 0;
        for (int i = 0; i < 150; i++)
        {
            final ClusterModel next = PodMutations.mutate(model, random, i);
            final BridgeLayout whole = BridgeLayout.next(next, layout);
            final BridgeLayout incremental = BridgeLayout.next(next, layout, ModelChange.between(model, next));
            if (incremental.switches() == layout.switches())
            {
                edited++;
            }
            assertSame(whole, incremental, "step " + i);
            layout = incremental;
            model = next;
        }
        // Most pod changes are laid out pod by pod; the rest (new switches, made-up addresses) whole.
        assertTrue(edited > 75, "edited pod by pod " + edited + " of 150");
    }

    private static void assertSame(final BridgeLayout want, final BridgeLayout got, final String step)
    {
        assertEquals(want.switches(), got.switches(), step + ": switches");
        assertEquals(want.ports(), got.ports(), step + ": ports");
        assertEquals(want.remotePods(), got.remotePods(), step + ": remote pods");
        assertEquals(want.allPods(), got.allPods(), step + ": all pods");
        assertEquals(want.notes(), got.notes(), step + ": notes");
        assertEquals(want.localSwitch(), got.localSwitch(), step + ": local switch");
        final Set<String> namespaces = new TreeSet<>();
        want.allPods().forEach(q -> namespaces.add(q.pod().namespace()));
        for (final String ns : namespaces)
        {
            final List<BridgeLayout.PodPort> in = new ArrayList<>();
            want.allPods().stream().filter(q -> q.pod().namespace().equals(ns)).forEach(in::add);
            assertEquals(in, new ArrayList<>(got.podsIn(ns)), step + ": pods of " + ns);
        }
        for (final BridgeLayout.PodPort q : want.allPods())
        {
            assertEquals(q, got.pod(q.name()), step + ": " + q.name());
        }
        assertEquals(want.podKeys(), got.podKeys(), step + ": pod keys");
    }

    private ClusterModel truthTable() throws Exception
    {
        Files.writeString(dir.resolve("model.yaml"), NetpolTruthTableTest.model());
        return ManifestLoader.load(dir).model();
    }
}
