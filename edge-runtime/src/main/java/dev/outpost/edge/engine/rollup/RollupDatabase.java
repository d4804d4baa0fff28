package dev.outpost.edge.engine.rollup;

import dev.outpost.store.LogFields;
import dev.outpost.store.SchemaMigrations;
import dev.outpost.store.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rollups' SQLite file: one row per rollup (its declaration and the log position its rows cover) and one
 * row per (rollup, window, group) with the aggregates' values and the mergeable {@link WindowSummary}.
 *
 * <p>Design note. WAL journal with {@code synchronous=NORMAL}: a commit survives the process being killed
 * (kill -9), which is what exactly-once needs, since rows and {@code covered_seq} change in one transaction;
 * a power cut may lose the last commits, and then the engine re-reads those events from the log, whose
 * durability is the log's own setting. Schema changes are versioned migrations ({@link #MIGRATIONS}) applied
 * in one transaction at open, as the catalog does; a file from a newer Outpost stops the open with a clear
 * error. One writing connection (the engine thread's) and {@link #READ_CONNECTIONS} read-only ones for
 * queries from any thread; WAL lets them read while the engine writes.
 *
 * <p>Layout, for queries: {@code rollup_windows} holds only the key and the aggregates' values (~60 bytes a
 * row), clustered by (rollup, window start, group key), the order queries answer in, so a page is one dense
 * range read; a covering index by (rollup, group key, window start) answers one group's windows without
 * touching the table. The mergeable summaries (hundreds of bytes each) sit in {@code rollup_summaries} under
 * the same key, read only to reload a window into memory and for sync.
 */
