package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Await;
import dev.outpost.edge.Main;
import dev.outpost.edge.config.ConfigLoader;
import dev.outpost.store.json.JsonTree;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Issue #12 point 7: the shipped docs/examples/traffic-ledger.yaml, end to end. Ledger events go in over HTTP; the
 * alerts of the brief's rule (+0.6 above 1,000,000 bytes, +0.4 for UNKNOWN/EXPERIMENTAL, alert above 0.7, one per
 * source_ip per cooldown) and the hourly count and bytes per source_ip come back over HTTP, checked against what
 * was sent.
 */
class TrafficLedgerTest extends AgentHttpTest {
    static final long HOUR = 3_600_000;
    static final long T0 = 1_790_000_000_000L / HOUR * HOUR; // an hour boundary in 2026

    @Test
    void theLedgerExampleRaisesTheBriefsAlertsAndRollsUpBytesPerSourcePerHour() throws Exception {
        String example = Files.readString(Path.of("..", "docs", "examples", "traffic-ledger.yaml"))
                .replace("dir: ./data-traffic", "dir: " + dir.resolve("data"));
        Files.writeString(dir.resolve("outpost.yaml"), roomyMemory(example + "http:\n  port: 0\n"));
        agent = Main.start(ConfigLoader.load(dir.resolve("outpost.yaml")));
        Random rnd = new Random(7);
        String[] protocols = {"TCP", "UDP", "HTTPS", "DNS", "UNKNOWN", "EXPERIMENTAL"};
        Map<String, long[]> expected = new HashMap<>(); // "hour|source" -> {count, bytes}
        Map<String, Integer> alertsBySource = new HashMap<>();
        StringBuilder batch = new StringBuilder();
        for (int i = 0; i < 600; i++) {
            String source = "10.0.0." + rnd.nextInt(5);
            long bytes = rnd.nextInt(4) == 0 ? 1_000_001 + rnd.nextInt(5_000_000) : rnd.nextInt(1_000_000);
            String protocol = protocols[rnd.nextInt(protocols.length)];
            long ts = T0 + i * (2 * HOUR / 600); // in time order over two hours (none late)
            batch.append("{\"stream\":\"traffic\",\"ts\":")
                    .append(ts)
                    .append(",\"data\":{\"source_ip\":\"")
                    .append(source)
                    .append("\",\"destination_ip\":\"10.9.9.9\",\"bytes_transferred\":")
                    .append(bytes)
                    .append(",\"protocol\":\"")
                    .append(protocol)
                    .append("\"}}\n");
            long[] agg = expected.computeIfAbsent((ts / HOUR * HOUR) + "|" + source, k -> new long[2]);
            agg[0]++;
            agg[1] += bytes;
            if (bytes > 1_000_000 && (protocol.equals("UNKNOWN") || protocol.equals("EXPERIMENTAL"))) {
                alertsBySource.merge(source, 1, Integer::sum);
            }
        }
        HttpResponse<String> stored = send("POST", "/v1/events", "application/x-ndjson", batch.toString());
        assertEquals(200, stored.statusCode(), stored.body());

        // Alerts: the rule fires only when both conditions hold; the 10-minute cooldown per source_ip (on ingest
        // time: all 600 arrive within it) lets the first of each source through.
        Await.atMost(Duration.ofSeconds(20))
                .until(() -> lines("/v1/events?stream=alerts").size() == alertsBySource.size());
        for (Map<?, ?> alert : lines("/v1/events?stream=alerts")) {
            Map<?, ?> data = (Map<?, ?>) alert.get("data");
            assertEquals("suspicious-transfer", data.get("rule"));
            assertEquals("critical", data.get("severity"));
            assertEquals(1.0, ((Number) data.get("score")).doubleValue(), 1e-9);
            assertTrue(alertsBySource.containsKey((String) data.get("group")), alert.toString());
        }

        // Rollups: count and bytes per source_ip and hour, exactly.
        Await.atMost(Duration.ofSeconds(20)).until(() -> total(lines("/v1/rollups/traffic-per-source-hourly")) == 600);
        List<Map<?, ?>> windows = lines("/v1/rollups/traffic-per-source-hourly");
        assertEquals(expected.size(), windows.size());
        for (Map<?, ?> w : windows) {
            String source = (String) ((Map<?, ?>) w.get("group")).get("source_ip");
            long[] agg = expected.get(((Number) w.get("window_start")).longValue() + "|" + source);
            Map<?, ?> values = (Map<?, ?>) w.get("values");
            assertEquals(agg[0], ((Number) values.get("count")).longValue(), w.toString());
            assertEquals(agg[1], ((Number) values.get("sum(bytes_transferred)")).longValue(), w.toString());
        }
        List<Map<?, ?>> one =
                lines("/v1/rollups/traffic-per-source-hourly?source_ip=10.0.0.3&from=" + T0 + "&to=" + (T0 + HOUR));
        assertEquals(1, one.size(), one.toString());
        assertEquals(
                expected.get(T0 + "|10.0.0.3")[0],
                ((Number) ((Map<?, ?>) one.getFirst().get("values")).get("count")).longValue());
    }

    private static long total(List<Map<?, ?>> windows) {
        return windows.stream()
                .mapToLong(w -> ((Number) ((Map<?, ?>) w.get("values")).get("count")).longValue())
                .sum();
    }

    /** The event or window lines of an NDJSON answer (the trailer dropped). */
    private List<Map<?, ?>> lines(String path) throws Exception {
        HttpResponse<String> r = send("GET", path, null, null);
        assertEquals(200, r.statusCode(), r.body());
        List<String> lines = r.body().lines().toList();
        List<Map<?, ?>> out = new ArrayList<>();
        for (String line : lines.subList(0, lines.size() - 1)) {
            byte[] b = line.getBytes(StandardCharsets.UTF_8);
            out.add((Map<?, ?>) JsonTree.parse(b, 0, b.length));
        }
        return out;
    }
}
