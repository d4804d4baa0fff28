package dev.outpost.edge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #11, point 5d: 2,000 idle and 200 slow-body connections against a real agent (a child
 * process, so its RSS and file descriptors are its own). Throughout, a fresh connection asks
 * {@code GET /health} every 50 ms and must get 200 within 1 s; the agent closes every idle socket
 * within its header timeout (most much sooner: they yield their slots to newer connections), cuts
 * the slow bodies with 408 (all of them, unless the box is short of CPU: then it refuses some with
 * 503), its RSS stays bounded, it logs no warning, and afterwards it ingests and reads normally.
 * budget.connections is the default 1,000 (the "1,000 idle connections use it up"); the
 * sockets are opened as fast as one thread can (~15,000/s on loopback).
 *
 * <p>File descriptors: the test JVM holds ~2,200 sockets and the agent as many; the JVM raises its
 * soft limit to the hard one on Linux, so {@code ulimit -Hn} must be at least {@value #FILES_NEEDED}
 * (the test fails, naming the limit, if it is not).
 */
class ConnectionFloodTest {
    static final int IDLE = 2_000;
    static final int SLOW = 200;
    static final int FILES_NEEDED = 4_096;
    static final long HEADER_TIMEOUT_MILLIS = 1_000;
    static final long BODY_GRACE_MILLIS = 2_000;
    /** Between a deadline and the close a client sees, on a shared 2-core box mid-flood (accept lag included). */
    static final long SLACK_MILLIS = 4_000;
    /** A slow body trickles one byte per this: 10 bytes/s, against a minimum of 1 KiB/s. */
    static final long TRICKLE_MILLIS = 100;
    /**
     * RSS may grow by at most this over the warmed-up agent's (it grows by ~6 MiB here): at most
     * budget.connections admitted and as many waiting connections hold a Netty pipeline of ~10 KiB
     * each (~20 MiB), and the heap is capped (-Xmx192m); what a flood must not add — a read buffer
     * or body held per slow connection, anything leaked per closed connection — is 2,200 x tens of
     * KiB, above this bound.
     */
    static final long RSS_GROWTH_MAX_BYTES = 64L << 20;
    /** The agent's budget.memory (the default): RSS never reaches it. */
    static final long BUDGET_MEMORY_BYTES = 512L << 20;

    @TempDir
    Path dir;

    final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** One client socket of the flood; its outcome is written by the driver thread. */
    static final class Conn {
        final SocketChannel ch;
        final boolean slow;
        final long openedNanos;
        final ByteArrayOutputStream received = new ByteArrayOutputStream();
        volatile long closedNanos;
        long nextByteNanos;

        Conn(SocketChannel ch, boolean slow, long openedNanos) {
            this.ch = ch;
            this.slow = slow;
            this.openedNanos = openedNanos;
            this.nextByteNanos = openedNanos + TimeUnit.MILLISECONDS.toNanos(TRICKLE_MILLIS);
        }

        long millisOpen() {
            return (closedNanos - openedNanos) / 1_000_000;
        }

        String answer() {
            return received.toString(StandardCharsets.UTF_8);
        }
    }

    /** One selector thread: sees every close, reads every answer, trickles the slow bodies. */
    static final class Driver implements Runnable, AutoCloseable {
        final Selector selector = Selector.open();
        final Queue<Conn> incoming = new ConcurrentLinkedQueue<>();
        final List<Conn> slow = new ArrayList<>(); // driver thread only
        final AtomicInteger closed = new AtomicInteger();
        final Thread thread = Thread.ofPlatform().name("flood-driver").start(this);
        volatile boolean stop;

        Driver() throws IOException {}

        void add(Conn c) {
            incoming.add(c);
            selector.wakeup();
        }

        @Override
        public void run() {
            ByteBuffer buf = ByteBuffer.allocate(16 * 1024);
            try {
                while (!stop) {
                    selector.select(20);
                    for (Conn c; (c = incoming.poll()) != null; ) {
                        c.ch.configureBlocking(false);
                        c.ch.register(selector, SelectionKey.OP_READ, c);
                        if (c.slow) {
                            slow.add(c);
                        }
                    }
                    for (SelectionKey k : selector.selectedKeys()) {
                        read((Conn) k.attachment(), k, buf);
                    }
                    selector.selectedKeys().clear();
                    trickle();
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        private void read(Conn c, SelectionKey k, ByteBuffer buf) throws IOException {
            int n;
            try {
                while ((n = c.ch.read(buf.clear())) > 0) {
                    c.received.write(buf.array(), 0, n);
                }
            } catch (IOException reset) {
                n = -1; // reset by the agent: closed as well
            }
            if (n < 0) {
                c.closedNanos = System.nanoTime();
                k.cancel();
                c.ch.close();
                closed.incrementAndGet();
            }
        }

        private void trickle() {
            long now = System.nanoTime();
            for (Conn c : slow) {
                if (c.closedNanos == 0 && now - c.nextByteNanos >= 0) {
                    c.nextByteNanos = now + TimeUnit.MILLISECONDS.toNanos(TRICKLE_MILLIS);
                    try {
                        c.ch.write(ByteBuffer.wrap(new byte[] {'x'}));
                    } catch (IOException e) {
                        // the agent closed it; the read side records when
                    }
                }
            }
        }

        @Override
        public void close() throws IOException {
            stop = true;
            selector.wakeup();
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (SelectionKey k : selector.keys()) {
                k.channel().close();
            }
            selector.close();
        }
    }

    /** One probe's outcome. */
    record Probe(long atNanos, long millis, String status) {}

    @Test
    void idleAndSlowConnectionsNeitherStarveProbesNorTheAgent() throws Exception {
        assertFilesAtLeast("self", FILES_NEEDED);
        Path cfg = dir.resolve("outpost.yaml");
        Files.writeString(
                cfg,
                "data:\n  dir: " + dir.resolve("data") + "\nhttp:\n  port: 0\n  header_timeout_millis: "
                        + HEADER_TIMEOUT_MILLIS + "\n  idle_timeout_millis: 2000\n  body_grace_millis: "
                        + BODY_GRACE_MILLIS + "\n  body_rate_bytes_per_second_min: 1KiB\n"
                        + "budget:\n  connections: 1000\n  probe_connections: 8\n");
        try (AgentProcess agent = AgentProcess.start(cfg, dir.resolve("home"))) {
            assertFilesAtLeast(Long.toString(agent.process.pid()), FILES_NEEDED);
            warmUp(agent.port);
            long rssBefore = rssBytes(agent.process.pid());
            AtomicLong rssMax = new AtomicLong(rssBefore);
            List<Probe> probes = java.util.Collections.synchronizedList(new ArrayList<>());
            ScheduledExecutorService prober = Executors.newSingleThreadScheduledExecutor();
            List<Conn> conns = new ArrayList<>();
            long floodStart = System.nanoTime();
            long floodEnd;
            try (Driver driver = new Driver()) {
                prober.scheduleWithFixedDelay(
                        () -> {
                            probes.add(probe(agent.port));
                            rssMax.accumulateAndGet(rssBytes(agent.process.pid()), Math::max);
                        },
                        0,
                        50,
                        TimeUnit.MILLISECONDS);
                for (int i = 0; i < IDLE; i++) {
                    conns.add(open(agent.port, false, driver));
                }
                for (int i = 0; i < SLOW; i++) {
                    conns.add(open(agent.port, true, driver));
                }
                await().atMost(Duration.ofSeconds(60)).until(() -> driver.closed.get() == IDLE + SLOW);
                floodEnd = System.nanoTime();
            } finally {
                prober.shutdown();
                assertTrue(prober.awaitTermination(10, TimeUnit.SECONDS));
            }
            for (String line : agent.log().split("\n")) {
                assertFalse(
                        line.matches("\\S+Z (WARN|ERROR) .*") || line.startsWith("\tat "),
                        "a flood of slow clients is not the agent's problem to log: " + line);
            }
            assertProbes(probes, floodStart, floodEnd);
            int cut = assertOutcomes(conns);
            long growth = rssMax.get() - rssBefore;
            assertTrue(
                    growth < RSS_GROWTH_MAX_BYTES && rssMax.get() < BUDGET_MEMORY_BYTES,
                    "RSS grew by " + (growth >> 20) + " MiB (from " + (rssBefore >> 20) + " MiB)");
            assertServesNormally(agent.port, cut);
        }
    }

    private static Conn open(int port, boolean slow, Driver driver) throws IOException {
        SocketChannel ch = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        Conn c = new Conn(ch, slow, System.nanoTime());
        if (slow) {
            ch.write(ByteBuffer.wrap(("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                            + "Content-Length: 100000\r\n\r\n{")
                    .getBytes(StandardCharsets.US_ASCII)));
        }
        driver.add(c);
        return c;
    }

    /** Every probe answered 200 within 1 s, and probes ran all through the flood. */
    private static void assertProbes(List<Probe> probes, long floodStart, long floodEnd) {
        List<Probe> during = new ArrayList<>();
        synchronized (probes) {
            for (Probe p : probes) {
                assertTrue(
                        p.status.equals("200") && p.millis < 1_000,
                        "a probe " + (p.atNanos - floodStart) / 1_000_000 + " ms into the flood took " + p.millis
                                + " ms: " + p.status);
                if (p.atNanos - floodStart >= 0 && floodEnd - p.atNanos >= 0) {
                    during.add(p);
                }
            }
        }
        long floodMillis = (floodEnd - floodStart) / 1_000_000;
        assertTrue(
                during.size() >= Math.max(10, floodMillis / 1_000),
                during.size() + " probes during " + floodMillis + " ms of flood");
    }

    /**
     * Every idle socket was closed by the agent within the header timeout (or refused); every slow
     * body was cut with 408 after the grace, or refused with 503. Returns how many got 408.
     */
    private static int assertOutcomes(List<Conn> conns) {
        int cut = 0;
        int refused = 0;
        for (Conn c : conns) {
            if (!c.slow) {
                assertTrue(
                        c.millisOpen() < HEADER_TIMEOUT_MILLIS + SLACK_MILLIS,
                        "an idle socket was open " + c.millisOpen() + " ms");
                assertTrue(c.answer().isEmpty() || c.answer().startsWith("HTTP/1.1 503"), c.answer());
            } else if (c.answer().startsWith("HTTP/1.1 408 ")) {
                assertTrue(c.answer().contains("http.body_rate_bytes_per_second_min"), c.answer());
                assertTrue(
                        c.millisOpen() >= BODY_GRACE_MILLIS - 10 && c.millisOpen() < BODY_GRACE_MILLIS + SLACK_MILLIS,
                        "cut after " + c.millisOpen() + " ms");
                cut++;
            } else {
                assertTrue(c.answer().startsWith("HTTP/1.1 503 "), "a slow body got: " + c.answer());
                assertTrue(c.answer().contains("Retry-After") || c.answer().contains("retry-after"), c.answer());
                refused++;
            }
        }
        // budget.connections (1,000) less the probes' share holds the 200 slow bodies: each one is
        // admitted (an idle socket makes room for it) and cut. (All 200 here; when the box is short
        // of CPU, the agent refuses some with 503 rather than admit them late: at least half.)
        assertTrue(cut >= SLOW / 2, cut + " slow bodies cut with 408, " + refused + " refused with 503");
        return cut;
    }

    private void assertServesNormally(int port, int cut) throws Exception {
        String base = "http://127.0.0.1:" + port;
        HttpResponse<String> ingest = http.send(
                HttpRequest.newBuilder(URI.create(base + "/v1/events"))
                        .header("Content-Type", "application/x-ndjson")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"stream\":\"after\",\"data\":{\"ok\":true}}\n"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ingest.statusCode(), ingest.body());
        String read = get(base + "/v1/events?stream=after");
        assertTrue(read.contains("\"ok\":true"), read);
        String metrics = get(base + "/metrics");
        assertEquals(cut, counter(metrics, "outpost_connections_closed_total{reason=\"body_too_slow\"}"));
        assertTrue(counter(metrics, "outpost_connections_closed_total{reason=\"header_timeout\"}") > 0, metrics);
        assertTrue(counter(metrics, "outpost_connections_closed_total{reason=\"evicted\"}") > 0, metrics);
        assertTrue(counter(metrics, "outpost_connections_open") <= 2, "only this client's connections are open");
        assertEquals(0, counter(metrics, "outpost_connections_waiting"));
    }

    private String get(String url) throws Exception {
        HttpResponse<String> r =
                http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    private static long counter(String metrics, String series) {
        Matcher m =
                Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\d+)$").matcher(metrics);
        assertTrue(m.find(), series);
        return Long.parseLong(m.group(1));
    }

    /** A probe on a fresh connection, as a load balancer's would be: its status and how long it took. */
    private static Probe probe(int port) {
        long t0 = System.nanoTime();
        String status;
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1_000);
            s.setSoTimeout(1_000);
            s.getOutputStream()
                    .write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            status = answer.length() >= 12 ? answer.substring(9, 12) : "closed: '" + answer + "'";
        } catch (IOException e) {
            status = e.toString();
        }
        return new Probe(t0, (System.nanoTime() - t0) / 1_000_000, status);
    }

    /** Warms the agent's request path (no time limit: the JIT is still at work) before measuring. */
    private void warmUp(int port) throws Exception {
        for (int i = 0; i < 50; i++) {
            get("http://127.0.0.1:" + port + "/health");
            get("http://127.0.0.1:" + port + "/metrics");
        }
    }

    private static long rssBytes(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        throw new AssertionError("no VmRSS in /proc/" + pid + "/status");
    }

    /** Fails, naming the limit, if process {@code pid} ("self" for this JVM) may not open {@code n} files. */
    private static void assertFilesAtLeast(String pid, long n) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", pid, "limits"))) {
            if (line.startsWith("Max open files")) {
                String soft = line.substring("Max open files".length()).strip().split("\\s+")[0];
                assertTrue(
                        soft.equals("unlimited") || Long.parseLong(soft) >= n,
                        "this test needs " + n + " open files per process; process " + pid + " may open " + soft
                                + ": raise the hard limit (ulimit -Hn), which the JVM raises its soft limit to");
                return;
            }
        }
    }
}
