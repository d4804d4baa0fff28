package dev.outpost.edge.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Runtime configuration changes: checked like startup, all or nothing, stored first, unset restores the file. */
class LiveConfigTest {
    final OutpostConfig file = ConfigLoader.defaults();
    final List<List<LiveConfig.Setting>> stored = new ArrayList<>();

    LiveConfig live(List<LiveConfig.Setting> before) {
        return new LiveConfig(file, before, all -> stored.add(List.copyOf(all)));
    }

    @Test
    void everyLiveKeyIsWiredThroughTheConfiguration() {
        assertEquals(
                List.of(
                        "budget.latency_p95_millis",
                        "query.limit_default",
                        "query.limit_max",
                        "query.scan_records_max",
                        "sync.bandwidth_bytes_per_second"),
                LiveConfig.keys());
        for (String key : LiveConfig.keys()) {
            long v = key.equals("query.limit_default") ? 7 : 1000; // within every range and rule
            assertEquals(v, file.withLive(Map.of(key, v)).liveValue(key), key);
        }
        assertThrows(AssertionError.class, () -> file.liveValue("http.port"));
    }

    @Test
    void aChangeTakesEffectAfterItIsStoredAndUnsetBringsBackTheFileValue() {
        LiveConfig live = live(List.of());
        List<OutpostConfig> seen = new ArrayList<>();
        live.onChange(seen::add);
        live.onChange(c -> {
            throw new IllegalStateException("a failing listener is contained");
        });
        Map<String, Object> change = new LinkedHashMap<>();
        change.put("query.limit_max", 5000L);
        change.put("sync.bandwidth_bytes_per_second", "64KiB");
        live.apply(change, 11, "hq");
        assertEquals(5000, live.current().query().limitMax());
        assertEquals(65536, live.current().sync().bandwidthBytesPerSecond());
        assertEquals(
                List.of(
                        new LiveConfig.Setting("query.limit_max", "5000", 11, "hq"),
                        new LiveConfig.Setting("sync.bandwidth_bytes_per_second", "64KiB", 11, "hq")),
                stored.getLast());
        assertEquals(List.of(live.current()), seen);

        Map<String, Object> unset = new HashMap<>();
        unset.put("query.limit_max", null);
        live.apply(unset, 12, "hq");
        assertEquals(file.query().limitMax(), live.current().query().limitMax());
        assertEquals(65536, live.current().sync().bandwidthBytesPerSecond(), "other keys stay");
        assertEquals(1, stored.getLast().size());
        assertNull(live.lastRefusal());
    }

    @Test
    void aBadChangeIsRefusedWholeNamingTheKey() {
        LiveConfig live = live(List.of());
        OutpostConfig before = live.current();
        Map<String, Object> change = new LinkedHashMap<>();
        change.put("query.scan_records_max", 10L);
        change.put("query.limit_default", 200_000L); // above limit_max: a rule between keys
        ConfigException e = assertThrows(ConfigException.class, () -> live.apply(change, 5, "hq"));
        assertEquals("query.limit_default", e.key());
        assertTrue(e.getMessage().contains("must not exceed query.limit_max"), e.getMessage());
        assertEquals(before, live.current(), "nothing of it took effect");
        assertTrue(stored.isEmpty(), "nothing stored");
        assertEquals("query.limit_default", live.lastRefusal().key());

        for (Map.Entry<String, Object> bad : List.<Map.Entry<String, Object>>of(
                Map.entry("http.port", 80L),
                Map.entry("no.such", 1L),
                Map.entry("query.limit_max", 0L),
                Map.entry("query.limit_max", 1.5),
                Map.entry("sync.bandwidth_bytes_per_second", "fast"))) {
            ConfigException x = assertThrows(
                    ConfigException.class, () -> live.apply(Map.of(bad.getKey(), bad.getValue()), 6, "hq"));
            assertEquals(bad.getKey(), x.key(), x.getMessage());
            assertEquals(before, live.current());
        }
    }

    @Test
    void storedSettingsComeBackAndTheInvalidOnesAreDropped() {
        LiveConfig live = live(List.of(
                new LiveConfig.Setting("query.limit_default", "3", 1, "hq"),
                new LiveConfig.Setting("sync.bandwidth_bytes_per_second", "1MiB", 2, "hq"),
                new LiveConfig.Setting("http.port", "80", 3, "old-hub"),
                new LiveConfig.Setting("query.limit_max", "-4", 4, "hq")));
        assertEquals(3, live.current().query().limitDefault());
        assertEquals(1 << 20, live.current().sync().bandwidthBytesPerSecond());
        assertEquals(file.query().limitMax(), live.current().query().limitMax());
        assertEquals(2, live.settings().size());
    }

    /** Random changes against a plain map of the settings: the effective value is always the model's. */
    @Test
    void agreesWithASimpleModelOverRandomChanges() {
        LiveConfig live = live(List.of());
        Map<String, Long> model = new HashMap<>();
        Random rnd = new Random(42);
        List<String> keys = List.of("query.limit_default", "query.limit_max", "budget.latency_p95_millis");
        for (int i = 0; i < 2000; i++) {
            Map<String, Object> change = new HashMap<>();
            for (String k : keys) {
                if (rnd.nextInt(3) == 0) {
                    change.put(k, rnd.nextBoolean() ? null : (Object) (long) (1 + rnd.nextInt(3000)));
                }
            }
            Map<String, Long> next = new HashMap<>(model);
            change.forEach((k, v) -> {
                if (v == null) {
                    next.remove(k);
                } else {
                    next.put(k, (Long) v);
                }
            });
            long def = next.getOrDefault("query.limit_default", (long) file.query().limitDefault());
            long max = next.getOrDefault("query.limit_max", (long) file.query().limitMax());
            if (def <= max) {
                live.apply(change, i, "hq");
                model.clear();
                model.putAll(next);
            } else {
                assertThrows(ConfigException.class, () -> live.apply(change, 0, "hq"));
            }
            for (String k : keys) {
                assertEquals(
                        model.getOrDefault(k, file.liveValue(k)), live.current().liveValue(k), k + " at step " + i);
            }
            assertEquals(model.keySet(), live.settings().keySet());
        }
    }
}
