package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * A request target with a malformed percent-escape ({@code %zz}, a trailing {@code %}) is answered at once with a 400
 * problem naming the parameter (or the namespace) at fault, on every path: the ones ahead of the router (live tail,
 * state watch, WebSocket upgrade), which left such a request unanswered, and the router's. Sent over a raw socket: the
 * JDK's client will not send a malformed escape. A request left unanswered fails on the socket's read timeout.
 */
class MalformedEscapeApiTest extends AgentHttpTest {
    private static final String TOKEN = "secret-token-0123456789";
    private static final String WS_HEADERS = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

    /** An answer: status, head and body. */
    private record Answer(int status, String head, String body) {
        void isProblemNaming(String field) {
            assertEquals(400, status, head + body);
            assertTrue(head.toLowerCase(Locale.ROOT).contains("content-type: application/problem+json"), head);
            assertTrue(body.contains("\"field\":\"" + field + "\""), body);
        }
    }

    /**
     * Sends {@code GET target} with {@code headers} on a fresh connection and reads the answer's head and its
     * Content-Length body; the answer must come within the read timeout.
     */
    private Answer get(String target, String headers) throws IOException {
        try (Socket s = new Socket("127.0.0.1", agent.port())) {
            s.setSoTimeout(5_000); // an answer is immediate; unanswered, the read times out
            s.getOutputStream()
                    .write(("GET " + target + " HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                int b = in.read();
                assertTrue(b >= 0, "closed without an answer to " + target + ": " + head);
                head.write(b);
            }
            String h = head.toString(StandardCharsets.ISO_8859_1);
            int length = 0;
            for (String line : h.split("\r\n")) {
                if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                    length = Integer.parseInt(line.substring(15).strip());
                }
            }
            String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
            return new Answer(Integer.parseInt(h.substring(9, 12)), h, body);
        }
    }

    @Test
    void theLiveTailAndTheStateWatchAnswer400NamingTheParameter() throws Exception {
        start("");
        String sse = "Accept: text/event-stream\r\n";
        get("/v1/events/tail?stream=%zz", sse).isProblemNaming("stream");
        get("/v1/events/tail?stream=a&key=%", sse).isProblemNaming("key");
        get("/v1/events/tail?from_seq=0&where=%7B%7", sse).isProblemNaming("where");
        get("/v1/events/tail?%zz=1", sse).isProblemNaming("%zz");
        get("/v1/state/%zz/watch", sse).isProblemNaming("namespace");
        get("/v1/state/cfg%/watch", sse).isProblemNaming("namespace");
        // a well-formed tail still streams
        Answer ok = get("/v1/events/tail?stream=a%2Cb", sse + "Connection: close\r\n");
        assertEquals(200, ok.status(), ok.head());
        // the WebSocket upgrade too (it was upgraded); with no api token its access_token is not looked at
        get("/v1/ws?x=%zz", WS_HEADERS).isProblemNaming("x");
        assertEquals(101, get("/v1/ws?access_token=", WS_HEADERS).status());
    }

    @Test
    void theRoutersReadsAnswer400NamingTheParameter() throws Exception {
        start("");
        get("/v1/events?stream=%zz", "").isProblemNaming("stream");
        get("/v1/events?limit=5&cursor=%", "").isProblemNaming("cursor");
        get("/v1/state/ns?prefix=%g0", "").isProblemNaming("prefix");
        get("/v1/events?stream=a|b", "").isProblemNaming("stream"); // not a URI character
        Answer path = get("/v1/state/%zz/x", "");
        assertEquals(400, path.status(), path.head() + path.body());
        assertTrue(path.body().contains("percent-encoding"), path.body());
        assertEquals(200, get("/health", "").status());
    }

    @Test
    void aWebSocketUpgradeWithAMalformedQueryTokenIsRefused() throws Exception {
        start("  api_token: " + TOKEN + "\nhub:\n  enabled: true\n  nodes:\n    edge-1: edge-one-token-0123456789\n");
        get("/v1/ws?access_token=%", WS_HEADERS).isProblemNaming("access_token");
        get("/v1/ws?access_token=" + TOKEN + "%z", WS_HEADERS).isProblemNaming("access_token");
        assertEquals(401, get("/v1/ws?access_token=wrong", WS_HEADERS).status());
        assertEquals(101, get("/v1/ws?access_token=" + TOKEN, WS_HEADERS).status());
        String auth = "Authorization: Bearer " + TOKEN + "\r\nAccept: text/event-stream\r\n";
        get("/v1/fleet/events/tail?node=edge%2", auth).isProblemNaming("node");
        get("/v1/events/tail?stream=%zz", auth).isProblemNaming("stream");
    }

    /**
     * A valid Authorization header does not excuse a broken access_token beside it: the request names a credential
     * that cannot be one (a malformed escape, empty, given twice), which is refused naming it as without the header.
     * With the header, the upgrade took it and ignored the parameter.
     */
    @Test
    void aWebSocketUpgradeWithAValidHeaderAndABrokenQueryTokenIsRefused() throws Exception {
        start("  api_token: " + TOKEN + "\n");
        String auth = WS_HEADERS + "Authorization: Bearer " + TOKEN + "\r\n";
        get("/v1/ws?access_token=%", auth).isProblemNaming("access_token");
        get("/v1/ws?access_token=" + TOKEN + "%z", auth).isProblemNaming("access_token");
        get("/v1/ws?access_token=", auth).isProblemNaming("access_token");
        get("/v1/ws?access_token=" + TOKEN + "&access_token=" + TOKEN, auth).isProblemNaming("access_token");
        get("/v1/ws?x=%zz", auth).isProblemNaming("x");
        assertEquals(101, get("/v1/ws", auth).status());
        assertEquals(101, get("/v1/ws?access_token=" + TOKEN, auth).status());
        assertEquals(401, get("/v1/ws?access_token=", WS_HEADERS).status(), "without the header: no credential");
    }
}
