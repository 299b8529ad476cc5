package dev.junction.afxdp.xdp;

import dev.junction.afxdp.linux.Bpf;
import dev.junction.afxdp.linux.LibC;
import dev.junction.afxdp.linux.NetlinkXdp;
import dev.junction.afxdp.testing.Host;
import dev.junction.afxdp.testing.Iperf3;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end: two "pods" (network namespaces {@code jxdp-a-*} and {@code jxdp-b-*}), each with
 * a veth pair whose other end stays in the root namespace, where this JVM binds an
 * {@link AfXdpPort} to it (an AF_XDP socket must live in its interface's namespace) and
 * {@link XdpForwarder} joins the two. ping, TCP and UDP (iperf3) must work across it with
 * the pods' offloads left as veth makes them (checksum offload and TSO on); throughputs are
 * printed ({@code XDP-THROUGHPUT ...} lines). Closing the ports, SIGTERM and SIGKILL of a
 * process holding a port must leave no XDP program on the interface, and a stale program of
 * ours attached the old way is replaced.
 *
 * <p>Needs root, ip, ping, iperf3, ss, ethtool: skipped without them, failed without them when CI is set.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class XdpNamespaceForwardingTest
{
    private static final Duration CMD = Duration.ofSeconds(15);
    private static final String ADDR_A = "10.78.0.1";
    private static final String ADDR_B = "10.78.0.2";
    private static final int PORT = 5201;
    private static final long MIN_TCP_BYTES = 10L << 20;

    private static String nsA;
    private static String nsB;
    private static String switchA;
    private static String switchB;
    private static String podA;
    /** The pod end's offloads before the ports opened (native XDP on the peer turns its TSO off). */
    private static String podOffloadsBefore;
    private static AfXdpPort portA;
    private static AfXdpPort portB;
    private static XdpForwarder forwarder;
    private static final List<Process> processes = new ArrayList<>();

    @BeforeAll
    static void pods()
    {
        Host.require("ip", "ping", "iperf3", "ss", "ethtool");
        final String suffix = Integer.toHexString(0x100000 | ThreadLocalRandom.current().nextInt(1 << 20));
        nsA = "jxdp-a-" + suffix;
        nsB = "jxdp-b-" + suffix;
        switchA = "jxa" + suffix;
        switchB = "jxb" + suffix;
        try
        {
            podA = "jpa" + suffix;
            pod(nsA, switchA, podA, ADDR_A);
            pod(nsB, switchB, "jpb" + suffix, ADDR_B);
            podOffloadsBefore = Host.check(CMD, "ip", "netns", "exec", nsA, "ethtool", "-k", podA);
            portA = AfXdpPort.open(config(switchA));
            portB = AfXdpPort.open(config(switchB));
            forwarder = new XdpForwarder(portA, portB).start();
        }
        catch (final RuntimeException | Error e)
        {
            cleanUp();
            throw e;
        }
    }

    private static XdpConfig config(final String link)
    {
        return new XdpConfig(link).mode(XdpConfig.Mode.valueOf(System.getProperty("junction.xdp.mode", "NATIVE")));
    }

    /** A namespace with the pod end of a veth pair; the switch end stays here, up, without addresses. */
    private static void pod(final String ns, final String switchEnd, final String podEnd, final String address)
    {
        Host.check(CMD, "ip", "netns", "add", ns);
        Host.check(CMD, "ip", "link", "add", switchEnd, "type", "veth", "peer", "name", podEnd);
        Host.check(CMD, "ip", "link", "set", podEnd, "netns", ns);
        Host.check(CMD, "ip", "-n", ns, "link", "set", "lo", "up");
        Host.check(CMD, "ip", "-n", ns, "addr", "add", address + "/24", "dev", podEnd);
        Host.check(CMD, "ip", "-n", ns, "link", "set", podEnd, "up");
        Host.check(CMD, "ip", "link", "set", switchEnd, "up");
        final String ethtool = System.getProperty("junction.xdp.ethtool", "");
        if (!ethtool.isBlank())
        {
            final List<String> cmd = new ArrayList<>(List.of("ethtool", "-K", switchEnd));
            cmd.addAll(List.of(ethtool.trim().split("\\s+")));
            Host.check(CMD, cmd.toArray(String[]::new));
        }
    }

    @AfterEach
    void stopProcesses()
    {
        synchronized (processes)
        {
            processes.forEach(Host::kill);
            processes.clear();
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
        stopForwarderAndClosePorts();
        // Deleting a namespace deletes the pod end of its veth, and with it the switch end.
        for (final String ns : new String[] {nsA, nsB})
        {
            if (ns != null)
            {
                Host.run(CMD, "ip", "netns", "del", ns);
            }
        }
        for (final String link : new String[] {switchA, switchB})
        {
            if (link != null)
            {
                Host.run(CMD, "ip", "link", "del", link); // normally gone with its peer already
            }
        }
        nsA = null;
        nsB = null;
        switchA = null;
        switchB = null;
    }

    private static void stopForwarderAndClosePorts()
    {
        try
        {
            if (forwarder != null)
            {
                forwarder.stop();
                if (forwarder.alive())
                {
                    // Never unmap what a live thread reads: leak the ports instead (the process exit frees them).
                    forwarder = null;
                    return;
                }
            }
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
        forwarder = null;
        if (portA != null)
        {
            portA.close();
        }
        if (portB != null)
        {
            portB.close();
        }
    }

    @Test
    @Order(1)
    void ping()
    {
        final Host.Result r = Host.run(Duration.ofSeconds(20),
            "ip", "netns", "exec", nsA, "ping", "-c", "3", "-i", "0.2", "-W", "2", ADDR_B);
        assertTrue(r.ok(), "ping across the forwarder: " + r + "\n" + state());
        assertTrue(r.out().contains("3 received"), r.out());
        assertTrue(portA.counters().rxPackets() >= 3 && portB.counters().txPackets() >= 3, state());
        assertNull(forwarder.failure());
    }

    @Test
    @Order(2)
    void tcp()
    {
        final String offloads = Host.check(CMD, "ip", "netns", "exec", nsA, "ethtool", "-k", podA);
        assertTrue(offloads.contains("tx-checksumming: on"), "the pod keeps its checksum offload: " + offloads);
        final Iperf3.Run tcp = iperf("-t", "3");
        report("tcp (pod " + line(offloads, "tx-checksumming") + ", " + line(offloads, "tcp-segmentation-offload")
            + ", before the ports opened: " + line(podOffloadsBefore, "tcp-segmentation-offload") + ")", tcp);
        assertTrue(portA.counters().get(XdpCounters.RX_CSUM_COMPLETED) > 0, "partial checksums arrived and were completed: " + state());
        assertTrue(tcp.bytes() > MIN_TCP_BYTES, "received only " + tcp.bytes() + " bytes\n" + state());
        assertTrue(tcp.forwarderAllocated() < 1024, "the forwarder allocated " + tcp.forwarderAllocated()
            + " bytes in the steady state of the run");
        assertNull(forwarder.failure());
    }

    @Test
    @Order(3)
    void udp()
    {
        final Iperf3.Run udp = iperf("-u", "-b", "200M", "-t", "2");
        report("udp 200M", udp);
        assertTrue(udp.packets() > 1000, "datagrams received: " + udp.packets() + "\n" + state());
        assertTrue(udp.lostPercent() < 20, "lost " + udp.lostPercent() + "%\n" + state());
        assertNull(forwarder.failure());
    }

    @Test
    @Order(4)
    void closingDetachesTheProgram()
    {
        assertNotNull(xdpOf(switchA), "attached while open");
        stopForwarderAndClosePorts();
        assertNull(NetlinkXdpProbe.attached(switchA), "nothing attached after close");
        assertNull(NetlinkXdpProbe.attached(switchB), "nothing attached after close");
        assertNull(xdpOf(switchA));
        assertNull(xdpOf(switchB));
    }

    @Test
    @Order(5)
    void aStaleProgramOfOursIsReplaced()
    {
        final int ifindex = LibC.if_nametoindex(switchA);
        // As a crashed run that attached through netlink would leave it: attached, nobody holding it.
        final int staleId;
        try (XskRedirectProgram stale = XskRedirectProgram.load(ifindex, 1))
        {
            NetlinkXdp.set(ifindex, stale.progFd(), Bpf.XDP_FLAGS_SKB_MODE, -1);
            staleId = stale.id();
        }
        assertEquals(staleId, NetlinkXdp.query(ifindex).progId(), "the stale program outlives its fds");
        try (AfXdpPort port = AfXdpPort.open(new XdpConfig(switchA)))
        {
            assertNotEquals(staleId, port.programId());
            assertEquals(port.programId(), NetlinkXdp.query(ifindex).progId(), "ours replaced it");
        }
        assertFalse(NetlinkXdp.query(ifindex).any(), "and ours is gone after close: " + xdpOf(switchA));
    }

    @Test
    @Order(6)
    void sigtermAndSigkillLeaveNothingAttached() throws Exception
    {
        for (final String signal : new String[] {"TERM", "KILL"})
        {
            final String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
            final Process holder = Host.start(java, "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), HoldPortMain.class.getName(), switchB);
            synchronized (processes)
            {
                processes.add(holder);
            }
            final long deadline = System.nanoTime() + 20_000_000_000L;
            while (!Host.read(holder, true).contains("READY") && holder.isAlive() && System.nanoTime() < deadline)
            {
                Thread.sleep(50);
            }
            assertTrue(Host.read(holder, true).contains("READY"), "holder: " + Host.read(holder, true) + Host.read(holder, false));
            assertNotNull(xdpOf(switchB), "attached by the holder");
            Host.check(CMD, "kill", "-" + signal, Long.toString(holder.pid()));
            assertTrue(holder.waitFor(10, TimeUnit.SECONDS), "holder still running after SIG" + signal);
            // The kernel releases the link as the process's descriptors close; allow it a moment.
            final long until = System.nanoTime() + 2_000_000_000L;
            while (xdpOf(switchB) != null && System.nanoTime() < until)
            {
                Thread.sleep(20);
            }
            assertNull(xdpOf(switchB), "left attached after SIG" + signal);
        }
    }

    /**
     * Generic (skb) mode on the same veths: ping and UDP pass. TCP does not: with generic XDP
     * nothing turns the pod end's TSO off (native mode on veth does), so the pod sends super-frames
     * of up to 64 KiB, which do not fit a 2 KiB UMEM frame and which the kernel drops before
     * they reach us (counted in {@code kernel_rx_dropped}). A known gap, asserted as such: when
     * it is closed (multi-buffer AF_XDP plus segmentation here), this test must change.
     */
    @Test
    @Order(7)
    void genericModeForwardsPingAndUdpButDropsTsoSuperFrames()
    {
        portA = AfXdpPort.open(new XdpConfig(switchA).mode(XdpConfig.Mode.GENERIC));
        portB = AfXdpPort.open(new XdpConfig(switchB).mode(XdpConfig.Mode.GENERIC));
        forwarder = new XdpForwarder(portA, portB).start();
        assertTrue(xdpOf(switchA).contains("xdpgeneric"), xdpOf(switchA));
        final Host.Result ping = Host.run(Duration.ofSeconds(20),
            "ip", "netns", "exec", nsA, "ping", "-c", "3", "-i", "0.2", "-W", "2", "-s", "1400", ADDR_B);
        assertTrue(ping.ok() && ping.out().contains("3 received"), "ping: " + ping + "\n" + state());
        final Iperf3.Run udp = iperf("-u", "-b", "200M", "-t", "2");
        report("generic udp 200M", udp);
        assertTrue(udp.packets() > 1000 && udp.lostPercent() < 20, "UDP in generic mode\n" + state());
        final String offloads = Host.check(CMD, "ip", "netns", "exec", nsA, "ethtool", "-k", podA);
        assertTrue(offloads.contains("tcp-segmentation-offload: on"), "generic XDP leaves the pod's TSO on: " + offloads);
        final Process server = Host.start("ip", "netns", "exec", nsB, "iperf3", "-s", "-1", "-p", Integer.toString(PORT));
        synchronized (processes)
        {
            processes.add(server);
        }
        Iperf3.awaitListening(server, nsB, PORT);
        final Host.Result tcp = Host.run(Duration.ofSeconds(20), "ip", "netns", "exec", nsA, "timeout", "10",
            "iperf3", "-c", ADDR_B, "-p", Integer.toString(PORT), "-t", "1", "--connect-timeout", "3000");
        portA.refreshKernelStatistics();
        System.out.println("XDP generic-mode TCP (known gap): " + tcp.out().lines().filter(l -> l.contains("receiver")).findFirst()
            .orElse("no receiver line") + "; A " + portA.counters());
        assertTrue(portA.counters().get(XdpCounters.KERNEL_RX_DROPPED) > 0, "super-frames dropped by the kernel: " + state());
        stopForwarderAndClosePorts();
        assertNull(xdpOf(switchA));
        assertNull(xdpOf(switchB));
    }

    private static final Pattern XDP_ATTACHED = Pattern.compile("(prog/xdp|\\sxdp(generic|drv|offload)?\\s)");

    /** {@code ip link show dev LINK} when it shows an XDP program, else null. */
    private static String xdpOf(final String link)
    {
        final String out = Host.check(CMD, "ip", "link", "show", "dev", link);
        return XDP_ATTACHED.matcher(out).find() ? out : null;
    }

    /** Reads IFLA_XDP through our own netlink code: null when nothing is attached. */
    private static final class NetlinkXdpProbe
    {
        static String attached(final String link)
        {
            final NetlinkXdp.Attached a = NetlinkXdp.query(LibC.if_nametoindex(link));
            return a.any() ? a.toString() : null;
        }
    }

    private static String line(final String text, final String key)
    {
        for (final String l : text.split("\n"))
        {
            if (l.startsWith(key))
            {
                return l.trim();
            }
        }
        return key + ": ?";
    }

    private static String state()
    {
        if (portA != null)
        {
            portA.refreshKernelStatistics();
        }
        if (portB != null)
        {
            portB.refreshKernelStatistics();
        }
        return "A " + portA + "\nB " + portB + "\nforwarder " + (forwarder == null ? "stopped"
            : (forwarder.alive() ? "alive" : "dead") + ", failure: " + forwarder.failure());
    }

    private Iperf3.Run iperf(final String... clientArgs)
    {
        return Iperf3.run(nsB, nsA, ADDR_B, PORT, forwarder::allocatedBytes, processes, clientArgs);
    }

    private static void report(final String what, final Iperf3.Run r)
    {
        System.out.println(String.format(Locale.ROOT,
            "XDP-THROUGHPUT %s: %.2f Gbit/s, %d MB received, %d retransmits%s, forwarder allocated %d B;\n  A %s\n  B %s",
            what, r.bitsPerSecond() / 1e9, r.bytes() >> 20, r.retransmits(),
            r.packets() > 0 ? String.format(Locale.ROOT, ", %d datagrams, %.2f%% lost", r.packets(), r.lostPercent()) : "",
            r.forwarderAllocated(), portA, portB));
    }
}
