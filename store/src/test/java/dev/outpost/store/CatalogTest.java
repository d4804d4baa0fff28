package dev.outpost.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.compress.Choice;
import dev.outpost.compress.Dictionary;
import dev.outpost.compress.DictionaryTrainer;
import dev.outpost.compress.FrameCodec;
import dev.outpost.compress.FrameException;
import dev.outpost.compress.Purpose;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The catalog on a real SQLite file. */
class CatalogTest {
    @TempDir
    Path dir;

    static List<byte[]> samples(long seed, int n) {
        Random r = new Random(seed);
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(("{\"stream\":\"traffic\",\"data\":{\"source_ip\":\"10.0." + r.nextInt(20) + "." + r.nextInt(255)
                            + "\",\"destination_ip\":\"172.16.0." + r.nextInt(255) + "\",\"bytes_transferred\":"
                            + r.nextInt(2_000_000) + ",\"protocol\":\"" + (r.nextBoolean() ? "TCP" : "UDP") + "\"}}")
                    .getBytes(StandardCharsets.UTF_8));
        }
        return out;
    }

    @Test
    void dictionariesAreStoredLoadedAndDecodeFramesAfterReopen() {
        Path file = dir.resolve("catalog.db");
        Dictionary d = DictionaryTrainer.train(samples(1, 1500), 8 * 1024);
        byte[] event = samples(2, 1).getFirst();
        FrameCodec codec = new FrameCodec();
        byte[] frame = codec.encode(event, 0, event.length, Choice.zstd(3, true), d);
        try (Catalog c = Catalog.open(file)) {
            assertEquals(Catalog.SCHEMA_VERSION, c.schemaVersion());
            c.putDictionary("traffic", Purpose.WIRE, d, 1500);
            c.putDictionary("traffic", Purpose.WIRE, d, 1500); // idempotent
            assertEquals(1, c.dictionaries(10).size());
        }
        try (Catalog c = Catalog.open(file)) {
            assertArrayEquals(event, codec.decode(frame, 0, frame.length, c), "decodes with the stored dictionary");
            assertEquals(d, c.latestDictionary("traffic", Purpose.WIRE));
            assertNull(c.latestDictionary("traffic", Purpose.COLD_SEGMENT));
            Catalog.DictionaryInfo info = c.dictionaries(10).getFirst();
            assertEquals(d.id(), info.id());
            assertEquals(1500, info.samples());
            assertNull(c.find(12345));
        }
        try (Catalog empty = Catalog.open(dir.resolve("other.db"))) {
            assertEquals(
                    FrameException.Kind.UNKNOWN_DICTIONARY,
                    assertThrows(FrameException.class, () -> codec.decode(frame, 0, frame.length, empty))
                            .kind());
        }
    }

    /** Under memory pressure the decoded-dictionary cache shrinks; evicted dictionaries are read back on demand. */
    @Test
    void dictionaryCacheShrinksAndIsRefilledOnDemand() {
        try (Catalog c = Catalog.open(dir.resolve("catalog.db"))) {
            List<Dictionary> all = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                Dictionary d = Dictionary.of(("dictionary content " + i).getBytes(StandardCharsets.UTF_8));
                c.putDictionary("s" + i, Purpose.WIRE, d, 1);
                all.add(d);
                assertEquals(d, c.find(d.id()));
            }
            assertEquals(10, c.dictionaryCacheSize(), "each decoded once, then kept");
            c.dictionaryCacheMax(3);
            assertEquals(3, c.dictionaryCacheSize(), "evicted at once");
            for (Dictionary d : all) {
                assertEquals(d, c.find(d.id()), "evicted ones are read from the catalog again");
                assertTrue(c.dictionaryCacheSize() <= 3, "and the cache stays within the lowered bound");
            }
            c.dictionaryCacheMax(0);
            assertEquals(1, c.dictionaryCacheSize(), "never below one");
            c.dictionaryCacheMax(Catalog.DICTIONARY_CACHE_MAX);
            for (Dictionary d : all) {
                c.find(d.id());
            }
            assertEquals(10, c.dictionaryCacheSize(), "restored: all kept again");
        }
    }

    /**
     * Storing says what holds the id afterwards; a row whose bytes no longer match its id (changed under the catalog)
     * holds it too: storing the dictionary of that id threw SQLite's primary-key violation as a StoreException ("check
     * free space"); now it is IdTaken with the row left as it was.
     */
    @Test
    void storingADictionaryNamesTheRowThatHoldsItsId() throws Exception {
        Path file = dir.resolve("catalog.db");
        Dictionary d = Dictionary.of("dictionary content".getBytes(StandardCharsets.UTF_8));
        Catalog.DictionaryInfo row;
        try (Catalog c = Catalog.open(file)) {
            row = assertInstanceOf(DictionaryPut.Stored.class, c.storeDictionary("a", Purpose.WIRE, d, 3))
                    .row();
            assertEquals(List.of(row), c.dictionaries(10), "the row as stored");
            assertEquals(new DictionaryPut.AlreadyStored(row), c.storeDictionary("b", Purpose.HOT_LOG, d, 9));
            assertEquals(row, c.dictionaryInfo(d.id()));
            assertNull(c.dictionaryInfo(d.id() + 1));
        }
        byte[] other = "other content".getBytes(StandardCharsets.UTF_8);
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + file);
                PreparedStatement p = db.prepareStatement("UPDATE dictionaries SET bytes = ?")) {
            p.setBytes(1, other);
            p.executeUpdate();
        }
        try (Catalog c = Catalog.open(file)) {
            Catalog.DictionaryInfo damaged = new Catalog.DictionaryInfo(
                    d.id(), "a", Purpose.WIRE, other.length, row.samples(), row.createdAtMillis());
            assertEquals(new DictionaryPut.IdTaken(damaged), c.storeDictionary("a", Purpose.WIRE, d, 3));
            assertFalse(c.tryPutDictionary("a", Purpose.WIRE, d, 3));
            assertEquals(List.of(damaged), c.dictionaries(10), "nothing stored");
        }
    }

    /** A catalog written by an older build (schema 1) is migrated in place, its data kept. */
    @Test
    void olderSchemasAreMigratedKeepingData() throws Exception {
        Path file = dir.resolve("old.db");
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + file);
                Statement s = db.createStatement()) {
            s.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)");
            for (String stmt : Catalog.MIGRATIONS.get(0).split(";")) {
                if (!stmt.isBlank()) {
                    s.execute(stmt);
                }
            }
            s.execute("INSERT INTO schema_version (version) VALUES (1)");
            s.execute("INSERT INTO dictionaries VALUES (7, 's', 'WIRE', x'00', 1, 1)");
        }
        try (Catalog c = Catalog.open(file)) {
            assertEquals(Catalog.SCHEMA_VERSION, c.schemaVersion());
            assertEquals(1, c.dictionaries(10).size(), "data from schema 1 is kept");
            c.putStream(new Catalog.StreamRow("traffic", "high", 86400, "{\"type\":\"object\"}", "api"));
            c.putStream(new Catalog.StreamRow("traffic", "critical", 0, null, "api"));
            assertEquals(List.of(new Catalog.StreamRow("traffic", "critical", 0, null, "api")), c.streams());
        }
    }

    @Test
    void aNewerSchemaStopsOpenWithAClearMessage() throws Exception {
        Path file = dir.resolve("catalog.db");
        Catalog.open(file).close();
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + file);
                Statement s = db.createStatement()) {
            s.execute("INSERT INTO schema_version (version) VALUES (" + (Catalog.SCHEMA_VERSION + 1) + ")");
        }
        StoreException e = assertThrows(StoreException.class, () -> Catalog.open(file));
        assertTrue(e.getMessage().contains("written by a newer Outpost"), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void syncCursorsSurviveCloseAndReopen() {
        Path file = dir.resolve("catalog.db");
        AckedRanges critical = new AckedRanges();
        critical.add(1, 500);
        critical.add(900, 1200); // live data acknowledged ahead of the backlog
        AckedRanges bulk = new AckedRanges();
        bulk.add(7, 7);
        try (Catalog c = Catalog.open(file)) {
            assertTrue(c.syncCursor("hub-a", "critical").isEmpty(), "no cursor yet: nothing acknowledged");
            c.putSyncCursor("hub-a", "critical", new AckedRanges());
            c.putSyncCursor("hub-a", "critical", critical); // replaces
            c.putSyncCursor("hub-a", "bulk", bulk);
            c.putSyncCursor("hub-b", "critical", bulk);
        }
        try (Catalog c = Catalog.open(file)) {
            AckedRanges read = c.syncCursor("hub-a", "critical");
            assertEquals(critical, read);
            assertEquals(501, read.firstGap(1));
            assertEquals(bulk, c.syncCursor("hub-a", "bulk"));
            assertTrue(c.syncCursor("hub-c", "critical").isEmpty());
            List<Catalog.SyncCursorRow> rows = c.syncCursors();
            assertEquals(
                    List.of("hub-a/bulk", "hub-a/critical", "hub-b/critical"),
                    rows.stream().map(r -> r.upstream() + "/" + r.lane()).toList());
            assertEquals(critical, rows.get(1).ranges());
            assertTrue(rows.get(1).updatedAtMillis() > 0);
        }
    }

    @Test
    void aDamagedCursorIsATypedErrorNamingTheRowAndFile() throws Exception {
        Path file = dir.resolve("catalog.db");
        try (Catalog c = Catalog.open(file)) {
            AckedRanges r = new AckedRanges();
            r.add(1, 10);
            c.putSyncCursor("hub-a", "critical", r);
        }
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + file);
                Statement s = db.createStatement()) {
            s.execute("UPDATE sync_cursors SET ranges = x'0101000900000000'");
        }
        try (Catalog c = Catalog.open(file)) {
            StoreException e = assertThrows(StoreException.class, () -> c.syncCursor("hub-a", "critical"));
            assertTrue(e.getMessage().contains("hub-a/critical"), e.getMessage());
            assertEquals(file, e.path());
            assertTrue(e.getCause() instanceof StoreException, "keeps the decode error as its cause");
            assertThrows(StoreException.class, c::syncCursors);
        }
    }

    static RetentionRecords.RetentionRow retention(long cycle) {
        return new RetentionRecords.RetentionRow(
                1_000 + cycle, "bulk", cycle, cycle * 100 + 1, cycle * 100 + 100, 4096, 100, cycle % 3, "age", "{}");
    }

    @Test
    void retentionRowsComeBackNewestFirst() {
        Path file = dir.resolve("catalog.db");
        try (Catalog c = Catalog.open(file)) {
            assertEquals(List.of(), c.retention().log(10));
            for (long cycle = 1; cycle <= 5; cycle++) {
                c.retention().record(retention(cycle));
            }
            // A wall clock that stepped back: order is still the order of recording.
            c.retention()
                    .record(new RetentionRecords.RetentionRow(
                            1, "critical", 9, 901, 950, 512, 50, 50, "disk-budget", "{\"traffic\":50}"));
        }
        try (Catalog c = Catalog.open(file)) {
            List<RetentionRecords.RetentionRow> rows = c.retention().log(3);
            assertEquals(
                    List.of(
                            new RetentionRecords.RetentionRow(
                                    1, "critical", 9, 901, 950, 512, 50, 50, "disk-budget", "{\"traffic\":50}"),
                            retention(5),
                            retention(4)),
                    rows);
            assertEquals(6, c.retention().log(100).size());
        }
    }

    /** The table is filled to the bound directly (fast); recording through the catalog then prunes. */
    @Test
    void retentionLogKeepsExactlyTheNewestMaxRows() throws Exception {
        Path file = dir.resolve("catalog.db");
        Catalog.open(file).close();
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + file);
                PreparedStatement p = db.prepareStatement("INSERT INTO retention_log (at_millis, lane, cycle,"
                        + " first_seq, last_seq, bytes, events, unsynced_events, reason, streams_json)"
                        + " VALUES (0, 'bulk', ?, 1, 1, 1, 1, 0, 'age', '{}')")) {
            db.setAutoCommit(false);
            for (int cycle = 1; cycle <= Catalog.RETENTION_LOG_ROWS_MAX - 1; cycle++) {
                p.setLong(1, cycle);
                p.executeUpdate();
            }
            db.commit();
        }
        long first = Catalog.RETENTION_LOG_ROWS_MAX;
        try (Catalog c = Catalog.open(file)) {
            c.retention().record(retention(first)); // exactly at the bound: nothing pruned
            List<RetentionRecords.RetentionRow> all = c.retention().log(Integer.MAX_VALUE);
            assertEquals(Catalog.RETENTION_LOG_ROWS_MAX, all.size());
            assertEquals(1, all.getLast().cycle());
            for (long cycle = first + 1; cycle <= first + 3; cycle++) {
                c.retention().record(retention(cycle));
            }
            all = c.retention().log(Integer.MAX_VALUE);
            assertEquals(Catalog.RETENTION_LOG_ROWS_MAX, all.size(), "pruned to exactly the bound");
            assertEquals(first + 3, all.getFirst().cycle(), "the newest is kept");
            assertEquals(4, all.getLast().cycle(), "the three oldest are gone");
        }
    }

    /** A catalog from the build before cursors (schema 3) gains the new tables on open, its data kept. */
    @Test
    void schemaThreeMigratesToCurrentKeepingData() throws Exception {
        Path file = dir.resolve("v3.db");
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + file);
                Statement s = db.createStatement()) {
            s.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)");
            for (int v = 0; v < 3; v++) {
                for (String stmt : Catalog.MIGRATIONS.get(v).split(";")) {
                    if (!stmt.isBlank()) {
                        s.execute(stmt);
                    }
                }
                s.execute("INSERT INTO schema_version (version) VALUES (" + (v + 1) + ")");
            }
            s.execute("INSERT INTO streams VALUES ('traffic', 'high', 60, NULL, 'config', 1)");
            s.execute("INSERT INTO quarantine VALUES ('log-group', '42', 'q/42.bin', 10, 5)");
        }
        try (Catalog c = Catalog.open(file)) {
            assertEquals(Catalog.SCHEMA_VERSION, c.schemaVersion());
            assertTrue(Catalog.SCHEMA_VERSION >= 5);
            assertEquals(List.of(new Catalog.StreamRow("traffic", "high", 60, null, "config")), c.streams());
            assertEquals(1, c.quarantine(10).size());
            AckedRanges r = new AckedRanges();
            r.add(3, 4);
            c.putSyncCursor("hub", "critical", r);
            c.retention().record(retention(1));
        }
        try (Catalog c = Catalog.open(file)) {
            assertEquals(Catalog.SCHEMA_VERSION, c.schemaVersion(), "reopening does not migrate again");
            assertEquals(
                    List.of(new AckedRanges.Range(3, 4)),
                    c.syncCursor("hub", "critical").ranges());
            assertEquals(List.of(retention(1)), c.retention().log(10));
        }
    }

    @Test
    void remoteConfigIsReplacedAsAWholeAndSurvivesReopening(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("catalog.db");
        var a = new Catalog.RemoteConfigRow("query.limit_max", "500", 7, "hub-1");
        var b = new Catalog.RemoteConfigRow("sync.bandwidth_bytes_per_second", "64KiB", 9, "hub-1");
        try (Catalog c = Catalog.open(file)) {
            assertEquals(List.of(), c.remoteConfig());
            c.replaceRemoteConfig(List.of(b, a));
            assertEquals(List.of(a, b), c.remoteConfig(), "by key");
            c.replaceRemoteConfig(List.of(b));
            assertEquals(List.of(b), c.remoteConfig(), "a key left out is gone");
        }
        try (Catalog c = Catalog.open(file)) {
            assertEquals(List.of(b), c.remoteConfig());
            var dup = new Catalog.RemoteConfigRow("sync.bandwidth_bytes_per_second", "1", 10, "hub-1");
            assertThrows(StoreException.class, () -> c.replaceRemoteConfig(List.of(a, dup, dup)));
            assertEquals(List.of(b), c.remoteConfig(), "a failed replacement leaves the old set whole");
        }
    }

    @Test
    void rulesAreReplacedAsAWholeAndEngineCheckpointsSurviveReopen() {
        Path file = dir.resolve("catalog.db");
        try (Catalog c = Catalog.open(file)) {
            assertTrue(c.engine().rules().isEmpty());
            assertNull(c.engine().checkpoint("engine.alerts"));
            c.engine()
                    .replaceRules(List.of(
                            new EngineRecords.DefinitionRow("b", "{\"stream\":\"s\"}", "api"),
                            new EngineRecords.DefinitionRow("a", "{\"stream\":\"t\"}", "config")));
            c.engine()
                    .replaceRules(List.of(
                            new EngineRecords.DefinitionRow("c", "{}", "hub"),
                            new EngineRecords.DefinitionRow("a", "{}", "config")));
            c.engine().putCheckpoint(new EngineRecords.Checkpoint("engine.alerts", 41, new byte[] {1, 2}));
            c.engine().putCheckpoint(new EngineRecords.Checkpoint("engine.alerts", 42, new byte[] {3}));
        }
        try (Catalog c = Catalog.open(file)) {
            assertEquals(
                    List.of(
                            new EngineRecords.DefinitionRow("a", "{}", "config"),
                            new EngineRecords.DefinitionRow("c", "{}", "hub")),
                    c.engine().rules(),
                    "the last set whole, by name; 'b' is gone");
            EngineRecords.Checkpoint cp = c.engine().checkpoint("engine.alerts");
            assertEquals(42, cp.seq());
            assertArrayEquals(new byte[] {3}, cp.state());
        }
    }
}
