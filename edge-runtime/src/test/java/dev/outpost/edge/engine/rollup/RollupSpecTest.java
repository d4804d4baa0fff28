package dev.outpost.edge.engine.rollup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.outpost.store.json.JsonTree;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** Declarations from YAML and JSON trees: what is accepted, canonical form, and refusals naming the key. */
class RollupSpecTest {
    static Object yaml(String text) {
        return new Yaml().load(text);
    }

    static Object json(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        return JsonTree.parse(b, 0, b.length);
    }

    @Test
    void aYamlDeclarationParsesWithDurationsAndQuantileShorthand() {
        RollupSpec s = RollupSpec.parse("bytes_by_source", yaml("""
                stream: traffic
                group_by: [source_ip, http.status, /key]
                window: 1h
                aggregates: [count, sum(bytes_transferred), quantiles(bytes_transferred), p999(latency)]
                allowed_lateness: 90s
                """));
        assertEquals("traffic", s.stream());
        assertEquals(List.of("source_ip", "http.status", "/key"), s.groupBy());
        assertEquals(3_600_000, s.windowMillis());
        assertEquals(90_000, s.allowedLatenessMillis());
        assertEquals(
                List.of(
                        "count",
                        "sum(bytes_transferred)",
                        "p50(bytes_transferred)",
                        "p90(bytes_transferred)",
                        "p99(bytes_transferred)",
                        "p999(latency)"),
                s.aggregates().stream().map(Aggregate::label).toList());
        assertEquals(List.of("bytes_transferred", "latency"), s.valueFields());
    }

    @Test
    void toTreeParsesBackToTheSameSpecFromYamlAndFromJson() {
        RollupSpec s = RollupSpec.parse("r", yaml("""
                {stream: s, group_by: a, window: 90000, aggregates: [count, mean(v)], allowed_lateness: 1500ms}
                """));
        assertEquals(s, RollupSpec.parse("r", s.toTree()));
        assertEquals("90s", s.toTree().get("window"));
        assertEquals("1500ms", s.toTree().get("allowed_lateness"));
        assertEquals("7d", s.toTree().get("retention"));
        assertEquals(RollupSpec.RETENTION_MILLIS_DEFAULT, s.retentionMillis());
        RollupSpec kept =
                RollupSpec.parse("r", yaml("{stream: s, window: 1d, allowed_lateness: 7d, aggregates: [count]}"));
        assertEquals(8 * 86_400_000L, kept.retentionMillis(), "at least window + lateness");
        assertEquals(kept, RollupSpec.parse("r", kept.toTree()));
        byte[] written = JsonTree.write(s.toTree());
        assertEquals(s, RollupSpec.parse("r", JsonTree.parse(written, 0, written.length)));
        assertEquals(s, RollupSpec.parse("r", json("""
                {"stream":"s","group_by":["a"],"window":"90s","aggregates":["count","mean(v)"],"allowed_lateness":1500}
                """)));
    }

    @Test
    void durationsInEveryUnit() {
        Map<String, Long> cases = Map.of(
                "30s", 30_000L, "1m", 60_000L, "5m", 300_000L, "1h", 3_600_000L, "1d", 86_400_000L, "2500ms", 2_500L);
        cases.forEach((text, millis) -> {
            RollupSpec s = RollupSpec.parse("r", Map.of("stream", "s", "window", text, "aggregates", List.of("count")));
            assertEquals(millis, s.windowMillis(), text);
        });
        assertEquals("0s", RollupSpec.duration(0));
        assertEquals("1d", RollupSpec.duration(86_400_000));
        assertEquals("61s", RollupSpec.duration(61_000));
    }

    /** The refusal names the rollup and the key at fault. */
    static void refused(String key, String yamlText) {
        RollupRefusal r = assertThrows(RollupRefusal.class, () -> RollupSpec.parse("r1", yaml(yamlText)), yamlText);
        assertEquals("r1", r.rollup(), r.getMessage());
        assertEquals(key, r.field(), r.getMessage());
        assertEquals(RollupRefusal.Kind.INVALID, r.kind());
    }

    @Test
    void refusalsNameTheRollupAndTheKey() {
        refused(null, "[1, 2]");
        refused("stream", "{window: 1m, aggregates: [count]}");
        refused("stream", "{stream: 5, window: 1m, aggregates: [count]}");
        refused("window", "{stream: s, aggregates: [count]}");
        refused("window", "{stream: s, window: 500ms, aggregates: [count]}");
        refused("window", "{stream: s, window: 2d, aggregates: [count]}");
        refused("window", "{stream: s, window: 1w, aggregates: [count]}");
        refused("window", "{stream: s, window: 1.5, aggregates: [count]}");
        refused("window", "{stream: s, window: 99999999999d, aggregates: [count]}");
        refused("allowed_lateness", "{stream: s, window: 1m, aggregates: [count], allowed_lateness: 8d}");
        refused("aggregates", "{stream: s, window: 1m}");
        refused("aggregates", "{stream: s, window: 1m, aggregates: []}");
        refused("aggregates[1]", "{stream: s, window: 1m, aggregates: [count, median(x)]}");
        refused("aggregates[0]", "{stream: s, window: 1m, aggregates: [sum]}");
        refused("aggregates[0]", "{stream: s, window: 1m, aggregates: [sum(a..b)]}");
        refused("aggregates[1]", "{stream: s, window: 1m, aggregates: [count, 7]}");
        refused("aggregates", "{stream: s, window: 1m, aggregates: [count, count]}");
        refused("aggregates", "{stream: s, window: 1m, aggregates: [quantiles(x), quantiles(x)]}");
        refused("group_by[1]", "{stream: s, group_by: [a, 3], window: 1m, aggregates: [count]}");
        refused("group_by[0]", "{stream: s, group_by: ['a.'], window: 1m, aggregates: [count]}");
        refused("group_by", "{stream: s, group_by: [a, a], window: 1m, aggregates: [count]}");
        refused("group_by", "{stream: s, group_by: [a, b, c, d, e], window: 1m, aggregates: [count]}");
        refused("retention", "{stream: s, window: 1h, aggregates: [count], allowed_lateness: 1h, retention: 90m}");
        refused("retention", "{stream: s, window: 1h, aggregates: [count], retention: 3651d}");
        refused("windw", "{stream: s, windw: 1m, window: 1m, aggregates: [count]}");
        StringBuilder many = new StringBuilder("{stream: s, window: 1m, aggregates: [count");
        for (String f : List.of("a", "b", "c", "d")) {
            many.append(", sum(%s), min(%s), max(%s), mean(%s)".formatted(f, f, f, f));
        }
        refused("aggregates", many + "]}"); // 17
    }

    @Test
    void aBadNameIsRefused() {
        RollupRefusal r = assertThrows(
                RollupRefusal.class,
                () -> RollupSpec.parse(
                        "no/slash", Map.of("stream", "s", "window", "1m", "aggregates", List.of("count"))));
        assertEquals("no/slash", r.rollup());
    }
}
