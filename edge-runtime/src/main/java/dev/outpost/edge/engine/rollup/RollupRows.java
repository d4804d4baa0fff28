package dev.outpost.edge.engine.rollup;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** The SQL of a flush (rows and positions) and of a status, on a connection the caller holds. */
final class RollupRows {
    private RollupRows() {}

    /** Writes whole rows: a summary in memory holds all of its window and group's events. */
    static void write(Connection c, List<Rollup.Write> rows) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        try (PreparedStatement w = c.prepareStatement("INSERT OR REPLACE INTO rollup_windows"
                        + " (rollup_id, window_start, group_key, vals) VALUES (?, ?, ?, ?)");
                PreparedStatement s = c.prepareStatement("INSERT OR REPLACE INTO rollup_summaries"
                        + " (rollup_id, window_start, group_key, summary) VALUES (?, ?, ?, ?)")) {
            for (Rollup.Write row : rows) {
                bind(w, row, row.vals());
                bind(s, row, row.summary());
            }
            w.executeBatch();
            s.executeBatch();
        }
    }

    private static void bind(PreparedStatement p, Rollup.Write row, byte[] value) throws SQLException {
        p.setLong(1, row.rollupId());
        p.setLong(2, row.windowStart());
        p.setString(3, row.groupKey());
        p.setBytes(4, value);
        p.addBatch();
    }

    /** Deletes a rollup's rows and summaries. */
    static void delete(Connection c, long rollupId) throws SQLException {
        RollupDatabase.update(c, "DELETE FROM rollup_windows WHERE rollup_id = ?", rollupId);
        RollupDatabase.update(c, "DELETE FROM rollup_summaries WHERE rollup_id = ?", rollupId);
    }

    /** Stores a rollup's position, watermark and counters (in the transaction that writes its rows). */
    static void position(Connection c, Rollup r, long coveredSeq, long nowMillis) throws SQLException {
        RollupDatabase.update(
                c,
                "UPDATE rollups SET covered_seq = ?, watermark_millis = ?, events = ?, late_events = ?,"
                        + " skipped_values = ?, flushed_at_millis = ? WHERE id = ?",
                coveredSeq,
                r.watermarkMillis,
                r.events,
                r.lateEvents,
                r.skippedValues,
                nowMillis,
                r.id);
    }

    /**
     * Deletes the rows of windows that ended more than the rollup's retention before its watermark. By event
     * time, not the clock: a backfill of an old log keeps its last retention of windows, a replay after a crash
     * deletes exactly what the first run did, and since the retention is at least window + allowed lateness,
     * only closed windows go.
     */
    static void prune(Connection c, Rollup r) throws SQLException {
        long upTo = r.watermarkMillis - r.spec.retentionMillis() - r.spec.windowMillis(); // window_start <= upTo
        RollupDatabase.update(c, "DELETE FROM rollup_windows WHERE rollup_id = ? AND window_start <= ?", r.id, upTo);
        RollupDatabase.update(c, "DELETE FROM rollup_summaries WHERE rollup_id = ? AND window_start <= ?", r.id, upTo);
    }

    /** The window starts with rows of {@code rollupId} from {@code fromStart} on. */
    static List<Long> windowStarts(Connection c, long rollupId, long fromStart) throws SQLException {
        List<Long> starts = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("SELECT DISTINCT window_start FROM rollup_windows"
                + " WHERE rollup_id = ? AND window_start >= ? ORDER BY window_start")) {
            p.setLong(1, rollupId);
            p.setLong(2, fromStart);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    starts.add(rs.getLong(1));
                }
            }
        }
        return starts;
    }

    /** A rollup's status from its stored row and its windows. */
    static Status status(Connection c, long id, RollupSpec spec, long logLastSeq) throws SQLException {
        long[] p = new long[8];
        try (PreparedStatement s = c.prepareStatement(
                "SELECT covered_seq, watermark_millis, backfill_until_seq,"
                        + " events, late_events, skipped_values, defined_at_millis, flushed_at_millis FROM rollups WHERE id = ?")) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw new RollupRefusal(RollupRefusal.Kind.NOT_FOUND, spec.name(), null, "no rollup has this name");
                }
                for (int i = 0; i < p.length; i++) {
                    p[i] = rs.getLong(i + 1);
                }
            }
        }
        long rows = count(c, "SELECT count(*) FROM rollup_windows WHERE rollup_id = ?", id);
        long windows = count(c, "SELECT count(DISTINCT window_start) FROM rollup_windows WHERE rollup_id = ?", id);
        long groups = count(
                c,
                "SELECT count(DISTINCT group_key) FROM rollup_windows"
                        + " INDEXED BY rollup_windows_by_group WHERE rollup_id = ?",
                id);
        return new Status(
                spec, p[0], logLastSeq, p[0] < p[2], p[2], p[1], windows, groups, rows, p[3], p[4], p[5], p[6], p[7]);
    }

    private static long count(Connection c, String sql, long id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }
}
