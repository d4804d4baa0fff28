package dev.outpost.edge.governance;

import dev.outpost.edge.metrics.Metrics;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The HTTP connections the agent holds: the governor's {@code connections} dimension, and the limit the connection
 * gate admits up to. The limit is budget.connections, lowered while CPU is under pressure ({@link LowerConcurrency});
 * lowering it refuses new connections only.
 *
 * <p>Invariant: every admitted connection, counted by {@link #opened()}, is uncounted by exactly one {@link
 * #closed()}, so {@link #open()} is the number of admitted sockets held (a refused one is never counted).
 */
public final class Connections {
    private final int budget;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger limit;
    private final LongAdder refused = new LongAdder();

    /** @param budget budget.connections */
    public Connections(int budget, Metrics metrics) {
        this.budget = budget;
        this.limit = new AtomicInteger(budget);
        metrics.counterFn(
                "outpost_connections_refused_total", "Connections refused beyond budget.connections.", refused::sum);
        metrics.gauge("outpost_connections_open", "Open HTTP connections.", open::get);
    }

    /** Counts a new connection; returns how many are open with it. */
    public int opened() {
        return open.incrementAndGet();
    }

    /** Uncounts a closed connection (refused ones too). */
    public void closed() {
        open.decrementAndGet();
    }

    /** Counts a connection refused beyond the limit. */
    public void refused() {
        refused.increment();
    }

    /** Connections open now. */
    public int open() {
        return open.get();
    }

    /** Connections refused so far. */
    public long refusedCount() {
        return refused.sum();
    }

    /** How many connections are admitted now. */
    public int limit() {
        return limit.get();
    }

    /** budget.connections. */
    public int budget() {
        return budget;
    }

    /** The cell {@link LowerConcurrency} lowers and restores. */
    AtomicInteger limitCell() {
        return limit;
    }
}
