package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #13 point 4: one live subscriber that reads nothing while 1 GB of events flows through a real agent process.
 * Ingest goes on, the subscriber is skipped forward (counted), and the agent's anonymous memory (heap, direct buffers:
 * where queued messages would live) stays flat. File-backed RSS is the log's mapped pages and is not the subscriber's.
 */
class StalledSubscriberMemoryTest {
    private static final int EVENTS_PER_BATCH = 1_000;
    private static final int BATCHES = 1_024; // ~1 KiB events: ~1 GiB in all
    private static final int BASELINE_AFTER_BATCHES = 128;
    /** Anonymous memory the agent may gain between the baseline and the end (JIT, allocator noise). */
    private static final long GROWTH_BYTES_MAX = 48L << 20;

    @TempDir
    Path dir;

    @Test
    void aStalledSubscriberDoesNotGrowMemoryWhile1GiBFlows() throws Exception {
        Path cfg = dir.resolve("outpost.yaml");
        Files.writeString(
                cfg,
                "data:\n  dir: " + dir.resolve("data") + "\nhttp:\n  port: 0\n"
                        + "budget:\n  disk: 8GiB\nlive:\n  lag_events_max: 50000\n");
        HttpClient http =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (AgentProcess agent = AgentProcess.start(cfg, dir.resolve("home"));
                Socket stalled = new Socket()) {
            stalled.setReceiveBufferSize(4096);
            stalled.connect(new InetSocketAddress("127.0.0.1", agent.port));
            stalled.getOutputStream()
                    .write("GET /v1/events/tail?stream=flood HTTP/1.1\r\nHost: x\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
            String batch = batch();
            long baseline = 0;
            long peak = 0;
            for (int i = 0; i < BATCHES; i++) {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.port + "/v1/events"))
                                .header("Content-Type", "application/x-ndjson")
                                .POST(HttpRequest.BodyPublishers.ofString(batch))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), r.body());
                if (i == BASELINE_AFTER_BATCHES) {
                    baseline = anonBytes(agent.process.pid());
                }
                if (i > BASELINE_AFTER_BATCHES && i % 64 == 0) {
                    peak = Math.max(peak, anonBytes(agent.process.pid()));
                }
            }
            peak = Math.max(peak, anonBytes(agent.process.pid()));
            String metrics = http.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.port + "/metrics"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
            assertTrue(metric(metrics, "outpost_live_skipped_events_total") > 0, "the subscriber was skipped");
            assertEquals(1, metric(metrics, "outpost_live_subscribers"), "and is still subscribed");
            System.out.printf(
                    "stalled subscriber, 1 GiB ingested: anonymous RSS %d MiB after 128 MiB, peak %d MiB after%n",
                    baseline >> 20, peak >> 20);
            assertTrue(
                    peak - baseline < GROWTH_BYTES_MAX,
                    "anonymous memory grew by " + ((peak - baseline) >> 20) + " MiB while the subscriber read nothing");
        }
    }

    private static String batch() {
        StringBuilder b = new StringBuilder();
        String pad = "x".repeat(950);
        for (int i = 0; i < EVENTS_PER_BATCH; i++) {
            b.append("{\"stream\":\"flood\",\"data\":{\"pad\":\"").append(pad).append("\"}}\n");
        }
        return b.toString();
    }

    private static long metric(String text, String name) {
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ")) {
                return (long)
                        Double.parseDouble(line.substring(name.length() + 1).strip());
            }
        }
        throw new AssertionError("no " + name + " in /metrics");
    }

    /** RssAnon: the process's resident anonymous memory (heap, direct buffers, thread stacks). */
    private static long anonBytes(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("RssAnon:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new AssertionError("no RssAnon in /proc/" + pid + "/status");
    }
}
