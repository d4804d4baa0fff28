package dev.outpost.sync;

/**
 * How far push batches are scaled down now, e.g. while the agent's request latency is above its
 * target. Sync owns this need; whoever runs sync supplies it (the edge adapts its resource
 * governor's batch scale), so sync depends on no governor. Implementations are thread-safe.
 */
@FunctionalInterface
public interface BatchScaling {
    /** No scaling: batches at their configured size. */
    BatchScaling NONE = (full, floor) -> full;

    /**
     * The size to use now for a batch configured at {@code full}: at most {@code full}, and not
     * below {@code floor} unless {@code full} itself is.
     */
    int apply(int full, int floor);
}
