package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Await;
import dev.outpost.store.json.JsonPatch;
import dev.outpost.store.json.JsonTree;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Issue #13 point 3: GET /v1/state/{namespace}/watch — a snapshot, then one JSON Patch per change, from which a client
 * keeps a replica equal to the agent's documents.
 */
class StateWatchApiTest extends AgentHttpTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private SseSubscriber watch(String ns) throws Exception {
        SseSubscriber s = SseSubscriber.open(http, agent.port(), "/v1/state/" + ns + "/watch");
        assertEquals(200, s.status());
        return s;
    }

    private void put(String ns, String id, String doc) throws Exception {
        HttpResponse<String> r = send("PUT", "/v1/state/" + ns + "/" + id, "application/json", doc);
        assertTrue(r.statusCode() == 200 || r.statusCode() == 201, r.body());
    }

    private static Object parse(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return JsonTree.parse(b, 0, b.length);
    }

    /** A client's replica: documents by id, kept from the snapshot and the changes. */
    private static final class Replica {
        final Map<String, Object> docs = new HashMap<>();
        final Map<String, Long> versions = new HashMap<>();

        void snapshot(SseSubscriber.Message m) {
            assertEquals("snapshot", m.event());
            docs.clear();
            versions.clear();
            for (Object d : (List<?>) ((Map<?, ?>) parse(m.data())).get("docs")) {
                Map<?, ?> doc = (Map<?, ?>) d;
                docs.put((String) doc.get("id"), doc.get("doc"));
                versions.put((String) doc.get("id"), ((Number) doc.get("version")).longValue());
            }
        }

        void change(SseSubscriber.Message m) {
            assertEquals("change", m.event(), m.toString());
            Map<?, ?> c = (Map<?, ?>) parse(m.data());
            String id = (String) c.get("id");
            assertEquals(versions.getOrDefault(id, 0L), ((Number) c.get("prev_version")).longValue(), m.data());
            versions.put(id, ((Number) c.get("version")).longValue());
            if (c.get("op").equals("delete")) {
                docs.remove(id);
            } else {
                docs.put(id, JsonPatch.apply(docs.getOrDefault(id, JsonTree.NULL), c.get("patch")));
            }
        }
    }

    @Test
    void aSnapshotThenOnePatchPerChangeKeepsAReplica() throws Exception {
        start("");
        put("cfg", "a", "{\"x\":1,\"y\":{\"z\":[1,2]}}");
        put("cfg", "b", "{\"on\":true}");
        put("other", "q", "{\"n\":1}");
        try (SseSubscriber s = watch("cfg")) {
            Replica r = new Replica();
            r.snapshot(s.nextEvent(WAIT));
            assertEquals(Map.of("a", 1L, "b", 1L), r.versions);
            put("cfg", "a", "{\"x\":2,\"y\":{\"z\":[1,2]}}");
            SseSubscriber.Message m = s.nextEvent(WAIT);
            assertTrue(m.data().contains("\"patch\":[{\"op\":\"replace\",\"path\":\"/x\",\"value\":2}]"), m.data());
            r.change(m);
            put("other", "q", "{\"n\":2}");
            assertEquals(204, send("DELETE", "/v1/state/cfg/b", null, null).statusCode());
            r.change(s.nextEvent(WAIT));
            put("cfg", "c", "{\"new\":[]}");
            r.change(s.nextEvent(WAIT));
            assertEquals(Map.of("a", parse("{\"x\":2,\"y\":{\"z\":[1,2]}}"), "c", parse("{\"new\":[]}")), r.docs);
        }
    }

    @Test
    void aReplicaFollowsManyRandomChangesExactly() throws Exception {
        start("");
        Random rnd = new Random(7);
        try (SseSubscriber s = watch("cfg")) {
            Replica r = new Replica();
            r.snapshot(s.nextEvent(WAIT));
            int changes = 0;
            for (int i = 0; i < 200; i++) {
                String id = "d" + rnd.nextInt(5);
                if (rnd.nextInt(5) == 0) {
                    int status =
                            send("DELETE", "/v1/state/cfg/" + id, null, null).statusCode();
                    changes += status == 204 ? 1 : 0;
                } else {
                    put("cfg", id, "{\"v\":" + rnd.nextInt(3) + ",\"k" + rnd.nextInt(3) + "\":{\"w\":" + i + "}}");
                    changes++;
                }
            }
            for (int i = 0; i < changes; i++) {
                r.change(s.nextEvent(WAIT));
            }
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> doc = send("GET", "/v1/state/cfg/d" + i, null, null);
                if (doc.statusCode() == 404) {
                    assertTrue(!r.docs.containsKey("d" + i), "d" + i + " is deleted in the replica too");
                } else {
                    Object served = ((Map<?, ?>) parse(doc.body())).get("doc");
                    assertTrue(JsonTree.equal(served, r.docs.get("d" + i)), "d" + i + ": " + doc.body());
                }
            }
        }
    }

    /**
     * A watcher that reads nothing while changes flow fills its buffer (live.buffer_messages_max): it has missed
     * versions, so when it reads again it is told to resync and gets a fresh snapshot, then changes after it.
     */
    @Test
    void aWatcherThatFellBehindIsToldToResyncAndGetsAFreshSnapshot() throws Exception {
        start("live:\n  buffer_messages_max: 4\n");
        try (Socket stalled = new Socket()) {
            stalled.setReceiveBufferSize(4096);
            stalled.connect(new InetSocketAddress("127.0.0.1", agent.port()));
            stalled.getOutputStream()
                    .write("GET /v1/state/cfg/watch HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
            Await.atMost(WAIT).until(() -> agent.agent().metrics().value("outpost_live_subscribers") >= 1);
            String pad = "p".repeat(16 * 1024);
            for (int i = 0; i < 400; i++) { // ~6.5 MB of changes: more than the socket buffers hold
                put("cfg", "d" + (i % 7), "{\"i\":" + i + ",\"pad\":\"" + pad + "\"}");
            }
            put("cfg", "last", "{\"marker\":\"after-the-flood\"}");
            String text = SlowSubscriberTest.readUntil(stalled, Pattern.compile("after-the-flood"));
            int resync = text.indexOf("\"resync\":true");
            assertTrue(resync > 0, "no resync in " + text.length() + " bytes");
            assertTrue(
                    text.lastIndexOf("event: snapshot", resync) > text.indexOf("event: snapshot"), "a fresh snapshot");
            assertTrue(text.indexOf("after-the-flood", resync) > resync, "changes go on after the fresh snapshot");
        }
    }

    @Test
    void withoutEventStreamTheSamePathReadsTheDocumentNamedWatch() throws Exception {
        start("");
        put("cfg", "watch", "{\"plain\":1}");
        HttpResponse<String> r = send("GET", "/v1/state/cfg/watch", null, null);
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("\"plain\":1"), r.body());
        HttpResponse<String> bad = send("GET", "/v1/state/bad%20ns/watch", null, null, "Accept", "text/event-stream");
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(bad.body().contains("\"field\":\"namespace\""), bad.body());
    }
}