final class RollupDatabase implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RollupDatabase.class);

    /** Migration i (0-based) brings the schema to version i + 1. Append only; never edit one. */
    static final List<String> MIGRATIONS = List.of("""
            CREATE TABLE rollups (
              id INTEGER PRIMARY KEY,
              name TEXT NOT NULL UNIQUE,
              spec TEXT NOT NULL,
              covered_seq INTEGER NOT NULL,
              watermark_millis INTEGER NOT NULL,
              backfill_until_seq INTEGER NOT NULL,
              events INTEGER NOT NULL,
              late_events INTEGER NOT NULL,
              skipped_values INTEGER NOT NULL,
              defined_at_millis INTEGER NOT NULL,
              flushed_at_millis INTEGER NOT NULL
            );
            CREATE TABLE rollup_windows (
              rollup_id INTEGER NOT NULL,
              window_start INTEGER NOT NULL,
              group_key TEXT NOT NULL,
              vals BLOB NOT NULL,
              PRIMARY KEY (rollup_id, window_start, group_key)
            ) WITHOUT ROWID;
            CREATE INDEX rollup_windows_by_group ON rollup_windows (rollup_id, group_key, window_start, vals);
            CREATE TABLE rollup_summaries (
              rollup_id INTEGER NOT NULL,
              window_start INTEGER NOT NULL,
              group_key TEXT NOT NULL,
              summary BLOB NOT NULL,
              PRIMARY KEY (rollup_id, window_start, group_key)
            ) WITHOUT ROWID;
            """, """
            ALTER TABLE rollup_windows ADD COLUMN emitted INTEGER NOT NULL DEFAULT 0;
            CREATE INDEX rollup_windows_unemitted ON rollup_windows (rollup_id, window_start, group_key)
              WHERE emitted = 0;
            """);

    /** The schema version this build writes and reads. */
    static final int SCHEMA_VERSION = MIGRATIONS.size();

    /** Read-only connections for queries and status; a query waits while all are in use. */
    static final int READ_CONNECTIONS = 2;

    /** Page cache of each read connection, in KiB (SQLite's default is 2,000). */
    static final int READ_CACHE_KIB = 4_096;

    /** What a writing statement waits for a lock held by another connection, in milliseconds. */
    static final int BUSY_TIMEOUT_MILLIS = 5_000;

    /** Work on a connection. */
    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private final Path file;
    private final List<String> migrations;
    private final Connection writer;
    private final BlockingQueue<Connection> readers = new ArrayBlockingQueue<>(READ_CONNECTIONS);

    private RollupDatabase(Path file, List<String> migrations, Connection writer) {
        this.file = file;
        this.migrations = migrations;
        this.writer = writer;
    }

    /** Opens (creating if needed) the node's rollups file and applies pending migrations. */
    static RollupDatabase open(Path file) {
        return open(file, MIGRATIONS);
    }

    /**
     * Opens (creating if needed) a file of rollup windows with its own schema history (the hub's file has the
     * node's window tables, so {@link WindowQuery} reads both) and applies pending migrations.
     */
    static RollupDatabase open(Path file, List<String> migrations) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (dir != null) {
                Files.createDirectories(dir);
            }
        } catch (IOException e) {
            throw new StoreException("create rollups directory", file, "check permissions of the data directory", e);
        }
        RollupDatabase db;
        try {
            db = new RollupDatabase(file, migrations, connect(file, false));
        } catch (SQLException e) {
            throw new StoreException("open rollups", file, "the file must be an SQLite database written by Outpost", e);
        }
        try {
            db.migrate();
            for (int i = 0; i < READ_CONNECTIONS; i++) {
                db.readers.add(connect(file, true));
            }
        } catch (SQLException | RuntimeException e) {
            db.close();
            throw e instanceof SQLException s ? db.failed("open rollups", s) : (RuntimeException) e;
        }
        return db;
    }

    private static Connection connect(Path file, boolean readOnly) throws SQLException {
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        try (Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            s.execute("PRAGMA synchronous=NORMAL");
            s.execute("PRAGMA busy_timeout=" + BUSY_TIMEOUT_MILLIS);
            if (readOnly) {
                s.execute("PRAGMA query_only=true");
                s.execute("PRAGMA cache_size=-" + READ_CACHE_KIB);
            }
        }
        return c;
    }

    private void migrate() throws SQLException {
        int from = SchemaMigrations.apply(
                writer,
                migrations,
                "the file",
                "open rollups",
                file,
                "run that version, or delete the file to rebuild the rollups from the log");
        if (from < migrations.size()) {
            LOG.info("rollups {} migrated from schema {} to {}", file, from, migrations.size());
        }
    }

    /** Runs {@code work} on the writing connection in one transaction: all of it, or nothing. */
    <T> T transaction(Work<T> work) {
        try {
            writer.setAutoCommit(false);
            try {
                T result = work.run(writer);
                writer.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                writer.rollback();
                throw e;
            } finally {
                writer.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw failed("write rollups", e);
        }
    }

    /** Runs {@code work} on the writing connection without a transaction of its own (reads of the engine). */
    <T> T write(Work<T> work) {
        try {
            return work.run(writer);
        } catch (SQLException e) {
            throw failed("read rollups", e);
        }
    }

    /** Runs {@code work} on a read-only connection; waits while all are in use. */
    <T> T read(Work<T> work) {
        Connection c;
        try {
            c = readers.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("query rollups", file, "interrupted while waiting for a connection", e);
        }
        try {
            return work.run(c);
        } catch (SQLException e) {
            throw failed("query rollups", e);
        } finally {
            readers.add(c);
        }
    }

    StoreException failed(String operation, SQLException e) {
        return new StoreException(operation, file, "the rollups file may be damaged or the disk full", e);
    }

    /** Binds {@code args} to {@code sql} in order and runs the update. */
    static int update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                p.setObject(i + 1, args[i]);
            }
            return p.executeUpdate();
        }
    }

    /** The window starts with rows of {@code rollupId} from {@code fromStart} on. */
    List<Long> windowStarts(long rollupId, long fromStart) {
        return write(c -> RollupRows.windowStarts(c, rollupId, fromStart));
    }

    /** The bytes the file and its WAL and shared-memory files take now (0 for one that is missing). */
    long diskBytes() {
        long bytes = 0;
        for (String suffix : List.of("", "-wal", "-shm")) {
            try {
                bytes += Files.size(Path.of(file + suffix));
            } catch (IOException e) {
                // not there (yet): counts nothing
            }
        }
        return bytes;
    }

    /** The stored summary of one window and group, or null. */
    byte[] summary(long rollupId, long windowStart, String groupKey) {
        return write(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT summary FROM rollup_summaries"
                    + " WHERE rollup_id = ? AND window_start = ? AND group_key = ?")) {
                p.setLong(1, rollupId);
                p.setLong(2, windowStart);
                p.setString(3, groupKey);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next() ? rs.getBytes(1) : null;
                }
            }
        });
    }

    @Override
    public void close() {
        List<Connection> all = new ArrayList<>();
        readers.drainTo(all);
        all.add(writer);
        for (Connection c : all) {
            try {
                c.close();
            } catch (SQLException e) {
                LOG.atWarn()
                        .addKeyValue(LogFields.ADVICE, "nothing to do: SQLite recovers its journal at the next start")
                        .log("closing rollups {}: {}", file, e.toString());
            }
        }
    }
}
