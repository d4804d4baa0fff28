package dev.outpost.edge.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Main;
import dev.outpost.edge.sync.TestFleet;
import dev.outpost.sync.wire.SyncProtocol;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hub answers what it will not take before reading the body: a push without a node's credentials (401), another
 * route's body over http.body_bytes_max (413) — each while the client is still to send nearly all of a large body
 * (raw sockets: the client sends the head and a little, then waits for the answer). A node's own push goes through.
 */
class HubBodyGateApiTest {
    @TempDir
    Path dir;

    /** Sends {@code head} and 4 KiB of a body it declared far larger; returns the status line of the answer. */
    private static String answerToAHeadAlone(int port, String head) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000); // the body is never completed: only an answer ahead of it arrives
            s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().write(new byte[4096]);
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            for (int c; (c = in.read()) >= 0 && c != '\r'; ) {
                line.append((char) c);
            }
            return line.toString();
        }
    }

    @Test
    void aHubRefusesUnvouchedPushesAndOversizedBodiesBeforeReadingThem() throws Exception {
        try (TestFleet fleet = new TestFleet(dir)) {
            Main.RunningAgent hub = fleet.hub("");
            int port = hub.port();
            String noToken = answerToAHeadAlone(
                    port,
                    "POST /v1/sync/push HTTP/1.1\r\nHost: x\r\nContent-Type: " + SyncProtocol.PUSH_CONTENT_TYPE
                            + "\r\nContent-Length: 12000000\r\n\r\n");
            assertEquals("HTTP/1.1 401 Unauthorized", noToken);
            String wrongToken = answerToAHeadAlone(
                    port,
                    "PUT /v1/sync/dictionaries/1 HTTP/1.1\r\nHost: x\r\nX-Outpost-Node: edge-1\r\n"
                            + "Authorization: Bearer not-the-token\r\nContent-Length: 12000000\r\n\r\n");
            assertEquals("HTTP/1.1 401 Unauthorized", wrongToken);
            String large = answerToAHeadAlone(
                    port,
                    "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                            + "Content-Length: 12000000\r\n\r\n");
            assertTrue(large.startsWith("HTTP/1.1 413"), large);
            // A node's push goes on to the controller (a body that is no batch: 400 from it, not 401 here).
            HttpResponse<String> own = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/sync/push"))
                                    .header("X-Outpost-Node", "edge-1")
                                    .header("Authorization", "Bearer " + TestFleet.TOKEN_1)
                                    .header("Content-Type", SyncProtocol.PUSH_CONTENT_TYPE)
                                    .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {1, 2, 3}))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertEquals(400, own.statusCode(), own.body());
            assertEquals(
                    200,
                    HttpClient.newHttpClient()
                            .send(
                                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .statusCode());
        }
    }

    /** The hub's outpost_hub_push_bodies_receiving_bytes. */
    private static long receivingBytes(int port) throws IOException, InterruptedException {
        String metrics = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        return metrics.lines()
                .filter(l -> l.startsWith("outpost_hub_push_bodies_receiving_bytes "))
                .mapToLong(l -> Long.parseLong(l.substring(l.indexOf(' ') + 1).trim()))
                .findFirst()
                .orElseThrow();
    }

    /** A vouched push head declaring {@code bytes}, its body not sent. */
    private static String pushHead(long bytes) {
        return "POST /v1/sync/push HTTP/1.1\r\nHost: x\r\nX-Outpost-Node: edge-1\r\nAuthorization: Bearer "
                + TestFleet.TOKEN_1 + "\r\nContent-Type: " + SyncProtocol.PUSH_CONTENT_TYPE + "\r\nContent-Length: "
                + bytes + "\r\n\r\n";
    }

    @Test
    void vouchedBodiesTheHubHasNoRoomToReceiveAreRefusedFromTheirHeads() throws Exception {
        // budget.memory 256 MiB: bodies being received may hold 32 MiB together, two of these 12 MB bodies.
        try (TestFleet fleet = new TestFleet(dir)) {
            int port = fleet.hub("", "256MiB").port();
            List<Socket> receiving = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
                    receiving.add(s);
                    s.getOutputStream().write(pushHead(12_000_000).getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().write(new byte[4096]);
                    s.getOutputStream().flush();
                }
                // Both heads taken (they arrive on connections of their own, in any order)...
                await().atMost(Duration.ofSeconds(10)).until(() -> receivingBytes(port) >= 2 * 11_718L * 1024);
                // ...there is room for these two only: a third is refused from its head (before: no answer until
                // its body came).
                assertTrue(answerToAHeadAlone(port, pushHead(12_000_000)).startsWith("HTTP/1.1 429"));
            } finally {
                for (Socket s : receiving) {
                    s.close();
                }
            }
            // Their connections gone, what they held is given back: a push is received and reaches the controller
            // (a body that is no batch: 400 from it).
            HttpClient client = HttpClient.newHttpClient();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> client.send(
                                            HttpRequest.newBuilder(
                                                            URI.create("http://127.0.0.1:" + port + "/v1/sync/push"))
                                                    .header("X-Outpost-Node", "edge-1")
                                                    .header("Authorization", "Bearer " + TestFleet.TOKEN_1)
                                                    .header("Content-Type", SyncProtocol.PUSH_CONTENT_TYPE)
                                                    .POST(HttpRequest.BodyPublishers.ofByteArray(
                                                            new byte[20_000_000 / 2]))
                                                    .build(),
                                            HttpResponse.BodyHandlers.ofString())
                                    .statusCode()
                            == 400);
            // And what an answered push held is given back with its answer: more than the room, one after another.
            for (int i = 0; i < 4; i++) {
                assertEquals(
                        400,
                        client.send(
                                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/sync/push"))
                                                .header("X-Outpost-Node", "edge-1")
                                                .header("Authorization", "Bearer " + TestFleet.TOKEN_1)
                                                .header("Content-Type", SyncProtocol.PUSH_CONTENT_TYPE)
                                                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[10_000_000]))
                                                .build(),
                                        HttpResponse.BodyHandlers.ofString())
                                .statusCode());
            }
        }
    }
}
