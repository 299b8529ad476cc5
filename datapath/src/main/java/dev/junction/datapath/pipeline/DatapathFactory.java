package dev.junction.datapath.pipeline;

import dev.junction.datapath.Datapath;

/**
 * Builds a worker's own {@link Datapath}: each worker has its own parser, caches and counters, as
 * each OVS PMD thread has its own flow cache, so nothing on the packet path is shared.
 */
@FunctionalInterface
public interface DatapathFactory
{
    /**
     * @param worker      the worker's number, 0 to workers - 1.
     * @param transmitter the worker's TX batcher; the datapath must send its outputs there.
     */
    Datapath create(int worker, Datapath.Transmitter transmitter);
}
