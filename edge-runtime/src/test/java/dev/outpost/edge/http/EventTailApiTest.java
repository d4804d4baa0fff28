package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Main;
import dev.outpost.edge.config.ConfigLoader;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Issue #13 point 1: GET /v1/events/tail over SSE — history, live events, resume, heartbeats, filters, refusals. */
class EventTailApiTest extends AgentHttpTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Pattern SEQ = Pattern.compile("\"seq\":(\\d+)");

    private void post(String stream, int from, int count, String key) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = from; i < from + count; i++) {
            b.append("{\"stream\":\"")
                    .append(stream)
                    .append("\",\"key\":\"")
                    .append(key)
                    .append("\",\"data\":{\"n\":")
                    .append(i)
                    .append("}}\n");
        }
        HttpResponse<String> r = send("POST", "/v1/events", EventsController.NDJSON, b.toString());
        assertEquals(200, r.statusCode(), r.body());
    }

    private SseSubscriber tail(String query, String... headers) throws Exception {
        SseSubscriber s = SseSubscriber.open(http, agent.port(), "/v1/events/tail" + query, headers);
        assertEquals(200, s.status());
        return s;
    }

    /** The ids of the next {@code n} events, checking each id is the event's seq. */
    private static List<Long> ids(SseSubscriber s, int n) throws InterruptedException {
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            SseSubscriber.Message m = s.nextEvent(WAIT);
            assertEquals("event", m.event(), m.toString());
            Matcher seq = SEQ.matcher(m.data());
            assertTrue(seq.find(), m.data());
            assertEquals(m.id(), seq.group(1), "the id is the event's seq");
            ids.add(Long.parseLong(m.id()));
        }
        return ids;
    }

    @Test
    void historyFromASeqThenLiveEventsInOrderWithIdsAsCursors() throws Exception {
        start("");
        post("a", 0, 5, "k");
        post("b", 0, 3, "k");
        try (SseSubscriber s = tail("?stream=a&from_seq=1")) {
            assertTrue(s.headers().get("content-type").get(0).startsWith("text/event-stream"));
            assertEquals(List.of(1L, 2L, 3L, 4L, 5L), ids(s, 5));
            post("b", 3, 2, "k");
            post("a", 5, 2, "k");
            assertEquals(List.of(11L, 12L), ids(s, 2), "live events of stream a only");
        }
    }

    @Test
    void byDefaultATailStartsNowAndSeesOnlyNewEvents() throws Exception {
        start("");
        post("a", 0, 3, "k");
        try (SseSubscriber s = tail("?stream=a")) {
            post("a", 3, 1, "k");
            assertEquals(List.of(4L), ids(s, 1));
        }
    }

    @Test
    void aReconnectWithLastEventIdContinuesWithNoGapAndNoDuplicate() throws Exception {
        start("");
        post("a", 0, 10, "k");
        List<Long> got = new ArrayList<>();
        try (SseSubscriber s = tail("?from_seq=1")) {
            got.addAll(ids(s, 4));
        }
        post("a", 10, 5, "k");
        try (SseSubscriber s = tail("?stream=a", "Last-Event-ID", String.valueOf(got.getLast()))) {
            got.addAll(ids(s, 11));
            post("a", 15, 2, "k");
            got.addAll(ids(s, 2));
        }
        List<Long> all = new ArrayList<>();
        for (long i = 1; i <= 17; i++) {
            all.add(i);
        }
        assertEquals(all, got);
    }

    @Test
    void aReconnectAfterARestartContinuesWhereItLeftOff() throws Exception {
        start("");
        post("a", 0, 6, "k");
        long last;
        try (SseSubscriber s = tail("?from_seq=1")) {
            last = ids(s, 3).getLast();
        }
        agent.close();
        agent = Main.start(ConfigLoader.load(dir.resolve("outpost.yaml")));
        post("a", 6, 2, "k");
        try (SseSubscriber s = tail("", "Last-Event-ID", String.valueOf(last))) {
            assertEquals(List.of(4L, 5L, 6L, 7L, 8L), ids(s, 5));
        }
    }

    /**
     * What an earlier run stored unchecked (versions before ingest checked encodings) is checked again by the tail —
     * repaired or skipped as GET /v1/events does — while what this run wrote is sent as written (Round#clean).
     */
    @Test
    void recordsOfAnEarlierRunAreCheckedAgainAndThisRunsAreSentAsWritten() throws Exception {
        start("");
        String event = "{\"stream\":\"a\",\"data\":{\"t\":\"é\"}}";
        for (byte[] p : List.of(
                event.getBytes(java.nio.charset.StandardCharsets.UTF_16LE),
                "not json".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                event.getBytes(java.nio.charset.StandardCharsets.UTF_8))) {
            agent.agent()
                    .log()
                    .append(
                            dev.outpost.store.Lane.NORMAL,
                            List.of(new dev.outpost.store.EventDraft("a", null, null, 0, 1, null, p)))
                    .durable()
                    .join();
        }
        agent.close();
        agent = Main.start(ConfigLoader.load(dir.resolve("outpost.yaml")));
        try (SseSubscriber s = tail("?from_seq=1")) {
            SseSubscriber.Message first = s.nextEvent(WAIT);
            assertEquals("1", first.id());
            assertTrue(
                    first.data().contains("\"repaired\":true") && first.data().contains("é"), first.data());
            SseSubscriber.Message third = s.nextEvent(WAIT);
            assertEquals("3", third.id(), "the unreadable record is skipped: " + third);
            assertTrue(!third.data().contains("repaired"), third.data());
            post("a", 0, 1, "k");
            SseSubscriber.Message live = s.nextEvent(WAIT);
            assertEquals("4", live.id());
            assertTrue(
                    live.data().startsWith("{\"seq\":4,") && live.data().endsWith("\"data\":{\"n\":0}}"), live.data());
        }
    }

    @Test
    void aQuietStreamGetsHeartbeats() throws Exception {
        start("live:\n  heartbeat_millis: 100\n");
        try (SseSubscriber s = tail("?stream=quiet")) {
            SseSubscriber.Message m = s.next(WAIT);
            assertEquals(List.of("heartbeat"), m.comments());
        }
    }

    @Test
    void keyAndConditionsFilterEvents() throws Exception {
        start("");
        post("a", 0, 10, "k1");
        post("a", 0, 10, "k2");
        try (SseSubscriber s = tail("?stream=a&from_seq=1&key=k2&where="
                + java.net.URLEncoder.encode("{\"field\":\"n\",\"op\":\"gte\",\"value\":7}", "UTF-8"))) {
            assertEquals(List.of(18L, 19L, 20L), ids(s, 3));
            post("a", 20, 1, "k2");
            post("a", 1, 1, "k2");
            post("a", 30, 1, "k1");
            assertEquals(List.of(21L), ids(s, 1));
        }
    }

    @Test
    void badParametersAre400NamingTheParameter() throws Exception {
        start("");
        post("a", 0, 2, "k");
        assertProblem("?where=%7Bnot", 400, "where");
        assertProblem(
                "?where=" + java.net.URLEncoder.encode("{\"field\":\"n\",\"op\":\"zz\",\"value\":1}", "UTF-8"),
                400,
                "where");
        assertProblem("?from_seq=-1", 400, "from_seq");
        assertProblem("?from_time=yesterday", 400, "from_time");
        assertProblem("?stream=bad%20name", 400, "stream");
        assertProblem("?colour=red", 400, "colour");
        HttpResponse<String> ahead = send("GET", "/v1/events/tail", null, null, "Last-Event-ID", "99");
        assertEquals(400, ahead.statusCode(), ahead.body());
        assertTrue(ahead.body().contains("\"field\":\"Last-Event-ID\""), ahead.body());
    }

    private void assertProblem(String query, int status, String field) throws Exception {
        HttpResponse<String> r = send("GET", "/v1/events/tail" + query, null, null);
        assertEquals(status, r.statusCode(), query + ": " + r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith(Problems.MEDIA_TYPE));
        assertTrue(r.body().contains("\"field\":\"" + field + "\""), r.body());
    }

    @Test
    void beyondSubscribersMaxATailIs503WithRetryAfter() throws Exception {
        start("live:\n  subscribers_max: 1\n");
        try (SseSubscriber s = tail("")) {
            assertEquals(200, s.status());
            HttpResponse<String> r = send("GET", "/v1/events/tail", null, null);
            assertEquals(503, r.statusCode(), r.body());
            assertTrue(r.headers().firstValue("Retry-After").isPresent());
        }
    }

    @Test
    void aTailNeedsTheTokenLikeEveryApi() throws Exception {
        java.nio.file.Files.writeString(
                dir.resolve("outpost.yaml"),
                "data:\n  dir: " + dir.resolve("data") + "\nhttp:\n  port: 0\n  api_token: secret-token-0123456789\n"
                        + roomyMemory(""));
        agent = Main.start(ConfigLoader.load(dir.resolve("outpost.yaml")));
        assertEquals(401, send("GET", "/v1/events/tail", null, null).statusCode());
        try (SseSubscriber s = tail("?stream=a", "Authorization", "Bearer secret-token-0123456789")) {
            send(
                    "POST",
                    "/v1/events",
                    "application/json",
                    "{\"stream\":\"a\",\"data\":{}}",
                    "Authorization",
                    "Bearer secret-token-0123456789");
            assertEquals(List.of(1L), ids(s, 1));
        }
    }
}
