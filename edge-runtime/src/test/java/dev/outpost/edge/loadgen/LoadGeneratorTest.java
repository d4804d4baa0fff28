package dev.outpost.edge.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.outpost.store.json.JsonTree;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Tag("slow") // a load generator driving real agents, HTTPS included
@Timeout(60)
class LoadGeneratorTest {

    private HttpServer server;
    private ExecutorService executor;
    private final Set<String> contentTypes = ConcurrentHashMap.newKeySet();
    private final Set<Integer> linesPerRequest = ConcurrentHashMap.newKeySet();
    private final Set<String> badLines = ConcurrentHashMap.newKeySet();
    private final AtomicLong received = new AtomicLong();

    // State documents: what the in-test server saw.
    private static final Pattern DOC_PATH = Pattern.compile("/v1/state/bench/d-(\\d+)");
    private final Map<Integer, AtomicInteger> putsPerDoc = new ConcurrentHashMap<>();
    private final Map<Integer, AtomicInteger> getsPerDoc = new ConcurrentHashMap<>();
    private final Set<String> stateProblems = ConcurrentHashMap.newKeySet();
    private final Set<Integer> putSizes = ConcurrentHashMap.newKeySet();
    private final Set<String> putBodies = ConcurrentHashMap.newKeySet();
    private final List<String> methodOrder = new CopyOnWriteArrayList<>();

