package dev.outpost.edge.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class LoadGeneratorTest {

    private HttpServer server;
    private ExecutorService executor;
    private final Set<String> contentTypes = ConcurrentHashMap.newKeySet();
    private final Set<Integer> linesPerRequest = ConcurrentHashMap.newKeySet();
    private final Set<String> badLines = ConcurrentHashMap.newKeySet();
    private final AtomicLong received = new AtomicLong();

    /** Starts a server answering {@code status}; chunked responses when {@code chunked}. */
    private String start(int status, boolean chunked) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        executor = Executors.newFixedThreadPool(4);
        server.setExecutor(executor);
        server.createContext("/v1/events", ex -> handle(ex, status, chunked));
        server.start();
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/events";
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

    private static LoadGenerator.Result run(String... args) {
        return LoadGenerator.execute(LoadGenerator.Options.parse(args));
    }

    @Test
    void singleEventsOverKeepAliveConnections() throws IOException {
        String url = start(200, false);
        LoadGenerator.Result r = run(
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
        LoadGenerator.Result r = run(
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
        LoadGenerator.Result r = run(
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
    void badArgumentsAndNonLoopbackTargetsAreRefused() {
        PrintStream sink = new PrintStream(OutputStream.nullOutputStream());
        assertEquals(2, LoadGenerator.run(new String[] {"--mode", "bulk"}, sink, sink));
        assertEquals(2, LoadGenerator.run(new String[] {"--connections", "0"}, sink, sink));
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
}
