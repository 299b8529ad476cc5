package dev.junction.control.k8s.live;

import dev.junction.control.k8s.LoadReport;
import dev.junction.control.k8s.ManifestLoader;
import io.fabric8.kubernetes.api.model.APIResource;
import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Informable;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The cluster model from a live API server: informers (list, then watch, all namespaces) on the
 * kinds {@link ManifestLoader} understands, and after every change a new
 * {@link ManifestLoader.Result} built from the informers' caches by
 * {@link ManifestLoader#fromObjects}, so a live object is checked exactly as the same object in
 * a manifest file would be, and a bad one is reported and left out without stopping the rest.
 *
 * <p>Changes are debounced: the first event after a snapshot starts a wait of {@code debounce},
 * and whatever arrives meanwhile goes into the one snapshot built after it. Snapshots go to the
 * listener from one thread of this source's own, one at a time and in order; a listener that
 * throws is logged and counted, and the next snapshot is delivered as usual.
 *
 * <p>Objects enter {@link ManifestLoader#fromObjects} sorted by kind (the order of
 * {@link #KINDS}), then namespace, then name, so two sources that see the same objects build the
 * same model whatever order the API server's events came in.
 *
 * <p>The OVN-Kubernetes kinds (EgressFirewall, EgressIP) exist only where their CRDs are
 * installed. Where the API server does not serve one, or will not list it for this client, that
 * kind is not watched: {@link #unwatched()} says so, every snapshot's report carries it as a
 * note, and everything else works. Such a kind is looked up at start only; a CRD installed later
 * takes a new source. The built-in kinds are required: {@link #start} fails when one of them
 * cannot be listed.
 */
public final class ApiServerSource implements AutoCloseable
{
    /** What {@link LoadReport.Problem#file()} says for objects from the API server. */
    public static final String SOURCE_NAME = "apiserver";
    public static final Duration DEFAULT_DEBOUNCE = Duration.ofMillis(100);
    /** How long {@link #start} waits for every informer's first list. */
    public static final Duration DEFAULT_SYNC_TIMEOUT = Duration.ofMinutes(2);
    /** Kinds watched, in the order snapshots list them. */
    public static final List<String> KINDS = List.of("Namespace", "Node", "Pod", "Service", "EndpointSlice",
        "NetworkPolicy", "EgressFirewall", "EgressIP");
    static final String OVN_API_VERSION = "k8s.ovn.org/v1";
    /** How long {@link #close()} waits for the delivery thread, which may be inside the listener. */
    private static final long CLOSE_WAIT_MS = 5_000;

    private static final System.Logger LOG = System.getLogger(ApiServerSource.class.getName());

    /** One informer with the kind and apiVersion its objects are decoded as. */
    private record Watched(String kind, String apiVersion, int order, SharedIndexInformer<? extends HasMetadata> informer,
        CompletableFuture<Void> listed)
    {
    }

    /** One object of a snapshot with what it is sorted by. */
    private record Item(int order, String namespace, String name, Map<String, Object> object)
    {
    }

    private static final Comparator<Item> ORDER = Comparator.comparingInt(Item::order)
        .thenComparing(Item::namespace).thenComparing(Item::name);

    private final KubernetesClient client;
    private final boolean ownsClient;
    private final KubernetesSerialization serialization;
    private final long debounceNanos;
    private final Consumer<ManifestLoader.Result> listener;
    private final List<Watched> watched = new ArrayList<>();
    private final List<String> unwatched = new ArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private final AtomicLong snapshots = new AtomicLong();
    private final AtomicLong listenerFailures = new AtomicLong();
    private final AtomicLong snapshotFailures = new AtomicLong();
    private final AtomicLong informerErrors = new AtomicLong();
    private final ResourceEventHandler<HasMetadata> onChange = new ResourceEventHandler<>()
    {
        @Override
        public void onAdd(final HasMetadata obj)
        {
            changed();
        }

        @Override
        public void onUpdate(final HasMetadata oldObj, final HasMetadata newObj)
        {
            changed();
        }

        @Override
        public void onDelete(final HasMetadata obj, final boolean deletedFinalStateUnknown)
        {
            changed();
        }
    };
    private boolean dirty;
    private boolean closed;
    private volatile ManifestLoader.Result latest;
    private Thread thread;

    private ApiServerSource(final KubernetesClient client, final boolean ownsClient, final Duration debounce,
        final Consumer<ManifestLoader.Result> listener)
    {
        if (debounce.isNegative())
        {
            throw new IllegalArgumentException("debounce " + debounce + " is negative");
        }
        this.client = client;
        this.ownsClient = ownsClient;
        this.serialization = client.getKubernetesSerialization();
        this.debounceNanos = debounce.toNanos();
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    /**
     * Starts watching through {@code client}, which stays the caller's to close (after this
     * source). Returns once every informer has listed its kind and the first snapshot is built;
     * that snapshot is also the first one the listener gets.
     *
     * @throws KubernetesClientException when a built-in kind cannot be listed, or not in
     *     {@link #DEFAULT_SYNC_TIMEOUT}; nothing is left running then
     */
    public static ApiServerSource start(final KubernetesClient client, final Duration debounce,
        final Consumer<ManifestLoader.Result> listener)
    {
        return start(client, debounce, DEFAULT_SYNC_TIMEOUT, listener);
    }

    /** {@link #start(KubernetesClient, Duration, Consumer)} with a bound on the first lists of its own. */
    public static ApiServerSource start(final KubernetesClient client, final Duration debounce, final Duration syncTimeout,
        final Consumer<ManifestLoader.Result> listener)
    {
        final ApiServerSource source = new ApiServerSource(client, false, debounce, listener);
        source.begin(syncTimeout);
        return source;
    }

    /**
     * Starts watching through a client of its own, closed by {@link #close()}: from the kubeconfig
     * at {@code kubeconfig} (its current context), or, when it is null, as kubectl and in-cluster
     * agents find one ({@code KUBECONFIG}, {@code ~/.kube/config}, else the pod's service account).
     */
    public static ApiServerSource connect(final Path kubeconfig, final Duration debounce,
        final Consumer<ManifestLoader.Result> listener)
    {
        final Config config = kubeconfig == null ? Config.autoConfigure(null) : Config.fromKubeconfig(kubeconfig.toFile());
        final KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
        try
        {
            final ApiServerSource source = new ApiServerSource(client, true, debounce, listener);
            source.begin(DEFAULT_SYNC_TIMEOUT);
            return source;
        }
        catch (final RuntimeException ex)
        {
            client.close();
            throw ex;
        }
    }

    private void begin(final Duration syncTimeout)
    {
        try
        {
            watch("Namespace", "v1", client.namespaces());
            watch("Node", "v1", client.nodes());
            watch("Pod", "v1", client.pods().inAnyNamespace());
            watch("Service", "v1", client.services().inAnyNamespace());
            watch("EndpointSlice", "discovery.k8s.io/v1", client.discovery().v1().endpointSlices().inAnyNamespace());
            watch("NetworkPolicy", "networking.k8s.io/v1", client.network().v1().networkPolicies().inAnyNamespace());
            // The built-in kinds first: an API server that cannot be reached fails start() here,
            // before anything is said about the OVN-K kinds.
            final long deadline = System.nanoTime() + syncTimeout.toNanos();
            awaitSynced(deadline, syncTimeout);
            watchOvnKinds();
            awaitSynced(deadline, syncTimeout);
            lock.lock();
            try
            {
                // Everything the first lists brought is in the snapshot about to be built.
                dirty = false;
            }
            finally
            {
                lock.unlock();
            }
            latest = build();
            snapshots.incrementAndGet();
            thread = new Thread(this::run, "junction-apiserver-source");
            thread.setDaemon(true);
            thread.start();
        }
        catch (final RuntimeException ex)
        {
            stopInformers();
            throw ex;
        }
    }

    /** EgressFirewall and EgressIP, each only if discovery says the API server serves it. */
    private void watchOvnKinds()
    {
        final APIResourceList served;
        try
        {
            // Null when the group/version is not served at all: no OVN-K CRD is installed.
            served = client.getApiResources(OVN_API_VERSION);
        }
        catch (final KubernetesClientException ex)
        {
            unwatch("EgressFirewall", "discovery failed: " + firstLine(ex));
            unwatch("EgressIP", "discovery failed: " + firstLine(ex));
            return;
        }
        for (final String kind : List.of("EgressFirewall", "EgressIP"))
        {
            final APIResource resource = served == null ? null : served.getResources().stream()
                .filter(r -> kind.equals(r.getKind()) && !r.getName().contains("/")).findFirst().orElse(null);
            if (resource == null)
            {
                unwatch(kind, "the API server does not serve it (is its CRD installed?)");
                continue;
            }
            watch(kind, OVN_API_VERSION, client.genericKubernetesResources(
                ResourceDefinitionContext.fromApiResource(OVN_API_VERSION, resource)).inAnyNamespace());
        }
    }

    private <T extends HasMetadata> void watch(final String kind, final String apiVersion, final Informable<T> what)
    {
        final SharedIndexInformer<T> informer = what.runnableInformer(0);
        informer.addEventHandler(onChange);
        informer.exceptionHandler((started, t) ->
        {
            informerErrors.incrementAndGet();
            // Before the first list, fail: start() reports it. After it, retry (with back-off)
            // whatever the error: an informer that gave up would leave its kind frozen unseen.
            LOG.log(System.Logger.Level.WARNING, kind + " informer: " + t + (started ? ", retrying" : ""));
            return started;
        });
        // All informers list at once; awaitSynced() waits for them.
        watched.add(new Watched(kind, apiVersion, KINDS.indexOf(kind), informer, informer.start().toCompletableFuture()));
    }

    private void unwatch(final String kind, final String why)
    {
        final String reason = kind + " (" + OVN_API_VERSION + ") not watched: " + why
            + "; the model has none, and a CRD installed later takes a new source";
        LOG.log(System.Logger.Level.WARNING, reason);
        unwatched.add(reason);
    }

    private void awaitSynced(final long deadline, final Duration timeout)
    {
        for (final Watched w : List.copyOf(watched))
        {
            try
            {
                w.listed().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
            catch (final ExecutionException ex)
            {
                final Throwable cause = ex.getCause() == null ? ex : ex.getCause();
                if (!isOptional(w.kind()))
                {
                    throw new KubernetesClientException("cannot list " + w.kind() + ": " + firstLine(cause), cause);
                }
                w.informer().stop();
                watched.remove(w);
                unwatch(w.kind(), "cannot list: " + firstLine(cause));
            }
            catch (final TimeoutException ex)
            {
                throw new KubernetesClientException(w.kind() + " not listed within " + timeout);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new KubernetesClientException("interrupted while listing " + w.kind());
            }
        }
    }

    private static boolean isOptional(final String kind)
    {
        return kind.equals("EgressFirewall") || kind.equals("EgressIP");
    }

    private void changed()
    {
        lock.lock();
        try
        {
            dirty = true;
            wake.signalAll();
        }
        finally
        {
            lock.unlock();
        }
    }

    private void run()
    {
        deliver(latest);
        while (true)
        {
            lock.lock();
            try
            {
                while (!dirty && !closed)
                {
                    wake.awaitUninterruptibly();
                }
                // The debounce: events arriving while waiting join this snapshot.
                long left = debounceNanos;
                while (left > 0 && !closed)
                {
                    left = wake.awaitNanos(left);
                }
                if (closed)
                {
                    return;
                }
                dirty = false;
            }
            catch (final InterruptedException ex)
            {
                // Only close() interrupts, and only a thread stuck in the listener.
                return;
            }
            finally
            {
                lock.unlock();
            }
            final ManifestLoader.Result r;
            try
            {
                r = build();
            }
            catch (final RuntimeException ex)
            {
                // A bug converting one object must not stop the source; the next change retries.
                snapshotFailures.incrementAndGet();
                LOG.log(System.Logger.Level.ERROR, "building a snapshot failed", ex);
                continue;
            }
            latest = r;
            snapshots.incrementAndGet();
            deliver(r);
        }
    }

    private void deliver(final ManifestLoader.Result r)
    {
        try
        {
            listener.accept(r);
        }
        catch (final VirtualMachineError ex)
        {
            throw ex;
        }
        catch (final Throwable ex)
        {
            listenerFailures.incrementAndGet();
            LOG.log(System.Logger.Level.ERROR, "snapshot listener failed", ex);
        }
    }

    /** The informers' caches now, as one result; every object is converted afresh, the caches are never touched. */
    private ManifestLoader.Result build()
    {
        final List<Item> items = new ArrayList<>();
        for (final Watched w : watched)
        {
            for (final HasMetadata o : w.informer().getStore().list())
            {
                @SuppressWarnings("unchecked")
                final Map<String, Object> map = serialization.convertValue(o, Map.class);
                // A list's items carry no apiVersion/kind in the API's JSON. fabric8's typed
                // models fill in their defaults (the tests see them there), a generic resource
                // has only what came; the endpoint it was listed from says what it is either way.
                map.put("apiVersion", w.apiVersion());
                map.put("kind", w.kind());
                final String ns = o.getMetadata() == null ? null : o.getMetadata().getNamespace();
                final String name = o.getMetadata() == null ? null : o.getMetadata().getName();
                items.add(new Item(w.order(), ns == null ? "" : ns, name == null ? "" : name, map));
            }
        }
        items.sort(ORDER);
        final List<Map<String, Object>> objects = new ArrayList<>(items.size());
        for (final Item i : items)
        {
            objects.add(i.object());
        }
        final ManifestLoader.Result r = ManifestLoader.fromObjects(objects, SOURCE_NAME);
        if (unwatched.isEmpty())
        {
            return r;
        }
        final List<String> notes = new ArrayList<>(unwatched);
        notes.addAll(r.report().notes());
        return new ManifestLoader.Result(r.model(), new LoadReport(r.report().objects(), r.report().problems(), notes));
    }

    /** The latest snapshot; never null once {@link #start} has returned. */
    public ManifestLoader.Result snapshot()
    {
        return latest;
    }

    /** Kinds the API server does not serve (or would not list), with why; fixed at start. */
    public List<String> unwatched()
    {
        return Collections.unmodifiableList(unwatched);
    }

    /** Snapshots built, the first one included. */
    public long snapshots()
    {
        return snapshots.get();
    }

    /** Times the listener threw. */
    public long listenerFailures()
    {
        return listenerFailures.get();
    }

    /** Times building a snapshot failed (a bug; the previous snapshot stays the latest). */
    public long snapshotFailures()
    {
        return snapshotFailures.get();
    }

    /** List or watch errors the informers reported (they retry after each). */
    public long informerErrors()
    {
        return informerErrors.get();
    }

    /**
     * Stops the informers and the delivery thread (waiting for a listener call in progress, a
     * few seconds at most), and closes the client if this source made it. Idempotent; may be
     * called from the listener.
     */
    @Override
    public void close()
    {
        lock.lock();
        try
        {
            if (closed)
            {
                return;
            }
            closed = true;
            wake.signalAll();
        }
        finally
        {
            lock.unlock();
        }
        stopInformers();
        final Thread t = thread;
        if (t != null && t != Thread.currentThread())
        {
            try
            {
                t.join(CLOSE_WAIT_MS);
                if (t.isAlive())
                {
                    LOG.log(System.Logger.Level.WARNING, "snapshot listener still running after " + CLOSE_WAIT_MS
                        + " ms; interrupting it");
                    t.interrupt();
                }
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
        if (ownsClient)
        {
            client.close();
        }
    }

    private void stopInformers()
    {
        for (final Watched w : watched)
        {
            try
            {
                w.informer().stop();
            }
            catch (final RuntimeException ex)
            {
                LOG.log(System.Logger.Level.WARNING, w.kind() + " informer did not stop cleanly: " + ex);
            }
        }
    }

    /**
     * The first line of what went wrong, with the root cause's when it is another exception:
     * fabric8 wraps I/O errors in a bare "An error has occurred.".
     */
    private static String firstLine(final Throwable t)
    {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root)
        {
            root = root.getCause();
        }
        final String m = message(t) + (root == t ? "" : ": " + message(root));
        final int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private static String message(final Throwable t)
    {
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
