package dev.outpost.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
