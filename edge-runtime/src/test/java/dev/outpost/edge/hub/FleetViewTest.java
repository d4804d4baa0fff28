package dev.outpost.edge.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.store.json.JsonTree;
import dev.outpost.sync.wire.FleetChange;
import dev.outpost.sync.wire.PullPage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The fleet topic's compaction identity and the fold every Kafka-backed hub holds: a change is only ever superseded by
 * a later one of the same object and target, which sets everything it set; cursors are positions read.
 */
class FleetViewTest {
    private static Object doc(String json) {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        return JsonTree.parse(b, 0, b.length);
    }

    private static FleetChange state(String target, String id, String json) {
        return new FleetChange.StateChange(target, "settings", id, false, "hq", doc(json));
    }

    private static FleetChange config(String target, Map<String, Object> settings) {
        return new FleetChange.ConfigChange(target, "hq", settings);
    }

    private static void put(FleetView v, long seq, FleetChange c) {
        v.apply(seq, FleetView.identity(c), seq << 16, c.toJson());
        v.readTo(seq);
    }

    @Test
    void theIdentityNamesTheObjectAndTheTargetAndAConfigChangesExactKeys() {
        assertEquals("state/edge-1/settings/fan", FleetView.identity(state("edge-1", "fan", "{}")));
        assertNotEquals(
                FleetView.identity(state("all", "fan", "{}")), FleetView.identity(state("edge-1", "fan", "{}")));
        assertEquals(
                "stream/all/vibration",
                FleetView.identity(new FleetChange.StreamChange("all", "vibration", "hq", doc("{}"))));
        assertEquals(
                FleetView.identity(new FleetChange.RuleChange("edge-2", "hot", "hq", doc("{}"))),
                FleetView.identity(new FleetChange.RuleChange("edge-2", "hot", "hq", null)),
                "a rule's delete supersedes its definition");
        Map<String, Object> ab = new LinkedHashMap<>();
        ab.put("query.limit_max", 100L);
        ab.put("query.limit_default", 10L);
        Map<String, Object> ba = new LinkedHashMap<>();
        ba.put("query.limit_default", 20L);
        ba.put("query.limit_max", null);
        assertEquals(FleetView.identity(config("all", ab)), FleetView.identity(config("all", ba)), "same keys");
        assertNotEquals(
                FleetView.identity(config("all", ab)),
                FleetView.identity(config("all", Map.of("query.limit_max", 5L))),
                "a change of fewer keys never hides one that set more");
    }

    @Test
    void onlyALaterChangeOfTheSameObjectAndTargetSupersedesOne() {
        FleetView v = new FleetView();
        put(v, 1, state("edge-1", "fan", "{\"speed\":1}"));
        put(v, 2, state("all", "fan", "{\"speed\":2}"));
        put(v, 3, config("edge-1", Map.of("query.limit_max", 100L, "query.limit_default", 10L)));
        put(v, 4, config("edge-1", Map.of("query.limit_max", 50L)));
        put(v, 5, state("all", "fan", "{\"speed\":3}"));
        put(v, 6, state("edge-2", "fan", "{\"speed\":4}"));

        List<PullPage.Change> edge1 = new ArrayList<>();
        assertEquals(6, v.scan("edge-1", 0, 100, edge1), "next: the position read");
        assertEquals(List.of(1L, 3L, 4L, 5L), seqs(edge1), "the targeted change survives the later 'all' ones");
        assertEquals(1L << 16, edge1.getFirst().hlc(), "the version as published");
        assertEquals(state("edge-1", "fan", "{\"speed\":1}"), edge1.getFirst().change());

        List<PullPage.Change> edge2 = new ArrayList<>();
        assertEquals(6, v.scan("edge-2", 0, 100, edge2));
        assertEquals(List.of(5L, 6L), seqs(edge2));
        assertEquals(5, v.size(), "one entry per object");
    }

    @Test
    void aPageCutShortEndsAtItsLastChangeAndACursorAheadStaysPut() {
        FleetView v = new FleetView();
        for (long s = 1; s <= 5; s++) {
            put(v, s, state("all", "d" + s, "{}"));
        }
        List<PullPage.Change> page = new ArrayList<>();
        assertEquals(2, v.scan("edge-1", 0, 2, page));
        assertEquals(List.of(1L, 2L), seqs(page));
        page.clear();
        assertEquals(5, v.scan("edge-1", 2, 10, page));
        assertEquals(List.of(3L, 4L, 5L), seqs(page));
        page.clear();
        assertEquals(9, v.scan("edge-1", 9, 10, page), "a cursor from a hub that read further");
        assertTrue(page.isEmpty());
    }

    @Test
    void bytesCountTheLatestChangeOfEachObject() {
        FleetView v = new FleetView();
        FleetChange a = state("all", "fan", "{\"speed\":1}");
        put(v, 1, a);
        long one = FleetView.bytesOf(FleetView.identity(a), a.toJson().length);
        assertEquals(one, v.bytes());
        FleetChange b = state("all", "fan", "{\"speed\":12345}");
        assertEquals(
                FleetView.bytesOf(FleetView.identity(b), b.toJson().length),
                v.bytesIfPut(FleetView.identity(b), b.toJson().length),
                "replacing: the old change's bytes are given back");
        put(v, 2, b);
        FleetChange c = state("all", "pump", "{}");
        put(v, 3, c);
        assertEquals(
                FleetView.bytesOf(FleetView.identity(b), b.toJson().length)
                        + FleetView.bytesOf(FleetView.identity(c), c.toJson().length),
                v.bytes());
        v.apply(4, FleetView.identity(c), 0, null);
        assertEquals(1, v.size(), "a tombstone removes its object");
    }

    private static List<Long> seqs(List<PullPage.Change> changes) {
        return changes.stream().map(PullPage.Change::seq).toList();
    }
}
