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

    /** Migration i (0-based) brings the schema to version i + 1. Append only; never edit one. */
    static final List<String> MIGRATIONS = List.of("""
            CREATE TABLE dictionaries (
              id INTEGER PRIMARY KEY,
              stream TEXT NOT NULL,
              purpose TEXT NOT NULL,
              bytes BLOB NOT NULL,
              samples INTEGER NOT NULL,
              created_at_millis INTEGER NOT NULL
            );
            CREATE INDEX dictionaries_by_stream ON dictionaries (stream, purpose, created_at_millis);
            """, """
            CREATE TABLE streams (
              name TEXT PRIMARY KEY,
              priority TEXT NOT NULL,
              retention_seconds INTEGER NOT NULL,
              schema_json TEXT,
              source TEXT NOT NULL,
              updated_at_millis INTEGER NOT NULL
            );
            """, """
            CREATE TABLE quarantine (
              kind TEXT NOT NULL,
              location TEXT NOT NULL,
              file TEXT NOT NULL,
              bytes INTEGER NOT NULL,
              found_at_millis INTEGER NOT NULL,
              PRIMARY KEY (kind, location)
            );
            """, """
            CREATE TABLE sync_cursors (
              upstream TEXT NOT NULL,
              lane TEXT NOT NULL,
              ranges BLOB NOT NULL,
              updated_at_millis INTEGER NOT NULL,
              PRIMARY KEY (upstream, lane)
            );
            """, """
            CREATE TABLE retention_log (
              id INTEGER PRIMARY KEY AUTOINCREMENT,
              at_millis INTEGER NOT NULL,
              lane TEXT NOT NULL,
              cycle INTEGER NOT NULL,
              first_seq INTEGER NOT NULL,
              last_seq INTEGER NOT NULL,
              bytes INTEGER NOT NULL,
              events INTEGER NOT NULL,
              unsynced_events INTEGER NOT NULL,
              reason TEXT NOT NULL,
              streams_json TEXT NOT NULL
            );
            """, """
            CREATE TABLE remote_config (
              config_key TEXT PRIMARY KEY,
              raw_value TEXT NOT NULL,
              hlc INTEGER NOT NULL,
              origin TEXT NOT NULL,
              updated_at_millis INTEGER NOT NULL
            );
            """, """
            CREATE TABLE rules (
              name TEXT PRIMARY KEY,
              definition_json TEXT NOT NULL,
              source TEXT NOT NULL,
              updated_at_millis INTEGER NOT NULL
            );
            CREATE TABLE engine_checkpoints (
              name TEXT PRIMARY KEY,
              seq INTEGER NOT NULL,
              state BLOB NOT NULL,
              updated_at_millis INTEGER NOT NULL
            );
            """, """
            CREATE TABLE rollup_definitions (
              name TEXT PRIMARY KEY,
              definition_json TEXT NOT NULL,
              source TEXT NOT NULL,
              updated_at_millis INTEGER NOT NULL
            );
            """);

    /** The schema version this build writes and reads. */
    public static final int SCHEMA_VERSION = MIGRATIONS.size();

    /** Most dictionaries kept decoded in memory (each holds native Zstd tables). */
    public static final int DICTIONARY_CACHE_MAX = 64;

    /** Most retention log rows kept; recording one more deletes the oldest. */
    public static final int RETENTION_LOG_ROWS_MAX = 10_000;

    private final Path file;
    private final Connection db;
    private final Map<Long, Dictionary> cache = new ConcurrentHashMap<>();
    private volatile int cacheMax = DICTIONARY_CACHE_MAX; // lowered under memory pressure

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
        try (Statement s = db.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
            int current = 0;
            try (ResultSet rs = s.executeQuery("SELECT max(version) FROM schema_version")) {
                if (rs.next()) {
                    current = rs.getInt(1);
                }
            }
            if (current > SCHEMA_VERSION) {
                throw new StoreException(
                        "open catalog",
                        file,
                        "the catalog has schema version " + current + " but this Outpost knows only up to "
                                + SCHEMA_VERSION + ": it was written by a newer Outpost; run that version or"
                                + " restore the data directory from before the upgrade",
                        null);
            }
            if (current == SCHEMA_VERSION) {
                return;
            }
            db.setAutoCommit(false);
            try {
                for (int v = current; v < SCHEMA_VERSION; v++) {
                    for (String stmt : MIGRATIONS.get(v).split(";")) {
                        if (!stmt.isBlank()) {
                            s.execute(stmt);
                        }
                    }
                    s.execute("INSERT INTO schema_version (version) VALUES (" + (v + 1) + ")");
                }
                db.commit();
            } catch (SQLException e) {
                db.rollback();
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
            LOG.info("catalog {} migrated from schema {} to {}", file, current, SCHEMA_VERSION);
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
        Dictionary existing = find(d.id());
        if (existing != null) {
            if (!existing.equals(d)) {
                throw new StoreException(
                        "store dictionary " + Long.toHexString(d.id()),
                        file,
                        "another dictionary has the same id; retrain with different samples",
                        null);
            }
            return;
        }
        try (PreparedStatement p = db.prepareStatement(
                "INSERT INTO dictionaries (id, stream, purpose, bytes, samples, created_at_millis) VALUES (?,?,?,?,?,?)")) {
            p.setLong(1, d.id());
            p.setString(2, stream);
            p.setString(3, purpose.name());
            p.setBytes(4, d.bytes());
            p.setInt(5, samples);
            p.setLong(6, System.currentTimeMillis());
            p.executeUpdate();
        } catch (SQLException e) {
            throw writeFailed("store dictionary", e);
        }
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
                LOG.error(
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
        try (PreparedStatement p = db.prepareStatement(
                "SELECT id, stream, purpose, length(bytes), samples, created_at_millis FROM dictionaries"
                        + " ORDER BY created_at_millis DESC, rowid DESC LIMIT ?")) {
            p.setInt(1, limit);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    out.add(new DictionaryInfo(
                            rs.getLong(1),
                            rs.getString(2),
                            Purpose.valueOf(rs.getString(3)),
                            rs.getInt(4),
                            rs.getInt(5),
                            rs.getLong(6)));
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
        try {
            db.setAutoCommit(false);
            try (Statement st = db.createStatement();
                    PreparedStatement p = db.prepareStatement("INSERT INTO remote_config"
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
                db.commit();
            } catch (SQLException e) {
                db.rollback();
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException("store remote configuration", file, "check free space of the data directory", e);
        }
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

    /**
     * An engine definition as stored: a rule or a rollup.
     *
     * @param definitionJson the definition, a JSON object
     * @param source {@code config} (declared in the YAML file), {@code api} or {@code hub}
     */
    public record DefinitionRow(String name, String definitionJson, String source) {}

    /**
     * Replaces the whole rule set in one transaction: a rule set is applied all or nothing, so after a crash the
     * catalog holds either the old set or the new one, never a mix.
     */
    public synchronized void replaceRules(List<DefinitionRow> rows) {
        replaceDefinitions("rules", rows);
    }

    /** The stored rules, by name. */
    public synchronized List<DefinitionRow> rules() {
        return definitions("rules");
    }

    /** Replaces the whole set of rollup definitions in one transaction (as {@link #replaceRules}). */
    public synchronized void replaceRollups(List<DefinitionRow> rows) {
        replaceDefinitions("rollup_definitions", rows);
    }

    /** The stored rollup definitions, by name. */
    public synchronized List<DefinitionRow> rollups() {
        return definitions("rollup_definitions");
    }

    private void replaceDefinitions(String table, List<DefinitionRow> rows) {
        try {
            db.setAutoCommit(false);
            try (Statement st = db.createStatement();
                    PreparedStatement p = db.prepareStatement("INSERT INTO " + table
                            + " (name, definition_json, source, updated_at_millis) VALUES (?,?,?,?)")) {
                st.executeUpdate("DELETE FROM " + table);
                long now = System.currentTimeMillis();
                for (DefinitionRow r : rows) {
                    p.setString(1, r.name());
                    p.setString(2, r.definitionJson());
                    p.setString(3, r.source());
                    p.setLong(4, now);
                    p.addBatch();
                }
                p.executeBatch();
                db.commit();
            } catch (SQLException e) {
                db.rollback();
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException("store " + table, file, "check free space of the data directory", e);
        }
    }

    private List<DefinitionRow> definitions(String table) {
        List<DefinitionRow> out = new ArrayList<>();
        try (Statement st = db.createStatement();
                ResultSet rs =
                        st.executeQuery("SELECT name, definition_json, source FROM " + table + " ORDER BY name")) {
            while (rs.next()) {
                out.add(new DefinitionRow(rs.getString(1), rs.getString(2), rs.getString(3)));
            }
        } catch (SQLException e) {
            throw new StoreException("read " + table, file, "the catalog may be damaged", e);
        }
        return out;
    }

    /**
     * A log follower's checkpoint: every event at or below {@code seq} is processed and {@code state} is what the
     * follower derived from them (opaque to the catalog).
     */
    public record EngineCheckpoint(String name, long seq, byte[] state) {}

    /** Stores a follower's checkpoint (replacing the previous one). */
    public synchronized void putEngineCheckpoint(EngineCheckpoint c) {
        try (PreparedStatement p = db.prepareStatement("INSERT OR REPLACE INTO engine_checkpoints"
                + " (name, seq, state, updated_at_millis) VALUES (?,?,?,?)")) {
            p.setString(1, c.name());
            p.setLong(2, c.seq());
            p.setBytes(3, c.state());
            p.setLong(4, System.currentTimeMillis());
            p.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("store engine checkpoint", file, "check free space of the data directory", e);
        }
    }

    /** A follower's last checkpoint, or null if it never stored one. */
    public synchronized EngineCheckpoint engineCheckpoint(String name) {
        try (PreparedStatement p = db.prepareStatement("SELECT seq, state FROM engine_checkpoints WHERE name = ?")) {
            p.setString(1, name);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? new EngineCheckpoint(name, rs.getLong(1), rs.getBytes(2)) : null;
            }
        } catch (SQLException e) {
            throw new StoreException("read engine checkpoint", file, "the catalog may be damaged", e);
        }
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

    /**
     * Records a deleted log cycle file and deletes the oldest rows beyond {@link
     * #RETENTION_LOG_ROWS_MAX}, in one transaction.
     */
    public synchronized void recordRetention(RetentionRow r) {
        try {
            db.setAutoCommit(false);
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
                prune.setInt(1, RETENTION_LOG_ROWS_MAX);
                prune.executeUpdate();
                db.commit();
            } catch (SQLException e) {
                try {
                    db.rollback();
                } catch (SQLException re) {
                    e.addSuppressed(re);
                }
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException(
                    "record retention of " + r.lane() + " cycle " + r.cycle(),
                    file,
                    "check free space of the data directory",
                    e);
        }
    }

    /** The retention log, most recently recorded first (at most {@code limit}). */
    public synchronized List<RetentionRow> retentionLog(int limit) {
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
        } catch (SQLException e) {
            throw new StoreException("list retention log", file, "the catalog may be damaged", e);
        }
        return out;
    }

    @Override
    public synchronized void close() {
        try {
            db.close();
        } catch (SQLException e) {
            LOG.warn("closing catalog {} failed", file, e);
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
