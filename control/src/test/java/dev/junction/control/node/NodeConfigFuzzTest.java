package dev.junction.control.node;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * {@link NodeConfig#load} on an arbitrary node.yaml (beside a flows file, a groups file, a
 * tunnels file and a trace it may name): it returns a config, or it refuses the file with an
 * {@link IllegalArgumentException} that says why. Any other exception, or a hang, is a bug: the
 * daemon must refuse a bad config before it creates anything.
 *
 * <p>Seeds: {@code src/test/resources/dev/junction/control/node/NodeConfigFuzzTestInputs/load/},
 * the configurations of {@code NodeConfigTest} and {@code docs/daemon.md}.
 */
class NodeConfigFuzzTest
{
    private static final Path DIR = tempDir();

    @FuzzTest(maxDuration = "15s")
    void load(final byte[] yaml) throws IOException
    {
        final Path file = DIR.resolve("node.yaml");
        Files.write(file, yaml);
        try
        {
            assertNotNull(NodeConfig.load(file));
        }
        catch (final IllegalArgumentException ex)
        {
            assertNotNull(ex.getMessage(), ex.toString());
            assertFalse(ex.getMessage().isBlank(), ex.toString());
        }
    }

    private static Path tempDir()
    {
        try
        {
            final Path d = Files.createTempDirectory("node-config-fuzz");
            Files.writeString(d.resolve("flows.txt"), "priority=10,ip,actions=output:2\nactions=drop\n");
            Files.writeString(d.resolve("groups.txt"), "group_id=1,type=all,bucket=actions=output:1\n");
            Files.writeString(d.resolve("tunnels.yaml"), "underlay: {port: 9, mac: \"aa:55:aa:55:00:01\", ip: 192.168.7.1/24}\n"
                + "tunnels: [{port: 10, type: geneve, remote_ip: flow, key: flow}]\n");
            Files.write(d.resolve("trace.pcap"), new byte[24]);
            for (final String f : new String[] {"flows.txt", "groups.txt", "tunnels.yaml", "trace.pcap", "node.yaml"})
            {
                d.resolve(f).toFile().deleteOnExit();
            }
            d.toFile().deleteOnExit();
            return d;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
