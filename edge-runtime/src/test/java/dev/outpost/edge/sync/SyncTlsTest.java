package dev.outpost.edge.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Await;
import dev.outpost.edge.Main;
import dev.outpost.edge.TestTls;
import dev.outpost.edge.config.ConfigLoader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hub serving HTTPS only (a PKCS12 key store made by keytool) and edges pushing to it over
 * https://, all real agents on loopback in this JVM: trusted, untrusted, wrong host name, plain HTTP.
 */
class SyncTlsTest {
    static final String TOKEN = "edge-one-token-0123456789";

    @TempDir
    static Path certs;

    static TestTls tls;

    @TempDir
    Path dir;

    Main.RunningAgent hub;
    Main.RunningAgent edge;
    HttpClient https;

    @BeforeAll
    static void makeCertificates() throws Exception {
        tls = TestTls.create(certs, "hub");
    }

    @AfterEach
    void stop() {
        if (edge != null) {
            edge.close();
        }
        if (hub != null) {
            hub.close();
        }
        if (https != null) {
            https.close();
        }
    }

    private HttpClient https() throws Exception {
        if (https == null) {
            https = HttpClient.newBuilder()
                    .sslContext(tls.clientContext())
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();
        }
        return https;
    }

    /** A hub on a fixed port serving HTTPS with {@code keys}. */
    Main.RunningAgent startHub(TestTls keys) throws Exception {
        Path cfg = dir.resolve("hub.yaml");
        Files.writeString(cfg, """
                node:
                  id: hq
                data:
                  dir: %s
                http:
                  port: %d
                  tls_key_store: %s
                  tls_key_store_password: %s
                budget:
                  memory: 16GiB
                hub:
                  nodes:
                    edge-1: %s
                """.formatted(
                        dir.resolve("hub-data"), FaultProxy.stablePort(), keys.keyStore(), keys.password(), TOKEN));
        return Main.start(ConfigLoader.load(cfg).asHub());
    }

    /** An edge pushing to {@code upstream}; {@code moreSync} and {@code moreHttp} are extra keys. */
    Main.RunningAgent startEdge(String upstream, String moreSync, String moreHttp) throws Exception {
        Path cfg = dir.resolve("edge.yaml");
        Files.writeString(
                cfg, """
                node:
                  id: edge-1
                data:
                  dir: %s
                http:
                  port: 0
                  %s
                budget:
                  memory: 16GiB
                sync:
                  upstream: %s
                  token: %s
                  backoff_base_millis: 20
                  backoff_cap_millis: 200
                  breaker_open_millis: 300
                  idle_poll_millis: 50
                  %s
                """.formatted(dir.resolve("edge-data"), moreHttp.strip(), upstream, TOKEN, moreSync.strip()));
        return Main.start(ConfigLoader.load(cfg));
    }

