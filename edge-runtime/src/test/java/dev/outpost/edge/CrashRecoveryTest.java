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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real agent as a child process, SIGKILLed at random moments while concurrent clients ingest
 * events and update state documents (conditional PUT and merge PATCH). After every restart:
 *
 * <ul>
 *   <li>each acknowledged event is readable exactly once, at the sequence it was acknowledged
 *       with; clients retry a request whose answer was lost with the same Idempotency-Key, as a
 *       real client would;
 *   <li>the state store and the event log agree: each document's version equals the number of
 *       its state events, its content is that of the last event, no acknowledged version is lost.
 * </ul>
 *
 * <p>Both scenarios share one agent per cycle, so the suite pays one start-up per SIGKILL rather
 * than one per scenario. The kill comes after a random number of answered requests (not after a
 * fixed time), so every cycle carries traffic however slow the machine. Seed printed;
 * -Doutpost.crash.seed replays.
 */
@Tag("slow")
class CrashRecoveryTest {
    static final int CYCLES = Integer.getInteger("outpost.crash.cycles", 20);
    static final int CLIENTS = 4;
    static final int STATE_CLIENTS = 3;
    static final int DOCS = 6;
    /** Most requests answered in one cycle before the kill (the number is drawn from 1 to this). */
    static final int ANSWERS_BEFORE_KILL_MAX = 60;

