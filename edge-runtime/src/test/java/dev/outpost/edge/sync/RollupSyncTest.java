package dev.outpost.edge.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Await;
import dev.outpost.edge.Main;
import dev.outpost.store.json.JsonTree;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rollup sync end to end: a real hub and two real nodes, all agents on loopback in this JVM. The nodes ingest events
 * over HTTP, their rollup windows become final, sync carries them to the hub, and the hub answers the rollup query
 * per node and merged with the counts, sums and maxima of what was posted.
 */
class RollupSyncTest {
    static final String TOKEN_1 = TestFleet.TOKEN_1;
    static final String TOKEN_2 = TestFleet.TOKEN_2;
    static final long MINUTE = 60_000L;
    static final String ROLLUP = "bytes_by_source";

    @TempDir
    Path dir;

    final HttpClient http = HttpClient.newHttpClient();
    TestFleet fleet;
    /** The start of a window that ended ten minutes ago (the hub's retention counts from the wall clock). */
    final long windowStart = Math.floorDiv(System.currentTimeMillis(), MINUTE) * MINUTE - 10 * MINUTE;

    @BeforeEach
    void fleet() {
        fleet = new TestFleet(dir);
    }

    @AfterEach
    void stop() {
        fleet.close();
    }

    Main.RunningAgent hub() throws Exception {
        return fleet.hub("  rollup_retention_hours: 48\n");
    }

    Main.RunningAgent edge(String id, String token, int hubPort) throws Exception {
        return fleet.edge(id, token, hubPort, """
                streams:
                  traffic:
                    priority: normal
                rollups:
                  %s:
                    stream: traffic
                    group_by: [source_ip]
                    window: 1m
                    aggregates: [count, sum(bytes), max(bytes), p50(bytes)]
                """.formatted(ROLLUP));
    }

