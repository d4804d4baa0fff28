package dev.outpost.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The retention log in the catalog: one row per log cycle file retention deleted, newest kept, at most {@link
 * #ROWS_MAX}. Shares the catalog's connection and lock ({@link Catalog#retention()}).
 */
public final class RetentionRecords {
    /** Most retention log rows kept; recording one more deletes the oldest. */
    public static final int ROWS_MAX = 10_000;

    /**
     * One log cycle file deleted by retention.
     *
     * @param atMillis when it was deleted
     * @param lane the lane whose log it belonged to
     * @param cycle the Chronicle cycle number of the file
     * @param firstSeq the first sequence number in it
     * @param lastSeq the last sequence number in it
     * @param bytes its size on disk
     * @param events how many events it held
     * @param unsyncedEvents how many of them no upstream had acknowledged (data lost to sync)
     * @param reason why it was deleted, e.g. "age" or "disk-budget"
     * @param streamsJson events per stream in it, as a JSON object
     */
    public record RetentionRow(
            long atMillis,
            String lane,
            long cycle,
            long firstSeq,
            long lastSeq,
            long bytes,
            long events,
            long unsyncedEvents,
            String reason,
            String streamsJson) {
        public RetentionRow {
            Objects.requireNonNull(lane, "lane");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(streamsJson, "streamsJson");
        }
    }

    private final Catalog catalog;

    RetentionRecords(Catalog catalog) {
        this.catalog = catalog;
    }

    /** Records a deleted log cycle file and deletes the oldest rows beyond {@link #ROWS_MAX}, in one transaction. */
    public void record(RetentionRow r) {
        catalog.transaction("record retention of " + r.lane() + " cycle " + r.cycle(), db -> {
            try (PreparedStatement insert = db.prepareStatement("INSERT INTO retention_log (at_millis, lane, cycle,"
                            + " first_seq, last_seq, bytes, events, unsynced_events, reason, streams_json)"
                            + " VALUES (?,?,?,?,?,?,?,?,?,?)");
                    // Newest by id, not at_millis: ids only grow, a device's wall clock can step back.
                    PreparedStatement prune = db.prepareStatement("DELETE FROM retention_log WHERE id <="
                            + " (SELECT id FROM retention_log ORDER BY id DESC LIMIT 1 OFFSET ?)")) {
                insert.setLong(1, r.atMillis());
                insert.setString(2, r.lane());
                insert.setLong(3, r.cycle());
                insert.setLong(4, r.firstSeq());
                insert.setLong(5, r.lastSeq());
                insert.setLong(6, r.bytes());
                insert.setLong(7, r.events());
                insert.setLong(8, r.unsyncedEvents());
                insert.setString(9, r.reason());
                insert.setString(10, r.streamsJson());
                insert.executeUpdate();
                prune.setInt(1, ROWS_MAX);
                prune.executeUpdate();
            }
            return null;
        });
    }

    /** The retention log, most recently recorded first (at most {@code limit}). */
    public List<RetentionRow> log(int limit) {
        return catalog.read("list retention log", db -> {
            List<RetentionRow> out = new ArrayList<>();
            try (PreparedStatement p = db.prepareStatement("SELECT at_millis, lane, cycle, first_seq, last_seq, bytes,"
                    + " events, unsynced_events, reason, streams_json FROM retention_log ORDER BY id DESC LIMIT ?")) {
                p.setInt(1, limit);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        out.add(new RetentionRow(
                                rs.getLong(1),
                                rs.getString(2),
                                rs.getLong(3),
                                rs.getLong(4),
                                rs.getLong(5),
                                rs.getLong(6),
                                rs.getLong(7),
                                rs.getLong(8),
                                rs.getString(9),
                                rs.getString(10)));
                    }
                }
            }
            return out;
        });
    }
}
