package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Main;
import dev.outpost.edge.config.ConfigLoader;
import dev.outpost.store.EventCursor;
import dev.outpost.store.LogCounters;
import dev.outpost.store.RecordView;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * fsync acknowledgements on the event loop (issue #14 point 3): with durability fsync, many connections each
 * pipelining several single-event POSTs get every answer exactly once, in request order, each with the sequence
 * number of its own event, never before the fsync that made it durable; and group commit answered them by rounds
 * (at most one task per event loop per fsync), not one hand-off per request.
 */
class FsyncAcksTest {
    private static final int CONNECTIONS = 50;
    private static final int PIPELINED = 4;
    private static final Pattern SEQS = Pattern.compile("\"seqs\":\\[(\\d+)]");

    @TempDir
    Path dir;

    private Main.RunningAgent agent;

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.close();
        }
    }

    @Test
    void eachRequestIsAnsweredOnceWithItsOwnSeqAfterItsFsyncByRoundsPerEventLoop() throws Exception {
        Path cfg = dir.resolve("outpost.yaml");
        Files.writeString(
                cfg,
                "data:\n  dir: " + dir.resolve("data") + "\nhttp:\n  port: 0\nlog:\n  durability: fsync\n"
                        + "  fsync_delay_micros: 1000\nbudget:\n  memory: 16GiB\n");
        agent = Main.start(ConfigLoader.load(cfg));
        LogCounters counters = agent.agent().log().counters();
        AtomicInteger answered = new AtomicInteger();
        Map<String, Throwable> failures = new ConcurrentHashMap<>();
        Map<Long, String> requestOfSeq = new ConcurrentHashMap<>();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < CONNECTIONS; c++) {
            int conn = c;
            clients.add(Thread.ofPlatform().start(() -> {
                try {
                    client(conn, counters, answered, requestOfSeq);
                } catch (Throwable t) {
                    failures.put("connection " + conn, t);
                }
            }));
        }
        for (Thread t : clients) {
            t.join(60_000);
        }
        assertEquals(Map.of(), failures);
        int requests = CONNECTIONS * PIPELINED;
        assertEquals(requests, answered.get());
        assertEquals(requests, requestOfSeq.size(), "every request got a sequence number of its own");

        Map<Long, String> stored = new HashMap<>();
        try (EventCursor cursor = agent.agent().log().cursorFromSeq(1)) {
            RecordView v = new RecordView();
            while (cursor.next(v)) {
                stored.put(v.seq(), new String(v.payload(), StandardCharsets.UTF_8));
            }
        }
        requestOfSeq.forEach((seq, request) ->
                assertEquals(event(request), stored.get(seq), "the event stored at the seq answered to " + request));

        long fsyncs = counters.fsyncs.sum();
        long rounds = agent.agent().metrics().value("outpost_http_fast_ack_rounds_total");
        int loops = 2 * Runtime.getRuntime().availableProcessors(); // Micronaut's default event loops
        assertEquals(requests, counters.fsyncedRecords.sum(), "each request's event made durable by an fsync");
        assertTrue(counters.fsyncedAppends.sum() <= requests, "requests of a loop's pass share an append");
        assertTrue(rounds >= 1 && rounds <= fsyncs * loops, "rounds " + rounds + ", fsyncs " + fsyncs);
        assertTrue(rounds < requests, "answered by rounds, not one task per request: " + rounds);
    }

    /** One connection: PIPELINED requests written at once, their answers read in order. */
    private void client(int conn, LogCounters counters, AtomicInteger answered, Map<Long, String> requestOfSeq)
            throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), agent.port())) {
            s.setSoTimeout(30_000);
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < PIPELINED; i++) {
                String body = event(conn + "/" + i);
                out.append("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
                        .append("Content-Length: ")
                        .append(body.getBytes(StandardCharsets.UTF_8).length)
                        .append("\r\n\r\n")
                        .append(body);
            }
            OutputStream o = s.getOutputStream();
            o.write(out.toString().getBytes(StandardCharsets.UTF_8));
            o.flush();
            InputStream in = s.getInputStream();
            long previous = 0;
            for (int i = 0; i < PIPELINED; i++) {
                String answer = answer(in);
                // an answer leaves only after the fsync of its append: never more answers (one event each) than
                // records fsynced
                int n = answered.incrementAndGet();
                assertTrue(n <= counters.fsyncedRecords.sum(), "answered before its fsync: " + answer);
                assertTrue(answer.startsWith("HTTP/1.1 200 "), answer);
                Matcher m = SEQS.matcher(answer);
                assertTrue(m.find(), answer);
                long seq = Long.parseLong(m.group(1));
                assertTrue(seq > previous, "answers in request order on a connection: " + answer);
                previous = seq;
                String mine = conn + "/" + i;
                String other = requestOfSeq.putIfAbsent(seq, mine);
                assertEquals(null, other, "seq " + seq + " answered to two requests");
            }
        }
    }

    private static String event(String request) {
        return "{\"stream\":\"acks\",\"data\":{\"request\":\"" + request + "\"}}";
    }

    /** One answer: status line, headers and a Content-Length body. */
    private static String answer(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed after: " + head);
            }
            head.append((char) b);
        }
        String lower = head.toString().toLowerCase(java.util.Locale.ROOT);
        int cl = lower.indexOf("\r\ncontent-length:");
        int end = lower.indexOf("\r\n", cl + 2);
        int length = Integer.parseInt(lower.substring(cl + 17, end).strip());
        return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }
}
