package dev.junction.control.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code junction trace} through recirculations, as ofproto/trace with --ct-next. */
class TraceCommandTest
{
    private static String run(final String... args)
    {
        final PrintStream out = System.out;
        final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try
        {
            assertEquals(0, JunctionCli.execute(args));
        }
        finally
        {
            System.setOut(out);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    private static Path example(final String file)
    {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent())
        {
            if (dir.resolve("examples/service").toFile().isDirectory())
            {
                return dir.resolve("examples/service/" + file);
            }
        }
        throw new IllegalStateException("examples/service not found");
    }

    private static final String FLOW =
        "tcp,nw_src=10.244.0.5,nw_dst=10.96.0.10,tp_src=40000,tp_dst=80,dl_src=0a:58:0a:f4:00:05,nw_ttl=64";

    @Test
    void newConnectionIsLoadBalancedAndDnatedAcrossRecirculations()
    {
        final String out = run("trace", "--flows", example("flows.txt").toString(), "--groups",
            example("groups.txt").toString(), "--in-port", "1", "--ports", "1,2,3", FLOW);
        assertTrue(out.contains("Datapath actions: ct(zone=5,nat),recirc(0x1)"), out);
        assertTrue(out.contains("recirc(0x1) - resume conntrack with default ct_state=trk|new"), out);
        assertTrue(out.contains("ct(commit,zone=5,mark=0x2/0xffffffff,nat(dst=10.244.1.6:8080)),recirc(0x2)"), out);
        assertTrue(out.contains("learn: table 20"), out);
        // The third pass routes the DNATed packet to the backend's port.
        assertTrue(out.contains("set(ipv4(ttl=63)),2"), out);
    }

    @Test
    void ctNextChoosesTheStateAfterTheFirstCt()
    {
        final String out = run("trace", "--flows", example("flows.txt").toString(), "--groups",
            example("groups.txt").toString(), "--in-port", "1", "--ports", "1,2,3", "--ct-next", "trk|est", FLOW);
        // An established packet skips the load balancer and goes straight to routing (table 30): the
        // VIP is not a routed address, so it is dropped there.
        assertTrue(out.contains("resume conntrack with ct_state=0x22"), out);
        assertTrue(out.contains("30. No match."), out);
    }
}
