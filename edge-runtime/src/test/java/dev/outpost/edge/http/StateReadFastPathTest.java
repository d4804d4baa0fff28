package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The state GET fast path answers exactly what the controller would, keeps responses in request
 * order on a pipelined connection, and leaves everything it is not sure about to the controller.
 */
class StateReadFastPathTest extends AgentHttpTest {
    /** One raw HTTP/1.1 response: status line, headers with lower-cased names in order, body. */
    record Raw(String status, List<String> headers, String body) {
        String header(String name) {
            for (String h : headers) {
                if (h.startsWith(name.toLowerCase(Locale.ROOT) + ":")) {
                    return h.substring(name.length() + 1).strip();
                }
            }
            return null;
        }
    }

    private long fastReads() {
        return agent.agent().metrics().value("outpost_state_fast_reads_total");
    }

    /** Writes {@code requests} in one go on one connection and reads {@code n} responses. */
    private List<Raw> exchange(String requests, int n) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), agent.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(requests.getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            List<Raw> responses = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                responses.add(read(in));
            }
            return responses;
        }
    }

    private static Raw read(InputStream in) throws IOException {
        String status = line(in);
        List<String> headers = new ArrayList<>();
        int length = 0;
        for (String h = line(in); !h.isEmpty(); h = line(in)) {
            int colon = h.indexOf(':');
            String name = h.substring(0, colon).toLowerCase(Locale.ROOT);
            headers.add(name + ":" + h.substring(colon + 1));
            if (name.equals("content-length")) {
                length = Integer.parseInt(h.substring(colon + 1).strip());
            }
        }
        byte[] body = in.readNBytes(length);
        return new Raw(status, headers, new String(body, StandardCharsets.UTF_8));
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new IOException("connection closed mid-response");
            }
            if (c != '\r') {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    private static String get(String path, String... headers) {
        StringBuilder b = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n");
        for (int i = 0; i < headers.length; i += 2) {
            b.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        return b.append("\r\n").toString();
    }

    private static String put(String path, String body) {
        return "PUT " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }

    @Test
    void answersExactlyWhatTheControllerAnswers() throws Exception {
        start("");
        assertEquals(
                201,
                send("PUT", "/v1/state/devices/d-1:a", "application/json", "{\"mode\":\"é\"}")
                        .statusCode());
        long before = fastReads();
        Raw fast = exchange(get("/v1/state/devices/d-1:a", "Accept", "application/json"), 1)
                .getFirst();
        assertEquals(before + 1, fastReads(), "answered by the fast path");
        // A query string is left to the controller: the same document, answered by Micronaut.
        Raw routed = exchange(get("/v1/state/devices/d-1:a?x=1", "Accept", "application/json"), 1)
                .getFirst();
        assertEquals(before + 1, fastReads(), "answered by the controller");
        assertEquals(routed, fast);
        assertEquals("HTTP/1.1 200 OK", fast.status());
        assertEquals("\"1\"", fast.header("ETag"));
        assertEquals("application/json", fast.header("Content-Type"));
        assertTrue(fast.body().endsWith(",\"doc\":{\"mode\":\"é\"}}"), fast.body());
    }

    @Test
    void leavesEverythingElseToTheController() throws Exception {
        start("");
        send("PUT", "/v1/state/ns/x", "application/json", "{}");
        long before = fastReads();
        List<Raw> r = exchange(
                get("/v1/state/ns/nope") // 404 problem
                        + get("/v1/state/ns/x", "Accept", "text/html") // 406
                        + get("/v1/state/bad%20ns/x") // 400 problem
                        + get("/v1/state/ns/%78") // percent-encoded x: 200 through the router
                        + get("/v1/state/ns/x/history")
                        + get("/v1/state/ns/x", "Connection", "close"),
                6);
        assertEquals(before, fastReads(), "none of these took the fast path");
        assertTrue(r.get(0).status().startsWith("HTTP/1.1 404"), r.get(0).toString());
        assertEquals("application/problem+json", r.get(0).header("Content-Type"));
        assertTrue(
                r.get(0).body().contains("state document ns/nope does not exist"),
                r.get(0).body());
        assertTrue(r.get(1).status().startsWith("HTTP/1.1 406"), r.get(1).toString());
        assertTrue(r.get(2).status().startsWith("HTTP/1.1 400"), r.get(2).toString());
        assertEquals("HTTP/1.1 200 OK", r.get(3).status());
        assertEquals("\"1\"", r.get(3).header("ETag"));
        assertTrue(r.get(4).body().contains("\"changes\":["), r.get(4).body());
        assertEquals("HTTP/1.1 200 OK", r.get(5).status());
        assertEquals("close", r.get(5).header("Connection"));
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        start("");
        send("PUT", "/v1/state/ns/x", "application/json", "{\"v\":1}");
        long before = fastReads();
        // The PUT goes to the controller and is answered once durable; the GETs around it must not
        // overtake it, nor each other.
        List<Raw> r = exchange(
                get("/v1/state/ns/x")
                        + put("/v1/state/ns/x", "{\"v\":2}")
                        + get("/v1/state/ns/x")
                        + get("/v1/state/ns/nope")
                        + get("/v1/state/ns/x", "Connection", "keep-alive"),
                5);
        assertTrue(r.get(0).body().contains("\"version\":1,"), r.get(0).body());
        assertTrue(r.get(1).body().contains("\"version\":2,"), r.get(1).body());
        assertTrue(r.get(2).body().contains("\"version\":2,"), r.get(2).body());
        assertTrue(r.get(3).status().startsWith("HTTP/1.1 404"), r.get(3).toString());
        assertTrue(r.get(4).body().contains("\"version\":2,"), r.get(4).body());
        assertTrue(fastReads() - before >= 2, "the first GET and the last one at least");
    }

    @Test
    void aRequiredTokenIsCheckedOnTheFastPathToo() throws Exception {
        start("  api_token: s3cret\n"); // continues the http section start() writes
        send("PUT", "/v1/state/ns/x", "application/json", "{}", "Authorization", "Bearer s3cret");
        long before = fastReads();
        List<Raw> r = exchange(
                get("/v1/state/ns/x")
                        + get("/v1/state/ns/x", "Authorization", "Bearer wrong")
                        + get("/v1/state/ns/x", "Authorization", "Bearer s3cret"),
                3);
        assertTrue(r.get(0).status().startsWith("HTTP/1.1 401"), r.get(0).toString());
        assertEquals("Bearer", r.get(0).header("WWW-Authenticate"));
        assertTrue(r.get(1).status().startsWith("HTTP/1.1 401"), r.get(1).toString());
        assertEquals("HTTP/1.1 200 OK", r.get(2).status());
        assertEquals(before + 1, fastReads());
    }

    @Test
    void plainSegments() {
        assertTrue(StateReadFastPath.plainSegment("d-1:a.b_C9", 0, 10));
        assertFalse(StateReadFastPath.plainSegment("", 0, 0));
        assertFalse(StateReadFastPath.plainSegment(".", 0, 1));
        assertFalse(StateReadFastPath.plainSegment("..", 0, 2));
        assertTrue(StateReadFastPath.plainSegment("...", 0, 3));
        assertTrue(StateReadFastPath.plainSegment(".a", 0, 2));
        assertFalse(StateReadFastPath.plainSegment("a%20", 0, 4));
        assertFalse(StateReadFastPath.plainSegment("a b", 0, 3));
        assertFalse(StateReadFastPath.plainSegment("a?b", 0, 3));
    }
}
