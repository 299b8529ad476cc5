package dev.junction.control.node;

import dev.junction.afxdp.port.XdpPort;
import dev.junction.afxdp.xdp.XdpCounters;
import dev.junction.afxdp.xdp.XdpQueue;
import dev.junction.conntrack.Conntrack;
import dev.junction.datapath.Datapath;
import dev.junction.datapath.DropReason;
import dev.junction.datapath.pipeline.Pipeline;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;

/**
 * The daemon's Prometheus endpoint ({@code metrics: HOST:PORT} in node.yaml, loopback unless
 * configured otherwise). Every metric is a callback read at scrape time on the exporter's
 * thread from the counters the packet path already keeps (pipeline atomics, each worker's
 * datapath counters, the connection tracker's): nothing is added to or allocated on the packet
 * path. Worker counters are plain fields of their worker, read without a barrier: a scrape may
 * see them a little stale, never torn on a 64-bit JVM.
 */
public final class NodeMetrics implements AutoCloseable
{
    private final HTTPServer server;
    private final PrometheusRegistry registry = new PrometheusRegistry();

    /**
     * @param xdpPorts the AF_XDP ports as they are at each scrape (pods' ports come and go); the
     *                 ports' own counters follow the pipeline's current port set
     */
    public NodeMetrics(final String hostPort, final Pipeline pipeline, final Conntrack conntrack,
        final java.util.function.Supplier<List<XdpPort>> xdpPorts) throws IOException
    {
        final int colon = hostPort.lastIndexOf(':');
        final String host = hostPort.substring(0, colon);
        final int port = Integer.parseInt(hostPort.substring(colon + 1));
        final int workers = pipeline.workers();

        CounterWithCallback.builder().name("junction_port_rx_packets").help("Frames received by a port and accepted into the ring")
            .labelNames("port").callback(cb ->
            {
                forEachPort(pipeline, p -> cb.call(pipeline.rxPackets(p), String.valueOf(p)));
            }).register(registry);
        CounterWithCallback.builder().name("junction_port_rx_dropped").help("Frames a port received but dropped at RX")
            .labelNames("port", "reason").callback(cb ->
            {
                forEachPort(pipeline, p ->
                {
                    cb.call(pipeline.rxDrops(p), String.valueOf(p), "ring_full");
                    cb.call(pipeline.rxOversize(p), String.valueOf(p), "oversize");
                });
            }).register(registry);
        CounterWithCallback.builder().name("junction_port_tx_packets").help("Frames handed to a port for sending")
            .labelNames("port").callback(cb ->
            {
                forEachPort(pipeline, p -> cb.call(pipeline.txPackets(p), String.valueOf(p)));
            }).register(registry);
        CounterWithCallback.builder().name("junction_port_tx_dropped").help("Frames for a port that could not be sent")
            .labelNames("port").callback(cb ->
            {
                forEachPort(pipeline, p -> cb.call(pipeline.txDrops(p), String.valueOf(p)));
            }).register(registry);
        // Per AF_XDP queue: which queues the interface's RSS (or the veth peer's TX queue choice) feeds.
        perQueue(registry, xdpPorts, "junction_afxdp_queue_rx_packets", "Frames an AF_XDP port's queue received",
            XdpCounters::rxPackets);
        perQueue(registry, xdpPorts, "junction_afxdp_queue_tx_packets", "Frames an AF_XDP port's queue sent",
            XdpCounters::txPackets);
        CounterWithCallback.builder().name("junction_worker_packets").help("Packets a worker ran through its datapath")
            .labelNames("worker").callback(cb ->
            {
                for (int w = 0; w < workers; w++)
                {
                    cb.call(pipeline.datapath(w).packetsIn(), String.valueOf(w));
                }
            }).register(registry);
        CounterWithCallback.builder().name("junction_cache_hits").help("Cache hits per tier (emc, megaflow)")
            .labelNames("worker", "tier").callback(cb ->
            {
                for (int w = 0; w < workers; w++)
                {
                    final Datapath dp = pipeline.datapath(w);
                    cb.call(dp.emcHits(), String.valueOf(w), "emc");
                    cb.call(dp.megaflowHits(), String.valueOf(w), "megaflow");
                }
            }).register(registry);
        CounterWithCallback.builder().name("junction_upcalls").help("Cache misses translated through the flow tables")
            .labelNames("worker").callback(cb ->
            {
                for (int w = 0; w < workers; w++)
                {
                    cb.call(pipeline.datapath(w).upcalls(), String.valueOf(w));
                }
            }).register(registry);
        CounterWithCallback.builder().name("junction_worker_busy_seconds").help("Time a worker spent processing batches")
            .labelNames("worker").callback(cb ->
            {
                for (int w = 0; w < workers; w++)
                {
                    cb.call(pipeline.busyNanos(w) / 1e9, String.valueOf(w));
                }
            }).register(registry);
        GaugeWithCallback.builder().name("junction_megaflows").help("Megaflows installed in a worker's cache")
            .labelNames("worker").callback(cb ->
            {
                for (int w = 0; w < workers; w++)
                {
                    cb.call(pipeline.datapath(w).megaflows().size(), String.valueOf(w));
                }
            }).register(registry);
        CounterWithCallback.builder().name("junction_drops").help("Packets (or copies) dropped, by reason")
            .labelNames("reason").callback(cb ->
            {
                for (final DropReason r : DropReason.values())
                {
                    long n = 0;
                    for (int w = 0; w < workers; w++)
                    {
                        n += pipeline.datapath(w).drops(r);
                    }
                    cb.call(n, r.name().toLowerCase(Locale.ROOT));
                }
            }).register(registry);
        GaugeWithCallback.builder().name("junction_conntrack_connections").help("Connections held, per zone in use")
            .labelNames("zone").callback(cb ->
            {
                for (int zone = 0; zone <= 0xffff; zone++)
                {
                    final int n = conntrack.connections(zone);
                    if (n > 0)
                    {
                        cb.call(n, String.valueOf(zone));
                    }
                }
            }).register(registry);
        CounterWithCallback.builder().name("junction_conntrack_refused_commits").help("Commits refused by a limit")
            .labelNames("limit").callback(cb ->
            {
                cb.call(conntrack.refusedByZoneLimit(), "zone");
                cb.call(conntrack.refusedByMaxConnections(), "max_conns");
            }).register(registry);
        server = HTTPServer.builder().hostname(host).port(port).registry(registry).buildAndStart();
    }

