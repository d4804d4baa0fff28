package dev.outpost.edge.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Main;
import dev.outpost.edge.config.ConfigLoader;
import dev.outpost.store.json.JsonTree;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An edge started before its hub (issue #11 point 5f): with the default breaker settings it keeps
 * trying while the hub starts, says why it cannot reach it (host, port, reason), and connects as
 * soon as the hub listens instead of waiting out an open circuit.
 */
class SyncStartupTest {
    static final String TOKEN = "edge-one-token-0123456789";

    @TempDir
    Path dir;

    final HttpClient http = HttpClient.newHttpClient();
    Main.RunningAgent hub;
    Main.RunningAgent edge;

    @AfterEach
    void stop() {
        if (edge != null) {
            edge.close();
        }
        if (hub != null) {
            hub.close();
        }
    }

    Map<?, ?> status() throws Exception {
        HttpResponse<byte[]> r = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.port() + "/v1/sync/status"))
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode());
        return (Map<?, ?>) JsonTree.parse(r.body(), 0, r.body().length);
    }

    String metrics() throws Exception {
        return http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.port() + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    @Test
    void anEdgeStartedBeforeItsHubConnectsOnceTheHubListens() throws Exception {
        int hubPort = FaultProxy.stablePort();
        Path edgeCfg = dir.resolve("edge.yaml");
        // The breaker keys keep their defaults (5 failures, 15 s open): the case that was reported.
        Files.writeString(edgeCfg, """
                node:
                  id: edge-1
                data:
                  dir: %s
                http:
                  port: 0
                budget:
                  memory: 16GiB
                sync:
                  upstream: http://127.0.0.1:%d
                  token: %s
                  backoff_base_millis: 20
                  backoff_cap_millis: 200
                  idle_poll_millis: 50
                """.formatted(dir.resolve("edge-data"), hubPort, TOKEN));
        edge = Main.start(ConfigLoader.load(edgeCfg));
        HttpResponse<String> ingest = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.port() + "/v1/events"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"stream\":\"readings\",\"data\":{\"i\":1}}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ingest.statusCode(), ingest.body());

        // More failures than breaker_failures, quickly: the hub is "still starting".
        Awaitility.await()
                .atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> ((Long) status().get("consecutive_failures")) > 5);
        Map<?, ?> s = status();
        assertEquals("backing_off", s.get("link"), "the circuit stays closed while the window lasts: " + s);
        Map<?, ?> lastError = (Map<?, ?>) s.get("last_error");
        assertEquals(
                "cannot connect to hub at 127.0.0.1:" + hubPort + ": connection refused",
                lastError.get("message"),
                "host, port and reason: " + s);

        Path hubCfg = dir.resolve("hub.yaml");
        Files.writeString(hubCfg, """
                node:
                  id: hq
                data:
                  dir: %s
                http:
                  port: %d
                budget:
                  memory: 16GiB
                hub:
                  nodes:
                    edge-1: %s
                """.formatted(dir.resolve("hub-data"), hubPort, TOKEN));
        hub = Main.start(ConfigLoader.load(hubCfg).asHub());
        long listening = System.nanoTime();
        // Within a few backoff ceilings (200 ms), far below the 15 s an open circuit would wait.
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> "connected".equals(status().get("link"))
                        && metrics().contains("outpost_sync_records_total 1\n"));
        long millis = (System.nanoTime() - listening) / 1_000_000;
        s = status();
        assertEquals(0L, s.get("consecutive_failures"), s.toString());
        assertTrue(millis < 5000, "connected " + millis + " ms after the hub listened");
    }
}
