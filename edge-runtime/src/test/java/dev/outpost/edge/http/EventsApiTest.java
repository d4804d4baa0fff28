package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Await;
import dev.outpost.edge.Main;
import dev.outpost.edge.config.ConfigLoader;
import dev.outpost.edge.config.OutpostConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP API against a real server on loopback and real Chronicle files. */
class EventsApiTest {
    @TempDir
    Path dir;

    private Main.RunningAgent agent;
    private final HttpClient http = HttpClient.newHttpClient();

    private void start(String extraYaml) throws IOException {
        Path cfg = dir.resolve("outpost.yaml");
        Files.writeString(
                cfg,
                AgentHttpTest.harness("data:\n  dir: " + dir.resolve("data") + "\nhttp:\n  port: 0\n"
                        + AgentHttpTest.roomyMemory(extraYaml)));
        OutpostConfig c = ConfigLoader.load(cfg);
        agent = Main.start(c);
    }

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.close();
        }
    }

    private HttpResponse<String> post(String contentType, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.port() + "/v1/events"))
                .header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String pathAndQuery, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.port() + pathAndQuery));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String ev(String stream, int i) {
        return "{\"stream\":\"" + stream + "\",\"data\":{\"i\":" + i + "}}";
    }

    private static String batch(String stream, int from, int n) {
        StringBuilder b = new StringBuilder();
        for (int i = from; i < from + n; i++) {
            b.append(ev(stream, i)).append('\n');
        }
        return b.toString();
    }

    private static List<String> lines(String body) {
        return body.lines().filter(l -> !l.isBlank()).toList();
    }

    private static String trailer(String body) {
        List<String> l = lines(body);
        return l.getLast();
    }

    private static String cursorOf(String body) {
        Matcher m = Pattern.compile("\"next_cursor\":\"([^\"]+)\"").matcher(trailer(body));
        return m.find() ? m.group(1) : null;
    }

    @Test
    void singleAndBatchIngestAnswerWithSequences() throws Exception {
        start("");
        HttpResponse<String> one = post("application/json", ev("s", 0));
        assertEquals(200, one.statusCode(), one.body());
        assertTrue(one.body().contains("\"seqs\":[1]"), one.body());
        HttpResponse<String> many = post("application/x-ndjson", batch("s", 1, 3));
        assertEquals(200, many.statusCode());
        assertTrue(many.body().contains("\"seqs\":[2,3,4]"), many.body());
        HttpResponse<String> read = get("/v1/events");
        assertEquals(200, read.statusCode());
        assertEquals(
                "application/x-ndjson",
                read.headers().firstValue("Content-Type").orElse(""));
        List<String> l = lines(read.body());
        assertEquals(5, l.size());
        assertTrue(l.get(0).startsWith("{\"seq\":1,\"ingest_time\":"), l.get(0));
        assertTrue(l.get(3).endsWith("\"stream\":\"s\",\"data\":{\"i\":3}}"), l.get(3));
    }

    @Test
    void oneBadLineRejectsTheWholeBatchAndStoresNothing() throws Exception {
        start("");
        String body = batch("s", 0, 3) + "{\"stream\":\"s\",\"data\":{\"broken\":}\n" + batch("s", 4, 2);
        HttpResponse<String> r = post("application/x-ndjson", body);
        assertEquals(400, r.statusCode());
        assertEquals(
                "application/problem+json",
                r.headers().firstValue("Content-Type").orElse(""));
        assertTrue(r.body().contains("\"line\":4"), r.body());
        assertTrue(r.body().contains("line 4: malformed JSON"), r.body());
        assertEquals(0, agent.agent().log().lastSeq());
        assertEquals(1, lines(get("/v1/events").body()).size(), "only the trailer");
    }

    @Test
    void bodyOverTheLimitIs413ProblemAndUnsupportedTypeIs415() throws Exception {
        start(
                "  body_bytes_max: 4KiB\ningest:\n  event_bytes_max: 1KiB\nstate:\n  doc_bytes_max: 2KiB\n"); // continues the http section
        HttpResponse<String> big = post("application/x-ndjson", batch("s", 0, 200));
        assertEquals(413, big.statusCode(), big.body());
        assertTrue(
                big.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"),
                big.headers().toString());
        HttpResponse<String> type = post("text/plain", ev("s", 1));
        assertEquals(415, type.statusCode());
        assertTrue(type.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"));
        assertEquals(0, agent.agent().log().lastSeq());
    }

    @Test
    void idempotencyKeyMakesARetryANoOpWithTheOriginalSequences() throws Exception {
        start("");
        post("application/json", ev("s", 0));
        HttpResponse<String> first = post("application/x-ndjson", batch("s", 1, 3), "Idempotency-Key", "req-1");
        HttpResponse<String> retry = post("application/x-ndjson", batch("s", 1, 3), "Idempotency-Key", "req-1");
        assertTrue(first.body().contains("\"seqs\":[2,3,4]"), first.body());
        assertEquals(200, retry.statusCode());
        assertTrue(retry.body().contains("\"seqs\":[2,3,4]"), retry.body());
        assertTrue(retry.body().contains("\"replayed\":true"), retry.body());
        assertEquals(4, agent.agent().log().lastSeq());
        HttpResponse<String> misuse = post("application/x-ndjson", batch("s", 1, 2), "Idempotency-Key", "req-1");
        assertEquals(422, misuse.statusCode());
    }

    @Test
    void eventIdMakesARetriedEventANoOpPerStream() throws Exception {
        start("");
        String a = "{\"stream\":\"s\",\"id\":\"e-1\",\"data\":{}}";
        String otherStream = "{\"stream\":\"t\",\"id\":\"e-1\",\"data\":{}}";
        assertTrue(post("application/json", a).body().contains("\"seqs\":[1]"));
        HttpResponse<String> again = post("application/x-ndjson", a + "\n" + otherStream + "\n" + a + "\n");
        assertTrue(again.body().contains("\"seqs\":[1,2,1]"), again.body());
        assertTrue(again.body().contains("\"stored\":1"), again.body());
        assertEquals(2, agent.agent().log().lastSeq());
    }

    @Test
    void dedupWindowsSurviveARestart() throws Exception {
        start("");
        String withId = "{\"stream\":\"s\",\"id\":\"e-9\",\"data\":{}}";
        String b = withId + "\n" + batch("s", 0, 2) + withId + "\n";
        HttpResponse<String> first = post("application/x-ndjson", b, "Idempotency-Key", "k-restart");
        assertTrue(first.body().contains("\"seqs\":[1,2,3,1]"), first.body());
        agent.close();
        agent = null;
        start("");
        HttpResponse<String> retry = post("application/x-ndjson", b, "Idempotency-Key", "k-restart");
        assertTrue(retry.body().contains("\"seqs\":[1,2,3,1]"), retry.body());
        assertTrue(retry.body().contains("\"replayed\":true"), retry.body());
        assertTrue(post("application/json", withId).body().contains("\"seqs\":[1]"));
        assertEquals(3, agent.agent().log().lastSeq());
    }

    @Test
    void readPagesWithCursorsFiltersByStreamAndTime() throws Exception {
        start("");
        post("application/x-ndjson", batch("a", 0, 5) + batch("b", 5, 5));
        // A millisecond after the first batch's stamps; the next batch is stamped at or after it.
        long mid = System.currentTimeMillis() + 1;
        Await.atMost(Duration.ofSeconds(1)).until(() -> System.currentTimeMillis() >= mid);
        post("application/x-ndjson", batch("a", 10, 5));
        // Paging through everything, 4 at a time, with cursors.
        List<Long> seqs = new ArrayList<>();
        String cursor = null;
        for (int page = 0; page < 10; page++) {
            HttpResponse<String> r = get(cursor == null ? "/v1/events?limit=4" : "/v1/events?limit=4&cursor=" + cursor);
            assertEquals(200, r.statusCode(), r.body());
            List<String> l = lines(r.body());
            for (String line : l.subList(0, l.size() - 1)) {
                Matcher m = Pattern.compile("^\\{\"seq\":(\\d+),").matcher(line);
                assertTrue(m.find(), line);
                seqs.add(Long.parseLong(m.group(1)));
            }
            cursor = cursorOf(r.body());
            if (l.size() == 1) {
                break;
            }
        }
        assertEquals(java.util.stream.LongStream.rangeClosed(1, 15).boxed().toList(), seqs);
        // Stream filter with a small scan budget still finds everything by following cursors.
        List<String> bOnly = lines(get("/v1/events?stream=b&limit=100").body());
        assertEquals(6, bOnly.size());
        assertTrue(bOnly.stream().limit(5).allMatch(l -> l.contains("\"stream\":\"b\"")));
        // Time window: from mid, only the last batch.
        List<String> late = lines(get("/v1/events?from_time=" + mid).body());
        assertEquals(6, late.size());
        assertTrue(late.getFirst().startsWith("{\"seq\":11,"), late.getFirst());
        List<String> early = lines(get("/v1/events?to_time=" + mid).body());
        assertEquals(11, early.size());
        assertTrue(trailer(get("/v1/events?to_time=" + mid).body()).contains("\"complete\":true"));
        List<String> iso = lines(
                get("/v1/events?from_seq=14&from_time=2020-01-01T00:00:00Z").body());
        assertEquals(3, iso.size());
    }

    @Test
    void badQueriesAreProblemsNamingTheParameter() throws Exception {
        start("");
        assertTrue(get("/v1/events?limit=0").body().contains("\"field\":\"limit\""));
        assertTrue(get("/v1/events?limit=abc").body().contains("\"field\":\"limit\""));
        assertTrue(get("/v1/events?from_time=yesterday").body().contains("\"field\":\"from_time\""));
        assertTrue(get("/v1/events?cursor=zzz").body().contains("\"field\":\"cursor\""));
        assertEquals(400, get("/v1/events?stream=a%20b").statusCode());
    }

    @Test
    void largeResultsStreamInChunks() throws Exception {
        start("");
        for (int i = 0; i < 20; i++) {
            post("application/x-ndjson", batch("s", i * 500, 500));
        }
        HttpResponse<String> r = get("/v1/events?limit=10000");
        assertEquals(200, r.statusCode());
        assertEquals(10_001, lines(r.body()).size());
        assertFalse(r.headers().firstValue("Content-Length").isPresent(), "streamed, not buffered");
    }

    @Test
    void healthAndMetrics() throws Exception {
        start("");
        post("application/x-ndjson", batch("s", 0, 3));
        HttpResponse<String> h = get("/health");
        assertEquals(200, h.statusCode());
        assertTrue(h.body().contains("\"readiness\":\"UP\""));
        assertEquals(200, get("/health/liveness").statusCode());
        assertEquals(200, get("/health/readiness").statusCode());
        String m = get("/metrics").body();
        assertTrue(m.contains("outpost_ingest_events_total 3"), m);
        assertTrue(m.contains("outpost_ingest_requests_total 1"), m);
        assertTrue(m.contains("# TYPE outpost_ingest_request_duration_seconds histogram"), m);
        assertTrue(m.contains("outpost_ingest_request_duration_seconds_count 1"), m);
        assertTrue(m.contains("outpost_log_last_seq 3"), m);
        assertTrue(m.contains("outpost_native_zstd_loaded 1"), m);
        assertTrue(m.contains("outpost_log_uncompressed_bytes_total"), m);
    }

    @Test
    void dictionariesTrainFromAStreamAndAreListed() throws Exception {
        start("");
        assertEquals(422, postTo("/v1/dictionaries?stream=traffic").statusCode(), "no samples yet");
        java.util.Random r = new java.util.Random(7);
        for (int b = 0; b < 10; b++) {
            assertEquals(
                    200,
                    post("application/x-ndjson", DictionariesApiTest.trafficBatch(r))
                            .statusCode());
        }
        HttpResponse<String> trained = postTo("/v1/dictionaries?stream=traffic&samples=1500&bytes=8192");
        assertEquals(200, trained.statusCode(), trained.body());
        assertTrue(trained.body().contains("\"samples\":1500"), trained.body());
        assertTrue(trained.body().contains("\"purpose\":\"wire\""), trained.body());
        String list = get("/v1/dictionaries").body();
        assertTrue(list.contains("\"stream\":\"traffic\""), list);
        assertEquals(1, agent.agent().catalog().dictionaries(10).size());
        assertEquals(400, postTo("/v1/dictionaries?stream=traffic&samples=5").statusCode());
        assertEquals(
                400, postTo("/v1/dictionaries?stream=traffic&purpose=space").statusCode());
    }

    private HttpResponse<String> postTo(String pathAndQuery) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.port() + pathAndQuery))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aCorruptTailIsQuarantinedRecordedInTheCatalogAndListed() throws Exception {
        start("log:\n  compression: none\n");
        post("application/x-ndjson", batch("s", 0, 3));
        post("application/json", "{\"stream\":\"s\",\"data\":{\"v\":\"MARKER-TAIL\"}}");
        agent.close();
        agent = null;
        flipAfter(dir.resolve("data").resolve("log"), "MARKER-TAIL");
        start("log:\n  compression: none\n");
        // The corrupt request was stored whole, so acknowledged: its number 4 is not handed out again.
        assertEquals(4, agent.agent().log().lastSeq(), "numbering goes on above the quarantined request");
        String events = get("/v1/events?stream=s").body();
        assertTrue(events.contains("\"seq\":3,") && !events.contains("\"seq\":4,"), events);
        String q = get("/v1/quarantine").body();
        assertTrue(q.contains("\"kind\":\"log-group\"") && q.contains("group-"), q);
        assertTrue(get("/metrics").body().contains("outpost_log_quarantined_total 1"));
        agent.close();
        agent = null;
        start("log:\n  compression: none\n");
        assertEquals(1, q.split("\"kind\"").length - 1);
        assertEquals(1, get("/v1/quarantine").body().split("\"kind\"").length - 1, "recorded once");
    }

    static void flipAfter(Path logDir, String marker) throws IOException {
        byte[] m = marker.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (var files = Files.walk(logDir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".cq4")).toList()) {
                byte[] all = Files.readAllBytes(f);
                for (int i = 0; i + m.length < all.length; i++) {
                    if (java.util.Arrays.equals(all, i, i + m.length, m, 0, m.length)) {
                        try (var raf = new java.io.RandomAccessFile(f.toFile(), "rw")) {
                            raf.seek(i + m.length);
                            raf.write(all[i + m.length] ^ 0x5A);
                        }
                        return;
                    }
                }
            }
        }
        throw new AssertionError("marker not found");
    }

    @Test
    void apiTokenIsRequiredWhenConfigured() throws Exception {
        start("  api_token: s3cret\n"); // continues the http section start() writes
        assertEquals(401, post("application/json", ev("s", 0)).statusCode());
        assertEquals(401, get("/v1/events", "Authorization", "Bearer wrong").statusCode());
        assertEquals(
                200,
                post("application/json", ev("s", 0), "Authorization", "Bearer s3cret")
                        .statusCode());
        assertEquals(200, get("/health").statusCode(), "health needs no token");
    }

    @Test
    void fsyncDurabilityAcknowledgesConcurrentWrites() throws Exception {
        start("log:\n  durability: fsync\n");
        List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> fs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.port() + "/v1/events"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(ev("s", i)))
                    .build();
            fs.add(http.sendAsync(req, HttpResponse.BodyHandlers.ofString()));
        }
        for (var f : fs) {
            assertEquals(200, f.get().statusCode());
        }
        assertEquals(40, agent.agent().log().lastSeq());
        assertTrue(agent.agent().log().counters().fsyncs.sum() >= 1);
    }
}
