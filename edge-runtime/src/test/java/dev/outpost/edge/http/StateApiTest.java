package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Await;
import dev.outpost.edge.state.StatePage;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** State documents over a real server, Chronicle Map and log. */
class StateApiTest extends AgentHttpTest {
    private HttpResponse<String> put(String path, String body, String... headers) throws Exception {
        return send("PUT", path, "application/json", body, headers);
    }

    @Test
    void versionsEtagsAndPreconditions() throws Exception {
        start("");
        HttpResponse<String> created = put("/v1/state/devices/d-1", "{\"mode\":\"auto\",\"t\":20}");
        assertEquals(201, created.statusCode(), created.body());
        assertEquals("\"1\"", created.headers().firstValue("ETag").orElse(""));
        HttpResponse<String> got = send("GET", "/v1/state/devices/d-1", null, null);
        assertEquals(200, got.statusCode());
        assertEquals("\"1\"", got.headers().firstValue("ETag").orElse(""));
        assertTrue(got.body().contains("\"doc\":{\"mode\":\"auto\",\"t\":20}"), got.body());
        // A conditional GET of the version held: 304, no body; a stale or different tag: the document.
        HttpResponse<String> same = send("GET", "/v1/state/devices/d-1", null, null, "If-None-Match", "\"1\"");
        assertEquals(304, same.statusCode());
        assertEquals("", same.body());
        assertEquals("\"1\"", same.headers().firstValue("ETag").orElse(""));
        assertEquals(
                304,
                send("GET", "/v1/state/devices/d-1", null, null, "If-None-Match", "\"7\", W/\"1\"")
                        .statusCode());
        assertEquals(
                200,
                send("GET", "/v1/state/devices/d-1", null, null, "If-None-Match", "\"2\"")
                        .statusCode());
        assertEquals(
                200,
                put("/v1/state/devices/d-1", "{\"mode\":\"eco\"}", "If-Match", "\"1\"")
                        .statusCode());
        HttpResponse<String> stale = put("/v1/state/devices/d-1", "{\"mode\":\"off\"}", "If-Match", "\"1\"");
        assertEquals(412, stale.statusCode());
        assertTrue(stale.body().contains("at version 2"), stale.body());
        assertEquals(
                412, put("/v1/state/devices/d-1", "{}", "If-None-Match", "*").statusCode());
        assertEquals(
                201, put("/v1/state/devices/d-2", "{}", "If-None-Match", "*").statusCode());
        assertEquals(412, put("/v1/state/devices/d-9", "{}", "If-Match", "*").statusCode());
        assertEquals(400, put("/v1/state/devices/d-1", "[1,2]").statusCode(), "a document is an object");
        assertEquals(400, put("/v1/state/devices/d-1", "{\"a\":").statusCode());
        assertEquals(404, send("GET", "/v1/state/devices/nope", null, null).statusCode());
        assertEquals(
                404,
                send("GET", "/v1/state/devices/nope", null, null, "If-None-Match", "*")
                        .statusCode());
        assertEquals(400, send("GET", "/v1/state/bad%20ns/x", null, null).statusCode());
    }