    private static final Pattern SEQS = Pattern.compile("\"seqs\":\\[([0-9,]*)]");
    private static final Pattern LINE = Pattern.compile("^\\{\"seq\":(\\d+),.*\"id\":\"([^\"]+)\"");
    private static final Pattern SEQ = Pattern.compile("^\\{\"seq\":(\\d+),");
    private static final Pattern STATE_EVENT = Pattern.compile(
            "\"seq\":(\\d+).*\"id\":\"(c\\d+)\",\"version\":(\\d+),\"op\":\"put\".*\"doc\":\\{\"n\":(\\d+)");
    private static final Pattern VERSION = Pattern.compile("\"version\":(\\d+)");
    private static final Pattern N = Pattern.compile("\"n\":(\\d+)");

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
    void acknowledgedEventsAndStateSurviveSigkill() throws Exception {
        long seed = Long.getLong("outpost.crash.seed", System.nanoTime());
        System.out.println("CrashRecoveryTest seed=" + seed + " cycles=" + CYCLES);
        Random rnd = new Random(seed);
        Path cfg = dir.resolve("outpost.yaml");
        // A small state store: its file is created at the first start, and a large one costs
        // seconds per start without adding anything to what is tested here.
        Files.writeString(cfg, """
                data:
                  dir: %s
                http:
                  port: 0
                state:
                  documents_max: 1000
                """.formatted(dir.resolve("data")));
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        List<Client> clients = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            clients.add(new Client(i));
        }
        Map<String, Long> stateAcked = new ConcurrentHashMap<>(); // doc -> highest acknowledged version
        int killedMidRequest = 0;
        for (int cycle = 0; cycle < CYCLES; cycle++) {
            try (AgentProcess agent = AgentProcess.start(cfg, dir)) {
                String where = "cycle " + cycle + " seed " + seed;
                verifyAll(http, agent.port, clients, stateAcked, where);
                AtomicBoolean stop = new AtomicBoolean();
                AtomicInteger answers = new AtomicInteger();
                Map<String, Throwable> failures = new ConcurrentHashMap<>();
                List<Thread> threads = new ArrayList<>();
                for (Client c : clients) {
                    long clientSeed = rnd.nextLong();
                    threads.add(Thread.ofPlatform().start(() -> {
                        try {
                            drive(http, agent.port, c, new Random(clientSeed), stop, answers);
                        } catch (Throwable t) {
                            failures.put("events " + c.n, t);
                        }
                    }));
                }
                for (int t = 0; t < STATE_CLIENTS; t++) {
                    long clientSeed = rnd.nextLong();
                    int n = t;
                    threads.add(Thread.ofPlatform().start(() -> {
                        try {
                            driveState(http, agent.port, new Random(clientSeed), stop, stateAcked, answers);
                        } catch (Throwable e) {
                            failures.put("state " + n, e);
                        }
                    }));
                }
                int killAfter = 1 + rnd.nextInt(ANSWERS_BEFORE_KILL_MAX);
                Await.atMost(Duration.ofSeconds(60)).until(() -> answers.get() >= killAfter || !failures.isEmpty());
                agent.kill();
                stop.set(true);
                for (Thread t : threads) {
                    t.join(30_000);
                }
                if (!failures.isEmpty()) {
                    fail("client failed in " + where + ": " + failures);
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
            long[] verified = verifyAll(http, agent.port, clients, stateAcked, "final, seed " + seed);
            System.out.println("CrashRecoveryTest: " + verified[0] + " acknowledged events and " + verified[1]
                    + " state changes verified after " + CYCLES + " SIGKILLs; " + killedMidRequest
                    + " event requests were in flight at a kill");
            assertTrue(verified[0] > CYCLES * 10, "the test must actually ingest: " + verified[0]);
            assertTrue(verified[1] > CYCLES, "the test must change state: " + verified[1]);
            int code = agent.terminate();
            assertTrue(code == 143 || code == 0, "SIGTERM exit code " + code);
            assertTrue(agent.log().contains("outpost: stopped cleanly (event log closed at seq"), agent.log());
        }
    }

    /** Sends batches until stopped; a request cut by the kill stays pending for the next cycle. */
    private static void drive(
            HttpClient http, int port, Client c, Random rnd, AtomicBoolean stop, AtomicInteger answers)
            throws Exception {
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
            answers.incrementAndGet();
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

    /** Increments a random counter document with a conditional write until stopped or killed. */
    private static void driveState(
            HttpClient http, int port, Random rnd, AtomicBoolean stop, Map<String, Long> acked, AtomicInteger answers)
            throws Exception {
        while (!stop.get()) {
            String doc = "c" + rnd.nextInt(DOCS);
            URI uri = URI.create("http://127.0.0.1:" + port + "/v1/state/counters/" + doc);
            HttpResponse<String> r;
            try {
                HttpResponse<String> cur =
                        http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
                HttpRequest.Builder w = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10));
                if (cur.statusCode() == 404) {
                    w.header("If-None-Match", "*")
                            .header("Content-Type", "application/json")
                            .PUT(HttpRequest.BodyPublishers.ofString("{\"n\":0}"));
                } else {
                    long v = number(VERSION, cur.body());
                    long n = number(N, cur.body());
                    w.header("If-Match", "\"" + v + "\"");
                    if (rnd.nextBoolean()) {
                        w.header("Content-Type", "application/json")
                                .PUT(HttpRequest.BodyPublishers.ofString("{\"n\":" + (n + 1) + "}"));
                    } else {
                        w.header("Content-Type", "application/merge-patch+json")
                                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"n\":" + (n + 1) + "}"));
                    }
                }
                r = http.send(w.build(), HttpResponse.BodyHandlers.ofString());
            } catch (java.io.IOException e) {
                return; // killed
            }
            if (r.statusCode() == 200 || r.statusCode() == 201) {
                acked.merge(doc, number(VERSION, r.body()), Math::max);
            } else {
                assertEquals(412, r.statusCode(), r.body()); // lost a race to another client: fine
            }
            answers.incrementAndGet();
        }
    }

    /**
     * Reads the whole log by cursor pages (sequences gap-free over all lanes): every acknowledged
     * event id exactly once, at its seq; the state store agrees with the state events. Returns the
     * number of acknowledged events checked and of state changes in the log.
     */
    private static long[] verifyAll(
            HttpClient http, int port, List<Client> clients, Map<String, Long> stateAcked, String where)
            throws Exception {
        Map<String, Long> seen = new HashMap<>();
        Map<String, Long> lastVersion = new HashMap<>();
        Map<String, Long> lastN = new HashMap<>();
        long stateChanges = 0;
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
                Matcher s = SEQ.matcher(line);
                assertTrue(s.find(), line);
                assertEquals(expectSeq++, Long.parseLong(s.group(1)), where + ": sequence numbers are gap-free");
                if (line.contains("\"stream\":\"_state\"")) {
                    Matcher m = STATE_EVENT.matcher(line);
                    assertTrue(m.find(), line);
                    String doc = m.group(2);
                    long v = Long.parseLong(m.group(3));
                    assertEquals(
                            lastVersion.getOrDefault(doc, 0L) + 1, v, where + ": versions in the log are consecutive");
                    lastVersion.put(doc, v);
                    lastN.put(doc, Long.parseLong(m.group(4)));
                    stateChanges++;
                    continue;
                }
                Matcher m = LINE.matcher(line);
                assertTrue(m.find(), line);
                Long dup = seen.put(m.group(2), Long.parseLong(m.group(1)));
                assertEquals(null, dup, where + ": id " + m.group(2) + " stored twice");
            }
            Matcher cm = Pattern.compile("\"next_cursor\":\"([^\"]+)\"").matcher(lines.getLast());
            assertTrue(cm.find());
            cursor = cm.group(1);
            if (lines.size() == 1) {
                break;
            }
        }
        long total = 0;
        for (Client c : clients) {
            for (Map.Entry<String, Long> e : c.acked.entrySet()) {
                Long at = seen.get(e.getKey());
                assertNotNull(at, where + ": acknowledged event " + e.getKey() + " is missing");
                assertEquals(e.getValue(), at, where + ": event " + e.getKey() + " moved");
                total++;
            }
        }
        verifyState(http, port, stateAcked, lastVersion, lastN, where);
        return new long[] {total, stateChanges};
    }

    /** Each document in the store is at the version and content of its last state event. */
    private static void verifyState(
            HttpClient http,
            int port,
            Map<String, Long> acked,
            Map<String, Long> lastVersion,
            Map<String, Long> lastN,
            String where)
            throws Exception {
        for (int i = 0; i < DOCS; i++) {
            String doc = "c" + i;
            HttpResponse<String> r = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/state/counters/" + doc))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (!lastVersion.containsKey(doc)) {
                assertEquals(404, r.statusCode(), where + ": " + doc + " is in the store but not the log");
                assertTrue(!acked.containsKey(doc), where + ": acknowledged " + doc + " missing");
                continue;
            }
            assertEquals(200, r.statusCode(), where + ": " + doc + " is in the log but not the store");
            long v = number(VERSION, r.body());
            assertEquals(lastVersion.get(doc), v, where + ": " + doc + " store version vs log");
            assertEquals(lastN.get(doc), number(N, r.body()), where + ": " + doc + " store content vs log");
            assertEquals(v - 1, number(N, r.body()), where + ": every version is exactly one increment");
            assertTrue(v >= acked.getOrDefault(doc, 0L), where + ": " + doc + " lost an acknowledged version");
        }
    }

    private static long number(Pattern p, String body) {
        Matcher m = p.matcher(body);
        assertTrue(m.find(), body);
        return Long.parseLong(m.group(1));
    }
}
