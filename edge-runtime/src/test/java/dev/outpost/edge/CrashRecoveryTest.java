package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real agent as a child process, SIGKILLed at random moments while concurrent clients ingest;
 * after every restart each acknowledged event must be readable exactly once, at the sequence it
 * was acknowledged with. Clients retry a request whose answer was lost with the same
 * Idempotency-Key, as a real client would. Seed printed; set -Doutpost.crash.seed to replay.
 */
class CrashRecoveryTest {
    static final int CYCLES = Integer.getInteger("outpost.crash.cycles", 20);
    static final int CLIENTS = 4;
    private static final Pattern SEQS = Pattern.compile("\"seqs\":\\[([0-9,]*)]");
    private static final Pattern LINE = Pattern.compile("^\\{\"seq\":(\\d+),.*\"id\":\"([^\"]+)\"");

    @TempDir
    Path dir;

    /** What one client sent and what it was told. */
    static final class Client {
        final int n;
        final Map<String, Long> acked = new HashMap<>(); // event id -> acknowledged seq
        String pendingKey; // a request sent whose answer was lost
        String pendingBody;
        List<String> pendingIds;
        int requests;

        Client(int n) {
            this.n = n;
        }
    }

    @Test
    void everyAcknowledgedEventSurvivesSigkillExactlyOnce() throws Exception {
        long seed = Long.getLong("outpost.crash.seed", System.nanoTime());
        System.out.println("CrashRecoveryTest seed=" + seed + " cycles=" + CYCLES);
        Random rnd = new Random(seed);
        Path cfg = dir.resolve("outpost.yaml");
        Files.writeString(cfg, "data:\n  dir: " + dir.resolve("data") + "\nhttp:\n  port: 0\n");
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        List<Client> clients = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            clients.add(new Client(i));
        }
        int killedMidRequest = 0;
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            try (AgentProcess agent = AgentProcess.start(cfg, dir)) {
                verifyAll(http, agent.port, clients, "cycle " + cycle + " seed " + seed);
                AtomicBoolean stop = new AtomicBoolean();
                Map<Integer, Throwable> failures = new ConcurrentHashMap<>();
                List<Thread> threads = new ArrayList<>();
                for (Client c : clients) {
                    long clientSeed = rnd.nextLong();
                    threads.add(Thread.ofPlatform().start(() -> {
                        try {
                            drive(http, agent.port, c, new Random(clientSeed), stop);
                        } catch (Throwable t) {
                            failures.put(c.n, t);
                        }
                    }));
                }
                Thread.sleep(150 + rnd.nextInt(900));
                agent.kill();
                stop.set(true);
                for (Thread t : threads) {
                    t.join(30_000);
                }
                if (!failures.isEmpty()) {
                    fail("client failed in cycle " + cycle + " seed " + seed + ": " + failures);
                }
                killedMidRequest +=
                        (int) clients.stream().filter(c -> c.pendingKey != null).count();
            }
        }
        try (AgentProcess agent = AgentProcess.start(cfg, dir)) {
            // Finish the requests whose answers were lost, then check everything once more.
            for (Client c : clients) {
                if (c.pendingKey != null) {
                    assertTrue(send(http, agent.port, c), "retry after the last kill must be answered");
                }
            }
            int total = verifyAll(http, agent.port, clients, "final, seed " + seed);
            System.out.println("CrashRecoveryTest: " + total + " acknowledged events verified after " + CYCLES
                    + " SIGKILLs; " + killedMidRequest + " requests were in flight at a kill");
            assertTrue(total > CYCLES * 10, "the test must actually ingest: " + total);
            int code = agent.terminate();
            assertTrue(code == 143 || code == 0, "SIGTERM exit code " + code);
            assertTrue(agent.log().contains("outpost: stopped cleanly (event log closed at seq"), agent.log());
        }
    }

    /** Sends batches until stopped; a request cut by the kill stays pending for the next cycle. */
    private static void drive(HttpClient http, int port, Client c, Random rnd, AtomicBoolean stop) throws Exception {
        while (!stop.get()) {
            if (c.pendingKey == null) {
                int n = 1 + rnd.nextInt(20);
                StringBuilder body = new StringBuilder();
                List<String> ids = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    String id = "c" + c.n + "-r" + c.requests + "-" + i;
                    ids.add(id);
                    body.append("{\"stream\":\"s")
                            .append(rnd.nextInt(3))
                            .append("\",\"id\":\"")
                            .append(id)
                            .append("\",\"data\":{\"pad\":\"")
                            .append("x".repeat(rnd.nextInt(300)))
                            .append("\"}}\n");
                }
                c.pendingKey = "c" + c.n + "-r" + c.requests++;
                c.pendingBody = body.toString();
                c.pendingIds = ids;
            }
            if (!send(http, port, c)) {
                return; // the agent is gone: the request stays pending
            }
        }
    }

    /** Sends the pending request; true if answered (and recorded), false if the connection died. */
    private static boolean send(HttpClient http, int port, Client c) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/events"))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/x-ndjson")
                .header("Idempotency-Key", c.pendingKey)
                .POST(HttpRequest.BodyPublishers.ofString(c.pendingBody))
                .build();
        HttpResponse<String> r;
        try {
            r = http.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            return false;
        }
        assertEquals(200, r.statusCode(), r.body());
        Matcher m = SEQS.matcher(r.body());
        assertTrue(m.find(), r.body());
        String[] seqs = m.group(1).split(",");
        assertEquals(c.pendingIds.size(), seqs.length);
        for (int i = 0; i < seqs.length; i++) {
            Long before = c.acked.put(c.pendingIds.get(i), Long.parseLong(seqs[i]));
            assertTrue(before == null || before == Long.parseLong(seqs[i]), "an id got two different sequences");
        }
        c.pendingKey = null;
        return true;
    }

    /** Reads the whole log by cursor pages; every acknowledged id exactly once, at its seq. */
    private static int verifyAll(HttpClient http, int port, List<Client> clients, String where) throws Exception {
        Map<String, Long> seen = new HashMap<>();
        long expectSeq = 1;
        String cursor = null;
        while (true) {
            String q = cursor == null ? "/v1/events?limit=5000" : "/v1/events?limit=5000&cursor=" + cursor;
            HttpResponse<String> r = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + q))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            List<String> lines = r.body().lines().toList();
            for (String line : lines.subList(0, lines.size() - 1)) {
                Matcher m = LINE.matcher(line);
                assertTrue(m.find(), line);
                long seq = Long.parseLong(m.group(1));
                assertEquals(expectSeq++, seq, where + ": sequence numbers are gap-free");
                Long dup = seen.put(m.group(2), seq);
                assertEquals(null, dup, where + ": id " + m.group(2) + " stored twice");
            }
            Matcher cm = Pattern.compile("\"next_cursor\":\"([^\"]+)\"").matcher(lines.getLast());
            assertTrue(cm.find());
            cursor = cm.group(1);
            if (lines.size() == 1) {
                break;
            }
        }
        int total = 0;
        for (Client c : clients) {
            for (Map.Entry<String, Long> e : c.acked.entrySet()) {
                Long at = seen.get(e.getKey());
                assertNotNull(at, where + ": acknowledged event " + e.getKey() + " is missing");
                assertEquals(e.getValue(), at, where + ": event " + e.getKey() + " moved");
                total++;
            }
        }
        return total;
    }
}
