package dev.outpost.edge.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.edge.ingest.IngestOutcome;
import dev.outpost.edge.ingest.IngestStage;
import dev.outpost.edge.ingest.ParsedEvent;
import dev.outpost.store.Catalog;
import dev.outpost.store.Lane;
import dev.outpost.store.json.JsonTree;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * StreamRegistry on a real SQLite catalog in a temp directory: definitions over the API persist,
 * YAML declarations win, priorities map to lanes, schemas are checked when declared and applied to
 * every event.
 */
class StreamRegistryTest {
    @TempDir
    Path dir;

    Catalog catalog;

    @BeforeEach
    void open() {
        catalog = Catalog.open(dir.resolve("catalog.db"));
    }

    @AfterEach
    void close() {
        catalog.close();
    }

    /** Closes and reopens the catalog and builds a registry on it, as a restart does. */
    StreamRegistry restart(Map<String, OutpostConfig.StreamDecl> declared) {
        catalog.close();
        catalog = Catalog.open(dir.resolve("catalog.db"));
        return new StreamRegistry(catalog, declared);
    }

    static OutpostConfig.StreamDecl decl(String priority, long retentionSeconds, Object yamlSchema) {
        return new OutpostConfig.StreamDecl(priority, retentionSeconds, yamlSchema);
    }

    static Object tree(String json) {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        return JsonTree.parse(b, 0, b.length);
    }

    static StreamRefusal refusal(Executable e) {
        return assertThrows(StreamRefusal.class, e);
    }