    @Test
    void mergePatchAndJsonPatch() throws Exception {
        start("");
        put("/v1/state/cfg/c", "{\"a\":{\"b\":1,\"c\":2},\"list\":[1,2]}");
        HttpResponse<String> merged = send(
                "PATCH", "/v1/state/cfg/c", "application/merge-patch+json", "{\"a\":{\"c\":null,\"d\":4},\"e\":true}");
        assertEquals(200, merged.statusCode(), merged.body());
        assertTrue(
                merged.body().contains("\"doc\":{\"a\":{\"b\":1,\"d\":4},\"list\":[1,2],\"e\":true}"), merged.body());
        HttpResponse<String> patched = send(
                "PATCH",
                "/v1/state/cfg/c",
                "application/json-patch+json",
                "[{\"op\":\"add\",\"path\":\"/list/-\",\"value\":3},{\"op\":\"replace\",\"path\":\"/a/b\",\"value\":10}]",
                "If-Match",
                "\"2\"");
        assertEquals(200, patched.statusCode(), patched.body());
        assertTrue(patched.body().contains("\"version\":3"), patched.body());
        assertTrue(patched.body().contains("\"list\":[1,2,3]") && patched.body().contains("\"b\":10"), patched.body());
        HttpResponse<String> failed = send(
                "PATCH",
                "/v1/state/cfg/c",
                "application/json-patch+json",
                "[{\"op\":\"replace\",\"path\":\"/a/b\",\"value\":0},{\"op\":\"test\",\"path\":\"/e\",\"value\":false}]");
        assertEquals(409, failed.statusCode(), failed.body());
        assertTrue(
                send("GET", "/v1/state/cfg/c", null, null).body().contains("\"b\":10"),
                "a failed patch changes nothing");
        assertEquals(
                404,
                send("PATCH", "/v1/state/cfg/none", "application/merge-patch+json", "{}")
                        .statusCode());
        assertEquals(
                415, send("PATCH", "/v1/state/cfg/c", "application/json", "{}").statusCode());
    }

    @Test
    void deleteLeavesATombstoneAndChangesAreEventsThatSurviveRestart() throws Exception {
        start("");
        put("/v1/state/s/x", "{\"v\":1}");
        HttpResponse<String> del = send("DELETE", "/v1/state/s/x", null, null, "If-Match", "\"1\"");
        assertEquals(204, del.statusCode(), del.body());
        assertEquals(404, send("GET", "/v1/state/s/x", null, null).statusCode());
        assertEquals(404, send("DELETE", "/v1/state/s/x", null, null).statusCode());
        HttpResponse<String> again = put("/v1/state/s/x", "{\"v\":3}", "If-None-Match", "*");
        assertEquals(201, again.statusCode());
        assertTrue(again.body().contains("\"version\":3"), "versions continue past a tombstone: " + again.body());
        String events = send("GET", "/v1/events?stream=_state", null, null).body();
        assertEquals(4, events.lines().count(), events);
        assertTrue(events.contains("\"op\":\"delete\""), events);
        HttpResponse<String> reserved =
                send("POST", "/v1/events", "application/json", "{\"stream\":\"_state\",\"data\":{}}");
        assertEquals(400, reserved.statusCode(), "clients cannot forge state events");
        agent.close();
        agent = null;
        start("");
        HttpResponse<String> after = send("GET", "/v1/state/s/x", null, null);
        assertEquals(200, after.statusCode());
        assertEquals("\"3\"", after.headers().firstValue("ETag").orElse(""));
    }

    @Test
    void historyReturnsTheLastChangesNewestFirst() throws Exception {
        start("state:\n  history_max: 3\n");
        for (int i = 1; i <= 6; i++) {
            put("/v1/state/h/doc", "{\"i\":" + i + "}");
        }
        send("DELETE", "/v1/state/h/doc", null, null);
        HttpResponse<String> h = send("GET", "/v1/state/h/doc/history", null, null);
        assertEquals(200, h.statusCode(), h.body());
        String b = h.body();
        assertTrue(b.indexOf("\"version\":7,\"op\":\"delete\"") < b.indexOf("\"version\":6,\"op\":\"put\""), b);
        assertTrue(b.contains("\"version\":6,\"op\":\"put\"") && b.contains("\"doc\":{\"i\":6}"), b);
        assertTrue(
                b.contains("\"version\":4,") && !b.contains("\"version\":3,"), "current + history_max previous: " + b);
        assertEquals(404, send("GET", "/v1/state/h/none/history", null, null).statusCode());
        agent.close();
        agent = null;
        start("state:\n  history_max: 3\n");
        assertTrue(
                send("GET", "/v1/state/h/doc/history", null, null).body().contains("\"version\":4,"),
                "kept across restart");
    }

