package dev.junction.afxdp.xdp;

import dev.junction.afxdp.linux.LibC;
import dev.junction.afxdp.linux.NetlinkXdp;
import dev.junction.afxdp.testing.Frames;
import dev.junction.afxdp.testing.Host;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An {@link AfXdpPort} over both queues of a veth made with two, and which of its queues the
 * frames a pod sends arrive on. Each test makes a pod namespace ({@code jxmq-*}, 10.77.9.1) whose
 * veth peer stays here; the pod sends 64 UDP datagrams, each from a new socket (bash's
 * {@code /dev/udp}), to an address with a static neighbour entry, so every datagram leaves on
 * the TX queue the pod's kernel picks for its socket's hash.
 *
 * <p>What the kernel does with that (Linux 6.18 here): veth passes the sender's TX queue index
 * to the peer in {@code skb->queue_mapping}. Native XDP runs on RX queue {@code queue_mapping}
 * ({@code veth_xmit} queues the frame on {@code rq[queue_mapping]}): TX queue k, RX queue k.
 * Generic XDP reads the same field as a recorded RX queue, which is stored plus one, so TX queue
 * k lands on RX queue k - 1 and TX queue 0 (nothing recorded) on queue 0: with two TX queues
 * in the pod, every frame is on RX queue 0; with three, queue 2's reach RX queue 1; a TX queue
 * beyond the RX queues makes the kernel warn "received packet on queue 2, but number of RX
 * queues is 2" and use queue 0. The tests assert that, so a kernel that changes it is noticed.
 *
 * <p>Needs root, ip, bash: skipped without them, failed without them when CI is set.
 */
class XdpMultiQueueTest
{
    private static final Duration CMD = Duration.ofSeconds(15);
    private static final int DATAGRAMS = 64;

    @BeforeAll
    static void root()
    {
        Host.require("ip", "bash");
    }

    /** A pod namespace and the switch end of its veth, removed (with the pair) by {@link #close()}. */
    private record Pod(String ns, String switchEnd, String podEnd) implements AutoCloseable
    {
        static Pod create(final int podTxQueues)
        {
            final String suffix = Integer.toHexString(0x100000 | ThreadLocalRandom.current().nextInt(1 << 20));
            final Pod pod = new Pod("jxmq-" + suffix, "jmq" + suffix, "jmp" + suffix);
            try
            {
                Host.check(CMD, "ip", "netns", "add", pod.ns);
                Host.check(CMD, "ip", "link", "add", pod.switchEnd, "numtxqueues", "2", "numrxqueues", "2", "type", "veth",
                    "peer", "name", pod.podEnd, "netns", pod.ns, "numtxqueues", String.valueOf(podTxQueues), "numrxqueues", "2");
                Host.check(CMD, "ip", "link", "set", pod.switchEnd, "up");
                Host.check(CMD, "ip", "-n", pod.ns, "link", "set", pod.podEnd, "address", "02:00:00:00:00:02");
                Host.check(CMD, "ip", "-n", pod.ns, "addr", "add", "10.77.9.1/24", "dev", pod.podEnd);
                Host.check(CMD, "ip", "-n", pod.ns, "link", "set", pod.podEnd, "up");
                Host.check(CMD, "ip", "-n", pod.ns, "neigh", "add", "10.77.9.2", "lladdr", "02:77:09:00:00:02", "dev",
                    pod.podEnd);
                return pod;
            }
            catch (final RuntimeException | Error e)
            {
                pod.close();
                throw e;
            }
        }

        /** 64 datagrams to 10.77.9.2:5000, each from its own socket (so its own TX queue choice). */
        void sendFromManySockets()
        {
            Host.check(CMD, "ip", "netns", "exec", ns, "bash", "-c",
                "for i in $(seq " + DATAGRAMS + "); do echo datagram-$i > /dev/udp/10.77.9.2/5000; done");
        }

        long podRxPackets()
        {
            final Matcher m = Pattern.compile("RX:.*\\n\\s*\\d+\\s+(\\d+)").matcher(Host.check(CMD, "ip", "-n", ns, "-s", "link",
                "show", podEnd));
            assertTrue(m.find());
            return Long.parseLong(m.group(1));
        }

        @Override
        public void close()
        {
            Host.run(CMD, "ip", "netns", "del", ns); // takes the veth pair with it
            Host.run(CMD, "ip", "link", "del", switchEnd);
        }
    }

