package dev.outpost.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state store on a real Chronicle Map file. */
class ChronicleStateStoreTest {
    @TempDir
    Path dir;

    private static StateDoc doc(String ns, String id, long v, String json) {
        return new StateDoc(ns, id, v, 100 + v, "edge-1", v, false, json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void putGetListAndReopen() {
        Path f = dir.resolve("state.cm3");
        try (ChronicleStateStore s = ChronicleStateStore.open(f, 1000, 256)) {
            s.put(doc("devices", "b-2", 1, "{\"x\":2}"));
            s.put(doc("devices", "a-1", 1, "{\"x\":1}"));
            s.put(doc("devices", "a-3", 7, "{\"x\":3}"));
            s.put(doc("sessions", "a-1", 2, "{}"));
            s.put(doc("devices", "a-1", 2, "{\"x\":11}"));
            assertEquals(4, s.size());
            StateDoc d = s.get("devices", "a-1");
            assertEquals(2, d.version());
            assertEquals("edge-1", d.origin());
            assertArrayEquals("{\"x\":11}".getBytes(StandardCharsets.UTF_8), d.doc());
            assertNull(s.get("devices", "zzz"));
            assertEquals(
                    List.of("a-1", "a-3"),
                    s.list("devices", "a-", null, 10).stream().map(StateDoc::id).toList());
            assertEquals(
                    List.of("a-3", "b-2"),
                    s.list("devices", "", "a-1", 10).stream().map(StateDoc::id).toList());
            assertEquals(
                    List.of("a-1"),
                    s.list("devices", "", null, 1).stream().map(StateDoc::id).toList());
            assertEquals(
                    List.of("a-1"),
                    s.list("sessions", "", null, 10).stream().map(StateDoc::id).toList());
        }
        try (ChronicleStateStore s = ChronicleStateStore.open(f, 1000, 256)) {
            assertEquals(4, s.size());
            assertEquals(7, s.maxLogSeq());
            assertEquals(2, s.get("devices", "a-1").version());
            s.put(new StateDoc("devices", "a-1", 3, 200, "edge-1", 8, true, new byte[0]));
            assertTrue(s.get("devices", "a-1").deleted(), "a tombstone is kept");
        }
    }

    /** Writing well past the configured entries is refused, never Chronicle's IllegalStateException. */
    @Test
    void refusesPastCapacityByCountAndByBytes() {
        try (ChronicleStateStore s = ChronicleStateStore.open(dir.resolve("count.cm3"), 500, 128)) {
            int stored = 0;
            int refused = 0;
            for (int i = 0; i < 5000; i++) {
                try {
                    s.put(doc("n", "id-" + i, 1, "{\"i\":" + i + "}"));
                    stored++;
                } catch (StateStoreFullException e) {
                    refused++;
                }
            }
            assertEquals(500, stored);
            assertEquals(4500, refused);
            s.put(doc("n", "id-1", 2, "{\"updated\":true}")); // an existing document still updates
            assertEquals(2, s.get("n", "id-1").version());
        }
        try (ChronicleStateStore s = ChronicleStateStore.open(dir.resolve("bytes.cm3"), 500, 128)) {
            String big = "{\"pad\":\"" + "x".repeat(16_000) + "\"}";
            int stored = 0;
            for (int i = 0; i < 500; i++) {
                try {
                    s.put(doc("n", "big-" + i, 1, big));
                    stored++;
                } catch (StateStoreFullException e) {
                    assertTrue(e.getMessage().contains("state.documents_max"), e.getMessage());
                }
            }
            assertTrue(stored > 0 && stored < 500, "large documents fill the bytes first: " + stored);
            assertTrue(s.bytesHeld() <= s.bytesMax());
            for (int i = 0; i < stored; i++) {
                assertEquals(1, s.get("n", "big-" + i).version(), "every stored document reads back");
            }
        }
    }

    @Test
    void corruptValuesReadAsAbsent() {
        byte[] v = StateValueCodec.encode(doc("n", "x", 1, "{}"));
        v[10] ^= 1;
        assertNull(StateValueCodec.decodeOrNull(ChronicleStateStore.key("n", "x"), v));
    }
}