    /** {@code read} for each port of the pipeline now; one removed meanwhile (a pod gone) is left out. */
    private static void forEachPort(final Pipeline pipeline, final java.util.function.IntConsumer read)
    {
        for (final int p : pipeline.ports())
        {
            try
            {
                read.accept(p);
            }
            catch (final IllegalArgumentException removed)
            {
                // the port went between the listing and the read: its counters went with it
            }
        }
    }

    private static void perQueue(final PrometheusRegistry registry, final java.util.function.Supplier<List<XdpPort>> xdpPorts,
        final String name,
        final String help, final ToLongFunction<XdpCounters> counter)
    {
        CounterWithCallback.builder().name(name).help(help).labelNames("port", "queue").callback(cb ->
        {
            for (final XdpPort x : xdpPorts.get())
            {
                for (int i = 0; i < x.xdp().queueCount(); i++)
                {
                    final XdpQueue q = x.xdp().queue(i);
                    cb.call(counter.applyAsLong(q.counters()), String.valueOf(x.port()), String.valueOf(q.queueId()));
                }
            }
        }).register(registry);
    }

    /** A counter of the daemon's other threads (control loop, pinctrl, checkpoints), read at scrape time. */
    public void counter(final String name, final String help, final java.util.function.DoubleSupplier value)
    {
        CounterWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsDouble())).register(registry);
    }

    /** A gauge of the daemon's other threads, read at scrape time. */
    public void gauge(final String name, final String help, final java.util.function.DoubleSupplier value)
    {
        GaugeWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsDouble())).register(registry);
    }

    /** The port the endpoint listens on (useful when configured with port 0). */
    public int port()
    {
        return server.getPort();
    }

    @Override
    public void close()
    {
        server.close();
    }
}
