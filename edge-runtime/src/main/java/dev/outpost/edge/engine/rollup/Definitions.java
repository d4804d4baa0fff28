package dev.outpost.edge.engine.rollup;

import dev.outpost.store.json.JsonTree;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.TreeMap;

/**
 * One replacement of the set of rollups, inside the transaction {@link Rollups#define} opens: rows of removed
 * rollups go, new ones start at {@code covered_seq} 0, changed ones start again (same id, rows deleted), and
 * one whose only change is the allowed lateness keeps its rows, position and memory.
 */
final class Definitions {
    private final Connection c;
    private final Map<String, Rollup> current;
    private final long nowMillis;
    private final long backfillUntilSeq;

    Definitions(Connection c, Map<String, Rollup> current, long nowMillis, long logLastSeq) {
        this.c = c;
        this.current = current;
        this.nowMillis = nowMillis;
        this.backfillUntilSeq = Math.max(0, logLastSeq);
    }

    /** The rollups after the replacement, by name. */
    Map<String, Rollup> apply(Map<String, RollupSpec> next) throws SQLException {
        for (Rollup old : current.values()) {
            if (!next.containsKey(old.spec.name())) {
                RollupRows.delete(c, old.id);
                RollupDatabase.update(c, "DELETE FROM rollups WHERE id = ?", old.id);
            }
        }
        Map<String, Rollup> result = new TreeMap<>();
        for (RollupSpec spec : next.values()) {
            Rollup old = current.get(spec.name());
            Rollup r;
            if (old == null) {
                r = fresh(insert(spec), spec);
            } else if (!old.spec.sameRows(spec)) {
                RollupRows.delete(c, old.id);
                RollupDatabase.update(
                        c,
                        "UPDATE rollups SET spec = ?, covered_seq = 0, watermark_millis = 0, backfill_until_seq = ?,"
                                + " events = 0, late_events = 0, skipped_values = 0, defined_at_millis = ?,"
                                + " flushed_at_millis = ? WHERE id = ?",
                        json(spec),
                        backfillUntilSeq,
                        nowMillis,
                        nowMillis,
                        old.id);
                r = fresh(old.id, spec);
            } else if (!old.spec.equals(spec)) {
                RollupDatabase.update(c, "UPDATE rollups SET spec = ? WHERE id = ?", json(spec), old.id);
                r = carried(old, spec);
                // A longer lateness reopens windows whose rows were dropped from memory: read them back first.
                r.spilled.addAll(RollupRows.windowStarts(c, r.id, r.openFrom()));
            } else {
                r = old;
            }
            result.put(spec.name(), r);
        }
        return result;
    }

    private Rollup fresh(long id, RollupSpec spec) {
        return new Rollup(id, spec, 0, 0, backfillUntilSeq, nowMillis);
    }

    /** The same rows under a new allowed lateness: position, counters and memory carry over. */
    private static Rollup carried(Rollup old, RollupSpec spec) {
        Rollup r = new Rollup(
                old.id, spec, old.coveredSeq, old.watermarkMillis, old.backfillUntilSeq, old.definedAtMillis);
        r.events = old.events;
        r.lateEvents = old.lateEvents;
        r.skippedValues = old.skippedValues;
        r.windows.putAll(old.windows);
        r.spilled.addAll(old.spilled);
        return r;
    }

    private long insert(RollupSpec spec) throws SQLException {
        RollupDatabase.update(
                c,
                "INSERT INTO rollups (name, spec, covered_seq, watermark_millis, backfill_until_seq, events,"
                        + " late_events, skipped_values, defined_at_millis, flushed_at_millis)"
                        + " VALUES (?, ?, 0, 0, ?, 0, 0, 0, ?, ?)",
                spec.name(),
                json(spec),
                backfillUntilSeq,
                nowMillis,
                nowMillis);
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT last_insert_rowid()")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String json(RollupSpec spec) {
        return new String(JsonTree.write(spec.toTree()), StandardCharsets.UTF_8);
    }
}
