package dev.outpost.store;

import dev.outpost.compress.Dictionary;
import dev.outpost.compress.DictionaryResolver;
import dev.outpost.compress.Purpose;
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
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SQLite catalog: small, durable bookkeeping beside the event log. It holds the Zstd
 * dictionary registry, stream definitions (migration 2), quarantine records (3), sync cursors:
 * the {@link AckedRanges} each upstream has acknowledged per lane (4), and the retention log: one
 * row per log cycle file deleted (5), and the configuration a hub set on this node over pull (6). Rollups join it as their issue lands, as a new migration.
 *
 * <p>Design note. One connection, WAL journal, {@code synchronous=FULL} (catalog writes are rare
 * and must survive power loss), prepared statements. Schema changes are versioned migrations in
 * {@link #MIGRATIONS}, applied in one transaction at open; a catalog whose version is newer than
 * this binary knows stops startup with a clear error instead of being misread. Thread-safe (every
 * method synchronizes on the connection).
 */
public final class Catalog implements AutoCloseable, DictionaryResolver, SyncCursors {
    private static final Logger LOG = LoggerFactory.getLogger(Catalog.class);

    /** The catalog's schema: migration i (0-based) brings it to version i + 1 ({@link CatalogSchema}). */
    static final List<String> MIGRATIONS = CatalogSchema.MIGRATIONS;

    /** The schema version this build writes and reads. */
    public static final int SCHEMA_VERSION = MIGRATIONS.size();

    /** Most dictionaries kept decoded in memory (each holds native Zstd tables). */
    public static final int DICTIONARY_CACHE_MAX = 64;

    /** The columns of a dictionary row, as the row reader below takes them. */
    private static final String DICTIONARY_ROW =
            "SELECT id, stream, purpose, length(bytes), samples, created_at_millis FROM dictionaries";

    /** Most retention log rows kept ({@link RetentionRecords#ROWS_MAX}). */
    public static final int RETENTION_LOG_ROWS_MAX = RetentionRecords.ROWS_MAX;

    private final Path file;
    private final Connection db;
    private final Map<Long, Dictionary> cache = new ConcurrentHashMap<>();
    private volatile int cacheMax = DICTIONARY_CACHE_MAX; // lowered under memory pressure
    private final EngineRecords engine = new EngineRecords(this);
    private final RetentionRecords retention = new RetentionRecords(this);

    private Catalog(Path file, Connection db) {
        this.file = file;
        this.db = db;
    }

    /** Opens (creating if needed) the catalog file and applies pending migrations. */
    public static Catalog open(Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new StoreException("create catalog directory", file, "check permissions of the data directory", e);
        }
        Connection db;
        try {
            db = DriverManager.getConnection("jdbc:sqlite:" + file);
            try (Statement s = db.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=FULL");
                s.execute("PRAGMA busy_timeout=5000");
            }
        } catch (SQLException e) {
            throw new StoreException("open catalog", file, "the file must be an SQLite database written by Outpost", e);
        }
        Catalog c = new Catalog(file, db);
        try {
            c.migrate();
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    private void migrate() {
        try {
            int from = SchemaMigrations.apply(
                    db,
                    MIGRATIONS,
                    "the catalog",
                    "open catalog",
                    file,
                    "run that version or restore the data directory from before the upgrade");
            if (from < SCHEMA_VERSION) {
                LOG.info("catalog {} migrated from schema {} to {}", file, from, SCHEMA_VERSION);
            }
        } catch (SQLException e) {
            throw new StoreException(
                    "migrate catalog", file, "the catalog may be damaged; restore it from a backup", e);
        }
    }

    /** The schema version on disk. */
    public synchronized int schemaVersion() {
        try (Statement s = db.createStatement();
                ResultSet rs = s.executeQuery("SELECT max(version) FROM schema_version")) {
            return rs.next() ? rs.getInt(1) : 0;
        } catch (SQLException e) {
            throw new StoreException("read catalog schema version", file, "the catalog may be damaged", e);
        }
    }

    /**
     * A dictionary row.
     *
     * @param id the dictionary's content-derived id
     * @param stream the stream it was trained on
     * @param purpose what it is for
     * @param bytes its size
     * @param samples how many samples trained it
     * @param createdAtMillis when it was stored
     */
    public record DictionaryInfo(
            long id, String stream, Purpose purpose, int bytes, int samples, long createdAtMillis) {}

    /**
     * Stores a dictionary for a stream and purpose. Storing the same dictionary again is a no-op.
     *
     * @throws StoreException if another dictionary has the same id (a 32-bit id collision)
     */
    public synchronized void putDictionary(String stream, Purpose purpose, Dictionary d, int samples) {
        if (!tryPutDictionary(stream, purpose, d, samples)) {
            throw new StoreException(
                    "store dictionary " + Long.toHexString(d.id()),
                    file,
                    "another dictionary has the same id; retrain with different samples",
                    null);
        }
    }

    /**
     * Stores a dictionary for a stream and purpose, as {@link #putDictionary}; false, with nothing stored, if another
     * dictionary has the same id (a 32-bit id collision). Storing the same dictionary again is a no-op (true).
     */
    public synchronized boolean tryPutDictionary(String stream, Purpose purpose, Dictionary d, int samples) {
        return !(storeDictionary(stream, purpose, d, samples) instanceof DictionaryPut.IdTaken);
    }

    /**
     * Stores a dictionary for a stream and purpose unless a row holds its id already: the same dictionary (nothing
     * changes) or another one (a 32-bit id collision, or a row whose bytes no longer match its id; nothing stored).
     */
    public synchronized DictionaryPut storeDictionary(String stream, Purpose purpose, Dictionary d, int samples) {
        DictionaryInfo held = dictionaryInfo(d.id());
        if (held != null) {
            return d.equals(find(d.id())) ? new DictionaryPut.AlreadyStored(held) : new DictionaryPut.IdTaken(held);
        }
        long now = System.currentTimeMillis();
        try (PreparedStatement p = db.prepareStatement(
                "INSERT INTO dictionaries (id, stream, purpose, bytes, samples, created_at_millis) VALUES (?,?,?,?,?,?)")) {
            p.setLong(1, d.id());
            p.setString(2, stream);
            p.setString(3, purpose.name());
            p.setBytes(4, d.bytes());
            p.setInt(5, samples);
            p.setLong(6, now);
            p.executeUpdate();
        } catch (SQLException e) {
            throw writeFailed("store dictionary", e);
        }
        return new DictionaryPut.Stored(new DictionaryInfo(d.id(), stream, purpose, d.size(), samples, now));
    }

    /** The row of the dictionary with {@code id} as stored (its bytes not checked), or null. */
    public synchronized DictionaryInfo dictionaryInfo(long id) {
        try (PreparedStatement p = db.prepareStatement(DICTIONARY_ROW + " WHERE id = ?")) {
            p.setLong(1, id);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? dictionaryInfo(rs) : null;
            }
        } catch (SQLException e) {
            throw new StoreException("read dictionary " + Long.toHexString(id), file, "the catalog may be damaged", e);
        }
    }

    private static DictionaryInfo dictionaryInfo(ResultSet rs) throws SQLException {
        return new DictionaryInfo(
                rs.getLong(1),
                rs.getString(2),
                Purpose.valueOf(rs.getString(3)),
                rs.getInt(4),
                rs.getInt(5),
                rs.getLong(6));
    }

    /** The dictionary with {@code id}, or null; verified against its content-derived id. */
    @Override
    public Dictionary find(long id) {
        Dictionary d = cache.get(id);
        if (d != null) {
            return d;
        }
        synchronized (this) {
            try (PreparedStatement p = db.prepareStatement("SELECT bytes FROM dictionaries WHERE id = ?")) {
                p.setLong(1, id);
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        return null;
                    }
                    d = Dictionary.of(rs.getBytes(1));
                }
            } catch (SQLException e) {
                throw new StoreException(
                        "read dictionary " + Long.toHexString(id), file, "the catalog may be damaged", e);
            }
            if (d.id() != id) {
                LOG.atError()
                        .addKeyValue(
                                LogFields.ADVICE,
                                "train the stream's dictionary again (POST /v1/dictionaries);"
                                        + " data compressed with the old one stays unreadable until the catalog is restored")
                        .log(
                                "dictionary {} in the catalog does not match its id (content changed); ignoring it",
                                Long.toHexString(id));
                return null;
            }
            evictTo(cacheMax - 1);
            cache.put(id, d);
            return d;
        }
    }

    /**
     * Sets how many dictionaries are kept decoded (1 to {@link #DICTIONARY_CACHE_MAX}) and evicts down to it now; an
     * evicted dictionary is read from the catalog again when a frame needs it.
     */
    public synchronized void dictionaryCacheMax(int max) {
        cacheMax = Math.clamp(max, 1, DICTIONARY_CACHE_MAX);
        evictTo(cacheMax);
    }

    /** Dictionaries decoded in memory now. */
    public int dictionaryCacheSize() {
        return cache.size();
    }

    /** Evicts arbitrary entries until at most {@code size} are left. Called holding this. */
    private void evictTo(int size) {
        var keys = cache.keySet().iterator();
        while (cache.size() > size && keys.hasNext()) {
            keys.next();
            keys.remove(); // its native tables are freed when it is collected
        }
    }

    /**
     * A stream definition row.
     *
     * @param name the stream
     * @param priority its priority class
     * @param retentionSeconds how long its data is kept (0: until the disk budget needs it)
     * @param schemaJson its data schema as JSON, or null
     * @param source "config" (declared in YAML) or "api" (PUT /v1/streams)
     */
    public record StreamRow(String name, String priority, long retentionSeconds, String schemaJson, String source) {}

    /** Inserts or replaces a stream definition. */
    public synchronized void putStream(StreamRow s) {
        try (PreparedStatement p = db.prepareStatement(
                "INSERT OR REPLACE INTO streams"
                        + " (name, priority, retention_seconds, schema_json, source, updated_at_millis) VALUES (?,?,?,?,?,?)")) {
            p.setString(1, s.name());
            p.setString(2, s.priority());
            p.setLong(3, s.retentionSeconds());
            p.setString(4, s.schemaJson());
            p.setString(5, s.source());
            p.setLong(6, System.currentTimeMillis());
            p.executeUpdate();
        } catch (SQLException e) {
            throw writeFailed("store stream " + s.name(), e);
        }
    }

    /** Every stream definition, by name. */
    public synchronized List<StreamRow> streams() {
        List<StreamRow> out = new ArrayList<>();
        try (Statement st = db.createStatement();
                ResultSet rs = st.executeQuery(
                        "SELECT name, priority, retention_seconds, schema_json, source FROM streams ORDER BY name")) {
            while (rs.next()) {
                out.add(new StreamRow(
                        rs.getString(1), rs.getString(2), rs.getLong(3), rs.getString(4), rs.getString(5)));
            }
        } catch (SQLException e) {
            throw new StoreException("list streams", file, "the catalog may be damaged", e);
        }
        return out;
    }

    /**
     * Something corrupt that was kept aside.
     *
     * @param kind what it is, e.g. "log-group"
     * @param location where it was (e.g. the log index)
     * @param file where its bytes are kept
     * @param bytes its size
     * @param foundAtMillis when it was first recorded
     */
    public record QuarantineRow(String kind, String location, String file, long bytes, long foundAtMillis) {}

    /** Records a quarantined item once (a second call for the same kind and location is a no-op). */
    public synchronized void recordQuarantine(String kind, String location, String file, long bytes) {
        try (PreparedStatement p = db.prepareStatement("INSERT OR IGNORE INTO quarantine"
                + " (kind, location, file, bytes, found_at_millis) VALUES (?,?,?,?,?)")) {
            p.setString(1, kind);
            p.setString(2, location);
            p.setString(3, file);
            p.setLong(4, bytes);
            p.setLong(5, System.currentTimeMillis());
            p.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException(
                    "record quarantine",
                    file == null ? this.file : Path.of(file),
                    "check free space of the data directory",
                    e);
        }
    }

    /** Everything quarantined, oldest first (at most {@code limit}). */
    public synchronized List<QuarantineRow> quarantine(int limit) {
        List<QuarantineRow> out = new ArrayList<>();
        try (PreparedStatement p =
                db.prepareStatement("SELECT kind, location, file, bytes, found_at_millis FROM quarantine"
                        + " ORDER BY found_at_millis, location LIMIT ?")) {
            p.setInt(1, limit);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    out.add(new QuarantineRow(
                            rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getLong(5)));
                }
            }
        } catch (SQLException e) {
            throw new StoreException("list quarantine", file, "the catalog may be damaged", e);
        }
        return out;
    }

    /** The newest dictionary for a stream and purpose, or null. */
    public synchronized Dictionary latestDictionary(String stream, Purpose purpose) {
        try (PreparedStatement p = db.prepareStatement(
                "SELECT id FROM dictionaries WHERE stream = ? AND purpose = ? ORDER BY created_at_millis DESC, rowid DESC LIMIT 1")) {
            p.setString(1, stream);
            p.setString(2, purpose.name());
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? find(rs.getLong(1)) : null;
            }
        } catch (SQLException e) {
            throw new StoreException("find dictionary for " + stream, file, "the catalog may be damaged", e);
        }
    }

    /** Every stored dictionary, newest first (at most {@code limit}). */
    public synchronized List<DictionaryInfo> dictionaries(int limit) {
        List<DictionaryInfo> out = new ArrayList<>();
        try (PreparedStatement p =
                db.prepareStatement(DICTIONARY_ROW + " ORDER BY created_at_millis DESC, rowid DESC LIMIT ?")) {
            p.setInt(1, limit);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    out.add(dictionaryInfo(rs));
                }
            }
        } catch (SQLException e) {
            throw new StoreException("list dictionaries", file, "the catalog may be damaged", e);
        }
        return out;
    }

    /**
     * A sync cursor row.
     *
     * @param upstream the upstream (hub) the cursor is for
     * @param lane the priority lane
     * @param ranges what the upstream has acknowledged: a fresh copy, owned by the caller
     * @param updatedAtMillis when it was last stored
     */
    public record SyncCursorRow(String upstream, String lane, AckedRanges ranges, long updatedAtMillis) {}

    /** What {@code upstream} has acknowledged on {@code lane}: a fresh copy, empty if nothing is stored. */
    @Override
    public synchronized AckedRanges syncCursor(String upstream, String lane) {
        try (PreparedStatement p =
                db.prepareStatement("SELECT ranges FROM sync_cursors WHERE upstream = ? AND lane = ?")) {
            p.setString(1, upstream);
            p.setString(2, lane);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? decodeCursor(upstream, lane, rs.getBytes(1)) : new AckedRanges();
            }
        } catch (SQLException e) {
            throw new StoreException(
                    "read sync cursor " + upstream + "/" + lane, file, "the catalog may be damaged", e);
        }
    }

    /**
     * Stores (replacing) what {@code upstream} has acknowledged on {@code lane}. Durable when it
     * returns: the commit is synced ({@code synchronous=FULL}), so a lane that stores its cursor
     * before acting on an acknowledgement never forgets one after power loss.
     */
    @Override
    public synchronized void putSyncCursor(String upstream, String lane, AckedRanges ranges) {
        Objects.requireNonNull(upstream, "upstream");
        Objects.requireNonNull(lane, "lane");
        byte[] encoded = ranges.encode();
        try (PreparedStatement p = db.prepareStatement("INSERT OR REPLACE INTO sync_cursors"
                + " (upstream, lane, ranges, updated_at_millis) VALUES (?,?,?,?)")) {
            p.setString(1, upstream);
            p.setString(2, lane);
            p.setBytes(3, encoded);
            p.setLong(4, System.currentTimeMillis());
            p.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException(
                    "store sync cursor " + upstream + "/" + lane, file, "check free space of the data directory", e);
        }
    }

    /**
     * One configuration key a hub set on this node (config changes over pull).
     *
     * @param key the dotted key, as in the YAML file
     * @param rawValue the value as the hub sent it (re-validated at every start)
     * @param hlc the hub's HLC of the change
     * @param origin the node id of the hub that published it
     */
    public record RemoteConfigRow(String key, String rawValue, long hlc, String origin) {}

    /**
     * Replaces the whole set of hub-set configuration keys in one transaction: after a crash the
     * catalog holds either the old set or the new one, never a mix.
     */
    public synchronized void replaceRemoteConfig(List<RemoteConfigRow> rows) {
        transaction("store remote configuration", c -> {
            try (Statement st = c.createStatement();
                    PreparedStatement p = c.prepareStatement("INSERT INTO remote_config"
                            + " (config_key, raw_value, hlc, origin, updated_at_millis) VALUES (?,?,?,?,?)")) {
                st.executeUpdate("DELETE FROM remote_config");
                long now = System.currentTimeMillis();
                for (RemoteConfigRow r : rows) {
                    p.setString(1, r.key());
                    p.setString(2, r.rawValue());
                    p.setLong(3, r.hlc());
                    p.setString(4, r.origin());
                    p.setLong(5, now);
                    p.addBatch();
                }
                p.executeBatch();
            }
            return null;
        });
    }

    /** The configuration keys a hub set on this node, by key. */
    public synchronized List<RemoteConfigRow> remoteConfig() {
        List<RemoteConfigRow> out = new ArrayList<>();
        try (Statement st = db.createStatement();
                ResultSet rs = st.executeQuery(
                        "SELECT config_key, raw_value, hlc, origin FROM remote_config ORDER BY config_key")) {
            while (rs.next()) {
                out.add(new RemoteConfigRow(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getString(4)));
            }
        } catch (SQLException e) {
            throw new StoreException("read remote configuration", file, "the catalog may be damaged", e);
        }
        return out;
    }

    /** The retention log: one row per deleted log cycle (GET /v1/retention). */
    public RetentionRecords retention() {
        return retention;
    }

    /** The engine's rules, rollup definitions and checkpoints, kept in this catalog. */
    public EngineRecords engine() {
        return engine;
    }

    /** Runs {@code work} in one transaction on the catalog's connection; rolls back and throws if it fails. */
    synchronized <T> T transaction(String what, SqlWork<T> work) {
        try {
            db.setAutoCommit(false);
            try {
                T result = work.run(db);
                db.commit();
                return result;
            } catch (SQLException e) {
                db.rollback();
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException(what, file, "check free space of the data directory", e);
        }
    }

    /** Runs {@code work} on the catalog's connection, outside a transaction (one statement). */
    synchronized <T> T read(String what, SqlWork<T> work) {
        try {
            return work.run(db);
        } catch (SQLException e) {
            throw new StoreException(what, file, "the catalog may be damaged", e);
        }
    }

    /** Work on the catalog's connection. */
    @FunctionalInterface
    interface SqlWork<T> {
        T run(Connection db) throws SQLException;
    }

    /** Every sync cursor, by upstream then lane. */
    public synchronized List<SyncCursorRow> syncCursors() {
        List<SyncCursorRow> out = new ArrayList<>();
        try (Statement st = db.createStatement();
                ResultSet rs = st.executeQuery("SELECT upstream, lane, ranges, updated_at_millis FROM sync_cursors"
                        + " ORDER BY upstream, lane")) {
            while (rs.next()) {
                String upstream = rs.getString(1);
                String lane = rs.getString(2);
                out.add(new SyncCursorRow(upstream, lane, decodeCursor(upstream, lane, rs.getBytes(3)), rs.getLong(4)));
            }
        } catch (SQLException e) {
            throw new StoreException("list sync cursors", file, "the catalog may be damaged", e);
        }
        return out;
    }

    /** Decodes a stored cursor, naming the catalog row if it is damaged. */
    private AckedRanges decodeCursor(String upstream, String lane, byte[] bytes) {
        try {
            return AckedRanges.decode(bytes, file);
        } catch (StoreException e) {
            // Not reset silently: an empty cursor resends the whole lane, which the operator should know.
            throw new StoreException(
                    "read sync cursor " + upstream + "/" + lane,
                    file,
                    "the stored cursor is damaged; delete its row from sync_cursors and the lane resends from the"
                            + " start (the hub deduplicates)",
                    e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            db.close();
        } catch (SQLException e) {
            LOG.atWarn()
                    .addKeyValue(LogFields.ADVICE, "nothing to do: SQLite recovers its journal at the next start")
                    .setCause(e)
                    .log("closing catalog {} failed", file);
        }
    }

    /** A failed write: a {@link DiskFullException} (HTTP 507) if SQLite says the disk is full. */
    private StoreException writeFailed(String operation, SQLException e) {
        return (e.getErrorCode() & 0xff) == SQLITE_FULL
                ? new DiskFullException(operation, file, e)
                : new StoreException(operation, file, "check free space and permissions of the data directory", e);
    }

    /** SQLite's primary result code for "database or disk is full". */
    private static final int SQLITE_FULL = 13;
}
