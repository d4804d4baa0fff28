package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * The real agent, SIGKILLed while clients update state documents (conditional PUT and merge
 * PATCH): after every restart the state store and the event log agree — each document's version
 * equals the number of its state events, its content is that of the last event, no acknowledged
 * version is lost. Seed printed; -Doutpost.statecrash.seed replays.
 */
class StateCrashTest {
    static final int CYCLES = Integer.getInteger("outpost.statecrash.cycles", 10);
    static final int DOCS = 6;
    private static final Pattern VERSION = Pattern.compile("\"version\":(\\d+)");
    private static final Pattern N = Pattern.compile("\"n\":(\\d+)");
    private static final Pattern EVENT = Pattern.compile(
            "\"seq\":(\\d+).*\"id\":\"(c\\d+)\",\"version\":(\\d+),\"op\":\"put\".*\"doc\":\\{\"n\":(\\d+)");

    @TempDir
    Path dir;

    @Test
    void stateStoreAndLogAgreeAfterSigkill() throws Exception {
        long seed = Long.getLong("outpost.statecrash.seed", System.nanoTime());
        System.out.println("StateCrashTest seed=" + seed + " cycles=" + CYCLES);
        Random rnd = new Random(seed);
        Path cfg = dir.resolve("outpost.yaml");
        Files.writeString(cfg, "data:\n  dir: " + dir.resolve("data") + "\nhttp:\n  port: 0\n");
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        Map<String, Long> acked = new ConcurrentHashMap<>(); // doc -> highest acknowledged version
        long changes = 0;
        for (int cycle = 0; cycle <= CYCLES; cycle++) {
            try (AgentProcess agent = AgentProcess.start(cfg, dir)) {
                changes = verify(http, agent.port, acked, "cycle " + cycle + " seed " + seed);
                if (cycle == CYCLES) {
                    break;
                }
                AtomicBoolean stop = new AtomicBoolean();
                Map<Integer, Throwable> failures = new ConcurrentHashMap<>();
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    long s = rnd.nextLong();
                    int n = t;
                    threads.add(Thread.ofPlatform().start(() -> {
                        try {
                            drive(http, agent.port, new Random(s), stop, acked);
                        } catch (Throwable e) {
                            failures.put(n, e);
                        }
                    }));
                }
                Thread.sleep(200 + rnd.nextInt(800));
                agent.kill();
                stop.set(true);
                for (Thread t : threads) {
                    t.join(30_000);
                }
                if (!failures.isEmpty()) {
                    fail("client failed in cycle " + cycle + " seed " + seed + ": " + failures);
                }
            }
        }
        System.out.println(
                "StateCrashTest: " + changes + " state changes verified against the log after " + CYCLES + " SIGKILLs");
        assertTrue(changes > CYCLES * 5, "the test must actually change state: " + changes);
    }

    /** Increments a random counter document with a conditional write until stopped or killed. */
    private static void drive(HttpClient http, int port, Random rnd, AtomicBoolean stop, Map<String, Long> acked)
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
        }
    }

    /** Store and log agree; returns the number of state changes in the log. */
    private static long verify(HttpClient http, int port, Map<String, Long> acked, String where) throws Exception {
        Map<String, Long> lastVersion = new HashMap<>();
        Map<String, Long> lastN = new HashMap<>();
        long count = 0;
        String cursor = null;
        while (true) {
            String q = "/v1/events?stream=_state&limit=5000" + (cursor == null ? "" : "&cursor=" + cursor);
            q = cursor == null ? q : "/v1/events?limit=5000&cursor=" + cursor;
            List<String> lines = http.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + q))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body()
                    .lines()
                    .toList();
            for (String line : lines.subList(0, lines.size() - 1)) {
                Matcher m = EVENT.matcher(line);
                assertTrue(m.find(), line);
                String doc = m.group(2);
                long v = Long.parseLong(m.group(3));
                assertEquals(lastVersion.getOrDefault(doc, 0L) + 1, v, where + ": versions in the log are consecutive");
                lastVersion.put(doc, v);
                lastN.put(doc, Long.parseLong(m.group(4)));
                count++;
            }
            cursor = lines.getLast().replaceAll(".*\"next_cursor\":\"([^\"]+)\".*", "$1");
            if (lines.size() == 1) {
                break;
            }
        }
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
        return count;
    }

    private static long number(Pattern p, String body) {
        Matcher m = p.matcher(body);
        assertTrue(m.find(), body);
        return Long.parseLong(m.group(1));
    }
}