    @Test
    void tombstonesAreCompactedAfterTheirTtl() throws Exception {
        start("state:\n  tombstone_ttl_seconds: 1\n");
        put("/v1/state/t/gone", "{}");
        send("DELETE", "/v1/state/t/gone", null, null);
        assertEquals(200, send("GET", "/v1/state/t/gone/history", null, null).statusCode(), "tombstone kept at first");
        // Compaction runs every second (a quarter of the TTL, at least 1 s) on the agent's own thread.
        Await.atMost(Duration.ofSeconds(10))
                .until(() -> send("GET", "/v1/state/t/gone/history", null, null).statusCode() == 404);
        assertEquals(201, put("/v1/state/t/gone", "{}", "If-None-Match", "*").statusCode(), "the id can be reused");
    }

    @Test
    void listsByPrefixWithCursors() throws Exception {
        start("");
        for (String id : new String[] {"a-1", "a-2", "a-3", "b-1", "a-4"}) {
            put("/v1/state/ns/" + id, "{}");
        }
        send("DELETE", "/v1/state/ns/a-2", null, null);
        HttpResponse<String> page1 = send("GET", "/v1/state/ns?prefix=a-&limit=2", null, null);
        assertTrue(page1.body().contains("\"id\":\"a-1\"") && page1.body().contains("\"id\":\"a-3\""), page1.body());
        String cursor = page1.body().replaceAll(".*\"next_cursor\":\"([^\"]+)\".*", "$1");
        HttpResponse<String> page2 = send("GET", "/v1/state/ns?prefix=a-&limit=2&cursor=" + cursor, null, null);
        assertTrue(page2.body().contains("\"id\":\"a-4\"") && !page2.body().contains("b-1"), page2.body());
        assertTrue(page2.body().contains("\"next_cursor\":null"), page2.body());
    }

    /** A page stops at about 4 MiB of documents whatever its limit (it is built in memory), with a cursor on. */
    @Test
    void aPageOfLargeDocumentsIsBoundedByBytes() throws Exception {
        start("");
        String doc = "{\"v\":\"" + "x".repeat(60_000) + "\"}";
        int docs = 80; // ~4.8 MB in all
        for (int i = 0; i < docs; i++) {
            assertEquals(201, put("/v1/state/big/d" + (1000 + i), doc).statusCode());
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        String cursor = null;
        int pages = 0;
        do {
            HttpResponse<String> page =
                    send("GET", "/v1/state/big?limit=1000" + (cursor == null ? "" : "&cursor=" + cursor), null, null);
            assertEquals(
                    200,
                    page.statusCode(),
                    page.body().substring(0, Math.min(300, page.body().length())));
            assertTrue(
                    page.body().length() < StatePage.PAGE_BYTES_MAX + 200_000,
                    "bytes " + page.body().length());
            java.util.regex.Matcher ids =
                    java.util.regex.Pattern.compile("\"id\":\"(d\\d+)\"").matcher(page.body());
            while (ids.find()) {
                assertTrue(seen.add(ids.group(1)), "once: " + ids.group(1));
            }
            java.util.regex.Matcher next = java.util.regex.Pattern.compile("\"next_cursor\":\"([^\"]+)\"")
                    .matcher(page.body());
            cursor = next.find() ? next.group(1) : null;
            pages++;
        } while (cursor != null);
        assertEquals(docs, seen.size(), "every document, paging on");
        assertTrue(pages >= 2, "more than one page: " + pages);
    }

    @Test
    void aFullStoreRefusesWith507AndStoresNothing() throws Exception {
        start("state:\n  documents_max: 16\n");
        for (int i = 0; i < 16; i++) {
            assertEquals(201, put("/v1/state/ns/d" + i, "{}").statusCode());
        }
        long before = agent.agent().log().lastSeq();
        HttpResponse<String> full = put("/v1/state/ns/d99", "{}");
        assertEquals(507, full.statusCode(), full.body());
        assertTrue(full.headers().firstValue("Retry-After").isPresent());
        assertEquals(before, agent.agent().log().lastSeq(), "nothing logged for a refused change");
        assertEquals(200, put("/v1/state/ns/d3", "{\"still\":\"updates\"}").statusCode());
    }
}
