package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Await;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The governor over a real agent: what it shows, and shedding as the disk budget fills. */
class GovernorApiTest extends AgentHttpTest {
    private static long number(String json, String regex) {
        Matcher m = Pattern.compile(regex).matcher(json);
        assertTrue(m.find(), regex + " in " + json);
        return Long.parseLong(m.group(1));
    }

    @Test
    void showsEveryDimensionTheLevelAndDataAtRisk() throws Exception {
        start("budget:\n  memory: 1GiB\n  connections: 77\n");
        send(
                "POST",
                "/v1/events",
                "application/x-ndjson",
                "{\"stream\":\"s\",\"data\":{}}\n{\"stream\":\"s\",\"data\":{}}\n");
        String g = send("GET", "/v1/governor", null, null).body();
        // The level may be above low here (CPU is busy while the JVM warms up); the interval follows it.
        String level = g.replaceAll(".*\"level\":\"([a-z]+)\".*", "$1");
        assertEquals(
                dev.outpost.governor.Level.valueOf(level.toUpperCase(java.util.Locale.ROOT))
                        .sampleIntervalMillis(),
                number(g, "\"interval_millis\":(\\d+)"));
        assertEquals(1024L * 1024 * 1024, number(g, "\"memory\":\\{\"usage\":\\d+,\"limit\":(\\d+)"));
        assertEquals(77, number(g, "\"connections\":\\{\"usage\":\\d+,\"limit\":(\\d+)"));
        assertTrue(number(g, "\"memory\":\\{\"usage\":(\\d+)") > 10_000_000, "RSS measured: " + g);
        assertTrue(number(g, "\"disk\":\\{\"usage\":(\\d+)") > 0, g);
        assertTrue(g.contains("\"cpu\":{"), g);
        assertEquals(2, number(g, "\"data_at_risk\":\\{\"events\":(\\d+)"));

        String m = send("GET", "/metrics", null, null).body();
        assertTrue(m.contains("outpost_governor_level ") && m.contains("outpost_governor_disk_limit 1073741824"), m);
    }

    /**
     * A 16 MiB disk budget and a writer at full speed: bulk writes are refused first (507, disk),
     * usage stays within one block and one request of the budget, reads keep working.
     */
    @Test
    void fillingTheDiskBudgetShedsBulkFirstAndNeverOvershootsMuch() throws Exception {
        start("""
                  body_bytes_max: 128KiB
                log:
                  block_bytes: 1MiB
                  compression: none
                ingest:
                  batch_events_max: 1000
                state:
                  documents_max: 16
                  doc_bytes_max: 64KiB
                budget:
                  disk: 16MiB
                streams:
                  bulky:
                    priority: bulk
                  urgent:
                    priority: critical
                """);
        StringBuilder batch = new StringBuilder();
        while (batch.length() < 100_000) {
            batch.append("{\"stream\":\"bulky\",\"data\":{\"pad\":\"")
                    .append("z".repeat(400))
                    .append("\"}}\n");
        }
        int status = 200;
        int accepted = 0;
        for (int i = 0; i < 400 && status == 200; i++) {
            status = send("POST", "/v1/events", "application/x-ndjson", batch.toString())
                    .statusCode();
            if (status == 200) {
                accepted++;
            }
        }
        assertEquals(507, status, "bulk writes end in 507 once the disk budget is under pressure");
        assertTrue(accepted > 10, "it wrote a while first: " + accepted);
        String g = send("GET", "/v1/governor", null, null).body();
        long usage = number(g, "\"disk\":\\{\"usage\":(\\d+)");
        long limit = number(g, "\"disk\":\\{\"usage\":\\d+,\"limit\":(\\d+)");
        assertTrue(usage <= limit + (1 << 20) + 128 * 1024, "within one block and one request of the budget: " + g);
        // Ingest refuses on the live disk value; the action that reports it runs on the governor's
        // thread a moment later.
        g = Await.atMost(Duration.ofSeconds(5))
                .until(() -> send("GET", "/v1/governor", null, null).body(), b -> b.contains("refusing bulk"));
        boolean diskExhausted = usage >= limit;
        int critical = send("POST", "/v1/events", "application/json", "{\"stream\":\"urgent\",\"data\":{\"a\":1}}")
                .statusCode();
        assertEquals(diskExhausted ? 507 : 200, critical, "critical writes are refused last: " + g);
        assertEquals(200, send("GET", "/v1/events?limit=1", null, null).statusCode(), "reads keep working");
        String m = send("GET", "/metrics", null, null).body();
        assertTrue(number(m, "outpost_ingest_shed_total (\\d+)") > 0, m);
        assertTrue(number(m, "outpost_governor_level (\\d+)") >= 3, m);
        assertTrue(
                number(m, "outpost_governor_transitions_to_high_total (\\d+)")
                                + number(m, "outpost_governor_transitions_to_critical_total (\\d+)")
                        > 0,
                m);
    }
}
