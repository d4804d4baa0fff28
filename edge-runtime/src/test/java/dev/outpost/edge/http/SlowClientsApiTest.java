package dev.outpost.edge.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Slow and idle clients against a real agent on loopback: header and idle deadlines, the minimum
 * body rate, the probes' share of budget.connections, and idle connections yielding their slot.
 * Raw sockets, because an HTTP client would not misbehave on purpose.
 */
class SlowClientsApiTest extends AgentHttpTest {
    private static final Duration AWAIT = Duration.ofSeconds(10);
    /** Slack for a loaded 2-core box between a deadline and the close a client sees. */
    private static final long SLACK_MILLIS = 5_000;

    private Socket raw() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), agent.port());
        s.setSoTimeout(30_000);
        return s;
    }

    private static void write(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
    }

    /** Everything the agent sends until it closes the connection (a reset counts as the close). */
    private static String readToEnd(Socket s) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        InputStream in = s.getInputStream();
        byte[] buf = new byte[4096];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                out.write(buf, 0, n);
            }
        } catch (SocketException reset) {
            // closed by the agent with data unread: as good as a FIN here
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static CompletableFuture<String> readToEndAsync(Socket s) {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                f.complete(readToEnd(s));
            } catch (IOException e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    /** One response on a kept-alive connection: status line and headers up to the blank line, and its body. */
    private static String readResponse(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("closed after " + head);
            }
            head.append((char) c);
        }
        Matcher m = Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
        int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
        return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    /** Starts a POST whose body never completes, and returns once the agent has begun reading it. */
    private Socket busy() throws IOException {
        Socket s = raw();
        write(
                s,
                "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                        + "Content-Length: 100000\r\nExpect: 100-continue\r\n\r\n");
        // The agent asks for the body once the request is in flight: the positive signal that it holds a slot.
        assertTrue(readResponse(s).startsWith("HTTP/1.1 100 Continue"));
        write(s, "{\"stream\":");
        return s;
    }

    private long closed(String reason) throws Exception {
        Matcher m = Pattern.compile("outpost_connections_closed_total\\{reason=\"" + reason + "\"} (\\d+)")
                .matcher(send("GET", "/metrics", null, null).body());
        assertTrue(m.find(), reason);
        return Long.parseLong(m.group(1));
    }

    private long lastSeq() throws Exception {
        Matcher m = Pattern.compile("\"last_seq\":(\\d+)")
                .matcher(send("GET", "/health", null, null).body());
        assertTrue(m.find());
        return Long.parseLong(m.group(1));
    }

    /**
     * A client that sends requests and never reads the answers: once what it was sent fills the sockets' buffers, the
     * agent stops reading its requests (their answers would pile up in the agent's memory), and serves others.
     */
    @Test
    void aClientThatDoesNotReadItsAnswersIsNotReadFromEither() throws Exception {
        start("  idle_timeout_millis: 60000\n");
        byte[] one = ("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 29"
                        + "\r\n\r\n{\"stream\":\"s\",\"data\":{\"a\":1}}")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] many = new byte[one.length * 1000];
        for (int i = 0; i < 1000; i++) {
            System.arraycopy(one, 0, many, i * one.length, one.length);
        }
        int rounds = 640; // 640,000 requests; the agent's answers to them (~100 bytes each) would be ~64 MB
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(8 * 1024); // set before connecting: the kernel does not grow it
            s.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), agent.port()));
            long[] written = {0};
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 0; i < rounds; i++) {
                        s.getOutputStream().write(many);
                        written[0] += 1000;
                    }
                } catch (IOException closed) {
                    // the socket is closed at the end of the test while this write waits
                }
            });
            // Reading stops once the client's and the agent's socket buffers hold what was answered: the stored count
            // stops growing well short of what was sent (every request sent was read and answered before).
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(500))
                    .until(new java.util.concurrent.Callable<Boolean>() {
                        long last = -1;

                        @Override
                        public Boolean call() throws Exception {
                            long now = lastSeq();
                            boolean still = now == last;
                            last = now;
                            return still && now > 0;
                        }
                    });
            long stored = lastSeq();
            assertTrue(writer.isAlive(), "the writer is held: the agent stopped reading; stored " + stored);
            assertTrue(stored < rounds * 1000L / 4, "stored " + stored + " of " + rounds * 1000 + " sent");
            assertEquals(200, send("GET", "/health", null, null).statusCode(), "others are served");
        }
    }

    @Test
    void aConnectionWithoutCompleteHeadersIsClosedAfterTheHeaderTimeout() throws Exception {
        start("  header_timeout_millis: 300\n");
        try (Socket idle = raw();
                Socket partial = raw()) {
            long t0 = System.nanoTime();
            write(partial, "GET /health HTTP/1.1\r\nHost: x\r\n"); // no blank line: headers never complete
            assertEquals("", readToEnd(idle), "closed without an answer");
            assertEquals("", readToEnd(partial));
            long millis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(millis >= 290 && millis < 300 + SLACK_MILLIS, millis + " ms");
        }
        assertEquals(2, closed("header_timeout"));
        assertEquals(200, send("GET", "/health", null, null).statusCode());
    }

    @Test
    void aKeptAliveConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        start("  header_timeout_millis: 20000\n  idle_timeout_millis: 400\n");
        try (Socket s = raw()) {
            write(s, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(readResponse(s).startsWith("HTTP/1.1 200"));
            long t0 = System.nanoTime();
            assertEquals("", readToEnd(s));
            long millis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(millis >= 390 && millis < 400 + SLACK_MILLIS, millis + " ms, header timeout 20 s");
        }
        assertEquals(1, closed("idle_timeout"));
    }

    /**
     * Requests answered ahead of the HTTP codec (RawFastPath) never reach the guard as messages; they are reported to
     * it, so a connection kept busy with them outlives the header and idle timeouts, and is closed on the idle one
     * once it stops.
     */
    @Test
    void aConnectionAnsweredAheadOfTheCodecKeepsItsDeadlines() throws Exception {
        start("  header_timeout_millis: 300\n  idle_timeout_millis: 400\n");
        try (Socket s = raw()) {
            long t0 = System.nanoTime();
            for (int i = 0; i < 12; i++) {
                write(s, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
                assertTrue(readResponse(s).startsWith("HTTP/1.1 200"));
                Thread.sleep(150); // the client's pace: well within both timeouts, 1.8 s in all
            }
            assertTrue((System.nanoTime() - t0) / 1_000_000 > 700, "outlived both timeouts");
            long t1 = System.nanoTime();
            assertEquals("", readToEnd(s));
            long millis = (System.nanoTime() - t1) / 1_000_000;
            assertTrue(millis >= 200 && millis < 400 + SLACK_MILLIS, millis + " ms after the last answer");
        }
        assertEquals(1, closed("idle_timeout"));
        assertEquals(0, closed("header_timeout"));
        long raw = agent.agent().metrics().value("outpost_http_fast_raw_answers_total");
        if ("false".equals(System.getProperty(FAST_PATH_PROPERTY))) {
            assertEquals(0, raw, "the router's run: nothing answered ahead of it"); // the same deadlines hold there
        } else {
            assertTrue(raw >= 12, raw + " answered ahead of the codec");
        }
    }

    @Test
    void aBodySlowerThanTheMinimumRateIsCutWith408AndNothingIsStored() throws Exception {
        start("  body_grace_millis: 300\n  body_rate_bytes_per_second_min: 1KiB\n");
        try (Socket s = raw()) {
            long t0 = System.nanoTime();
            write(
                    s,
                    "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                            + "Content-Length: 10000\r\n\r\n{\"stream\":\"s\",\"data\":{}}\n");
            String answer = readToEnd(s);
            long millis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(answer.startsWith("HTTP/1.1 408 Request Timeout\r\n"), answer);
            assertTrue(answer.contains("application/problem+json"), answer);
            assertTrue(
                    answer.contains("\"status\":408") && answer.contains("http.body_rate_bytes_per_second_min"),
                    answer);
            assertTrue(millis >= 290 && millis < 300 + SLACK_MILLIS, millis + " ms");
        }
        assertEquals(1, closed("body_too_slow"));
        String events = send("GET", "/v1/events", null, null).body();
        assertEquals(1, events.strip().split("\n").length, "only the trailer: " + events);
        assertEquals(
                200,
                send("POST", "/v1/events", "application/x-ndjson", "{\"stream\":\"s\",\"data\":{}}\n")
                        .statusCode());
    }

    @Test
    @SuppressWarnings("try") // sockets held open for the test, unreferenced
    void probesAreAnsweredWhileEveryOtherConnectionIsBusy() throws Exception {
        start("  body_grace_millis: 60000\nbudget:\n  connections: 3\n  probe_connections: 1\n");
        try (Socket a = busy();
                Socket b = busy();
                Socket probe = raw()) {
            write(probe, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(readResponse(probe).startsWith("HTTP/1.1 200"));
            write(probe, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(readResponse(probe).contains("outpost_connections_probes_open 1"));
            write(probe, "GET /v1/governor HTTP/1.1\r\nHost: x\r\n\r\n");
            String refusal = readToEnd(probe);
            assertTrue(refusal.startsWith("HTTP/1.1 503 Service Unavailable\r\n"), refusal);
            assertTrue(refusal.contains("retry-after: 1") && refusal.contains("budget.probe_connections"), refusal);
        }
        await().atMost(AWAIT).until(() -> agent.agent().connections().open() == 0);
        assertEquals(1, agent.agent().connections().refusedCount());
        assertEquals(200, send("GET", "/v1/governor", null, null).statusCode(), "serves normally again");
    }

    @Test
    @SuppressWarnings("try") // sockets held open for the test, unreferenced
    void aConnectionIsRefusedBeforeItsBodyIsReadWhenEveryOneIsBusy() throws Exception {
        start("  body_grace_millis: 60000\nbudget:\n  connections: 2\n  probe_connections: 0\n");
        try (Socket a = busy();
                Socket b = busy();
                Socket c = raw()) {
            write(
                    c,
                    "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            + "Content-Length: 1000000\r\n\r\n");
            String answer = readToEnd(c);
            assertTrue(answer.startsWith("HTTP/1.1 503"), answer);
            assertTrue(answer.contains("Retry-After: 1") && answer.contains("budget.connections"), answer);
            assertEquals(1, agent.agent().connections().refusedCount());
        }
        await().atMost(AWAIT).until(() -> agent.agent().connections().open() == 0);
        assertEquals(200, send("GET", "/health", null, null).statusCode(), "closing frees the budget");
    }

    @Test
    @SuppressWarnings("try") // sockets held open for the test, unreferenced
    void anIdleConnectionYieldsItsSlotToANewOne() throws Exception {
        start("  header_timeout_millis: 60000\nbudget:\n  connections: 2\n  probe_connections: 0\n");
        try (Socket first = raw();
                Socket second = raw()) {
            await().atMost(AWAIT).until(() -> agent.agent().connections().open() == 2);
            assertEquals(
                    200,
                    send("POST", "/v1/events", "application/x-ndjson", "{\"stream\":\"s\",\"data\":{}}\n")
                            .statusCode(),
                    "a full budget of idle connections does not lock a client out");
            // The one admitted first made room (which of the two that was is up to two event loops).
            CompletableFuture<String> closedFirst = CompletableFuture.anyOf(
                            readToEndAsync(first), readToEndAsync(second))
                    .thenApply(String.class::cast);
            assertEquals("", closedFirst.get(10, TimeUnit.SECONDS), "closed without an answer");
        }
        assertTrue(closed("evicted") >= 1);
        assertEquals(0, closed("header_timeout"));
    }

    @Test
    @SuppressWarnings("try") // sockets held open for the test, unreferenced
    void aRequestThatCameWithItsConnectionIsServedWhileIdleOnesFillTheBudget() throws Exception {
        start("  header_timeout_millis: 60000\nbudget:\n  connections: 2\n  probe_connections: 0\n");
        for (int round = 0; round < 20; round++) {
            try (Socket first = raw();
                    Socket second = raw();
                    Socket probe = raw()) {
                write(probe, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
                long t0 = System.nanoTime();
                String answer = readResponse(probe);
                long millis = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
                assertTrue(millis < 1_000, millis + " ms");
            }
            await().atMost(AWAIT).until(() -> agent.agent().connections().open() == 0);
        }
    }

    @Test
    @SuppressWarnings("try") // sockets held open for the test, unreferenced
    void overHttpsTheGuardWorksInsideTlsAndARefusalIsAClose() throws Exception {
        dev.outpost.edge.TestTls tls = dev.outpost.edge.TestTls.create(dir, "agent");
        start("  tls_key_store: " + tls.keyStore() + "\n  tls_key_store_password: " + tls.password()
                + "\n  body_grace_millis: 60000\nbudget:\n  connections: 2\n  probe_connections: 0\n");
        javax.net.ssl.SSLSocketFactory tlsSockets = tls.clientContext().getSocketFactory();
        try (Socket a = tlsBusy(tlsSockets);
                Socket b = tlsBusy(tlsSockets);
                Socket c = raw()) {
            // No TLS session to answer in: closed, and nothing is written in the clear.
            assertEquals("", readToEnd(c));
            assertEquals(1, agent.agent().connections().refusedCount());
        }
        await().atMost(AWAIT).until(() -> agent.agent().connections().open() == 0);
    }

    /** A TLS connection with a POST in flight whose body never completes (the agent asked for it). */
    private Socket tlsBusy(javax.net.ssl.SSLSocketFactory f) throws IOException {
        Socket s = f.createSocket(InetAddress.getLoopbackAddress(), agent.port());
        s.setSoTimeout(30_000);
        write(
                s,
                "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                        + "Content-Length: 100000\r\nExpect: 100-continue\r\n\r\n");
        assertTrue(readResponse(s).startsWith("HTTP/1.1 100 Continue"));
        return s;
    }
}