    /** Receives until the pod's datagrams have all arrived (or 5 s), counting frames per port queue. */
    private static long[] receive(final AfXdpPort port) throws InterruptedException
    {
        final long[] perQueue = new long[port.queueCount()];
        final AtomicLong frames = new AtomicLong();
        final long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline && frames.get() < DATAGRAMS)
        {
            if (port.receive((buffer, offset, length) -> frames.incrementAndGet(), 32) == 0)
            {
                Thread.sleep(1);
            }
        }
        for (int i = 0; i < perQueue.length; i++)
        {
            perQueue[i] = port.queue(i).counters().rxPackets();
        }
        return perQueue;
    }

    @Test
    void nativeModeSpreadsTheSendersTxQueuesOverBothRxQueues() throws Exception
    {
        try (Pod pod = Pod.create(2);
            AfXdpPort port = AfXdpPort.open(new XdpConfig(pod.switchEnd).mode(XdpConfig.Mode.NATIVE).queueCount(2)))
        {
            assertEquals(2, port.queueCount());
            assertEquals(port.programId(), NetlinkXdp.query(LibC.if_nametoindex(pod.switchEnd)).progId(), "one program");
            pod.sendFromManySockets();
            final long[] rx = receive(port);
            System.out.printf("XDP-QUEUES native, pod TX queues 2: RX queue 0 %d, queue 1 %d%n", rx[0], rx[1]);
            assertTrue(rx[0] + rx[1] >= DATAGRAMS, port.toString());
            assertTrue(rx[0] > 0 && rx[1] > 0, "64 sockets' hashes pick both TX queues, so both RX queues: " + port);

            // TX on the second queue reaches the pod too.
            final long before = pod.podRxPackets();
            final UnsafeBuffer frame = new UnsafeBuffer(Frames.udp(false, 64));
            for (int i = 0; i < 10; i++)
            {
                assertTrue(port.queue(1).send(frame, 0, frame.capacity()));
            }
            port.queue(1).flush();
            final long deadline = System.nanoTime() + 2_000_000_000L;
            while (pod.podRxPackets() < before + 10 && System.nanoTime() < deadline)
            {
                Thread.sleep(20);
                port.queue(1).flush();
            }
            assertTrue(pod.podRxPackets() >= before + 10, "frames sent on queue 1 arrived: " + port);
            assertEquals(10, port.queue(1).counters().txPackets());
            assertEquals(0, port.queue(0).counters().txPackets());
            port.close();
            assertFalse(NetlinkXdp.query(LibC.if_nametoindex(pod.switchEnd)).any(), "closed: no program left");
        }
    }

    /** The pod's 64 datagrams through a two-queue generic-mode port: frames per RX queue. */
    private static long[] genericSpread(final int podTxQueues) throws Exception
    {
        try (Pod pod = Pod.create(podTxQueues);
            AfXdpPort port = AfXdpPort.open(new XdpConfig(pod.switchEnd).mode(XdpConfig.Mode.GENERIC).queueCount(2)))
        {
            pod.sendFromManySockets();
            final long[] rx = receive(port);
            System.out.printf("XDP-QUEUES generic, pod TX queues %d: RX queue 0 %d, queue 1 %d%n", podTxQueues, rx[0], rx[1]);
            assertTrue(rx[0] + rx[1] >= DATAGRAMS, port.toString());
            return rx;
        }
    }

    @Test
    void genericModeOnASymmetricVethUsesRxQueueZeroOnly() throws Exception
    {
        assertEquals(0, genericSpread(2)[1], "generic XDP maps TX queue k to RX queue k - 1 (0 for 0): queue 1 never sees a frame");
    }

    @Test
    void genericModeReachesRxQueueOneFromTheSendersThirdTxQueue() throws Exception
    {
        final long[] rx = genericSpread(3);
        assertTrue(rx[0] > 0 && rx[1] > 0, "TX queues 0 and 1 land on RX queue 0, TX queue 2 on RX queue 1: " + rx[0] + ", "
            + rx[1]);
    }

    @Test
    void sigtermAndSigkillOfATwoQueueHolderLeaveNothingAttached() throws Exception
    {
        try (Pod pod = Pod.create(2))
        {
            final int ifindex = LibC.if_nametoindex(pod.switchEnd);
            for (final String signal : new String[] {"TERM", "KILL"})
            {
                final String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
                final Process holder = Host.start(java, "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), HoldPortMain.class.getName(), pod.switchEnd, "2");
                try
                {
                    final long deadline = System.nanoTime() + 20_000_000_000L;
                    while (!Host.read(holder, true).contains("READY") && holder.isAlive() && System.nanoTime() < deadline)
                    {
                        Thread.sleep(50);
                    }
                    assertTrue(Host.read(holder, true).contains("READY"), "holder: " + Host.read(holder, true)
                        + Host.read(holder, false));
                    assertTrue(NetlinkXdp.query(ifindex).any(), "attached by the holder");
                    Host.check(CMD, "kill", "-" + signal, Long.toString(holder.pid()));
                    assertTrue(holder.waitFor(10, TimeUnit.SECONDS), "holder still running after SIG" + signal);
                    final long until = System.nanoTime() + 2_000_000_000L;
                    while (NetlinkXdp.query(ifindex).any() && System.nanoTime() < until)
                    {
                        Thread.sleep(20);
                    }
                    assertFalse(NetlinkXdp.query(ifindex).any(), "left attached after SIG" + signal);
                }
                finally
                {
                    Host.kill(holder);
                }
            }
        }
    }

    @Test
    void moreQueuesThanTheInterfaceHasAreRefusedBeforeAnythingIsAttached()
    {
        try (Pod pod = Pod.create(2))
        {
            final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> AfXdpPort.open(new XdpConfig(pod.switchEnd).queueCount(3)));
            assertTrue(ex.getMessage().contains(pod.switchEnd + " has 2 RX queues"), ex.getMessage());
            assertThrows(IllegalArgumentException.class, () -> AfXdpPort.open(new XdpConfig(pod.switchEnd).queueId(1)
                .queueCount(2)));
            assertFalse(NetlinkXdp.query(LibC.if_nametoindex(pod.switchEnd)).any());
        }
    }
}
