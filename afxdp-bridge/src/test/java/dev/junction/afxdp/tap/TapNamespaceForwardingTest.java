package dev.junction.afxdp.tap;

import dev.junction.afxdp.testing.Host;
import dev.junction.afxdp.testing.Iperf3;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end: two "pods" (network namespaces {@code jtap-a-*} and {@code jtap-b-*}), each with a
 * TAP opened by this JVM and then moved into it (the fd stays ours), joined by
 * {@link TapForwarder}. ping, TCP (pods' checksum and segmentation offloads on, so the kernel
 * hands us super-frames) and UDP must work across it, with super-frames passed through whole
 * and, in the last two tests (IPv4, IPv6), cut by {@link TcpSegmenter} because the forwarder
 * pretends the egress cannot take GSO: the receiving kernel checks every segment's checksums. Throughputs are printed ({@code TAP-THROUGHPUT ...} lines).
 *
 * <p>Needs root, ip, ping, iperf3: skipped without them, failed without them when CI is set.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TapNamespaceForwardingTest
{
    private static final Duration CMD = Duration.ofSeconds(15);
    private static final String ADDR_A = "10.77.0.1";
    private static final String ADDR_B = "10.77.0.2";
    private static final String ADDR6_A = "fd77::1";
    private static final String ADDR6_B = "fd77::2";
    private static final int PORT = 5201;
    private static final long MIN_TCP_BYTES = 10L << 20;

    private static String nsA;
    private static String nsB;
    private static TapDevice tapA;
    private static TapDevice tapB;
    private static TapForwarder forwarder;
    private static final List<Process> processes = new ArrayList<>();

    @BeforeAll
    static void pods()
    {
        Host.require("ip", "ping", "iperf3", "ss");
        final String suffix = Integer.toHexString(0x100000 | ThreadLocalRandom.current().nextInt(1 << 20));
        nsA = "jtap-a-" + suffix;
        nsB = "jtap-b-" + suffix;
        try
        {
            Host.check(CMD, "ip", "netns", "add", nsA);
            Host.check(CMD, "ip", "netns", "add", nsB);
            tapA = TapDevice.open(new TapConfig("jta" + suffix).up(false));
            tapB = TapDevice.open(new TapConfig("jtb" + suffix).up(false));
            pod(tapA, nsA, ADDR_A, ADDR6_A);
            pod(tapB, nsB, ADDR_B, ADDR6_B);
            forwarder = new TapForwarder(tapA, tapB).start();
        }
        catch (final RuntimeException | Error e)
        {
            cleanUp();
            throw e;
        }
    }

    private static void pod(final TapDevice tap, final String ns, final String address, final String address6)
    {
        Host.check(CMD, "ip", "link", "set", tap.name(), "netns", ns);
        Host.check(CMD, "ip", "-n", ns, "link", "set", "lo", "up");
        Host.check(CMD, "ip", "-n", ns, "addr", "add", address + "/24", "dev", tap.name());
        // nodad: usable at once, no duplicate address detection to wait for.
        Host.check(CMD, "ip", "-n", ns, "addr", "add", address6 + "/64", "dev", tap.name(), "nodad");
        Host.check(CMD, "ip", "-n", ns, "link", "set", tap.name(), "up");
    }

    @AfterEach
    void stopProcesses()
    {
        synchronized (processes)
        {
            processes.forEach(Host::kill);
            processes.clear();
        }
        if (forwarder != null)
        {
            forwarder.forceSegmentation(false);
        }
    }

    @AfterAll
    static void cleanUp()
    {
        synchronized (processes)
        {
            processes.forEach(Host::kill);
            processes.clear();
        }
        try
        {
            if (forwarder != null)
            {
                forwarder.stop();
            }
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
        // Closing the fds removes the TAPs (in whichever namespace they are), then the namespaces go.
        if (tapA != null)
        {
            tapA.close();
        }
        if (tapB != null)
        {
            tapB.close();
        }
        for (final String ns : new String[] {nsA, nsB})
        {
            if (ns != null)
            {
                Host.run(CMD, "ip", "netns", "del", ns);
            }
        }
        forwarder = null;
        tapA = null;
        tapB = null;
        nsA = null;
        nsB = null;
    }

    @Test
    @Order(1)
    void ping()
    {
        final Host.Result r = Host.run(Duration.ofSeconds(20),
            "ip", "netns", "exec", nsA, "ping", "-c", "3", "-i", "0.2", "-W", "2", ADDR_B);
        assertTrue(r.ok(), "ping across the forwarder: " + r + "\n" + tapA + "\n" + tapB);
        assertTrue(r.out().contains("3 received"), r.out());
        assertNull(forwarder.failure());
    }

    @Test
    @Order(2)
    void tcpWithOffloadsPassesSuperFramesThrough()
    {
        final long gsoIn = tapA.counters().get(TapCounters.RX_GSO);
        final long gsoOut = tapB.counters().get(TapCounters.TX_GSO);
        final long segmented = forwarder.framesSegmented();
        final Iperf3.Run tcp = iperf("-t", "3");
        report("tcp gso-passthrough", tcp);
        assertSteadyStateAllocationFree(tcp);
        assertTrue(tcp.bytes() > MIN_TCP_BYTES, "received only " + tcp.bytes() + " bytes");
        assertTrue(tapA.counters().get(TapCounters.RX_GSO) > gsoIn, "the sender's TSO gave us super-frames: " + tapA);
        assertTrue(tapB.counters().get(TapCounters.TX_GSO) > gsoOut, "and they went out whole: " + tapB);
        assertEquals(segmented, forwarder.framesSegmented(), "nothing cut while the egress takes GSO");
        assertNull(forwarder.failure());
    }

    @Test
    @Order(3)
    void udp()
    {
        final Iperf3.Run udp = iperf("-u", "-b", "200M", "-t", "2");
        report("udp 200M", udp);
        assertSteadyStateAllocationFree(udp);
        assertTrue(udp.packets() > 1000, "datagrams received: " + udp.packets());
        assertTrue(udp.lostPercent() < 20, "lost " + udp.lostPercent() + "%");
        assertNull(forwarder.failure());
    }

    @Test
    @Order(4)
    void tcpWithSegmentationForcedInTheForwarder()
    {
        forwarder.forceSegmentation(true);
        final long gsoIn = tapA.counters().get(TapCounters.RX_GSO);
        final long gsoOut = tapB.counters().get(TapCounters.TX_GSO);
        final long segmented = forwarder.framesSegmented();
        final Iperf3.Run tcp = iperf("-t", "3");
        report("tcp forced-segmentation", tcp);
        assertSteadyStateAllocationFree(tcp);
        assertTrue(tcp.bytes() > MIN_TCP_BYTES, "received only " + tcp.bytes() + " bytes");
        assertTrue(tapA.counters().get(TapCounters.RX_GSO) > gsoIn, "super-frames still arrive: " + tapA);
        assertTrue(forwarder.framesSegmented() > segmented, "and the forwarder cut them");
        assertEquals(gsoOut, tapB.counters().get(TapCounters.TX_GSO), "none went out whole: " + tapB);
        assertEquals(0, forwarder.refused());
        assertNull(forwarder.failure());
    }

    @Test
    @Order(5)
    void tcpOverIpv6WithSegmentationForced()
    {
        forwarder.forceSegmentation(true);
        final long segmented = forwarder.framesSegmented();
        final Iperf3.Run tcp = iperfTo(ADDR6_B, "-t", "2");
        report("tcp6 forced-segmentation", tcp);
        assertTrue(tcp.bytes() > MIN_TCP_BYTES, "received only " + tcp.bytes() + " bytes");
        assertTrue(forwarder.framesSegmented() > segmented, "TCPv6 super-frames were cut");
        assertEquals(0, forwarder.refused());
        assertNull(forwarder.failure());
    }

    /**
     * Tens of thousands of frames crossed the forwarder in the measured window; one allocation
     * per frame would be megabytes. A few hundred bytes are let through: some runs show a stray
     * 128 bytes on the forwarding thread (not traced to its source; JIT recompilation is the
     * suspect), never more than 256 so far.
     */
    private static void assertSteadyStateAllocationFree(final Iperf3.Run run)
    {
        assertTrue(run.forwarderAllocated() < 1024, "the forwarder allocated " + run.forwarderAllocated()
            + " bytes in the steady state of the run");
    }

    private Iperf3.Run iperf(final String... clientArgs)
    {
        return iperfTo(ADDR_B, clientArgs);
    }

    private Iperf3.Run iperfTo(final String server, final String... clientArgs)
    {
        return Iperf3.run(nsB, nsA, server, PORT, forwarder::allocatedBytes, processes, clientArgs);
    }

    private static void report(final String what, final Iperf3.Run r)
    {
        System.out.println(String.format(Locale.ROOT,
            "TAP-THROUGHPUT %s: %.2f Gbit/s, %d MB received, %d retransmits%s, forwarder allocated %d B; A %s; B %s",
            what, r.bitsPerSecond() / 1e9, r.bytes() >> 20, r.retransmits(),
            r.packets() > 0 ? String.format(Locale.ROOT, ", %d datagrams, %.2f%% lost", r.packets(), r.lostPercent()) : "",
            r.forwarderAllocated(), tapA.counters(), tapB.counters()));
    }
}
