package dev.outpost.edge;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.outpost.edge.config.ConfigLoader;
import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * {@code outpost train}: the run the JVM records an AOT cache from ({@code ./outpost aot} runs it
 * with {@code -XX:AOTCacheOutput}). It starts an agent on a temporary directory and a free
 * loopback port, goes once through the API a device uses at start and in steady state (ingest,
 * queries, state, health, metrics, governor, sync status), stops it and deletes the directory.
 *
 * <p>Design note. The cache holds the classes this run loaded and linked, so a later start skips
 * loading, verifying and linking them (about half the start time, docs/BENCHMARKS.md). It must
 * stay a plain, deterministic walk through the same code a real start runs: nothing here is
 * measured, and a failed request fails the training (exit 1) so a broken build never leaves a
 * cache behind that looks fine.
 */
final class TrainingRun {
    /** Events in the NDJSON batch the training ingests. */
    static final int BATCH_EVENTS = 200;

    private static final JsonFactory JSON = new JsonFactory();

    /** Writes one JSON value. */
    @FunctionalInterface
    private interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    private TrainingRun() {}

    static int run() {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("outpost-train-");
            Path cfg = dir.resolve("train.yaml");
            Files.writeString(cfg, """
                    node: {id: train}
                    data: {dir: %s}
                    http: {port: 0}
                    budget: {memory: 64GiB}
                    streams:
                      readings: {priority: high, schema: {type: object, required: [v]}}
                    """.formatted(dir.resolve("data")));
            try (Main.RunningAgent agent = Main.start(ConfigLoader.load(cfg))) {
                walk(agent.port());
            }
            System.out.println("outpost: training run done");
            return 0;
        } catch (IOException | InterruptedException | RuntimeException e) {
            System.err.println("outpost train: the training run failed: " + e);
            return Main.EXIT_START_FAILED;
        } finally {
            if (dir != null) {
                deleteQuietly(dir);
            }
        }
    }

    private static void walk(int port) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + port;
        StringBuilder ndjson = new StringBuilder();
        for (int i = 0; i < BATCH_EVENTS; i++) {
            ndjson.append(event("readings", "r" + i, "v", i)).append('\n');
        }
        expect(http, base, "POST", "/v1/events", "application/json", event("s", null, "a", 1), 200);
        expect(http, base, "POST", "/v1/events", "application/x-ndjson", ndjson.toString(), 200);
        // Fails the stream's schema (data lacks the required member): exercises the 422 path.
        expect(http, base, "POST", "/v1/events", "application/json", event("readings", null, null, 0), 422);
        expect(http, base, "GET", "/v1/events?stream=readings&limit=50", null, null, 200);
        expect(http, base, "PUT", "/v1/state/train/doc", "application/json", member("mode", "auto"), 201);
        expect(http, base, "GET", "/v1/state/train/doc", null, null, 200);
        expect(http, base, "PATCH", "/v1/state/train/doc", "application/merge-patch+json", member("t", 1), 200);
        expect(http, base, "GET", "/v1/state/train/doc/history", null, null, 200);
        expect(http, base, "GET", "/v1/state/train", null, null, 200);
        expect(http, base, "DELETE", "/v1/state/train/doc", null, null, 204);
        for (String path : new String[] {
            "/health", "/metrics", "/v1/governor", "/v1/sync/status", "/v1/streams", "/v1/config", "/v1/retention"
        }) {
            expect(http, base, "GET", path, null, null, 200);
        }
    }

    /** An event {@code {"stream", "id" (unless null), "data": {field: value} (empty if field is null)}}. */
    private static String event(String stream, String id, String field, long value) throws IOException {
        return json(g -> {
            g.writeStartObject();
            g.writeStringField("stream", stream);
            if (id != null) {
                g.writeStringField("id", id);
            }
            g.writeObjectFieldStart("data");
            if (field != null) {
                g.writeNumberField(field, value);
            }
            g.writeEndObject();
            g.writeEndObject();
        });
    }

    /** An object with one string member. */
    private static String member(String name, String value) throws IOException {
        return json(g -> {
            g.writeStartObject();
            g.writeStringField(name, value);
            g.writeEndObject();
        });
    }

    /** An object with one number member. */
    private static String member(String name, long value) throws IOException {
        return json(g -> {
            g.writeStartObject();
            g.writeNumberField(name, value);
            g.writeEndObject();
        });
    }

    private static String json(Body body) throws IOException {
        StringWriter w = new StringWriter();
        try (JsonGenerator g = JSON.createGenerator(w)) {
            body.write(g);
        }
        return w.toString();
    }

    private static void expect(
            HttpClient http, String base, String method, String path, String type, String body, int status)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (type != null) {
            b.header("Content-Type", type);
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != status) {
            throw new IllegalStateException(
                    method + " " + path + " answered " + r.statusCode() + ", expected " + status + ": " + r.body());
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory left behind is harmless
        }
    }
}