    static ParsedEvent event(String stream, String data) {
        return new ParsedEvent(
                stream,
                null,
                ("{\"stream\":\"" + stream + "\",\"data\":" + data + "}").getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void undeclaredStreamsAreNormalAndPrioritiesMapToLanes() {
        StreamRegistry r = new StreamRegistry(catalog, Map.of());
        assertNull(r.get("anything"));
        assertEquals(Lane.NORMAL, r.laneOf("anything"));
        Map<String, Lane> expected =
                Map.of("critical", Lane.CRITICAL, "high", Lane.HIGH, "normal", Lane.NORMAL, "bulk", Lane.BULK);
        expected.forEach((priority, lane) -> {
            r.put("s-" + priority, tree("{\"priority\":\"" + priority + "\"}"));
            assertEquals(lane, r.laneOf("s-" + priority), priority);
        });
        assertEquals(Lane.NORMAL, r.laneOf("s-default-" + 1), "undeclared");
        r.put("plain", tree("{}"));
        assertEquals("normal", r.get("plain").priority(), "priority defaults to normal");
        assertEquals(0, r.get("plain").retentionSeconds());
    }

    @Test
    void definitionsFromTheApiPersistAndCanBeReplaced() {
        StreamRegistry r = new StreamRegistry(catalog, Map.of());
        StreamRegistry.Stream s = r.put(
                "sensors",
                tree("{\"priority\":\"high\",\"retention_seconds\":3600,\"schema\":{\"type\":\"object\","
                        + "\"required\":[\"t\"],\"properties\":{\"t\":{\"type\":\"number\",\"maximum\":100}}}}"));
        assertFalse(s.fromConfig());
        assertNotNull(s.schema());

        StreamRegistry again = restart(Map.of());
        StreamRegistry.Stream back = again.get("sensors");
        assertEquals("high", back.priority());
        assertEquals(3600, back.retentionSeconds());
        assertNotNull(back.schema(), "the schema survives a restart");
        assertEquals(
                "/data/t",
                invalid(again, List.of(event("sensors", "{\"t\":101}")), false).field());

        again.put("sensors", tree("{\"priority\":\"bulk\",\"schema\":null}"));
        StreamRegistry third = restart(Map.of());
        assertEquals("bulk", third.get("sensors").priority());
        assertNull(third.get("sensors").schema(), "replaced whole");
        assertEquals(Lane.BULK, third.laneOf("sensors"));
    }

    @Test
    void badDefinitionsAreRefusedNamingTheFieldAndNothingIsStored() {
        StreamRegistry r = new StreamRegistry(catalog, Map.of());
        assertEquals("name", refusal(() -> r.put("_state", tree("{}"))).field(), "reserved names");
        assertEquals("name", refusal(() -> r.put("bad name", tree("{}"))).field());
        assertEquals("name", refusal(() -> r.put("x".repeat(129), tree("{}"))).field());
        assertEquals(
                StreamRefusal.Kind.MALFORMED,
                refusal(() -> r.put("s", tree("[]"))).kind());
        assertEquals("colour", refusal(() -> r.put("s", tree("{\"colour\":1}"))).field());
        assertEquals(
                "priority",
                refusal(() -> r.put("s", tree("{\"priority\":\"urgent\"}"))).field());
        assertEquals(
                "retention_seconds",
                refusal(() -> r.put("s", tree("{\"retention_seconds\":-1}"))).field());
        assertEquals(
                "retention_seconds",
                refusal(() -> r.put("s", tree("{\"retention_seconds\":\"1h\"}")))
                        .field());
        StreamRefusal schema = refusal(() -> r.put("s", tree("{\"schema\":{\"type\":\"object\",\"pattern\":\"x\"}}")));
        assertEquals(StreamRefusal.Kind.BAD_SCHEMA, schema.kind());
        assertEquals("schema", schema.field(), "an unsupported keyword is refused, not ignored");
        assertEquals(
                "schema",
                refusal(() -> r.put("s", tree("{\"schema\":{\"type\":\"decimal\"}}")))
                        .field());
        assertNull(r.get("s"));
        assertTrue(catalog.streams().isEmpty(), "nothing stored");
    }

    @Test
    void yamlDeclarationsWinOverTheApiAndAreStoredAtStart() {
        Map<String, Object> yamlSchema = Map.of("type", "object", "properties", Map.of("level", Map.of("maximum", 5)));
        Map<String, OutpostConfig.StreamDecl> declared = Map.of("alarms", decl("critical", 60, yamlSchema));
        // The API defined it first; the file declares it at the next start and wins.
        new StreamRegistry(catalog, Map.of()).put("alarms", tree("{\"priority\":\"bulk\"}"));
        StreamRegistry r = restart(declared);
        StreamRegistry.Stream a = r.get("alarms");
        assertTrue(a.fromConfig());
        assertEquals("critical", a.priority());
        assertEquals(60, a.retentionSeconds());
        assertEquals(Lane.CRITICAL, r.laneOf("alarms"));
        StreamRefusal locked = refusal(() -> r.put("alarms", tree("{\"priority\":\"bulk\"}")));
        assertEquals(StreamRefusal.Kind.DECLARED_IN_CONFIG, locked.kind());
        assertEquals("critical", r.get("alarms").priority(), "unchanged by the refused PUT");
        // YAML numbers (Integer) validate like JSON numbers.
        assertEquals(
                "/data/level",
                invalid(r, List.of(event("alarms", "{\"level\":6}")), false).field());
        assertNull(r.validate(batch(List.of(event("alarms", "{\"level\":5}")), false)));

        // Stored in the catalog: present without the file's declaration... until the file changes it.
        StreamRegistry kept = restart(Map.of());
        assertEquals("critical", kept.get("alarms").priority());
        assertTrue(kept.get("alarms").fromConfig());
        StreamRegistry changed = restart(Map.of("alarms", decl("high", 0, null)));
        assertEquals("high", changed.get("alarms").priority());
        assertNull(changed.get("alarms").schema());
        assertEquals("high", restart(Map.of()).get("alarms").priority(), "the change is stored");
    }

    @Test
    void validationNamesTheLineAndFieldOfTheFirstViolation() {
        StreamRegistry r = new StreamRegistry(catalog, Map.of());
        r.put(
                "t",
                tree("{\"schema\":{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"v\"],"
                        + "\"properties\":{\"v\":{\"type\":\"integer\",\"minimum\":0},"
                        + "\"unit\":{\"enum\":[\"C\",\"F\"]},\"note\":{\"type\":\"string\",\"maxLength\":3}}}}"));
        List<ParsedEvent> good = List.of(
                event("t", "{\"v\":1}"),
                event("t", "{\"v\":0,\"unit\":\"C\",\"note\":\"ok\"}"),
                event("other", "{\"anything\":true}"));
        assertNull(r.validate(batch(good, true)));

        Map<String, String> bad = Map.of(
                "{\"unit\":\"C\"}", "/data/v",
                "{\"v\":-1}", "/data/v",
                "{\"v\":1.5}", "/data/v",
                "{\"v\":1,\"unit\":\"K\"}", "/data/unit",
                "{\"v\":1,\"note\":\"long\"}", "/data/note",
                "{\"v\":1,\"extra\":1}", "/data/extra");
        bad.forEach((data, field) -> {
            IngestOutcome.Invalid p = invalid(r, List.of(good.get(0), good.get(2), event("t", data)), true);
            assertEquals(IngestOutcome.Fault.SCHEMA_VIOLATION, p.fault(), data);
            assertEquals(3, p.line(), data + ": 1-based line in the batch");
            assertEquals(field, p.field(), data);
            assertTrue(p.reason().startsWith("line 3: stream 't': " + field), p.reason());
            IngestOutcome.Invalid single = invalid(r, List.of(event("t", data)), false);
            assertEquals(0, single.line(), "a single event has no line");
        });
    }

    private static IngestStage.Batch batch(List<ParsedEvent> events, boolean ndjson) {
        return new IngestStage.Batch(events, ndjson, null);
    }

    private static IngestOutcome.Invalid invalid(StreamRegistry r, List<ParsedEvent> events, boolean ndjson) {
        IngestOutcome.Invalid why = r.validate(batch(events, ndjson));
        assertNotNull(why, "the batch should be refused");
        return why;
    }
}
