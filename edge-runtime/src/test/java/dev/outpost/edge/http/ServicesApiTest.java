package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Main;
import dev.outpost.edge.config.ConfigLoader;
import dev.outpost.store.json.JsonTree;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The HTTP layer over the split runtime: every public metric name is still registered (each component registers its
 * own), hub-only endpoints answer "not a hub" on a node (their service is absent), and the JSON bodies the
 * controllers write with the generator parse with a real parser, strings with characters that need escaping
 * included.
 */
class ServicesApiTest extends AgentHttpTest {
    /** Every metric family a node with an upstream serves (the hub's are added in hub mode). */
    static final List<String> NODE_METRICS = List.of(
            "outpost_connections_open",
            "outpost_connections_refused_total",
            "outpost_data_at_risk_events",
            "outpost_governor_action_failures_total",
            "outpost_governor_action_runs_total",
            "outpost_governor_interval_millis",
            "outpost_governor_level",
            "outpost_governor_memory_usage",
            "outpost_governor_memory_limit",
            "outpost_governor_cpu_usage",
            "outpost_governor_disk_usage",
            "outpost_governor_connections_usage",
            "outpost_governor_ingest_rate_limit",
            "outpost_governor_transitions_to_low_total",
            "outpost_governor_transitions_to_critical_total",
            "outpost_ingest_duplicates_total",
            "outpost_ingest_events_total",
            "outpost_ingest_rejected_total",
            "outpost_ingest_request_duration_seconds",
            "outpost_ingest_requests_total",
            "outpost_ingest_shed_total",
            "outpost_log_appended_bytes_total",
            "outpost_log_corrupt_skipped_total",
            "outpost_log_first_seq",
            "outpost_log_fsyncs_total",
            "outpost_log_last_seq",
            "outpost_log_quarantined_total",
            "outpost_log_uncompressed_bytes_total",
            "outpost_native_lz4_loaded",
            "outpost_native_zstd_loaded",
            "outpost_query_events_total",
            "outpost_query_request_duration_seconds",
            "outpost_query_requests_total",
            "outpost_retention_bytes_freed_total",
            "outpost_retention_cycles_deleted_total",
            "outpost_retention_synced_events_retired_total",
            "outpost_retention_unsynced_events_dropped_total",
            "outpost_state_conflicts_lost_total",
            "outpost_state_conflicts_replaced_total",
            "outpost_state_documents",
            "outpost_state_documents_max",
            "outpost_state_fast_reads_total",
            "outpost_state_file_bytes",
            "outpost_sync_batches_total",
            "outpost_sync_failures_total",
            "outpost_sync_link_connected",
            "outpost_sync_payload_bytes_total",
            "outpost_sync_pulled_changes_failed_total",
            "outpost_sync_pulled_changes_total",
            "outpost_sync_records_total",
            "outpost_sync_throttled_total",
            "outpost_sync_wire_bytes_total",
            "outpost_uptime_seconds");

    static final List<String> HUB_METRICS = List.of(
            "outpost_hub_pushes_throttled_total",
            "outpost_hub_pushes_total",
            "outpost_hub_records_duplicate_total",
            "outpost_hub_records_stored_total");

    /** A hub that also pushes upstream (to a port nothing listens on): every metric family there is. */
    void startHubWithUpstream() throws Exception {
        Path cfg = dir.resolve("outpost.yaml");
        Files.writeString(
                cfg,
                harness(roomyMemory("data:\n  dir: " + dir.resolve("data") + "\nhttp:\n  port: 0\n"
                        + "sync:\n  upstream: http://127.0.0.1:9\n  token: t0ken-for-the-test-of-metrics\n"
                        + "hub:\n  nodes:\n    edge-1: another-t0ken-for-the-hub\n")));
        agent = Main.start(ConfigLoader.load(cfg).asHub());
    }

    static Object json(HttpResponse<String> r) {
        byte[] b = r.body().getBytes(StandardCharsets.UTF_8);
        return JsonTree.parse(b, 0, b.length);
    }

