package dev.junction.afxdp.tap;

import dev.junction.afxdp.linux.LinkControl;
import dev.junction.afxdp.linux.NativeException;
import dev.junction.afxdp.testing.Frames;
import dev.junction.afxdp.testing.Host;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device's life: created with its flags and offloads, configured, removed on close; clear errors. */
class TapDeviceTest
{
    @Test
    void namesAreCheckedBeforeAnySystemCall()
    {
        final IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
            () -> new TapConfig("a-name-of-16-chr"));
        assertTrue(tooLong.getMessage().contains("1 to 15 characters"), tooLong.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TapConfig("a/b"));
        assertThrows(IllegalArgumentException.class, () -> new TapConfig(""));
        assertThrows(IllegalArgumentException.class, () -> new TapConfig("tap 0"));
    }

    @Test
    void createsConfiguresAndRemovesTheDevice() throws Exception
    {
        Host.require("ip");
        final String name = "jtt" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
        final Path sys = Path.of("/sys/class/net", name);
        try (TapDevice tap = TapDevice.open(new TapConfig(name).mtu(9000)))
        {
            assertEquals(name, tap.name());
            assertTrue(Files.isDirectory(sys), "device exists");
            // IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, as the kernel reports them.
            assertEquals(0x5002, Integer.decode(Files.readString(sys.resolve("tun_flags")).trim()));
            assertEquals(9000, LinkControl.mtu(name));
            assertTrue(LinkControl.isUp(name));
            if (Host.onPath("ethtool"))
            {
                final String features = Host.check(Duration.ofSeconds(10), "ethtool", "-k", name);
                assertTrue(features.contains("tx-checksumming: on"), features);
                assertTrue(features.contains("tx-tcp-segmentation: on"), features);
                assertTrue(features.contains("tx-tcp6-segmentation: on"), features);
            }
            // Nothing queued that we asked for: a burst returns at once, it never blocks.
            final long start = System.nanoTime();
            tap.receive((buffer, offset, length, header) -> { }, 32);
            assertTrue(System.nanoTime() - start < 1_000_000_000L);
            LinkControl.setUp(name, false);
            assertFalse(LinkControl.isUp(name));
        }
        final long deadline = System.nanoTime() + 2_000_000_000L;
        while (Files.exists(sys) && System.nanoTime() < deadline)
        {
            Thread.sleep(10);
        }
        assertFalse(Files.exists(sys), "close removes a non-persistent TAP");
    }

    @Test
    void writingWhileTheLinkIsDownIsACountedErrorNotAnException()
    {
        Host.require("ip");
        final String name = "jtt" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
        try (TapDevice tap = TapDevice.open(new TapConfig(name).up(false)))
        {
            final byte[] frame = Frames.udp(false, 20);
            assertFalse(tap.send(new org.agrona.concurrent.UnsafeBuffer(frame), 0, frame.length));
            assertEquals(1, tap.counters().get(TapCounters.TX_ERRORS), tap.toString());
            assertEquals(0, tap.counters().txPackets());
        }
    }

    @Test
    void aNameHeldByAnotherKindOfDeviceIsAClearError()
    {
        Host.require("ip");
        final NativeException e = assertThrows(NativeException.class, () -> TapDevice.open(new TapConfig("lo")));
        assertTrue(e.getMessage().contains("TUNSETIFF lo"), e.getMessage());
        assertTrue(e.getMessage().contains("Invalid argument"), e.getMessage());
        assertTrue(e.getMessage().contains("not a TAP"), e.getMessage());
    }
}
