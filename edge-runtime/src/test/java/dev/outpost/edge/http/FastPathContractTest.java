package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Main;
import dev.outpost.edge.config.ConfigLoader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One suite of raw HTTP/1 conversations, sent in the same order to an agent with the fast path on (the default) and to
 * one with {@code http.fast_path: false} (every request through Micronaut's router): every response must be the same
 * bytes — status line, headers (names as written, in order) and body — and a connection must close after the same
 * answers. It also checks that the fast path did answer the hot requests, so the suite compares two paths, not one.
 */
class FastPathContractTest {
    private static final String TOKEN = "contract-token-0123";
    private static final String AUTH = "Authorization: Bearer " + TOKEN + "\r\n";
    private static final String EVENT = "{\"stream\":\"s\",\"key\":\"k\",\"data\":{\"a\":1}}";

    @TempDir
    Path dir;

    private final List<Main.RunningAgent> agents = new ArrayList<>();

    @AfterEach
    void stop() {
        agents.forEach(Main.RunningAgent::close);
    }

    private Main.RunningAgent start(String name, boolean fastPath) throws Exception {
        return start(name, fastPath, "");
    }

    private Main.RunningAgent start(String name, boolean fastPath, String extra) throws Exception {
        Path cfg = dir.resolve(name + ".yaml");
        Files.writeString(
                cfg,
                "data:\n  dir: " + dir.resolve(name) + "\nhttp:\n  port: 0\n  body_bytes_max: 4KiB\n  api_token: "
                        + TOKEN + "\n  fast_path: " + fastPath + "\ningest:\n  event_bytes_max: 1KiB\n"
                        + "state:\n  doc_bytes_max: 1KiB\nbudget:\n  memory: 64GiB\n" + extra);
        Main.RunningAgent a = Main.start(ConfigLoader.load(cfg));
        agents.add(a);
        return a;
    }

    @Test
    void theFastPathAnswersByteForByteWhatTheRouterAnswers() throws Exception {
        Main.RunningAgent fast = start("fast", true);
        Main.RunningAgent router = start("router", false);
        Map<String, Long> raw = new LinkedHashMap<>();
        Map<String, String> fastAnswers = run(fast, raw);
        Map<String, String> routerAnswers = run(router, new LinkedHashMap<>());
        assertEquals(routerAnswers.keySet(), fastAnswers.keySet());
        List<String> differ = new ArrayList<>();
        for (String name : routerAnswers.keySet()) {
            if (!timeless(routerAnswers.get(name)).equals(timeless(fastAnswers.get(name)))) {
                differ.add(name + ":\n--- router:\n" + routerAnswers.get(name) + "\n--- fast path:\n"
                        + fastAnswers.get(name));
            }
        }
        assertEquals("", String.join("\n\n", differ));
        long ingests = fast.agent().metrics().value("outpost_http_fast_answers_total{route=\"ingest\"}");
        long healths = fast.agent().metrics().value("outpost_http_fast_answers_total{route=\"health\"}");
        assertTrue(ingests >= 15, "ingest requests the fast path answered: " + ingests);
        assertTrue(healths >= 2, "health requests the fast path answered: " + healths);
        assertEquals(0, router.agent().metrics().value("outpost_http_fast_answers_total{route=\"ingest\"}"));
        assertTrue(fastAnswers.get("single event").startsWith("HTTP/1.1 200 OK\r\n"), fastAnswers.get("single event"));
        // the conversations the raw path (ahead of the codec) must have answered, so both of its halves are compared
        for (String name : List.of(
                "single event",
                "ndjson batch",
                "malformed",
                "no token",
                "health",
                "state get",
                "raw split head",
                "raw split body",
                "raw header case",
                "raw pipelined hot",
                "raw pipelined then not hot")) {
            assertTrue(raw.get(name) > 0, "answered ahead of the codec: " + name + " " + raw);
        }
        for (String name : List.of(
                "raw duplicate content-length",
                "raw bad request line",
                "raw space before colon",
                "raw obs-fold",
                "raw bare LF",
                "raw content-length and chunked",
                "connection close",
                "chunked")) {
            assertEquals(0, raw.get(name), "handed to the codec: " + name + " " + raw);
        }
        assertEquals(0, router.agent().metrics().value("outpost_http_fast_raw_answers_total"));
    }

    /**
     * With fsync durability an ingest is acknowledged later, from the group commit: pipelined answers still leave in
     * request order, the fast path's and the router's interleaved, and the same as the router's alone.
     */
    @Test
    void pipelinedAnswersKeepTheirOrderWhenAcknowledgedLater() throws Exception {
        String fsync = "log:\n  durability: fsync\n  fsync_delay_micros: 2000\n";
        Main.RunningAgent fast = start("fast", true, fsync);
        Main.RunningAgent router = start("router", false, fsync);
        StringBuilder requests = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            requests.append(post("application/json", EVENT, AUTH));
            if (i % 7 == 3) {
                requests.append("GET /v1/streams HTTP/1.1\r\nHost: x\r\n" + AUTH + "\r\n");
            }
            if (i % 5 == 1) {
                requests.append(post("application/x-ndjson", EVENT + "\n" + EVENT, AUTH));
                requests.append("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
            }
        }
        String routed = talk(router.port(), requests.toString());
        String answered = talk(fast.port(), requests.toString());
        assertEquals(routed, answered);
        assertTrue(answered.endsWith("<open>"), answered);
        assertTrue(fast.agent().metrics().value("outpost_http_fast_answers_total{route=\"ingest\"}") >= 40);
    }

    /** A state document's times differ between the two agents; its length does not (same number of digits). */
    private static String timeless(String answer) {
        return answer.replaceAll("\"updated_at\":\\d+", "\"updated_at\":T").replaceAll("\"hlc\":\\d+", "\"hlc\":T");
    }

    /**
     * The suite: each conversation on its own connection, in this order; what came back, by name. {@code raw} gets the
     * number of requests of each the raw path (ahead of the codec) answered.
     */
    private static Map<String, String> run(Main.RunningAgent agent, Map<String, Long> raw) throws Exception {
        Map<String, String> out = new LinkedHashMap<>() {
            private long before;

            @Override
            public String put(String name, String answer) {
                long now = agent.agent().metrics().value("outpost_http_fast_raw_answers_total");
                raw.put(name, now - before);
                before = now;
                return super.put(name, answer);
            }
        };
        int port = agent.port();
        out.put("single event", talk(port, post("application/json", EVENT, AUTH)));
        out.put("ndjson batch", talk(port, post("application/x-ndjson", EVENT + "\n" + EVENT + "\n" + EVENT, AUTH)));
        out.put("ndjson bad line", talk(port, post("application/x-ndjson", EVENT + "\n{\"stream\":\n" + EVENT, AUTH)));
        out.put("malformed", talk(port, post("application/json", "{\"stream\":", AUTH)));
        out.put("not an object", talk(port, post("application/json", "[1,2]", AUTH)));
        out.put("no data", talk(port, post("application/json", "{\"stream\":\"s\"}", AUTH)));
        out.put("bad stream name", talk(port, post("application/json", "{\"stream\":\"a b\",\"data\":{}}", AUTH)));
        out.put(
                "reserved stream",
                talk(port, post("application/json", "{\"stream\":\"outpost.x\",\"data\":{}}", AUTH)));
        out.put("event too large", talk(port, post("application/json", bigEvent(1100), AUTH)));
        out.put("body over the limit", talk(port, post("application/json", bigEvent(5000), AUTH)));
        // in two goes, so the router and the fast path see the limit crossed by the same chunk
        String overLimit = chunked("application/json", bigEvent(5000), AUTH);
        out.put("chunked over the limit", talk(port, overLimit.substring(0, 4000), overLimit.substring(4000)));
        out.put("chunked", talk(port, chunked("application/x-ndjson", EVENT + "\n" + EVENT + "\n", AUTH)));
        out.put("chunked empty", talk(port, chunked("application/json", "", AUTH)));
        out.put("empty body", talk(port, post("application/json", "", AUTH)));
        out.put("no content type", talk(port, post(null, EVENT, AUTH)));
        out.put("charset utf-8", talk(port, post("application/json; charset=utf-8", EVENT, AUTH)));
        out.put("charset latin1", talk(port, post("application/json; charset=latin1", EVENT, AUTH)));
        out.put("text/plain", talk(port, post("text/plain", EVENT, AUTH)));
        out.put("accept text", talk(port, post("application/json", EVENT, AUTH + "Accept: text/plain\r\n")));
        out.put("accept json", talk(port, post("application/json", EVENT, AUTH + "Accept: application/json\r\n")));
        out.put("idempotency", talk(port, post("application/json", EVENT, AUTH + "Idempotency-Key: k-1\r\n")));
        out.put("idempotency retry", talk(port, post("application/json", EVENT, AUTH + "Idempotency-Key: k-1\r\n")));
        out.put(
                "idempotency reuse",
                talk(
                        port,
                        post("application/json", "{\"stream\":\"t\",\"data\":{}}", AUTH + "Idempotency-Key: k-1\r\n")));
        out.put("idempotency bad", talk(port, post("application/json", EVENT, AUTH + "Idempotency-Key: \u0001\r\n")));
        out.put("no token", talk(port, post("application/json", EVENT, "")));
        out.put("wrong token", talk(port, post("application/json", EVENT, "Authorization: Bearer nope\r\n")));
        out.put("gzip body", talk(port, gzipPost(EVENT, AUTH)));
        out.put(
                "accept-encoding",
                talk(
                        port,
                        post("application/x-ndjson", (EVENT + "\n").repeat(60), AUTH + "Accept-Encoding: gzip\r\n")));
        out.put("connection close", talk(port, post("application/json", EVENT, AUTH + "Connection: close\r\n")));
        out.put("http/1.0", talk(port, post("application/json", EVENT, AUTH).replace("HTTP/1.1", "HTTP/1.0")));
        out.put("expect 100-continue", expectContinue(port));
        out.put("health", talk(port, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
        out.put("health 1.0", talk(port, "GET /health HTTP/1.0\r\n\r\n"));
        out.put("health head", talk(port, "HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n"));
        out.put(
                "state put",
                talk(
                        port,
                        "PUT /v1/state/ns/d1 HTTP/1.1\r\nHost: x\r\n" + AUTH
                                + "Content-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"a\":\"b\"}"));
        out.put("state get", talk(port, "GET /v1/state/ns/d1 HTTP/1.1\r\nHost: x\r\n" + AUTH + "\r\n"));
        out.put("state get no token", talk(port, "GET /v1/state/ns/d1 HTTP/1.1\r\nHost: x\r\n\r\n"));
        out.put(
                "state conditional",
                talk(port, "GET /v1/state/ns/d1 HTTP/1.1\r\nHost: x\r\n" + AUTH + "If-None-Match: \"1\"\r\n\r\n"));
        out.put("state missing", talk(port, "GET /v1/state/ns/none HTTP/1.1\r\nHost: x\r\n" + AUTH + "\r\n"));
        out.put("unknown route", talk(port, "GET /v1/nothing HTTP/1.1\r\nHost: x\r\n" + AUTH + "\r\n"));
        out.put(
                "events with a query",
                talk(port, post("application/json", EVENT, AUTH).replace("/v1/events ", "/v1/events?x=1 ")));
        out.put("wrong method", talk(port, "DELETE /v1/events HTTP/1.1\r\nHost: x\r\n" + AUTH + "\r\n"));
        out.put(
                "pipelined",
                talk(
                        port,
                        post("application/json", EVENT, AUTH)
                                + "GET /v1/streams HTTP/1.1\r\nHost: x\r\n" + AUTH + "\r\n"
                                + post("application/x-ndjson", EVENT + "\n" + EVENT, AUTH)
                                + "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                                + "GET /v1/state/ns/d1 HTTP/1.1\r\nHost: x\r\n" + AUTH + "\r\n"
                                + post("application/json", "{", AUTH)
                                + "GET /v1/nothing HTTP/1.1\r\nHost: x\r\n" + AUTH + "\r\n"
                                + post("application/json", EVENT, AUTH)));
        rawCases(port, out);
        out.put("health after", talk(port, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
        return out;
    }

    /** What the raw path's parser decides on: split reads, odd case, repeated or malformed headers, pipelining. */
    private static void rawCases(int port, Map<String, String> out) throws Exception {
        String one = post("application/json", EVENT, AUTH);
        int head = one.indexOf("\r\n\r\n");
        out.put("raw split head", talk(port, one.substring(0, 9), one.substring(9, head + 1), one.substring(head + 1)));
        out.put("raw split body", talk(port, one.substring(0, head + 10), one.substring(head + 10)));
        out.put(
                "raw header case",
                talk(
                        port,
                        "POST /v1/events HTTP/1.1\r\nhOST: x\r\nauthorization: Bearer " + TOKEN
                                + "\r\nCONTENT-TYPE: application/json\r\ncontent-length:" + EVENT.length() + " \r\n"
                                + "Connection: Keep-Alive\r\n\r\n" + EVENT
                                + "GET /v1/state/ns/d1 HTTP/1.1\r\nAUTHORIZATION:Bearer " + TOKEN + "\r\n\r\n"));
        out.put(
                "raw duplicate content-length",
                talk(
                        port,
                        one.replace("Content-Length:", "Content-Length: " + EVENT.length() + "\r\nContent-Length:")));
        out.put(
                "raw conflicting content-length",
                talk(port, one.replace("Content-Length:", "Content-Length: 3\r\nContent-Length:")));
        out.put("raw signed content-length", talk(port, one.replace("Content-Length: ", "Content-Length: +")));
        out.put(
                "raw content-length and chunked",
                talk(
                        port,
                        chunked("application/json", EVENT, AUTH)
                                .replace("Transfer-Encoding:", "Content-Length: 12\r\nTransfer-Encoding:")));
        out.put("raw bad request line", talkN(port, 1, one.replace(" HTTP/1.1\r\n", " HTTP/1.1 x\r\n")));
        out.put("raw bad version", talkN(port, 1, one.replace(" HTTP/1.1\r\n", " HTTP/1.7\r\n")));
        out.put("raw space before colon", talk(port, one.replace("Content-Type:", "Content-Type :")));
        out.put("raw obs-fold", talk(port, one.replace("Host: x\r\n", "Host: x\r\n y\r\n")));
        out.put("raw bare LF", talk(port, one.replace("Host: x\r\n", "Host: x\n")));
        out.put("raw health with a body length", talk(port, "GET /health HTTP/1.1\r\nContent-Length: 0\r\n\r\n"));
        out.put("raw pipelined hot", talk(port, one + post("application/x-ndjson", EVENT + "\n" + EVENT, AUTH) + one));
        out.put(
                "raw pipelined then not hot",
                talk(
                        port,
                        one + "GET /health HTTP/1.1\r\n\r\n" + "GET /v1/streams HTTP/1.1\r\nHost: x\r\n" + AUTH + "\r\n"
                                + one + "GET /health HTTP/1.1\r\n\r\n"));
        out.put(
                "raw pipelined then a bad line",
                talkN(port, 2, one + one.replace(" HTTP/1.1\r\n", " HTTP/1.1 x\r\n") + one));
    }

    private static String post(String contentType, String body, String headers) {
        return "POST /v1/events HTTP/1.1\r\nHost: x\r\n" + headers
                + (contentType == null ? "" : "Content-Type: " + contentType + "\r\n")
                + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }

    /** The body in chunks of at most 7 bytes. */
    private static String chunked(String contentType, String body, String headers) {
        StringBuilder b = new StringBuilder("POST /v1/events HTTP/1.1\r\nHost: x\r\n" + headers + "Content-Type: "
                + contentType + "\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < body.length(); i += 7) {
            String part = body.substring(i, Math.min(body.length(), i + 7));
            b.append(Integer.toHexString(part.length()))
                    .append("\r\n")
                    .append(part)
                    .append("\r\n");
        }
        return b.append("0\r\n\r\n").toString();
    }

    private static String bigEvent(int bytes) {
        return "{\"stream\":\"s\",\"data\":{\"p\":\"" + "x".repeat(bytes) + "\"}}";
    }

    private static String gzipPost(String body, String headers) throws IOException {
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(z)) {
            g.write(body.getBytes(StandardCharsets.UTF_8));
        }
        byte[] gz = z.toByteArray();
        return "POST /v1/events HTTP/1.1\r\nHost: x\r\n" + headers
                + "Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: " + gz.length
                + "\r\n\r\n" + new String(gz, StandardCharsets.ISO_8859_1);
    }

    /**
     * Sends {@code requests} (ISO-8859-1 for the bytes of a gzip body) at once; returns the answers to them (one per
     * request line) and whether the agent then closed the connection.
     */
    private static String talk(int port, String... writes) throws IOException, InterruptedException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(15_000); // a first append on a loaded box can be slow
            OutputStream out = s.getOutputStream();
            for (String w : writes) {
                Thread.sleep(w == writes[0] ? 0 : 200);
                byte[] bytes = w.chars().allMatch(c -> c < 256)
                        ? w.getBytes(StandardCharsets.ISO_8859_1)
                        : w.getBytes(StandardCharsets.UTF_8);
                out.write(bytes);
                out.flush();
            }
            String requests = String.join("", writes);
            int n = requests.split(" HTTP/1\\.[01]\r\n", -1).length - 1;
            boolean closing = requests.contains(" HTTP/1.0\r\n") || requests.contains("Connection: close");
            return answers(s, n, requests.startsWith("HEAD"), closing);
        }
    }

    /** Like {@link #talk}, for requests whose request lines {@code talk} cannot count: {@code n} answers expected. */
    private static String talkN(int port, int n, String requests) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(15_000);
            s.getOutputStream().write(requests.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return answers(s, n, false, true);
        }
    }

    /** Headers with Expect: 100-continue, then the body once the agent says to go on. */
    private static String expectContinue(int port) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(15_000); // a first append on a loaded box can be slow
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/events HTTP/1.1\r\nHost: x\r\n" + AUTH + "Content-Type: application/json\r\n"
                            + "Expect: 100-continue\r\nContent-Length: " + EVENT.length() + "\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            String cont = head(s.getInputStream());
            out.write(EVENT.getBytes(StandardCharsets.UTF_8));
            out.flush();
            return cont + answers(s, 1, false, false);
        }
    }

    /** {@code n} answers as they came (bodies by Content-Length or chunked), then {@code <closed>} or {@code <open>}. */
    private static String answers(Socket s, int n, boolean head, boolean closing) throws IOException {
        InputStream in = s.getInputStream();
        StringBuilder got = new StringBuilder();
        try {
            read(in, got, n, head);
        } catch (SocketTimeoutException e) {
            return got + "<no answer>";
        }
        // a connection about to close (HTTP/1.0, Connection: close) gets time to; any other, a moment to say more
        s.setSoTimeout(closing ? 3_000 : 150);
        try {
            int next = in.read();
            return got + (next < 0 ? "<closed>" : "<more>");
        } catch (SocketTimeoutException quiet) {
            return got + "<open>";
        }
    }

    private static void read(InputStream in, StringBuilder got, int n, boolean head) throws IOException {
        for (int i = 0; i < n; i++) {
            String h = head(in);
            got.append(h);
            String lower = h.toLowerCase(java.util.Locale.ROOT);
            int cl = lower.indexOf("\r\ncontent-length:");
            if (head) {
                continue;
            }
            if (cl >= 0) {
                int end = lower.indexOf("\r\n", cl + 2);
                int length = Integer.parseInt(lower.substring(cl + 17, end).strip());
                got.append(new String(in.readNBytes(length), StandardCharsets.ISO_8859_1));
            } else if (lower.contains("\r\ntransfer-encoding: chunked")) {
                for (String size = line(in); ; size = line(in)) {
                    got.append(size).append("\r\n");
                    int length = Integer.parseInt(size.strip(), 16);
                    got.append(new String(in.readNBytes(length + 2), StandardCharsets.ISO_8859_1));
                    if (length == 0) {
                        break;
                    }
                }
            }
        }
    }

    /** A status line and headers, up to and with the empty line. */
    private static String head(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (String l = line(in); ; l = line(in)) {
            b.append(l).append("\r\n");
            if (l.isEmpty()) {
                return b.toString();
            }
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                return b.toString(StandardCharsets.ISO_8859_1) + "<eof>";
            }
            if (c != '\r') {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }
}
