package dev.outpost.governor;

/**
 * Measures one dimension's usage in its unit: bytes (memory, disk), milli-cores (CPU), a count (connections), events
 * per second (ingest). A negative value means "unavailable now": the dimension is left out of that sample. Probes are
 * called on the governor's thread and by {@link Governor#sampleNow()}, so they must be cheap and thread-safe.
 */
@FunctionalInterface
public interface Probe {
    long usage();
}
