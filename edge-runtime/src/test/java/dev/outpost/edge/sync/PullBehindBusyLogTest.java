package dev.outpost.edge.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Main;
import dev.outpost.sync.wire.SyncProtocol;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fleet change published behind many other records of the hub's own log (its ingest): a long poll from the start
 * finds it at once. A pull reads a bounded number of records per scan; it used to wait for a new publication after the
 * first scan found nothing, so the change came only after the whole wait, and a node behind a busy hub never caught up.
 */
class PullBehindBusyLogTest {
    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void aChangeBehindMoreRecordsThanOneScanReadsReachesALongPollAtOnce() throws Exception {
        try (TestFleet fleet = new TestFleet(dir)) {
            Main.RunningAgent hub = fleet.hub("");
            String base = "http://127.0.0.1:" + hub.port();
            for (int r = 0; r < 130; r++) { // 130,000 events: more than one scan reads
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < 1000; i++) {
                    sb.append("{\"stream\":\"readings\",\"data\":{\"i\":")
                            .append(i)
                            .append("}}\n");
                }
                HttpResponse<String> ok = http.send(
                        HttpRequest.newBuilder(URI.create(base + "/v1/events"))
                                .header("Content-Type", "application/x-ndjson")
                                .POST(HttpRequest.BodyPublishers.ofString(sb.toString()))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, ok.statusCode(), ok.body());
            }
            HttpResponse<String> put = http.send(
                    HttpRequest.newBuilder(URI.create(base + "/v1/fleet/state/edge-1/settings/fan"))
                            .header("Content-Type", "application/json")
                            .PUT(HttpRequest.BodyPublishers.ofString("{\"speed\":1}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(202, put.statusCode(), put.body());
            long t0 = System.nanoTime();
            HttpResponse<String> pulled = http.send(
                    HttpRequest.newBuilder(URI.create(base + "/v1/sync/pull?after=0&wait_millis=30000"))
                            .header("Authorization", "Bearer " + TestFleet.TOKEN_1)
                            .header(SyncProtocol.NODE_HEADER, "edge-1")
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            long millis = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(200, pulled.statusCode(), pulled.body());
            assertTrue(pulled.body().contains("\"fan\""), "the change is in the page: " + pulled.body());
            assertTrue(millis < 20_000, "not after the whole wait: " + millis + " ms");
        }
    }
}