    /** Starts a server answering {@code status}; chunked responses when {@code chunked}. */
    private String start(int status, boolean chunked) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        executor = Executors.newFixedThreadPool(4);
        server.setExecutor(executor);
        server.createContext("/v1/events", ex -> handle(ex, status, chunked));
        server.start();
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/events";
    }

    /**
     * Starts a state server under {@code /v1/state/bench}: PUT answers 201 the first time a
     * document is written and 200 after (or {@code putStatus} if not 0), GET 200 for a written
     * document and 404 otherwise. Returns the namespace base URL.
     */
    private String startState(int documents, int putStatus) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        executor = Executors.newFixedThreadPool(4);
        server.setExecutor(executor);
        server.createContext("/v1/state/bench", ex -> handleState(ex, documents, putStatus));
        server.start();
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/state/bench";
    }

    private void handleState(HttpExchange ex, int documents, int putStatus) throws IOException {
        try (ex) {
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            String method = ex.getRequestMethod();
            String path = ex.getRequestURI().getRawPath();
            methodOrder.add(method);
            Matcher m = DOC_PATH.matcher(path);
            int status;
            if (!m.matches() || ex.getRequestURI().getRawQuery() != null) {
                stateProblems.add("path " + ex.getRequestURI());
                status = 400;
            } else {
                int doc = Integer.parseInt(m.group(1));
                if (doc >= documents) {
                    stateProblems.add("document out of range: " + path);
                }
                switch (method) {
                    case "PUT" -> {
                        String type = ex.getRequestHeaders().getFirst("Content-Type");
                        if (!"application/json".equals(type)) {
                            stateProblems.add("PUT Content-Type " + type);
                        }
                        Object tree = null;
                        try {
                            tree = JsonTree.parse(body, 0, body.length);
                        } catch (RuntimeException e) {
                            stateProblems.add("PUT body not JSON: " + e.getMessage());
                        }
                        if (!(tree instanceof Map<?, ?> obj) || !(obj.get("device") instanceof String)) {
                            stateProblems.add("PUT body not a document: " + new String(body, StandardCharsets.UTF_8));
                        }
                        putSizes.add(body.length);
                        putBodies.add(new String(body, StandardCharsets.UTF_8));
                        int n = putsPerDoc
                                .computeIfAbsent(doc, k -> new AtomicInteger())
                                .incrementAndGet();
                        status = putStatus != 0 ? putStatus : n == 1 ? 201 : 200;
                    }
                    case "GET" -> {
                        if (body.length != 0) {
                            stateProblems.add("GET with a body");
                        }
                        getsPerDoc
                                .computeIfAbsent(doc, k -> new AtomicInteger())
                                .incrementAndGet();
                        status = putsPerDoc.containsKey(doc) ? 200 : 404;
                    }
                    default -> {
                        stateProblems.add("method " + method);
                        status = 405;
                    }
                }
            }
            byte[] reply = "{\"device\":\"dev-1\",\"temp\":1.5}".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.getResponseHeaders().set("ETag", "\"1\"");
            ex.sendResponseHeaders(status, reply.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(reply);
            }
        }
    }

    private void handle(HttpExchange ex, int status, boolean chunked) throws IOException {
        try (ex) {
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            received.incrementAndGet();
            contentTypes.add(String.valueOf(ex.getRequestHeaders().getFirst("Content-Type")));
            String text = new String(body, StandardCharsets.UTF_8);
            String[] lines = text.split("\n");
            linesPerRequest.add(lines.length);
            for (String line : lines) {
                if (!line.startsWith("{\"stream\":\"sensors\",\"key\":\"dev-") || !line.endsWith("}}")) {
                    badLines.add(line);
                }
            }
            byte[] reply = "{\"accepted\":1}".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(status, chunked ? 0 : reply.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(reply);
            }
        }
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
            executor.shutdownNow();
        }
    }

    private static Result run(String... args) {
        return LoadGenerator.execute(Options.parse(args));
    }

    @Test
    void singleEventsOverKeepAliveConnections() throws IOException {
        String url = start(200, false);
        Result r = run(
                "--url",
                url,
                "--connections",
                "2",
                "--mode",
                "single",
                "--duration-seconds",
                "1",
                "--warmup-seconds",
                "0.2",
                "--label",
                "unit test");
        assertTrue(r.requests() > 0, r.summary());
        assertEquals(0, r.errors(), r.summary());
        assertEquals(0, r.warmupErrors(), r.summary());
        assertEquals(r.requests(), r.events());
        assertEquals(Set.of("application/json"), contentTypes);
        assertEquals(Set.of(1), linesPerRequest);
        assertEquals(Set.of(), badLines);
        assertTrue(received.get() >= r.requests());
        assertTrue(r.latency().count() == r.requests());
        assertTrue(r.summary().startsWith("label=unit_test mode=single connections=2 batch=1 "), r.summary());
        assertTrue(r.seconds() > 0.9 && r.seconds() < 1.1, r.summary());
    }

    @Test
    void ndjsonBatches() throws IOException {
        String url = start(200, false);
        Result r = run(
                "--url",
                url,
                "--connections",
                "2",
                "--mode",
                "batch",
                "--batch",
                "25",
                "--duration-seconds",
                "1",
                "--warmup-seconds",
                "0.2",
                "--event-bytes",
                "180");
        assertTrue(r.requests() > 0, r.summary());
        assertEquals(0, r.errors(), r.summary());
        assertEquals(0, r.warmupErrors(), r.summary());
        assertEquals(r.requests() * 25, r.events());
        assertEquals(Set.of("application/x-ndjson"), contentTypes);
        assertEquals(Set.of(25), linesPerRequest);
        assertEquals(Set.of(), badLines);
        assertTrue(r.summary().contains(" mode=batch connections=2 batch=25 "), r.summary());
    }

    @Test
    void chunkedResponsesAndMaxRequests() throws IOException {
        String url = start(200, true);
        Result r = run(
                "--url",
                url,
                "--connections",
                "2",
                "--duration-seconds",
                "10",
                "--warmup-seconds",
                "0",
                "--max-requests",
                "50");
        assertEquals(50, r.requests(), r.summary());
        assertEquals(0, r.errors(), r.summary());
        assertTrue(r.seconds() < 9, "stopped at --max-requests: " + r.summary());
    }

    @Test
    void unexpectedStatusCountsAsError() throws IOException {
        String url = start(500, false);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = LoadGenerator.run(
                new String[] {"--url", url, "--connections", "2", "--duration-seconds", "1", "--warmup-seconds", "0"},
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String summary = out.toString(StandardCharsets.UTF_8);
        assertEquals(1, code, summary);
        assertTrue(summary.contains(" requests=0 "), summary);
        long errors = Long.parseLong(summary.replaceAll("(?s).* errors=(\\d+) .*", "$1"));
        assertTrue(errors > 0, summary);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("status 500"), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void statePutsSpreadOverTheDocuments() throws IOException {
        String url = startState(40, 0);
        Result r = run(
                "--url",
                url + "/",
                "--connections",
                "2",
                "--mode",
                "state-put",
                "--documents",
                "40",
                "--duration-seconds",
                "1",
                "--warmup-seconds",
                "0.2");
        assertTrue(r.requests() > 80, r.summary());
        assertEquals(0, r.errors(), r.summary()); // 201 (first write) and 200 both count
        assertEquals(0, r.warmupErrors(), r.summary());
        assertEquals(r.requests(), r.events());
        assertEquals(Set.of(), stateProblems);
        assertEquals(Set.of("PUT"), Set.copyOf(methodOrder));
        assertEquals(40, putsPerDoc.size(), putsPerDoc.toString()); // every id d-0..d-39
        assertTrue(putBodies.size() > 40, "bodies vary: " + putBodies.size());
        for (int size : putSizes) {
            assertTrue(size >= 190 && size <= 210, "about 200 bytes: " + size);
        }
        assertTrue(r.summary().contains(" mode=state-put connections=2 batch=1 "), r.summary());
        assertTrue(r.summary().endsWith(" documents=40"), r.summary());
    }

    @Test
    void stateGetsCreateTheDocumentsFirst() throws IOException {
        String url = startState(25, 0);
        Result r = run(
                "--url",
                url,
                "--connections",
                "3",
                "--mode",
                "state-get",
                "--documents",
                "25",
                "--duration-seconds",
                "1",
                "--warmup-seconds",
                "0");
        assertTrue(r.requests() > 50, r.summary());
        assertEquals(0, r.errors(), r.summary()); // a GET of a document never PUT would be a 404
        assertEquals(Set.of(), stateProblems);
        // Exactly one PUT per document, all before the first GET.
        assertEquals(25, putsPerDoc.size());
        putsPerDoc.forEach((d, n) -> assertEquals(1, n.get(), "PUTs of d-" + d));
        assertEquals(25, methodOrder.indexOf("GET"), methodOrder.subList(0, 30).toString());
        assertEquals(Set.of("GET"), Set.copyOf(methodOrder.subList(25, methodOrder.size())));
        assertEquals(25, getsPerDoc.size(), getsPerDoc.toString());
        assertTrue(received.get() == 0);
        assertTrue(r.summary().contains(" mode=state-get connections=3 batch=1 "), r.summary());
    }

    @Test
    void stateGetFailsWhenTheDocumentsCannotBeCreated() throws IOException {
        String url = startState(5, 503);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = LoadGenerator.run(
                new String[] {"--url", url, "--mode", "state-get", "--documents", "5", "--duration-seconds", "1"},
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(1, code);
        assertEquals("", out.toString(StandardCharsets.UTF_8));
        assertTrue(
                err.toString(StandardCharsets.UTF_8).contains("creating the 5 documents failed: {status 503=5}"),
                err.toString(StandardCharsets.UTF_8));
        assertEquals(Set.of("PUT"), Set.copyOf(methodOrder));
    }

    @Test
    void statePutCountsOnly200And201() throws IOException {
        String url = startState(5, 204);
        Result r = run(
                "--url",
                url,
                "--mode",
                "state-put",
                "--documents",
                "5",
                "--duration-seconds",
                "0.5",
                "--warmup-seconds",
                "0");
        assertEquals(0, r.requests(), r.summary());
        assertTrue(r.errors() > 0, r.summary());
        assertEquals(Map.of("status 204", r.errors()), r.errorKinds());
    }

    @Test
    void badArgumentsAndNonLoopbackTargetsAreRefused() {
        PrintStream sink = new PrintStream(OutputStream.nullOutputStream());
        assertEquals(2, LoadGenerator.run(new String[] {"--mode", "bulk"}, sink, sink));
        assertEquals(2, LoadGenerator.run(new String[] {"--connections", "0"}, sink, sink));
        assertEquals(2, LoadGenerator.run(new String[] {"--mode", "state-get", "--documents", "0"}, sink, sink));
        assertEquals(2, LoadGenerator.run(new String[] {"--nope", "1"}, sink, sink));
        assertEquals(2, LoadGenerator.run(new String[] {"--url", "http://192.0.2.1:7070/v1/events"}, sink, sink));
        assertEquals(0, LoadGenerator.run(new String[] {"--help"}, sink, sink));
    }

    @Test
    void eventsAreAboutTheRequestedSize() {
        var rnd = new java.util.SplittableRandom(1);
        for (int size : new int[] {120, 200, 500}) {
            String e = Payloads.event(rnd, "sensors", size);
            assertEquals(size, e.getBytes(StandardCharsets.UTF_8).length, e);
            String d = Payloads.document(rnd, size);
            assertEquals(size, d.getBytes(StandardCharsets.UTF_8).length, d);
            assertTrue(JsonTree.parse(d.getBytes(StandardCharsets.UTF_8), 0, d.length()) instanceof Map<?, ?>, d);
        }
    }

    @Test
    void histogramQuantiles() {
        LatencyHistogram h = new LatencyHistogram();
        for (int i = 1; i <= 1000; i++) {
            h.record(i * 1_000_000L); // 1..1000 ms
        }
        assertEquals(500, h.quantileNanos(0.5) / 1e6, 500 * 0.05);
        assertEquals(990, h.quantileNanos(0.99) / 1e6, 990 * 0.05);
        assertEquals(1000, h.maxNanos() / 1e6, 1e-9);
        LatencyHistogram tiny = new LatencyHistogram();
        tiny.record(10);
        tiny.record(50_000_000_000L);
        assertEquals(2, tiny.count());
        assertTrue(tiny.quantileNanos(1.0) >= LatencyHistogram.MAX_NANOS);
    }

    @Test
    void rateLimitsRequestsPerSecond() throws IOException {
        String url = start(200, false);
        Result r = run(
                "--url",
                url,
                "--connections",
                "2",
                "--mode",
                "single",
                "--duration-seconds",
                "1",
                "--warmup-seconds",
                "0",
                "--rate",
                "200");
        assertTrue(
                r.requests() >= 150 && r.requests() <= 250, "about 200 requests in 1 s at --rate 200: " + r.summary());
    }

    /** Against a real agent serving HTTPS: trusting its certificate works, the JDK's defaults do not. */
    @Test
    void drivesAnHttpsAgentThatItTrusts(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        dev.outpost.edge.TestTls tls = dev.outpost.edge.TestTls.create(dir, "agent");
        java.nio.file.Path cfg = dir.resolve("agent.yaml");
        java.nio.file.Files.writeString(cfg, """
                data: {dir: %s}
                http: {port: 0, tls_key_store: %s, tls_key_store_password: %s}
                budget: {memory: 64GiB}
                """.formatted(dir.resolve("data"), tls.keyStore(), tls.password()));
        try (dev.outpost.edge.Main.RunningAgent agent =
                dev.outpost.edge.Main.start(dev.outpost.edge.config.ConfigLoader.load(cfg))) {
            String url = "https://127.0.0.1:" + agent.port() + "/v1/events";
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = LoadGenerator.run(
                    new String[] {
                        "--url",
                        url,
                        "--trust-file",
                        tls.pem().toString(),
                        "--mode",
                        "batch",
                        "--batch",
                        "10",
                        "--connections",
                        "2",
                        "--warmup-seconds",
                        "0",
                        "--duration-seconds",
                        "5",
                        "--max-requests",
                        "40"
                    },
                    new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            String summary = out.toString(StandardCharsets.UTF_8);
            assertEquals(0, code, summary + err.toString(StandardCharsets.UTF_8));
            assertTrue(summary.contains("errors=0") && summary.contains("requests=40"), summary);
            long stored = agent.agent().ingest().storedEvents();
            assertTrue(stored >= 400, "every event reached the agent over TLS: " + stored);

            ByteArrayOutputStream out2 = new ByteArrayOutputStream();
            int untrusted = LoadGenerator.run(
                    new String[] {
                        "--url",
                        url,
                        "--mode",
                        "batch",
                        "--connections",
                        "1",
                        "--warmup-seconds",
                        "0",
                        "--duration-seconds",
                        "1"
                    },
                    new PrintStream(out2, true, StandardCharsets.UTF_8),
                    new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            String s2 = out2.toString(StandardCharsets.UTF_8);
            assertTrue(untrusted != 0 || !s2.contains("errors=0"), "an untrusted certificate: " + s2);
            assertEquals(stored, agent.agent().ingest().storedEvents(), "nothing more got through");
        }
    }
}
