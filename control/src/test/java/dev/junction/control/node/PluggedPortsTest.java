package dev.junction.control.node;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The plugged pods' ports kept in the state directory: what a restart reads back, and what it leaves out. */
class PluggedPortsTest
{
    @TempDir
    Path state;

    private static NodeConfig.Port declared(final String pod, final String name)
    {
        return new NodeConfig.Port(NodeConfig.LAYOUT_NUMBERED, "tap", name, 1500, "native", 0, 1, null, null, pod);
    }

    @Test
    void plugsOutliveARestartInTheirOrderAndUnplugsToo() throws Exception
    {
        final List<NodeConfig.Port> nodeYaml = List.of(declared("shop/a", "tap-a"));
        final PluggedPorts p = PluggedPorts.load(state, nodeYaml, new ArrayList<>());
        p.plug(PluggedPorts.parse("{pod: shop/c, type: afxdp, interface: veth-c, queues: 2}"), state, nodeYaml);
        p.plug(PluggedPorts.parse("{pod: shop/b, type: tap, name: tap-b, mtu: 1400}"), state, nodeYaml);

        final List<String> skipped = new ArrayList<>();
        final PluggedPorts again = PluggedPorts.load(state, nodeYaml, skipped);
        assertEquals(List.of(), skipped);
        assertEquals(p.ports(), again.ports());
        assertEquals(List.of("shop/c", "shop/b"), again.ports().stream().map(NodeConfig.Port::pod).toList());
        assertEquals(2, again.ports().get(0).queues());
        assertEquals(1400, again.ports().get(1).mtu());

        assertTrue(again.unplug("shop/c"));
        assertFalse(again.unplug("shop/c"));
        assertEquals(List.of("shop/b"), PluggedPorts.load(state, nodeYaml, skipped).ports().stream().map(NodeConfig.Port::pod).toList());
        assertFalse(Files.exists(state.resolve(PluggedPorts.FILE + ".tmp")), "written through a temporary file, moved over");
    }

    @Test
    void aPlugNodeYamlNowDeclaresIsLeftOutWithItsReason() throws Exception
    {
        final PluggedPorts p = PluggedPorts.load(state, List.of(), new ArrayList<>());
        p.plug(PluggedPorts.parse("{pod: shop/b, type: tap, name: tap-b}"), state, List.of());
        p.plug(PluggedPorts.parse("{pod: shop/c, type: tap, name: tap-c}"), state, List.of());
        final List<String> skipped = new ArrayList<>();
        final PluggedPorts after = PluggedPorts.load(state, List.of(declared("shop/b", "other")), skipped);
        assertEquals(List.of("shop/c"), after.ports().stream().map(NodeConfig.Port::pod).toList());
        assertEquals(1, skipped.size(), skipped.toString());
        assertTrue(skipped.get(0).contains("shop/b") && skipped.get(0).contains("two ports"), skipped.toString());
    }

    @Test
    void aDamagedFileIsReportedNotFatalAndBadPlugsChangeNothing() throws Exception
    {
        Files.writeString(state.resolve(PluggedPorts.FILE), "{not: a list}\n");
        final List<String> skipped = new ArrayList<>();
        final PluggedPorts p = PluggedPorts.load(state, List.of(), skipped);
        assertEquals(List.of(), p.ports());
        assertTrue(skipped.get(0).contains("expected a list"), skipped.toString());

        assertThrows(IllegalArgumentException.class, () -> PluggedPorts.parse("{pod: shop/b, type: tap"));
        final IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
            () -> p.plug(PluggedPorts.parse("{pod: shop/b, type: tap, name: t, colour: red}"), state, List.of()));
        assertTrue(unknown.getMessage().contains("unknown key colour"), unknown.getMessage());
        assertEquals(List.of(), p.ports());
        assertEquals("{not: a list}\n", Files.readString(state.resolve(PluggedPorts.FILE)), "a refused plug writes nothing");
    }
}
