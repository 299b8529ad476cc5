package dev.junction.datapath.pipeline;

/**
 * Where a port's outgoing frames go, a batch at a time.
 */
@FunctionalInterface
public interface TxPort
{
    /**
     * Sends a batch of frames. Called on the thread of worker {@code worker}; several workers may
     * call the same port at once, each with its own batch, so a port with one TX queue per worker
     * (as OVS gives each PMD thread its own txq) needs no lock. The batch is refilled once this
     * returns: copy what must outlive the call.
     */
    void send(int worker, TxBatch batch);
}