    HttpResponse<String> send(String base, Main.RunningAgent a, String method, String path, String type, String body)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + a.port() + path))
                .timeout(Duration.ofSeconds(10))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (type != null) {
            b.header("Content-Type", type);
        }
        HttpClient client = base.startsWith("https") ? https() : HttpClient.newHttpClient();
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> hubGet(String path) throws Exception {
        return send("https://127.0.0.1:", hub, "GET", path, null, null);
    }

    static String ndjson(String stream, int from, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < from + n; i++) {
            sb.append("{\"stream\":\"")
                    .append(stream)
                    .append("\",\"id\":\"e")
                    .append(i)
                    .append("\",\"data\":{\"i\":")
                    .append(i)
                    .append("}}\n");
        }
        return sb.toString();
    }

    /** The edge's count of failed pushes. */
    long pushFailures(String edgeBase) throws Exception {
        return SyncApiTest.metric(
                send(edgeBase, edge, "GET", "/metrics", null, null).body(), "outpost_sync_failures_total");
    }

    /** Event ids on the hub for edge-1 with their counts, read over HTTPS. */
    Map<String, Integer> hubIds() throws Exception {
        return SyncApiTest.hubIds(this::hubGet);
    }

    String await(String base, Main.RunningAgent a, String path, String contains, long timeoutMillis) throws Exception {
        String[] body = {""};
        Await.atMostMillis(timeoutMillis).untilAsserted(() -> {
            body[0] = send(base, a, "GET", path, null, null).body();
            assertTrue(body[0].contains(contains), path + " never contained " + contains + ": " + body[0]);
        });
        return body[0];
    }

    /** (a) Trusting the hub's certificate, an edge (itself on HTTPS) pushes everything and pulls changes. */
    @Test
    void anEdgeTrustingTheHubsCertificatePushesAndPullsOverHttps() throws Exception {
        hub = startHub(tls);
        edge = startEdge(
                "https://127.0.0.1:" + hub.port(),
                "tls_trust_file: " + tls.pem(),
                "tls_key_store: " + tls.keyStore() + "\n  tls_key_store_password: " + tls.password());
        String edgeBase = "https://127.0.0.1:";
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> r = send(
                    edgeBase, edge, "POST", "/v1/events", "application/x-ndjson", ndjson("readings", i * 100, 100));
            assertEquals(200, r.statusCode(), r.body());
        }
        Map<String, Integer> ids = Await.atMost(Duration.ofSeconds(15)).until(this::hubIds, m -> m.size() >= 400);
        assertEquals(400, ids.size(), "the hub holds every event");
        assertTrue(ids.values().stream().allMatch(c -> c == 1), "each once: " + ids);
        await(edgeBase, edge, "/v1/sync/status", "\"link\":\"connected\"", 5_000);

        // A change published on the hub reaches the edge by long poll over HTTPS.
        HttpResponse<String> put = send(
                "https://127.0.0.1:",
                hub,
                "PUT",
                "/v1/fleet/state/edge-1/settings/fan",
                "application/json",
                "{\"speed\":7}");
        assertEquals(202, put.statusCode(), put.body());
        await(edgeBase, edge, "/v1/state/settings/fan", "\"speed\":7", 15_000);
        await(edgeBase, edge, "/metrics", "outpost_sync_pulled_changes_total 1", 5_000);
    }

    /** (b) Without the trust file the JDK's trust store refuses the self-signed hub: nothing leaves the edge. */
    @Test
    void anEdgeWithoutTheTrustFileCannotPushAndSaysWhy() throws Exception {
        hub = startHub(tls);
        edge = startEdge("https://127.0.0.1:" + hub.port(), "", "");
        String edgeBase = "http://127.0.0.1:";
        HttpResponse<String> r =
                send(edgeBase, edge, "POST", "/v1/events", "application/x-ndjson", ndjson("readings", 0, 20));
        assertEquals(200, r.statusCode(), r.body());
        String status = await(
                edgeBase,
                edge,
                "/v1/sync/status",
                "TLS handshake with the hub at 127.0.0.1:" + hub.port() + " failed",
                10_000);
        assertTrue(status.contains("certificate is not trusted"), status);
        assertTrue(status.contains("PKIX path building failed"), "the JDK's reason is kept: " + status);
        assertTrue(!status.contains("\"link\":\"connected\""), status);
        // Local ingest and reads go on.
        r = send(edgeBase, edge, "POST", "/v1/events", "application/x-ndjson", ndjson("readings", 20, 5));
        assertEquals(200, r.statusCode(), r.body());
        String local = send(edgeBase, edge, "GET", "/v1/events?stream=readings&limit=100", null, null)
                .body();
        assertEquals(
                25, Pattern.compile("\"id\":\"e\\d+\"").matcher(local).results().count(), local);
        // Positive signal that the pusher tried (and failed) after the last writes: a push attempt
        // counted after them, then nothing at the hub.
        long failures = pushFailures(edgeBase);
        Await.atMost(Duration.ofSeconds(10)).until(() -> pushFailures(edgeBase) > failures);
        assertEquals(Map.of(), hubIds(), "nothing reached the hub");
        String hubMetrics = hubGet("/metrics").body();
        assertTrue(hubMetrics.contains("outpost_hub_pushes_total 0\n"), hubMetrics);
        assertTrue(hubMetrics.contains("outpost_hub_records_stored_total 0\n"), hubMetrics);
    }

    /** Hostname verification stays on: a trusted certificate for another name is refused. */
    @Test
    void aTrustedCertificateForAnotherHostIsRefused() throws Exception {
        TestTls other = TestTls.create(dir, "other", "CN=hub.example", "SAN=dns:hub.example");
        hub = startHub(other);
        edge = startEdge("https://127.0.0.1:" + hub.port(), "tls_trust_file: " + other.pem(), "");
        String edgeBase = "http://127.0.0.1:";
        send(edgeBase, edge, "POST", "/v1/events", "application/x-ndjson", ndjson("readings", 0, 5));
        String status = await(
                edgeBase,
                edge,
                "/v1/sync/status",
                "TLS handshake with the hub at 127.0.0.1:" + hub.port() + " failed",
                10_000);
        assertTrue(
                status.contains("does not name the host") && status.contains("127.0.0.1"),
                "the name mismatch is the reason: " + status);
        assertTrue(!status.contains("PKIX"), "the certificate itself is trusted: " + status);
    }

    /** A plain http:// upstream on another host warns once at startup that the token travels in clear. */
    @Test
    void plainHttpToAnotherHostWarnsLoopbackStaysQuiet() throws Exception {
        ch.qos.logback.classic.Logger agentLog = (ch.qos.logback.classic.Logger)
                org.slf4j.LoggerFactory.getLogger(dev.outpost.edge.upstream.Upstream.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen =
                new ch.qos.logback.core.read.ListAppender<>();
        seen.start();
        agentLog.addAppender(seen);
        try {
            for (String loopback : new String[] {"http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"}) {
                edge = startEdge(loopback, "", "");
                edge.close();
                edge = null;
            }
            assertEquals(0, unencryptedWarnings(seen), "loopback stays quiet");
            // .invalid never resolves: nothing is looked up to decide, and nothing can answer.
            edge = startEdge("http://hub.invalid:7070", "", "");
            assertEquals(1, unencryptedWarnings(seen));
            String warning = seen.list.stream()
                    .filter(e -> e.getFormattedMessage().contains("unencrypted"))
                    .findFirst()
                    .orElseThrow()
                    .getFormattedMessage();
            assertTrue(warning.contains("sync.token") && warning.contains("hub.invalid"), warning);
        } finally {
            agentLog.detachAppender(seen);
        }
    }

    private static long unencryptedWarnings(
            ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen) {
        return seen.list.stream()
                .filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN
                        && e.getFormattedMessage().contains("unencrypted"))
                .count();
    }

    /** (c) The TLS port answers only TLS: plain HTTP to it gets no cleartext answer. */
    @Test
    void plainHttpToTheTlsPortGetsNoAnswer() throws Exception {
        hub = startHub(tls);
        assertEquals(200, hubGet("/health").statusCode(), "HTTPS on http.port");
        HttpClient plain =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        try (plain) {
            assertThrows(
                    IOException.class,
                    () -> plain.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hub.port() + "/health"))
                                    .timeout(Duration.ofSeconds(10))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString()));
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", hub.port()), 5000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] got;
            try {
                got = in.readAllBytes();
            } catch (IOException reset) {
                got = new byte[0];
            }
            String answer = new String(got, StandardCharsets.ISO_8859_1);
            assertTrue(!answer.contains("HTTP/1."), "no cleartext HTTP answer: " + answer);
        }
    }
}
