package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Request heads and encodings a client gets wrong are answered with the right 4xx and a problem saying what to fix,
 * never as a body too large (413) or a server error (500).
 */
class HeaderAbuseTest extends AgentHttpTest {
    /** Sends {@code head} and {@code body} on a fresh connection and reads the answer to its end. */
    private String exchange(String head, byte[] body) throws IOException {
        try (Socket s = new Socket("127.0.0.1", agent.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().write(body);
            InputStream in = s.getInputStream();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void headersOverTheLimitAre431() throws Exception {
        start("");
        String r = exchange(
                "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(100_000) + "\r\nConnection: close\r\n\r\n",
                new byte[0]);
        assertTrue(r.startsWith("HTTP/1.1 431"), r);
        assertTrue(r.contains("application/problem+json") && r.contains("headers are too large"), r);
    }

    @Test
    void aRequestLineOverTheLimitIs414() throws Exception {
        start("");
        String r = exchange(
                "GET /v1/events?stream=" + "a".repeat(100_000) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                new byte[0]);
        assertTrue(r.startsWith("HTTP/1.") && r.substring(9).startsWith("414"), r);
        assertTrue(r.contains("application/problem+json") && r.contains("request line"), r);
    }

    @Test
    void aBodyOverTheLimitIsAnswered413WhileTheClientIsStillSendingIt() throws Exception {
        start("");
        int length = 8 << 20; // http.body_bytes_max is 1 MiB by default
        try (Socket s = new Socket("127.0.0.1", agent.port())) {
            s.setSoTimeout(10_000);
            Thread sender = Thread.ofVirtual().start(() -> {
                try {
                    s.getOutputStream()
                            .write(("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                                            + "Content-Length: " + length + "\r\nConnection: close\r\n\r\n")
                                    .getBytes(StandardCharsets.ISO_8859_1));
                    s.getOutputStream().write(new byte[length]);
                } catch (IOException e) {
                    // the agent may close its side once it answered: what it answered is what counts
                }
            });
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            s.getInputStream().transferTo(out);
            String r = out.toString(StandardCharsets.UTF_8);
            assertTrue(r.startsWith("HTTP/1.1 413"), r);
            assertTrue(r.contains("application/problem+json"), r);
            sender.join();
        }
        assertEquals(0, agent.agent().metrics().value("outpost_ingest_events_total"));
        assertEquals(200, send("GET", "/health", null, null).statusCode());
    }

    @Test
    void aBodyThatIsNotWhatItsContentEncodingSaysIs400AndStoresNothing() throws Exception {
        start("");
        byte[] body = "{\"stream\":\"s\",\"data\":{}}".getBytes(StandardCharsets.UTF_8);
        for (String encoding : new String[] {"gzip", "deflate"}) {
            String r = exchange(
                    "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: "
                            + encoding + "\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n",
                    body);
            assertTrue(r.startsWith("HTTP/1.1 400"), encoding + ": " + r);
            assertTrue(r.contains("\"field\":\"Content-Encoding\""), r);
        }
        String te = exchange(
                "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip\r\n"
                        + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n",
                body);
        assertTrue(te.startsWith("HTTP/1.1 400"), te);
        assertEquals(0, agent.agent().metrics().value("outpost_ingest_events_total"));
        assertEquals(200, send("GET", "/health", null, null).statusCode());
    }
}
