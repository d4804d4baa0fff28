package dev.outpost.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.outpost.store.AckedRanges;
import dev.outpost.store.Catalog;
import dev.outpost.store.json.JsonTree;
import dev.outpost.sync.wire.FleetChange;
import dev.outpost.sync.wire.PullPage;
import dev.outpost.sync.wire.WireException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pull against a real HTTP server standing in for the hub (it answers with the bytes a hub
 * writes) and a real catalog: what is applied, in what order, where the position goes and what a
 * failure leaves behind.
 */
class PullerTest {
    @TempDir
    Path dir;

    HttpServer hub;
    URI hubUri;
    Catalog catalog;
    /** The answers the stand-in gives, one per request, in order (the last one repeats). */
    final ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
    /** The requests it got: path and query, and the node header and authorization. */
    final List<String> requests = new CopyOnWriteArrayList<>();
    /** What the applier was given, in order. */
    final List<String> applied = new CopyOnWriteArrayList<>();

    record Answer(int status, byte[] body) {}

    @BeforeEach
    void start() throws IOException {
        hub = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hub.createContext("/", this::answer);
        hub.start();
        hubUri = URI.create("http://127.0.0.1:" + hub.getAddress().getPort());
        catalog = Catalog.open(dir.resolve("catalog.db"));
    }

    @AfterEach
    void stop() {
        hub.stop(0);
        catalog.close();
    }

    private void answer(HttpExchange x) throws IOException {
        requests.add(x.getRequestURI() + " " + x.getRequestHeaders().getFirst("X-Outpost-Node") + " "
                + x.getRequestHeaders().getFirst("Authorization"));
        Answer a = answers.size() > 1 ? answers.poll() : answers.peek();
        x.getResponseHeaders().add("Content-Type", "application/x-ndjson");
        x.sendResponseHeaders(a.status(), a.body().length);
        x.getResponseBody().write(a.body());
        x.close();
    }

    Puller puller(Puller.Applier applier) {
        return new Puller(hubUri, "edge-1", "edge-token", catalog, 10, 50, null, applier);
    }

    Puller puller() {
        return puller((change, hlc) -> applied.add(describe(change) + "@" + hlc));
    }

    static String describe(FleetChange c) {
        return switch (c) {
            case FleetChange.StateChange s -> (s.delete() ? "delete " : "put ") + s.namespace() + "/" + s.id();
            case FleetChange.StreamChange s -> "stream " + s.name();
            case FleetChange.ConfigChange s -> "config " + s.settings().keySet();
            case FleetChange.RuleChange r -> (r.delete() ? "delete rule " : "rule ") + r.name();
            case FleetChange.Unreadable u -> "unreadable";
        };
    }

    static Object json(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return JsonTree.parse(b, 0, b.length);
    }

    static byte[] page(long next, PullPage.Change... changes) {
        return new PullPage(List.of(changes), next).toNdjson();
    }

    static PullPage.Change state(long seq, String id) {
        return new PullPage.Change(
                seq, 1000 + seq, new FleetChange.StateChange("edge-1", "settings", id, false, "hq", json("{\"v\":1}")));
    }