    @Test
    void everyPublicMetricIsRegisteredOnce() throws Exception {
        startHubWithUpstream();
        String m = send("GET", "/metrics", null, null).body();
        for (String name : NODE_METRICS) {
            assertTrue(m.contains("# TYPE " + name + " "), name + " is served:\n" + m);
        }
        for (String name : HUB_METRICS) {
            assertTrue(m.contains("# TYPE " + name + " "), name + " is served in hub mode");
        }
        assertTrue(m.contains("outpost_governor_action_runs_total{action=\"shed-low-priority-writes\"}"), m);
        assertTrue(m.contains("outpost_governor_action_runs_total{action=\"drop-unsynced-bulk-then-normal\"}"), m);
        for (String line : m.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                String family = line.split(" ")[2];
                assertEquals(1, m.split("# TYPE " + family + " ", -1).length - 1, "one TYPE line for " + family);
            }
        }
    }

    @Test
    void hubEndpointsSayNotAHubOnANode() throws Exception {
        start("");
        for (String path : List.of("/v1/fleet/nodes", "/v1/fleet/events?node=a", "/v1/sync/pull")) {
            HttpResponse<String> r = send("GET", path, null, null);
            assertEquals(404, r.statusCode(), path);
            assertEquals("Not a hub", ((Map<?, ?>) json(r)).get("title"), path);
        }
        HttpResponse<String> status = send("GET", "/v1/sync/status", null, null);
        assertEquals("offline", ((Map<?, ?>) json(status)).get("link"), "the upstream link answers offline");
    }

    @Test
    void bodiesParseAndEscapeWhatNeedsIt() throws Exception {
        start("");
        String tricky = "a \\\"quoted\\\" \\\\ back\\tslash \\u00e9\\u2028";
        assertEquals(
                201,
                send("PUT", "/v1/state/ns/doc", "application/json", "{\"note\":\"" + tricky + "\"}")
                        .statusCode());
        Map<?, ?> doc = (Map<?, ?>) json(send("GET", "/v1/state/ns/doc", null, null));
        assertEquals("a \"quoted\" \\ back\tslash \u00e9\u2028", ((Map<?, ?>) doc.get("doc")).get("note"));
        Map<?, ?> history = (Map<?, ?>) json(send("GET", "/v1/state/ns/doc/history", null, null));
        assertEquals(1, ((List<?>) history.get("changes")).size());
        Map<?, ?> list = (Map<?, ?>) json(send("GET", "/v1/state/ns", null, null));
        assertEquals(1, ((List<?>) list.get("documents")).size());
        assertEquals(JsonTree.NULL, list.get("next_cursor"));
        HttpResponse<String> stored = send("POST", "/v1/events", "application/json", "{\"stream\":\"s\",\"data\":{}}");
        assertEquals(List.of(2L), ((Map<?, ?>) json(stored)).get("seqs"), "the state change is event 1");
        String page = send("GET", "/v1/events?stream=s", null, null).body();
        String[] lines = page.split("\n");
        assertEquals(2, lines.length, page);
        Map<?, ?> event = (Map<?, ?>) JsonTree.parse(lines[0].getBytes(StandardCharsets.UTF_8), 0, lines[0].length());
        assertEquals(2L, event.get("seq"));
        assertEquals("s", event.get("stream"));
        Map<?, ?> trailer = (Map<?, ?>) JsonTree.parse(lines[1].getBytes(StandardCharsets.UTF_8), 0, lines[1].length());
        assertEquals(1L, trailer.get("count"));
        for (String path : List.of(
                "/health",
                "/health/readiness",
                "/v1/governor",
                "/v1/config",
                "/v1/streams",
                "/v1/quarantine",
                "/v1/retention",
                "/v1/dictionaries",
                "/v1/sync/status")) {
            HttpResponse<String> r = send("GET", path, null, null);
            assertEquals(200, r.statusCode(), path + ": " + r.body());
            assertInstanceOf(Map.class, json(r), path);
        }
        HttpResponse<String> bad = send("GET", "/v1/retention?limit=0", null, null);
        assertEquals(400, bad.statusCode());
        assertEquals("limit", ((Map<?, ?>) json(bad)).get("field"));
    }
}
