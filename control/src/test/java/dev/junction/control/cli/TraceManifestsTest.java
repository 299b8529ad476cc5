package dev.junction.control.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code junction trace --manifests}: stages, policies, load balancer and verdict of a pod's first packet. */
class TraceManifestsTest
{
    private record Run(int exit, String out, String err)
    {
    }

    private static Run run(final String... args)
    {
        final PrintStream out = System.out;
        final PrintStream err = System.err;
        final ByteArrayOutputStream o = new ByteArrayOutputStream();
        final ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        try
        {
            final int exit = JunctionCli.execute(args);
            return new Run(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        }
        finally
        {
            System.setOut(out);
            System.setErr(err);
        }
    }

    private static String cluster()
    {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent())
        {
            if (dir.resolve("examples/cluster").toFile().isDirectory())
            {
                return dir.resolve("examples/cluster").toString();
            }
        }
        throw new IllegalStateException("examples/cluster not found");
    }

    private static String services()
    {
        return Path.of("src/test/resources/manifests/services").toAbsolutePath().toString();
    }

    @Test
    void allowedPodToPodNamesBothAclStagesAndTheirPolicies()
    {
        final Run r = run("trace", "--manifests", cluster(), "--from", "web/client-1", "--to", "db/server-1", "--port", "8080");
        assertEquals(0, r.exit(), r.err());
        final String out = r.out();
        assertTrue(out.startsWith("Trace: web/client-1 (port 4) 10.244.1.3:40000 -> pod db/server-1 (port 1) 10.244.1.4:8080 TCP SYN"),
            out);
        assertTrue(out.contains("[ls_in_port_sec_l2/ip: a pod sends only from its own MAC and addresses]\n0. "), out);
        assertTrue(out.contains("[ls_in_acl_after_lb: NetworkPolicy egress of the source pod]\n20. priority=1000,"), out);
        assertTrue(out.contains(">> policy web/client-egress egress rule 1\n"), out);
        assertTrue(out.contains("[ls_out_acl: NetworkPolicy ingress of the destination pod]\n41. priority=1000,"), out);
        assertTrue(out.contains(">> policy db/allow-web-and-metrics ingress rule 1\n"), out);
        assertTrue(out.contains("  port 1 (db/server-1): 10.244.1.3:40000 -> 10.244.1.4:8080\n"), out);
        assertTrue(out.endsWith("Verdict: delivered to db/server-1 (port 1)\n"), out);
    }

    @Test
    void deniedPodToPodIsDroppedByTheDefaultDenyNamingTheIsolatingPolicies()
    {
        final Run r = run("trace", "--manifests", cluster(), "--from", "ops/prometheus", "--to", "db/server-2", "--port", "8080");
        assertEquals(0, r.exit(), r.err());
        final String out = r.out();
        assertTrue(out.contains(">> no NetworkPolicy isolates the source pod for egress: allowed"), out);
        assertTrue(out.contains("41. priority=900,reg15=0x2, cookie 0xd"), out);
        assertTrue(out.contains("No output.\n"), out);
        assertTrue(out.endsWith("Verdict: dropped at ls_out_acl (default deny ingress: isolated by db/default-deny-ingress,"
            + " db/allow-web-and-metrics)\n"), out);
    }

    @Test
    void serviceTraceNamesTheServiceAndTheBackendTheGroupChose()
    {
        final Run r = run("trace", "--manifests", services(), "--from", "shop/client-1", "--to-service", "shop/web", "--port", "80");
        assertEquals(0, r.exit(), r.err());
        final String out = r.out();
        assertTrue(out.contains("-> service shop/web 10.96.0.10:80 TCP SYN"), out);
        assertTrue(out.contains("[ls_in_lb: new connections to a VIP pick a backend (select group), DNAT committed]\n11. "), out);
        assertTrue(out.contains(">> load balancer of service shop/web\n"), out);
        assertTrue(out.contains(">> bucket "), out);
        // The ready endpoints are web-1 and web-2 (web-3 is not ready, web-4 terminating).
        final boolean web1 = out.contains("Load balancer: service shop/web, backend shop/web-1 10.244.1.20:8080\n")
            && out.endsWith("Verdict: delivered to shop/web-1 (port 3)\n");
        final boolean web2 = out.contains("Load balancer: service shop/web, backend shop/web-2 10.244.2.20:8080\n")
            && out.endsWith("Verdict: delivered to shop/web-2 (port 4)\n");
        assertTrue(web1 || web2, out);
        assertFalse(out.contains("web-3") || out.contains("web-4"), out);
    }

    @Test
    void udpToServiceGoesToTheDnsPort()
    {
        final Run r = run("trace", "--manifests", services(), "--from", "shop/client-1", "--to-service", "shop/web", "--port", "53",
            "--protocol", "UDP");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("-> service shop/web 10.96.0.10:53 UDP\n"), r.out());
        assertTrue(r.out().contains("Load balancer: service shop/web, backend shop/web-"), r.out());
        assertTrue(r.out().matches("(?s).*backend shop/web-[12] 10\\.244\\.[12]\\.20:5353\n.*"), r.out());
    }

    @Test
    void serviceTraceDroppedByPolicyAtTheBackendNamesIt()
    {
        // web-from-client-1 isolates the web pods: client-2 gets through the load balancer, not the backend's ACL.
        final Run r = run("trace", "--manifests", services(), "--from", "shop/client-2", "--to-service", "shop/web", "--port", "80");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains(">> load balancer of service shop/web\n"), r.out());
        assertTrue(r.out().contains("Load balancer: service shop/web, no backend reached\n"), r.out());
        assertTrue(r.out().endsWith("Verdict: dropped at ls_out_acl (default deny ingress: isolated by shop/web-from-client-1)\n"),
            r.out());
    }

    @Test
    void badFromIsExitTwoWithAClearMessage()
    {
        final Run r = run("trace", "--manifests", cluster(), "--from", "web/nope", "--to", "db/server-1", "--port", "8080");
        assertEquals(JunctionCli.EXIT_BAD_INPUT, r.exit());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("junction trace: --from web/nope: no such pod with a port (ns/name)"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void flowsAndManifestsAreExclusiveAndOneIsNeeded()
    {
        final Run neither = run("trace", "--port", "80");
        assertEquals(2, neither.exit());
        assertTrue(neither.err().contains("give exactly one of --flows FILE, --manifests DIR"), neither.err());
        final Run both = run("trace", "--flows", "x", "--manifests", cluster(), "--from", "web/client-1", "--to", "db/server-1",
            "--port", "80");
        assertEquals(2, both.exit());
        final Run noTarget = run("trace", "--manifests", cluster(), "--from", "web/client-1", "--port", "80");
        assertEquals(2, noTarget.exit());
        assertTrue(noTarget.err().contains("--to NS/POD, --to-service NS/NAME"), noTarget.err());
    }
}
