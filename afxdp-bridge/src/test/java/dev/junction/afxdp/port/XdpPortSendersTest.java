package dev.junction.afxdp.port;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Which TX queues of an {@link XdpPort} have more than one sending worker (and so a lock). */
class XdpPortSendersTest
{
    @Test
    void workerWSendsOnQueueWModQueuesAndSendersAreCountedSo()
    {
        for (int queues = 1; queues <= 8; queues++)
        {
            for (int workers = 1; workers <= 16; workers++)
            {
                final int[] senders = new int[queues];
                for (int w = 0; w < workers; w++)
                {
                    senders[w % queues]++;
                }
                for (int q = 0; q < queues; q++)
                {
                    assertEquals(senders[q], XdpPort.sendersOf(q, queues, workers),
                        queues + " queues, " + workers + " workers, queue " + q);
                }
            }
        }
    }

    @Test
    void asManyQueuesAsWorkersShareNothing()
    {
        assertEquals(1, XdpPort.sendersOf(0, 2, 2));
        assertEquals(1, XdpPort.sendersOf(1, 2, 2));
        assertEquals(0, XdpPort.sendersOf(3, 4, 2), "more queues than workers: some send nothing");
        assertEquals(2, XdpPort.sendersOf(0, 1, 2), "one queue, two workers: shared, locked");
    }
}
