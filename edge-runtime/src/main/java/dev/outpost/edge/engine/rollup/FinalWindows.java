package dev.outpost.edge.engine.rollup;

import dev.outpost.store.EventDraft;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;

/**
 * The node's side of rollup sync: turns the rows of final windows into events of {@link FinalWindow#STREAM} and
 * marks them emitted.
 *
 * <p>Design note. A window is final once {@code window_start + window + allowed_lateness <= watermark} (the rollup's
 * watermark as its last flush stored it): a later event for it is counted as late and never applied, so its row can
 * no longer change. Invariants:
 *
 * <ul>
 *   <li>Each final row is emitted, and marked ({@code emitted = 1}) only after the events holding it are durable in
 *       the log: read, append and wait, then mark in one SQLite transaction. A crash in between emits the row again
 *       on the next start; the hub's upsert by (node, rollup, group, window start) makes that a no-op.
 *   <li>A row rewritten after it was emitted (a longer allowed lateness reopened its window) is stored with {@code
 *       emitted = 0} again (the flush replaces whole rows) and is emitted again once final; the hub keeps the newer.
 *   <li>Bounded work: batches of at most {@link #BATCH_ROWS} rows and {@link #BATCH_BYTES_MAX} bytes of events, and
 *       no new batch once the caller's time budget is spent, so a large backlog drains over several flushes and never
 *       stalls the engine.
 * </ul>
 */
final class FinalWindows {
    /** Most rows in one batch (one append). */
    static final int BATCH_ROWS = 200;

    /** Most event bytes in one batch: one append is one log excerpt, well inside the smallest block (1 MiB). */
    static final int BATCH_BYTES_MAX = 128 * 1024;

    /** A rollup to emit for, with its id in the file. */
    record Target(long id, RollupSpec spec) {}

    /** One row read for emission and its event. */
    private record Pending(long rollupId, long windowStart, String groupKey, EventDraft event) {}

    private final RollupDatabase db;
    private volatile long emittedTotal;

    FinalWindows(RollupDatabase db) {
        this.db = db;
    }

    /**
     * Emits final rows not yet emitted, batch by batch, until none is left or {@code deadlineNanos} (on {@link
     * System#nanoTime}) has passed. {@code appendDurably} must return only once the events are durable in the log,
     * and throw if they are not; {@code marking} runs the marking transaction under the caller's lock.
     *
     * @return rows emitted
     */
    int emit(
            Collection<Target> targets,
            Consumer<List<EventDraft>> appendDurably,
            Consumer<Runnable> marking,
            long deadlineNanos) {
        int emitted = 0;
        do {
            List<Pending> batch = db.read(c -> pending(c, targets));
            if (batch.isEmpty()) {
                break;
            }
            appendDurably.accept(batch.stream().map(Pending::event).toList());
            marking.accept(() -> db.transaction(c -> mark(c, batch)));
            emitted += batch.size();
            emittedTotal += batch.size(); // one writer: the engine thread
        } while (System.nanoTime() - deadlineNanos < 0);
        return emitted;
    }

    /** The next batch of final rows not yet emitted, rollup by rollup, each in (window start, group) order. */
    private static List<Pending> pending(Connection c, Collection<Target> targets) throws SQLException {
        List<Pending> batch = new ArrayList<>();
        int bytes = 0;
        for (Target t : targets) {
            long watermark = watermark(c, t.id());
            if (watermark == Long.MIN_VALUE) {
                continue; // removed meanwhile
            }
            long finalUpTo = watermark - t.spec().windowMillis() - t.spec().allowedLatenessMillis();
            WindowQuery q = new WindowQuery(t.spec().name(), t.spec(), t.id());
            try (PreparedStatement p = c.prepareStatement("SELECT w.window_start, w.group_key, w.vals, s.summary"
                    + " FROM rollup_windows w JOIN rollup_summaries s USING (rollup_id, window_start, group_key)"
                    + " WHERE w.rollup_id = ? AND w.emitted = 0 AND w.window_start <= ?"
                    + " ORDER BY w.window_start, w.group_key LIMIT ?")) {
                p.setLong(1, t.id());
                p.setLong(2, finalUpTo);
                p.setInt(3, BATCH_ROWS - batch.size());
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next() && bytes < BATCH_BYTES_MAX) {
                        long start = rs.getLong(1);
                        String group = rs.getString(2);
                        byte[] summary = rs.getBytes(4);
                        Row row = q.row(start, group, rs.getBytes(3), null);
                        byte[] event = new FinalWindow(t.spec(), start, group, summary).event(row);
                        batch.add(new Pending(t.id(), start, group, EventDraft.of(FinalWindow.STREAM, event)));
                        bytes += event.length;
                    }
                }
            }
            if (batch.size() >= BATCH_ROWS || bytes >= BATCH_BYTES_MAX) {
                break;
            }
        }
        return batch;
    }

    private static long watermark(Connection c, long rollupId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT watermark_millis FROM rollups WHERE id = ?")) {
            p.setLong(1, rollupId);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? rs.getLong(1) : Long.MIN_VALUE;
            }
        }
    }

    private static Void mark(Connection c, List<Pending> batch) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE rollup_windows SET emitted = 1"
                + " WHERE rollup_id = ? AND window_start = ? AND group_key = ?")) {
            for (Pending r : batch) {
                p.setLong(1, r.rollupId());
                p.setLong(2, r.windowStart());
                p.setString(3, r.groupKey());
                p.addBatch();
            }
            p.executeBatch();
        }
        return null;
    }

    /** Rows emitted (and marked) since this instance was made. */
    long emittedTotal() {
        return emittedTotal;
    }

    /** Final rows not yet emitted (for status and tests). */
    long backlog(Collection<Target> targets) {
        return db.read(c -> {
            long n = 0;
            for (Target t : targets) {
                long watermark = watermark(c, t.id());
                long finalUpTo = watermark - t.spec().windowMillis() - t.spec().allowedLatenessMillis();
                try (PreparedStatement p = c.prepareStatement("SELECT count(*) FROM rollup_windows"
                        + " WHERE rollup_id = ? AND emitted = 0 AND window_start <= ?")) {
                    p.setLong(1, t.id());
                    p.setLong(2, finalUpTo);
                    try (ResultSet rs = p.executeQuery()) {
                        n += rs.next() ? rs.getLong(1) : 0;
                    }
                }
            }
            return n;
        });
    }
}
