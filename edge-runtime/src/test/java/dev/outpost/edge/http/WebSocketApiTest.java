package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.WebSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Issue #13 point 2: GET /v1/ws — JSON control messages, event subscriptions with filters and resume, errors. */
class WebSocketApiTest extends AgentHttpTest {
    private static final Pattern SEQ = Pattern.compile("\"seq\":(\\d+)");

    /** A client: whole text messages in a queue; "closed:CODE" when the server closes. */
    private static final class Client implements WebSocket.Listener {
        final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
        private final StringBuilder partial = new StringBuilder();
        WebSocket ws;

        @Override
        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                messages.add(partial.toString());
                partial.setLength(0);
            }
            w.request(1);
            return null;
        }

        @Override
        public void onError(WebSocket w, Throwable error) {
            messages.add("error:" + error);
        }

        @Override
        public CompletionStage<?> onClose(WebSocket w, int code, String reason) {
            messages.add("closed:" + code);
            return null;
        }

        String next() throws InterruptedException {
            String m = messages.poll(10, TimeUnit.SECONDS);
            if (m == null) {
                throw new AssertionError("no message within 10 s");
            }
            return m;
        }

        void send(String text) {
            ws.sendText(text, true).join();
        }
    }

    private Client connect() throws Exception {
        Client c = new Client();
        c.ws = http.newWebSocketBuilder()
                .buildAsync(URI.create("ws://127.0.0.1:" + agent.port() + "/v1/ws"), c)
                .get(10, TimeUnit.SECONDS);
        return c;
    }

    private void post(String stream, int count) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < count; i++) {
            b.append("{\"stream\":\"")
                    .append(stream)
                    .append("\",\"key\":\"k")
                    .append(i % 2)
                    .append("\",\"data\":{\"n\":")
                    .append(i)
                    .append("}}\n");
        }
        assertEquals(
                200,
                send("POST", "/v1/events", EventsController.NDJSON, b.toString())
                        .statusCode());
    }

    /** Seqs of events messages for subscription {@code id} until {@code n} are in. */
    private static List<Long> seqs(Client c, String id, int n) throws InterruptedException {
        List<Long> out = new ArrayList<>();
        while (out.size() < n) {
            String m = c.next();
            assertTrue(m.startsWith("{\"type\":\"events\",\"id\":\"" + id + "\",\"events\":[{"), m);
            Matcher s = SEQ.matcher(m);
            while (s.find()) {
                out.add(Long.parseLong(s.group(1)));
            }
        }
        return out;
    }

    @Test
    void aSubscriptionGetsHistoryThenLiveEventsAndEndsOnUnsubscribe() throws Exception {
        start("");
        post("a", 3);
        post("b", 2);
        Client c = connect();
        c.send("{\"op\":\"subscribe\",\"id\":\"s1\",\"events\":{\"stream\":\"a\",\"from_seq\":1}}");
        assertEquals("{\"type\":\"subscribed\",\"id\":\"s1\"}", c.next());
        assertEquals(List.of(1L, 2L, 3L), seqs(c, "s1", 3));
        c.send("{\"op\":\"subscribe\",\"id\":\"s2\",\"events\":{\"stream\":[\"b\"],\"key\":\"k1\",\"after\":4}}");
        assertEquals("{\"type\":\"subscribed\",\"id\":\"s2\"}", c.next());
        assertEquals(List.of(5L), seqs(c, "s2", 1), "b's k1 events after seq 4");
        post("a", 2);
        assertEquals(List.of(6L, 7L), seqs(c, "s1", 2));
        post("b", 2);
        assertEquals(List.of(9L), seqs(c, "s2", 1), "and then live");
        c.send("{\"op\":\"unsubscribe\",\"id\":\"s1\"}");
        assertEquals("{\"type\":\"unsubscribed\",\"id\":\"s1\"}", c.next());
        c.send("{\"op\":\"ping\"}");
        assertEquals("{\"type\":\"pong\"}", c.next());
    }

    @Test
    void aStateSubscriptionSendsASnapshotThenPatches() throws Exception {
        start("");
        assertEquals(
                201,
                send("PUT", "/v1/state/cfg/a", "application/json", "{\"x\":1}").statusCode());
        Client c = connect();
        c.send("{\"op\":\"subscribe\",\"id\":\"w\",\"state\":{\"namespace\":\"cfg\"}}");
        assertEquals("{\"type\":\"subscribed\",\"id\":\"w\"}", c.next());
        String snapshot = c.next();
        assertTrue(
                snapshot.startsWith("{\"type\":\"snapshot\",\"id\":\"w\"")
                        && snapshot.contains("\"docs\":[{\"doc_id\":\"a\",\"version\":1,\"doc\":{\"x\":1}}]"),
                snapshot);
        assertEquals(
                200,
                send("PUT", "/v1/state/cfg/a", "application/json", "{\"x\":2}").statusCode());
        String change = c.next();
        assertTrue(
                change.contains("\"doc_id\":\"a\",\"version\":2,\"prev_version\":1")
                        && change.contains("\"patch\":[{\"op\":\"replace\",\"path\":\"/x\",\"value\":2}]"),
                change);
        c.send("{\"op\":\"subscribe\",\"id\":\"v\",\"state\":{\"namespace\":\"bad ns\"}}");
        assertTrue(c.next().contains("\"field\":\"namespace\""));
    }

    @Test
    void aBadControlMessageGetsAnErrorAndTheConnectionStaysUp() throws Exception {
        start("");
        Client c = connect();
        c.send("{not json");
        assertTrue(c.next().startsWith("{\"type\":\"error\",\"detail\":\"malformed JSON"));
        c.send("{\"op\":\"dance\"}");
        assertTrue(c.next().contains("\"field\":\"op\""));
        c.send("{\"op\":\"subscribe\",\"id\":\"x\",\"events\":{\"stream\":\"a\",\"where\":{\"op\":\"gt\"}}}");
        String where = c.next();
        assertTrue(where.contains("\"id\":\"x\"") && where.contains("\"field\":\"where\""), where);
        c.send("{\"op\":\"subscribe\",\"id\":\"y\",\"events\":{\"from_seq\":-3}}");
        assertTrue(c.next().contains("\"field\":\"from_seq\""));
        c.send("{\"op\":\"subscribe\",\"id\":\"z\",\"events\":{\"colour\":\"red\"}}");
        assertTrue(c.next().contains("\"field\":\"colour\""));
        c.send("{\"op\":\"unsubscribe\",\"id\":\"nope\"}");
        assertTrue(c.next().contains("\"field\":\"id\""));
        c.send("{\"op\":\"ping\"}");
        assertEquals("{\"type\":\"pong\"}", c.next(), "still up");
    }

    @Test
    void aMessageOverTheLimitClosesWith1009() throws Exception {
        start("");
        Client c = connect();
        c.ws.sendText("{\"op\":\"ping\",\"pad\":\"" + "x".repeat(WebSocketPath.MESSAGE_BYTES_MAX) + "\"}", true);
        assertEquals("closed:1009", c.next());
    }

    @Test
    void withATokenTheUpgradeNeedsIt() throws Exception {
        java.nio.file.Files.writeString(
                dir.resolve("outpost.yaml"),
                "data:\n  dir: " + dir.resolve("data") + "\nhttp:\n  port: 0\n  api_token: secret-token-0123456789\n"
                        + roomyMemory(""));
        agent = dev.outpost.edge.Main.start(dev.outpost.edge.config.ConfigLoader.load(dir.resolve("outpost.yaml")));
        ExecutionException refused = assertThrows(ExecutionException.class, this::connect);
        assertTrue(refused.getCause() instanceof java.net.http.WebSocketHandshakeException, refused.toString());
        Client c = new Client();
        c.ws = http.newWebSocketBuilder()
                .header("Authorization", "Bearer secret-token-0123456789")
                .buildAsync(URI.create("ws://127.0.0.1:" + agent.port() + "/v1/ws"), c)
                .get(10, TimeUnit.SECONDS);
        c.send("{\"op\":\"ping\"}");
        assertEquals("{\"type\":\"pong\"}", c.next());
    }
}
