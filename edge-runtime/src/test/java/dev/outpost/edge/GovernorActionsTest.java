package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.compress.Dictionary;
import dev.outpost.compress.Purpose;
import dev.outpost.edge.config.ConfigLoader;
import dev.outpost.edge.governance.LowerConcurrency;
import dev.outpost.edge.governance.ShrinkCaches;
import dev.outpost.edge.governance.SmallerBatches;
import dev.outpost.governor.Dimension;
import dev.outpost.governor.Governor;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The governor's shrink-caches, lower-concurrency and smaller-batches actions on a real agent over HTTP: each one's
 * effect, its undoing with hysteresis, its count in /metrics and its listing in GET /v1/governor.
 *
 * <p>How pressure is driven: memory and CPU through {@link Agent#overrideUsage} (the test JVM's RSS cannot be put
 * between 70 % and 80 % of a budget and back, and CPU load is noisy), then {@link Governor#wake()} so the governor
 * samples on its own thread at once, as it would on schedule. Latency is real: {@code fsync} durability with a 100 ms
 * group-commit delay makes every ingest slower than the target; only the recovery is fed to the latency histogram
 * directly, since a fsync agent cannot answer fast.
 */
class GovernorActionsTest {
    /** The test's memory budget, bytes: far above the test JVM's real RSS, so only the driven value counts. */
    static final long MEMORY_BUDGET_BYTES = 16L << 30;

    /** The test's CPU budget, cores: far above what the machine can burn, so only the driven value counts. */
    static final int CPU_BUDGET_CORES = 256;

    /** Longest wait for the governor's thread, milliseconds. */
    static final long WAIT_MILLIS_MAX = 10_000;

    @TempDir
    Path dir;

    Main.RunningAgent running;
    Agent agent;
    final HttpClient http = HttpClient.newHttpClient();
    final AtomicLong memory = new AtomicLong();
    final AtomicLong cpuMilliCores = new AtomicLong();
    final AtomicInteger governorSamples = new AtomicInteger();

    /**
     * Starts an agent (data in the temp directory, any free port, the budget section open, then {@code extra} YAML)
     * with memory and CPU driven by the test.
     */
    void start(String extra) throws Exception {
        Path cfg = dir.resolve("outpost.yaml");
        Files.writeString(
                cfg,
                "data:\n  dir: " + dir.resolve("data") + "\nhttp:\n  port: 0\nbudget:\n  memory: 16GiB\n  cpu: "
                        + CPU_BUDGET_CORES + "\n" + extra);
        running = Main.start(ConfigLoader.load(cfg));
        agent = running.agent();
        setMemory(0.10);
        setCpu(0.05);
        agent.overrideUsage(Dimension.MEMORY, () -> {
            if (Thread.currentThread().getName().equals("outpost-governor")) {
                governorSamples.incrementAndGet();
            }
            return memory.get();
        });
        agent.overrideUsage(Dimension.CPU, cpuMilliCores::get);
        sample();
    }

    @AfterEach
    void stop() {
        if (running != null) {
            running.close();
        }
    }

    void setMemory(double pressure) {
        memory.set(Math.round(pressure * MEMORY_BUDGET_BYTES));
    }

    void setCpu(double pressure) {
        cpuMilliCores.set(Math.round(pressure * CPU_BUDGET_CORES * 1000));
    }

    /**
     * Has the governor sample on its own thread, and returns once that sample's actions have run: a second sample is
     * awaited too, since samples run one at a time on that thread.
     */
    void sample() {
        for (int i = 0; i < 2; i++) {
            int before = governorSamples.get();
            agent.governor().wake();
            await(() -> governorSamples.get() > before, "a governor sample");
        }
    }

    static void await(BooleanSupplier condition, String what) {
        Await.atMostMillis(WAIT_MILLIS_MAX).alias(what).until(condition::getAsBoolean);
    }

    HttpResponse<String> send(String method, String path, String contentType, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + running.port() + path))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    long stored(String event) throws Exception {
        HttpResponse<String> r = send("POST", "/v1/events", "application/json", event);
        assertEquals(200, r.statusCode(), r.body());
        return number(r.body(), "\"stored\":(\\d+)");
    }

    static long number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), regex + " in " + text);
        return Long.parseLong(m.group(1));
    }

    /** The action's count in /metrics, checked against GET /v1/governor's. */
    long runs(String action) throws Exception {
        String metrics = send("GET", "/metrics", null, null).body();
        long runs = number(metrics, "outpost_governor_action_runs_total\\{action=\"" + action + "\"} (\\d+)");
        String g = send("GET", "/v1/governor", null, null).body();
        assertEquals(runs, number(g, "\\{\"name\":\"" + action + "\",\"runs\":(\\d+)"), g);
        return runs;
    }

    @Test
    void shrinkCachesUnderMemoryPressureAndRestoreBelowSeventyPercent() throws Exception {
        start("ingest:\n  dedup_window_events: 100\n  dedup_window_requests: 10\n");
        StringBuilder batch = new StringBuilder();
        for (int i = 1; i <= 100; i++) {
            batch.append("{\"stream\":\"s\",\"id\":\"e").append(i).append("\",\"data\":{}}\n");
        }
        assertEquals(
                200,
                send("POST", "/v1/events", "application/x-ndjson", batch.toString())
                        .statusCode());
        List<Dictionary> dictionaries = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Dictionary d = Dictionary.of(("dictionary " + i).getBytes(StandardCharsets.UTF_8));
            agent.catalog().putDictionary("s", Purpose.WIRE, d, 1);
            agent.catalog().find(d.id());
            dictionaries.add(d);
        }
        assertEquals(6, agent.catalog().dictionaryCacheSize());
        assertEquals(0, runs(ShrinkCaches.NAME));

        setMemory(0.79);
        sample();
        assertEquals(100, agent.ingestor().windowEvents(), "under 80 %: nothing shrinks");

        setMemory(0.82);
        sample();
        assertEquals(50, agent.ingestor().windowEvents());
        assertEquals(5, agent.ingestor().windowRequests());
        assertEquals(ShrinkCaches.DICTIONARIES_SHRUNK, agent.catalog().dictionaryCacheSize());
        assertEquals(5_000, agent.liveFeed().bufferMessagesMax(), "live subscribers' buffers are halved");
        assertEquals(0, stored("{\"stream\":\"s\",\"id\":\"e100\",\"data\":{}}"), "the newest ids are kept");
        assertEquals(0, stored("{\"stream\":\"s\",\"id\":\"e52\",\"data\":{}}"));
        assertEquals(1, stored("{\"stream\":\"s\",\"id\":\"e1\",\"data\":{}}"), "an older retry is stored again");
        assertEquals(1, runs(ShrinkCaches.NAME));

        setMemory(0.75);
        sample();
        assertEquals(50, agent.ingestor().windowEvents(), "hysteresis: still shrunk at 75 %");
        assertEquals(1, runs(ShrinkCaches.NAME), "no change, no run");

        setMemory(0.65);
        sample();
        assertEquals(100, agent.ingestor().windowEvents());
        assertEquals(10, agent.ingestor().windowRequests());
        for (Dictionary d : dictionaries) {
            agent.catalog().find(d.id());
        }
        assertEquals(6, agent.catalog().dictionaryCacheSize(), "the dictionary cache holds them all again");
        assertEquals(10_000, agent.liveFeed().bufferMessagesMax(), "and the buffers their size");
        assertEquals(2, runs(ShrinkCaches.NAME));
        String g = send("GET", "/v1/governor", null, null).body();
        assertTrue(g.contains("\"action\":\"shrink-caches\",\"level\":\"elevated\",\"detail\":\"memory at 82 %"), g);
        assertTrue(g.contains("\"action\":\"shrink-caches\",\"level\":\"medium\",\"detail\":\"memory at 65 %"), g);
        String m = send("GET", "/metrics", null, null).body();
        assertTrue(m.contains("outpost_governor_action_failures_total{action=\"shrink-caches\"} 0"), m);
    }

    /** Opens a connection and asks for /health on it; returns the socket (kept open) and the answer's status line. */
    Socket open(List<String> statusLines) throws Exception {
        Socket s = new Socket("127.0.0.1", running.port());
        s.setSoTimeout((int) WAIT_MILLIS_MAX);
        statusLines.add(health(s));
        return s;
    }

    /** GET /health on an open connection: the status line. */
    static String health(Socket s) throws Exception {
        OutputStream out = s.getOutputStream();
        out.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        int contentLength = 0;
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            head.append((char) c);
        }
        Matcher m = Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
        if (m.find()) {
            contentLength = Integer.parseInt(m.group(1));
        }
        in.readNBytes(contentLength);
        return head.toString().lines().findFirst().orElse("(closed)");
    }

    @Test
    void lowerConcurrencyRefusesNewConnectionsUnderCpuPressureAndKeepsOpenOnes() throws Exception {
        start("  connections: 40\n");
        List<Socket> sockets = new ArrayList<>();
        List<String> status = new ArrayList<>();
        try {
            for (int i = 0; i < 25; i++) {
                sockets.add(open(status));
            }
            assertEquals(25, status.stream().filter(l -> l.contains(" 200")).count(), status.toString());

            setCpu(0.75);
            sample();
            assertEquals(
                    LowerConcurrency.loweredConnections(40), agent.connections().limit());
            assertEquals(20, agent.connections().limit());
            status.clear();
            open(status).close();
            assertTrue(status.getFirst().contains(" 200"), "probes are answered, on their share: " + status);
            try (Socket s = new Socket("127.0.0.1", running.port())) {
                s.setSoTimeout((int) WAIT_MILLIS_MAX);
                s.getOutputStream()
                        .write("GET /v1/governor HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(answer.startsWith("HTTP/1.1 503") && answer.contains("CPU is under pressure"), answer);
            }
            for (Socket s : sockets) {
                assertTrue(health(s).contains(" 200"), "open connections are not cut");
            }

            setCpu(0.65);
            sample();
            assertEquals(20, agent.connections().limit(), "hysteresis: still lowered at 65 %");

            setCpu(0.55);
            sample();
            assertEquals(40, agent.connections().limit());
            status.clear();
            sockets.add(open(status));
            assertTrue(status.getFirst().contains(" 200"), status.toString());
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
        assertEquals(2, runs(LowerConcurrency.NAME));
        String m = send("GET", "/metrics", null, null).body();
        assertTrue(number(m, "outpost_connections_refused_total (\\d+)") >= 1, m);
        String g = send("GET", "/v1/governor", null, null).body();
        assertTrue(g.contains("\"action\":\"lower-concurrency\""), g);
        assertTrue(g.contains("new connections admitted up to 20"), g);
    }

    @Test
    void smallerBatchesWhileIngestP95IsOverItsTarget() throws Exception {
        start("""
                  latency_p95_millis: 20
                log:
                  durability: fsync
                  fsync_delay_micros: 100000
                query:
                  limit_default: 400
                  limit_max: 1000
                  scan_records_max: 24000
                """);
        StringBuilder batch = new StringBuilder();
        for (int i = 0; i < 10_000; i++) {
            batch.append("{\"stream\":\"s\",\"data\":{\"i\":").append(i).append("}}\n");
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(
                    200,
                    send("POST", "/v1/events", "application/x-ndjson", batch.toString())
                            .statusCode());
        }
        assertEquals(400, pageCount("/v1/events"));
        assertEquals(0, agent.batchScale().halvings());

        // Slow, real requests: every acknowledgement waits for the 100 ms group-commit delay.
        ExecutorService clients = Executors.newFixedThreadPool(25);
        try {
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < SmallerBatches.REQUESTS_MIN + 5; i++) {
                answers.add(clients.submit(
                        () -> send("POST", "/v1/events", "application/json", "{\"stream\":\"s\",\"data\":{}}")));
            }
            for (Future<HttpResponse<String>> a : answers) {
                assertEquals(200, a.get().statusCode());
            }
        } finally {
            clients.shutdownNow();
        }
        sample();
        assertEquals(1, agent.batchScale().halvings());
        assertEquals(200, pageCount("/v1/events"), "the default page is halved");
        assertEquals(500, pageCount("/v1/events?limit=1000"), "a larger limit is served as pages of limit_max / 2");
        assertEquals(400, send("GET", "/v1/events?limit=1001", null, null).statusCode(), "validation is unchanged");
        String none = send("GET", "/v1/events?stream=none", null, null).body();
        assertEquals(12_000, number(none, "\"scanned\":(\\d+)"), "the scan bound is halved: " + none);
        assertEquals(1, runs(SmallerBatches.NAME));

        // Recovery: a fsync agent with a 100 ms delay cannot answer fast, so fast requests are recorded directly.
        for (int i = 0; i < SmallerBatches.REQUESTS_MIN; i++) {
            agent.ingest().latency().recordNanos(1_000_000);
        }
        sample();
        assertEquals(0, agent.batchScale().halvings());
        assertEquals(400, pageCount("/v1/events"));
        assertEquals(2, runs(SmallerBatches.NAME));
        String g = send("GET", "/v1/governor", null, null).body();
        assertTrue(g.contains("\"action\":\"smaller-batches\""), g);
        assertTrue(g.contains("> target 20 ms: batches at 1/2 (GET /v1/events pages 200 events"), g);
        assertTrue(g.contains("batches back to 1/1"), g);
    }

    long pageCount(String path) throws Exception {
        HttpResponse<String> r = send("GET", path, null, null);
        assertEquals(200, r.statusCode(), r.body());
        return number(r.body(), "\"count\":(\\d+),\"scanned\"");
    }
}