    HttpResponse<String> send(Main.RunningAgent a, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.port() + path))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/x-ndjson");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Posts {@code n} events of one source, bytes 1..n, in the window; returns the sum of bytes. */
    long post(Main.RunningAgent edge, String source, int n) throws Exception {
        StringBuilder sb = new StringBuilder();
        long sum = 0;
        for (int i = 1; i <= n; i++) {
            sb.append("{\"stream\":\"traffic\",\"ts\":")
                    .append(windowStart + i * 100L)
                    .append(",\"data\":{\"source_ip\":\"")
                    .append(source)
                    .append("\",\"bytes\":")
                    .append(i)
                    .append("}}\n");
            sum += i;
        }
        assertEquals(200, send(edge, "POST", "/v1/events", sb.toString()).statusCode());
        return sum;
    }

    /** An event five minutes after the window: the watermark passes its end, so the window is final. */
    void closeWindow(Main.RunningAgent edge) throws Exception {
        String e = "{\"stream\":\"traffic\",\"ts\":" + (windowStart + 5 * MINUTE)
                + ",\"data\":{\"source_ip\":\"closer\",\"bytes\":1}}\n";
        assertEquals(200, send(edge, "POST", "/v1/events", e).statusCode());
    }

    /** The rows of one hub answer by source, and its trailer. */
    record Answer(Map<String, Map<?, ?>> bySource, Map<?, ?> trailer) {}

    Answer query(Main.RunningAgent hub, String params) throws Exception {
        HttpResponse<String> r = send(
                hub,
                "GET",
                "/v1/fleet/rollups/" + ROLLUP + "?from=" + windowStart + "&to=" + (windowStart + MINUTE) + params,
                null);
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Map<?, ?>> rows = new HashMap<>();
        Map<?, ?> trailer = null;
        for (String line : r.body().split("\n")) {
            byte[] b = line.getBytes(StandardCharsets.UTF_8);
            Map<?, ?> m = (Map<?, ?>) JsonTree.parse(b, 0, b.length);
            if (m.containsKey("next_cursor")) {
                trailer = m;
            } else {
                rows.put((String) ((Map<?, ?>) m.get("group")).get("source_ip"), (Map<?, ?>) m.get("values"));
            }
        }
        return new Answer(rows, trailer);
    }

    static long count(Map<?, ?> values) {
        return ((Number) values.get("count")).longValue();
    }

    static double number(Map<?, ?> values, String label) {
        return ((Number) values.get(label)).doubleValue();
    }

    @Test
    void finalWindowsOfTwoNodesReachTheHubWhichAnswersPerNodeAndMerged() throws Exception {
        Main.RunningAgent hub = hub();
        Main.RunningAgent edge1 = edge("edge-1", TOKEN_1, hub.port());
        Main.RunningAgent edge2 = edge("edge-2", TOKEN_2, hub.port());

        long sum1a = post(edge1, "10.0.0.1", 20);
        long sum1b = post(edge1, "10.0.0.2", 10);
        long sum2a = post(edge2, "10.0.0.1", 15);
        // Clients may not write final windows themselves.
        HttpResponse<String> reserved = send(
                edge1, "POST", "/v1/events", "{\"stream\":\"outpost.rollup_windows\",\"data\":{\"rollup\":\"x\"}}\n");
        assertEquals(422, reserved.statusCode(), reserved.body());
        assertTrue(reserved.body().contains("\"field\":\"stream\""), reserved.body());
        closeWindow(edge1);
        closeWindow(edge2);

        Await.atMost(Duration.ofSeconds(30)).until(() -> {
            if (send(hub, "GET", "/v1/fleet/rollups/" + ROLLUP, null).statusCode() == 404) {
                return false; // no window arrived yet
            }
            Answer merged = query(hub, "");
            return merged.bySource().size() == 2
                    && count(merged.bySource().get("10.0.0.1")) == 35
                    && ((List<?>) ((Map<?, ?>) merged.trailer().get("status")).get("nodes")).size() == 2;
        });

        Answer one = query(hub, "&node=edge-1");
        assertEquals(20, count(one.bySource().get("10.0.0.1")));
        assertEquals(sum1a, number(one.bySource().get("10.0.0.1"), "sum(bytes)"));
        assertEquals(10, count(one.bySource().get("10.0.0.2")));
        assertEquals(sum1b, number(one.bySource().get("10.0.0.2"), "sum(bytes)"));
        Answer two = query(hub, "&node=edge-2");
        assertEquals(
                Map.of("10.0.0.1", 15L), Map.of("10.0.0.1", count(two.bySource().get("10.0.0.1"))));
        assertEquals(1, two.bySource().size());

        Answer merged = query(hub, "");
        Map<?, ?> a = merged.bySource().get("10.0.0.1");
        assertEquals(35, count(a));
        assertEquals(sum1a + sum2a, number(a, "sum(bytes)"));
        assertEquals(20.0, number(a, "max(bytes)"));
        double p50 = number(a, "p50(bytes)"); // bytes 1..20 and 1..15: the median is 9
        assertTrue(Math.abs(p50 - 9) <= 0.1, "p50 " + p50);
        assertEquals(10, count(merged.bySource().get("10.0.0.2")));
        assertEquals(JsonTree.NULL, merged.trailer().get("next_cursor"));
        assertEquals(2L, ((Number) merged.trailer().get("count")).longValue());
        Answer filtered = query(hub, "&source_ip=10.0.0.2");
        assertEquals(List.of("10.0.0.2"), List.copyOf(filtered.bySource().keySet()));

        // Paged one row at a time: the same rows.
        Answer page1 = query(hub, "&limit=1");
        assertEquals(1, page1.bySource().size());
        Answer page2 = query(hub, "&limit=1&cursor=" + page1.trailer().get("next_cursor"));
        assertEquals(1, page2.bySource().size());
        assertTrue(page2.bySource().keySet().stream().noneMatch(page1.bySource()::containsKey));

        // Refusals name the parameter; an unknown rollup is 404.
        assertProblem(hub, "/v1/fleet/rollups/" + ROLLUP + "?node=nobody", 400, "node");
        assertProblem(hub, "/v1/fleet/rollups/" + ROLLUP + "?limit=many", 400, "limit");
        assertProblem(hub, "/v1/fleet/rollups/" + ROLLUP + "?limit=0", 400, "limit");
        assertProblem(hub, "/v1/fleet/rollups/" + ROLLUP + "?from=yesterday", 400, "from");
        assertProblem(hub, "/v1/fleet/rollups/" + ROLLUP + "?protocol=TCP", 400, "protocol");
        assertProblem(hub, "/v1/fleet/rollups/" + ROLLUP + "?cursor=zzz", 400, "cursor");
        assertEquals(
                404, send(hub, "GET", "/v1/fleet/rollups/no_such_rollup", null).statusCode());
        String metrics = send(edge1, "GET", "/metrics", null).body();
        assertTrue(metrics.contains("outpost_rollup_final_windows_emitted_total 2"), metrics);
        assertTrue(metrics.contains("outpost_rollup_final_windows_pending 0"), metrics);
        java.util.regex.Matcher upserted = java.util.regex.Pattern.compile("outpost_hub_rollup_windows_total (\\d+)")
                .matcher(send(hub, "GET", "/metrics", null).body());
        assertTrue(upserted.find() && Long.parseLong(upserted.group(1)) >= 3); // 3 windows, resends counted too
        String list = send(hub, "GET", "/v1/fleet/rollups", null).body();
        assertTrue(list.contains("\"" + ROLLUP + "\"") && list.contains("edge-2"), list);
    }

    void assertProblem(Main.RunningAgent hub, String path, int status, String field) throws Exception {
        HttpResponse<String> r = send(hub, "GET", path, null);
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"), path);
        assertTrue(r.body().contains("\"field\":\"" + field + "\""), r.body());
    }
}
