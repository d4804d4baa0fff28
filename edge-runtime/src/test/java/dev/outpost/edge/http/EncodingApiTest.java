package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.store.EventDraft;
import dev.outpost.store.Lane;
import dev.outpost.store.json.JsonText;
import dev.outpost.store.json.JsonTree;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue #11 point 5a over HTTP: bodies are UTF-8 (a leading BOM is dropped; UTF-16/32, malformed
 * UTF-8 and other charsets are refused, nothing stored), on every API that parses a body; and a
 * read emits only UTF-8 JSON lines whatever the log holds.
 */
class EncodingApiTest extends AgentHttpTest {
    private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    private static final String EVENT = "{\"stream\":\"s\",\"data\":{\"t\":\"é\"}}";

    private HttpResponse<byte[]> sendBytes(String method, String path, String contentType, byte[] body)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.port() + path))
                .method(method, HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(HttpResponse<byte[]> r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    private static String strictUtf8(byte[] b) throws CharacterCodingException {
        return StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(b))
                .toString();
    }

    /** The page's lines, each checked to be strict UTF-8 (no BOM) and one JSON object. */
    private List<Map<?, ?>> readAll(String query) throws Exception {
        HttpResponse<byte[]> r = sendBytes("GET", "/v1/events" + query, null, new byte[0]);
        assertEquals(200, r.statusCode(), text(r));
        try {
            strictUtf8(r.body());
        } catch (CharacterCodingException e) {
            throw new AssertionError("the page is not UTF-8: " + e, e);
        }
        List<Map<?, ?>> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < r.body().length; i++) {
            if (r.body()[i] == '\n') {
                assertNull(JsonText.check(r.body(), start, i - start), "line at byte " + start);
                assertEquals('{', r.body()[start], "a line starts with '{' (no BOM)");
                out.add((Map<?, ?>) JsonTree.parse(r.body(), start, i - start));
                start = i + 1;
            }
        }
        assertEquals(r.body().length, start, "every line ends with a line feed");
        return out;
    }

    private long lastSeq() throws Exception {
        return Long.parseLong(sendBytes("GET", "/v1/events?limit=1", null, new byte[0])
                .headers()
                .firstValue("X-Outpost-Last-Seq")
                .orElseThrow());
    }

    @Test
    void ingestDropsALeadingBomAndRefusesOtherEncodingsStoringNothing() throws Exception {
        start("");
        assertEquals(
                200,
                sendBytes("POST", "/v1/events", "application/json", cat(BOM, utf8(EVENT)))
                        .statusCode());
        HttpResponse<byte[]> batch =
                sendBytes("POST", "/v1/events", "application/x-ndjson", cat(BOM, utf8(EVENT + "\n" + EVENT + "\n")));
        assertEquals(200, batch.statusCode(), text(batch));
        long stored = lastSeq();
        for (String cs : List.of("UTF-16LE", "UTF-16BE", "UTF-16", "UTF-32LE", "UTF-32BE")) {
            for (String type : List.of("application/json", "application/x-ndjson")) {
                HttpResponse<byte[]> r = sendBytes("POST", "/v1/events", type, EVENT.getBytes(Charset.forName(cs)));
                assertEquals(400, r.statusCode(), cs + " " + type + ": " + text(r));
                assertTrue(strictUtf8(r.body()).contains("must be UTF-8 (RFC 8259 §8.1)"), text(r));
                assertEquals(
                        "application/problem+json",
                        r.headers().firstValue("Content-Type").orElse(""));
            }
        }
        byte[] overlong =
                cat(utf8("{\"stream\":\"s\",\"data\":{\"p\":\""), new byte[] {(byte) 0xC0, (byte) 0xAF}, utf8("\"}}"));
        HttpResponse<byte[]> bad =
                sendBytes("POST", "/v1/events", "application/x-ndjson", cat(utf8(EVENT + "\n"), overlong));
        assertEquals(400, bad.statusCode());
        assertTrue(text(bad).contains("\"line\":2") && text(bad).contains("\"field\":\"data\""), text(bad));
        assertTrue(text(bad).contains("overlong"), text(bad));
        HttpResponse<byte[]> nul = sendBytes(
                "POST", "/v1/events", "application/json", utf8("{\"stream\":\"s\",\"data\":{\"a\":\"x\u0000\"}}"));
        assertEquals(400, nul.statusCode(), text(nul));
        HttpResponse<byte[]> lone = sendBytes(
                "POST", "/v1/events", "application/json", utf8("{\"stream\":\"s\",\"data\":{\"a\":\"\\ud800\"}}"));
        assertEquals(400, lone.statusCode(), text(lone));
        assertEquals(stored, lastSeq(), "nothing of a refused request is stored");
        List<Map<?, ?>> lines = readAll("?stream=s");
        assertEquals(4, lines.size(), "three events and the trailer");
        for (Map<?, ?> e : lines.subList(0, 3)) {
            assertEquals("é", ((Map<?, ?>) e.get("data")).get("t"));
            assertNull(e.get("repaired"));
        }
    }

    @Test
    void aCharsetOtherThanUtf8IsRefusedOnEveryJsonApi() throws Exception {
        start("");
        for (String[] call : new String[][] {
            {"POST", "/v1/events", "application/json", EVENT},
            {"POST", "/v1/events", "application/x-ndjson", EVENT},
            {"PUT", "/v1/state/ns/d", "application/json", "{\"a\":1}"},
            {"PATCH", "/v1/state/ns/d", "application/merge-patch+json", "{\"a\":1}"},
            {"PUT", "/v1/streams/s2", "application/json", "{\"priority\":\"high\"}"}
        }) {
            HttpResponse<byte[]> r = sendBytes(
                    call[0], call[1], call[2] + "; charset=utf-16", call[3].getBytes(StandardCharsets.UTF_16));
            assertEquals(415, r.statusCode(), call[1] + ": " + text(r));
            assertTrue(text(r).contains("\"field\":\"Content-Type\""), text(r));
            assertTrue(text(r).contains("charset=utf-16"), text(r));
            HttpResponse<byte[]> latin1 = sendBytes(call[0], call[1], call[2] + ";charset=ISO-8859-1", utf8(call[3]));
            assertEquals(415, latin1.statusCode(), call[1] + ": " + text(latin1));
        }
        assertEquals(0, lastSeq(), "nothing stored");
        assertEquals(
                200,
                sendBytes("POST", "/v1/events", "application/json; charset=utf-8", utf8(EVENT))
                        .statusCode());
        assertEquals(
                201,
                sendBytes("PUT", "/v1/state/ns/d", "application/json;charset=\"UTF-8\"", utf8("{\"a\":1}"))
                        .statusCode());
    }

    @Test
    void stateAndStreamBodiesAreUtf8Too() throws Exception {
        start("");
        HttpResponse<byte[]> created =
                sendBytes("PUT", "/v1/state/ns/d", "application/json", cat(BOM, utf8("{\"t\":\"é\"}")));
        assertEquals(201, created.statusCode(), text(created));
        HttpResponse<byte[]> got = sendBytes("GET", "/v1/state/ns/d", null, new byte[0]);
        assertTrue(text(got).endsWith("\"doc\":{\"t\":\"é\"}}"), text(got));
        byte[] overlong = cat(utf8("{\"t\":\""), new byte[] {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}, utf8("\"}"));
        List<byte[]> refused = List.of(
                "{\"t\":1}".getBytes(StandardCharsets.UTF_16LE),
                "{\"t\":1}".getBytes(Charset.forName("UTF-32BE")),
                overlong,
                utf8("{\"t\":\"\\udc00\"}"),
                utf8("{\"t\":\"a\u0001b\"}"));
        for (byte[] body : refused) {
            HttpResponse<byte[]> put = sendBytes("PUT", "/v1/state/ns/d", "application/json", body);
            assertEquals(400, put.statusCode(), text(put));
            HttpResponse<byte[]> merge = sendBytes("PATCH", "/v1/state/ns/d", "application/merge-patch+json", body);
            assertEquals(400, merge.statusCode(), text(merge));
            HttpResponse<byte[]> stream = sendBytes("PUT", "/v1/streams/s2", "application/json", body);
            assertEquals(400, stream.statusCode(), text(stream));
        }
        HttpResponse<byte[]> jsonPatch = sendBytes(
                "PATCH",
                "/v1/state/ns/d",
                "application/json-patch+json",
                "[{\"op\":\"add\",\"path\":\"/u\",\"value\":1}]".getBytes(StandardCharsets.UTF_16BE));
        assertEquals(400, jsonPatch.statusCode(), text(jsonPatch));
        assertTrue(text(sendBytes("GET", "/v1/state/ns/d", null, new byte[0])).contains("\"version\":1,"), "unchanged");
        assertEquals(
                200,
                sendBytes("PUT", "/v1/streams/s2", "application/json", cat(BOM, utf8("{\"priority\":\"high\"}")))
                        .statusCode());
        assertEquals(404, sendBytes("GET", "/v1/streams/s3", null, new byte[0]).statusCode());
    }

    /**
     * A state change an earlier version accepted (a lone surrogate escape, which it stored as sent):
     * the stricter input rules must not stop the replay at start, nor GET, PATCH or history.
     */
    @Test
    void stateStoredBeforeTheStricterRulesStillReplaysAndReads() throws Exception {
        start("");
        byte[] change = utf8("{\"stream\":\"_state\",\"key\":\"ns/old\",\"data\":{\"namespace\":\"ns\",\"id\":\"old\","
                + "\"version\":1,\"op\":\"put\",\"origin\":\"vm\",\"doc\":{\"a\":\"x\\ud800\"}}}");
        agent.agent()
                .log()
                .append(Lane.HIGH, List.of(new EventDraft("_state", null, null, 0, 1, null, change)))
                .durable()
                .join();
        agent.close();
        agent = null;
        start(""); // replays the change logged but not applied
        HttpResponse<byte[]> got = sendBytes("GET", "/v1/state/ns/old", null, new byte[0]);
        assertEquals(200, got.statusCode(), text(got));
        assertTrue(text(got).toLowerCase(java.util.Locale.ROOT).contains("\"doc\":{\"a\":\"x\\ud800\"}"), text(got));
        HttpResponse<byte[]> patched =
                sendBytes("PATCH", "/v1/state/ns/old", "application/merge-patch+json", utf8("{\"b\":1}"));
        assertEquals(200, patched.statusCode(), text(patched));
        HttpResponse<byte[]> history = sendBytes("GET", "/v1/state/ns/old/history", null, new byte[0]);
        assertEquals(200, history.statusCode(), text(history));
        assertTrue(text(history).contains("\"version\":1,"), text(history));
        // The same text as a new body is refused.
        assertEquals(
                400,
                sendBytes("PUT", "/v1/state/ns/new", "application/json", utf8("{\"a\":\"x\\ud800\"}"))
                        .statusCode());
        List<Map<?, ?>> lines = readAll("?stream=_state");
        assertEquals(Boolean.TRUE, lines.getFirst().get("repaired"), "a read emits it with U+FFFD: " + lines);
    }

    /** What earlier versions stored (they accepted these bodies): a read must still emit clean lines. */
    @Test
    void aReadEmitsOnlyUtf8JsonLinesWhateverTheLogHolds() throws Exception {
        start("");
        byte[] overlong = cat(
                utf8("{\"stream\":\"s\",\"data\":{\"p\":\"a"), new byte[] {(byte) 0xC0, (byte) 0xAF}, utf8("b\"}}"));
        List<byte[]> stored = List.of(
                utf8(EVENT),
                cat(BOM, utf8(EVENT)),
                EVENT.getBytes(StandardCharsets.UTF_16LE),
                EVENT.getBytes(StandardCharsets.UTF_16),
                EVENT.getBytes(Charset.forName("UTF-32LE")),
                overlong,
                utf8("{\"stream\":\"s\",\"data\":{\"l\":\"\\ud800\"}}"),
                utf8("not json at all"),
                utf8("{\"stream\":\"s\",\"data\":{\"nul\":\"x\u0000\"}}"),
                utf8("{}"),
                utf8(EVENT));
        for (byte[] p : stored) {
            agent.agent()
                    .log()
                    .append(Lane.NORMAL, List.of(new EventDraft("s", null, null, 0, 1, null, p)))
                    .durable()
                    .join();
        }
        List<Map<?, ?>> lines = readAll("?stream=s");
        Map<?, ?> trailer = lines.getLast();
        assertEquals(8L, trailer.get("count"), trailer.toString());
        assertEquals(3L, trailer.get("unreadable"), "garbage, a raw NUL and an empty object are skipped and counted");
        List<Map<?, ?>> events = lines.subList(0, lines.size() - 1);
        assertEquals(
                List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 11L),
                events.stream().map(e -> e.get("seq")).toList());
        for (int i = 0; i < 5; i++) {
            assertEquals(
                    "é",
                    ((Map<?, ?>) events.get(i).get("data")).get("t"),
                    events.get(i).toString());
            assertEquals(
                    i == 0 ? null : Boolean.TRUE,
                    events.get(i).get("repaired"),
                    events.get(i).toString());
        }
        assertEquals("a\uFFFD\uFFFDb", ((Map<?, ?>) events.get(5).get("data")).get("p"));
        assertEquals("\uFFFD", ((Map<?, ?>) events.get(6).get("data")).get("l"));
        assertNull(events.get(7).get("repaired"));
        // Page by page (limit 1), the skipped records are still counted once each.
        long unreadable = 0;
        String cursor = null;
        for (int pages = 0; pages < 20; pages++) {
            List<Map<?, ?>> page = readAll(cursor == null ? "?limit=1" : "?limit=1&cursor=" + cursor);
            Map<?, ?> t = page.getLast();
            unreadable += t.get("unreadable") == null ? 0 : (Long) t.get("unreadable");
            cursor = (String) t.get("next_cursor");
            if ((Long) t.get("scanned") == 0) {
                break;
            }
        }
        assertEquals(3, unreadable);
        assertFalse(
                text(sendBytes("GET", "/v1/events?stream=s", null, new byte[0])).contains("\uFEFF"));
    }
}