    @Test
    void appliesChangesInHubOrderAndKeepsThePositionOverARestart() throws Exception {
        answers.add(new Answer(
                200,
                page(
                        9,
                        state(3, "fan"),
                        new PullPage.Change(
                                5, 1005, new FleetChange.StreamChange("all", "vibration", "hq", json("{}"))),
                        new PullPage.Change(
                                8,
                                1008,
                                new FleetChange.ConfigChange("edge-1", "hq", Map.of("query.limit_default", 3L))))));
        Puller p = puller();
        try {
            assertEquals(0, p.position());
            p.pollOnce(0);
            assertEquals(
                    List.of("put settings/fan@1003", "stream vibration@1005", "config [query.limit_default]@1008"),
                    applied);
            assertEquals(9, p.position(), "the hub's next, beyond the last change (other nodes' changes)");
            assertEquals(3, p.appliedChanges());
            assertEquals("/v1/sync/pull?after=0&wait_millis=0 edge-1 Bearer edge-token", requests.getFirst());
            AckedRanges kept = catalog.syncCursor(Puller.CURSOR_PREFIX + hubUri, Puller.CURSOR_LANE);
            assertEquals(List.of(new AckedRanges.Range(1, 9)), kept.ranges(), "persisted before the next poll");
            answers.clear();
            answers.add(new Answer(200, page(9)));
            p.pollOnce(0);
            assertEquals("/v1/sync/pull?after=9&wait_millis=0 edge-1 Bearer edge-token", requests.getLast());
            assertTrue(p.lastSuccessMillis() > 0);
        } finally {
            p.close();
        }
        Puller again = puller();
        try {
            assertEquals(9, again.position(), "a restart asks after the kept position: nothing applied twice");
            again.pollOnce(0);
            assertEquals(3, applied.size());
            assertTrue(requests.getLast().startsWith("/v1/sync/pull?after=9&"), requests.getLast());
        } finally {
            again.close();
        }
    }

    @Test
    void unreadableAndFailingChangesAreSkippedAndCountedWithoutStoppingThePull() throws Exception {
        String oldHub = "{\"seq\":2,\"hlc\":1002,\"change\":{\"target\":\"all\",\"kind\":\"rules\",\"rule\":{}}}\n"
                + new String(page(7, state(4, "bad"), state(6, "good")), StandardCharsets.UTF_8);
        answers.add(new Answer(200, oldHub.getBytes(StandardCharsets.UTF_8)));
        Puller p = puller((change, hlc) -> {
            if (describe(change).contains("bad")) {
                throw new IllegalArgumentException("refused by the node");
            }
            applied.add(describe(change));
        });
        try {
            p.pollOnce(0);
            assertEquals(List.of("put settings/good"), applied);
            assertEquals(1, p.appliedChanges());
            assertEquals(2, p.failedChanges(), "the newer hub's kind and the refused change");
            assertEquals(7, p.position(), "skipped changes are behind the position: never retried forever");
        } finally {
            p.close();
        }
    }

    @Test
    void aRefusedOrBrokenAnswerAppliesNothingAndKeepsThePosition() throws Exception {
        answers.add(new Answer(401, "{\"title\":\"Unauthorized\"}".getBytes(StandardCharsets.UTF_8)));
        Puller p = puller();
        try {
            SyncException refused = assertThrows(SyncException.class, () -> p.pollOnce(0));
            assertEquals(401, refused.status());
            assertTrue(refused.getMessage().contains("sync.token"), refused.getMessage());
            answers.clear();
            byte[] cut = page(9, state(3, "fan"));
            answers.add(new Answer(200, java.util.Arrays.copyOf(cut, cut.length - "{\"next\":9}\n".length())));
            WireException broken = assertThrows(WireException.class, () -> p.pollOnce(0));
            assertTrue(broken.getMessage().contains("cut short"), broken.getMessage());
            assertEquals(List.of(), applied, "nothing of a cut answer is applied");
            assertEquals(0, p.position());
            assertTrue(catalog.syncCursor(Puller.CURSOR_PREFIX + hubUri, Puller.CURSOR_LANE)
                    .isEmpty());
        } finally {
            p.close();
        }
    }

    @Test
    void theRunningPullRecoversFromAHubThatWasDownAndSaysWhereItFailed() throws Exception {
        int port = hub.getAddress().getPort();
        hub.stop(0); // the hub is down when the pull starts
        Puller p = puller().start();
        try {
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> p.lastError() != null);
            assertEquals("cannot connect to hub at 127.0.0.1:" + port + ": connection refused", p.lastError());
            hub = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
            hub.createContext("/", this::answer);
            answers.add(new Answer(200, page(4, state(4, "fan"))));
            answers.add(new Answer(200, page(4))); // then nothing new
            hub.start();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> p.position() == 4);
            assertEquals(List.of("put settings/fan@1004"), applied);
        } finally {
            p.close();
        }
    }
}
