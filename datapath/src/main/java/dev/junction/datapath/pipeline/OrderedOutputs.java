package dev.junction.datapath.pipeline;

import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The TX side of a replay through the pipeline: it puts the frames several workers send back in
 * the order one thread taking the ring in order would have sent them. Each worker's frames for a
 * port arrive in ring-sequence order (a worker takes the ring in order and its TX batch for a port
 * keeps it), so one queue per port and worker, merged by the sequence of the received packet each
 * frame came from, gives each port its frames in that order; the frames of one packet all come
 * from one worker and keep the order it sent them in.
 *
 * <p>Frames are copied (a TX batch is refilled once {@code send} returns) and wait here until the
 * caller drains them up to a sequence every worker has passed ({@link Pipeline#processedThrough()}),
 * so memory is bounded by how far the workers' outputs run ahead of the drains.
 */
public final class OrderedOutputs
{
    /** Where the ordered frames go. */
    @FunctionalInterface
    public interface Sink
    {
        void write(int port, long timestampNanos, byte[] frame, int length);
    }

    private record Frame(long sequence, long timestampNanos, byte[] bytes)
    {
    }

    private final PortIndex ports;
    /** [port index][worker]: written by that worker's thread, read by the draining thread. */
    private final ConcurrentLinkedQueue<Frame>[][] queues;

    @SuppressWarnings("unchecked")
    public OrderedOutputs(final int[] ports, final int workers)
    {
        this.ports = new PortIndex(ports);
        queues = new ConcurrentLinkedQueue[this.ports.size()][workers];
        for (final ConcurrentLinkedQueue<Frame>[] perWorker : queues)
        {
            for (int w = 0; w < workers; w++)
            {
                perWorker[w] = new ConcurrentLinkedQueue<>();
            }
        }
    }

    /** The TX port to configure for {@code port}. */
    public TxPort port(final int port)
    {
        final ConcurrentLinkedQueue<Frame>[] perWorker = queues[ports.indexOf(port)];
        return (worker, batch) ->
        {
            for (int i = 0; i < batch.size(); i++)
            {
                perWorker[worker].add(new Frame(batch.sequence(i), batch.timestampNanos(i),
                    Arrays.copyOf(batch.frame(i), batch.length(i))));
            }
        };
    }

    /** Hands on, port by port in sequence order, every frame from received packets up to {@code through}. */
    public void drain(final long through, final Sink sink)
    {
        for (int p = 0; p < queues.length; p++)
        {
            final ConcurrentLinkedQueue<Frame>[] perWorker = queues[p];
            while (true)
            {
                int from = -1;
                long lowest = Long.MAX_VALUE;
                for (int w = 0; w < perWorker.length; w++)
                {
                    final Frame head = perWorker[w].peek();
                    if (head != null && head.sequence <= through && head.sequence < lowest)
                    {
                        lowest = head.sequence;
                        from = w;
                    }
                }
                if (from < 0)
                {
                    break;
                }
                final Frame f = perWorker[from].poll();
                sink.write(ports.port(p), f.timestampNanos, f.bytes, f.bytes.length);
            }
        }
    }
}
