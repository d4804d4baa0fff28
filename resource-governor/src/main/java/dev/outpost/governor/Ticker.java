package dev.outpost.governor;

/**
 * Runs the governor's samples after a delay. Tasks must run one at a time; tests use a fake that runs them on demand.
 */
public interface Ticker extends AutoCloseable {
    /** Runs {@code task} once after {@code delayMillis}. May throw after {@link #close()}. */
    void schedule(Runnable task, long delayMillis);

    /** Stops running tasks. */
    @Override
    default void close() {}

    /** The real ticker: one daemon thread named "outpost-governor". */
    static Ticker daemon() {
        return new DaemonTicker();
    }
}
