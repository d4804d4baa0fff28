package dev.outpost.store;

/** When an append counts as acknowledged. */
public enum Durability {
    /**
     * Acknowledged once written to the memory-mapped log file: survives kill -9 of the agent (the
     * kernel owns the pages), not power loss.
     */
    OS,
    /**
     * Acknowledged after the log file is fsynced. Concurrent appends share one fsync (group commit),
     * so the wait is at most one fsync in progress plus one more.
     */
    FSYNC
}
