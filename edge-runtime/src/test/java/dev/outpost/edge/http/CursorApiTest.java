package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.hub.FleetLogs;
import dev.outpost.store.EventDraft;
import dev.outpost.store.Lane;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Issue #11 point 5c: any cursor the agent did not issue for the query at hand is 400 naming
 * {@code cursor}, on every API that takes one; the ones it issued stay valid across a restart.
 */
class CursorApiTest extends AgentHttpTest {
    private static final String HUB = """
            hub:
              enabled: true
              nodes:
                edge-1: edge-one-token-0123456789
                edge-2: edge-two-token-0123456789
            """;

    private static String b64(String s) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String cursorOf(String body) {
        Matcher m = Pattern.compile("\"next_cursor\":\"([^\"]+)\"").matcher(body);
        assertTrue(m.find(), "a next_cursor in " + body);
        return m.group(1);
    }

    /** The same token with one character changed. */
    private static String altered(String token, int at) {
        char c = token.charAt(at);
        return token.substring(0, at) + (c == 'A' ? 'B' : 'A') + token.substring(at + 1);
    }

    private void assertRefused(String path) throws Exception {
        HttpResponse<String> r = send("GET", path, null, null);
        assertEquals(400, r.statusCode(), path + ": " + r.body());
        assertTrue(r.body().contains("\"field\":\"cursor\""), r.body());
        assertTrue(r.body().contains("not one this agent issued"), r.body());
    }

    private void ingest(int n) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append("{\"stream\":\"s\",\"data\":{\"i\":").append(i).append("}}\n");
        }
        assertEquals(
                200,
                send("POST", "/v1/events", "application/x-ndjson", b.toString()).statusCode());
    }

    @Test
    void stateListingRefusesForgedAlteredAndForeignCursors() throws Exception {
        start("");
        for (String id : List.of("d-1", "d-2", "d-3", "x-1")) {
            assertEquals(
                    201,
                    send("PUT", "/v1/state/devices/" + id, "application/json", "{}")
                            .statusCode());
        }
        assertEquals(
                201,
                send("PUT", "/v1/state/other/d-1", "application/json", "{}").statusCode());
        String page1 = send("GET", "/v1/state/devices?limit=2", null, null).body();
        String cursor = cursorOf(page1);
        HttpResponse<String> page2 = send("GET", "/v1/state/devices?limit=2&cursor=" + cursor, null, null);
        assertEquals(200, page2.statusCode(), page2.body());
        assertTrue(page2.body().contains("\"id\":\"d-3\"") && page2.body().contains("\"id\":\"x-1\""), page2.body());
        // The black-box finding: a well-formed cursor the agent never issued used to answer 200 and an empty page.
        assertRefused("/v1/state/devices?cursor=" + b64("zzz"));
        assertRefused("/v1/state/devices?cursor=" + b64("d-1"));
        assertRefused("/v1/state/devices?cursor=" + altered(cursor, 0));
        assertRefused("/v1/state/devices?cursor=" + altered(cursor, cursor.length() - 1));
        assertRefused("/v1/state/devices?cursor=not*base64");
        assertRefused("/v1/state/other?cursor=" + cursor);
        assertRefused("/v1/state/devices?prefix=d-&cursor=" + cursor);
        String prefixed = cursorOf(
                send("GET", "/v1/state/devices?prefix=d-&limit=1", null, null).body());
        assertEquals(
                200,
                send("GET", "/v1/state/devices?prefix=d-&limit=1&cursor=" + prefixed, null, null)
                        .statusCode());
        assertRefused("/v1/state/devices?cursor=" + prefixed);
        assertRefused("/v1/events?cursor=" + cursor);
    }

    @Test
    void eventCursorsAreSealedAndSurviveARestart() throws Exception {
        start("");
        ingest(5);
        String first = send("GET", "/v1/events?limit=2", null, null).body();
        String cursor = cursorOf(first);
        String second =
                send("GET", "/v1/events?limit=2&cursor=" + cursor, null, null).body();
        assertTrue(second.startsWith("{\"seq\":3,"), second);
        // A cursor of the format earlier versions issued, well-formed but unsealed; and altered ones.
        assertRefused("/v1/events?cursor=" + b64("1|1||9223372036854775807"));
        assertRefused("/v1/events?cursor=" + b64("2|1||9223372036854775807|0|9223372036854775807"));
        for (int i = 0; i < cursor.length(); i += 5) {
            assertRefused("/v1/events?cursor=" + altered(cursor, i));
        }
        assertRefused("/v1/events?cursor=" + cursor.substring(0, cursor.length() - 2));
        String stateCursor = cursorOf(
                send("PUT", "/v1/state/a/b", "application/json", "{}").statusCode() == 201
                        ? send("GET", "/v1/state/a?limit=1", null, null).body()
                        : "");
        assertRefused("/v1/events?cursor=" + stateCursor);
        Path key = dir.resolve("data").resolve(CursorSeal.KEY_FILE);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        agent.close();
        agent = null;
        start("");
        HttpResponse<String> again = send("GET", "/v1/events?limit=2&cursor=" + cursor, null, null);
        assertEquals(200, again.statusCode(), "a cursor stays valid across a restart: " + again.body());
        assertEquals(second, again.body());
        assertEquals(
                200,
                send("GET", "/v1/state/a?cursor=" + stateCursor, null, null).statusCode());
    }

    @Test
    void fleetEventCursorsAreBoundToTheirNode() throws Exception {
        start(HUB);
        for (String node : List.of("edge-1", "edge-2")) {
            try (FleetLogs.Lease lease = agent.agent().hub().fleetLogs().lease(node)) {
                for (int i = 0; i < 3; i++) {
                    byte[] p = ("{\"stream\":\"s\",\"data\":{\"node\":\"" + node + "\"}}")
                            .getBytes(StandardCharsets.UTF_8);
                    lease.log()
                            .append(Lane.NORMAL, List.of(new EventDraft("s", null, null, 0, 1, null, p)))
                            .durable()
                            .join();
                }
            }
        }
        ingest(3);
        String cursor = cursorOf(
                send("GET", "/v1/fleet/events?node=edge-1&limit=1", null, null).body());
        HttpResponse<String> next = send("GET", "/v1/fleet/events?node=edge-1&limit=1&cursor=" + cursor, null, null);
        assertEquals(200, next.statusCode(), next.body());
        assertTrue(next.body().startsWith("{\"seq\":2,") && next.body().contains("\"node\":\"edge-1\""), next.body());
        assertRefused("/v1/fleet/events?node=edge-2&cursor=" + cursor);
        assertRefused("/v1/events?cursor=" + cursor);
        assertRefused("/v1/fleet/events?node=edge-1&cursor=" + b64("1|1||9223372036854775807"));
        assertRefused("/v1/fleet/events?node=edge-1&cursor=" + altered(cursor, 3));
        String own = cursorOf(send("GET", "/v1/events?limit=1", null, null).body());
        assertRefused("/v1/fleet/events?node=edge-1&cursor=" + own);
        assertNotNull(own);
    }
}
