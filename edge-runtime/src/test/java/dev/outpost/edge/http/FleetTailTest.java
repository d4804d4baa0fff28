package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Main;
import dev.outpost.edge.sync.TestFleet;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #13 point 5: a real hub and two real nodes on loopback; the hub tails what the nodes push — one node's log
 * with history and resume, or every node live — and refuses what it cannot serve.
 */
class FleetTailTest {
    private static final String TOKEN_1 = TestFleet.TOKEN_1;
    private static final String TOKEN_2 = TestFleet.TOKEN_2;
    private static final Duration WAIT = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();
    private TestFleet fleet;

    @BeforeEach
    void fleet() {
        fleet = new TestFleet(dir);
    }

    @AfterEach
    void stop() {
        fleet.close();
    }

    private Main.RunningAgent hub() throws Exception {
        return fleet.hub("");
    }

    private Main.RunningAgent edge(String id, String token, int hubPort) throws Exception {
        return fleet.edge(id, token, hubPort, "");
    }

    private void post(Main.RunningAgent a, String stream, int from, int count) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int i = from; i < from + count; i++) {
            b.append("{\"stream\":\"")
                    .append(stream)
                    .append("\",\"data\":{\"n\":")
                    .append(i)
                    .append("}}\n");
        }
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.port() + "/v1/events"))
                        .header("Content-Type", EventsController.NDJSON)
                        .POST(HttpRequest.BodyPublishers.ofString(b.toString()))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
    }

    private HttpResponse<String> get(Main.RunningAgent a, String path) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.port() + path))
                        .header("Accept", "text/event-stream")
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void oneNodesLogWithHistoryAndResumeAndEveryNodeLive() throws Exception {
        Main.RunningAgent hub = hub();
        Main.RunningAgent e1 = edge("edge-1", TOKEN_1, hub.port());
        Main.RunningAgent e2 = edge("edge-2", TOKEN_2, hub.port());
        post(e1, "a", 0, 3);
        String last;
        try (SseSubscriber one =
                SseSubscriber.open(http, hub.port(), TailRequest.FLEET_PATH + "?node=edge-1&from_seq=1")) {
            assertEquals(200, one.status());
            for (int i = 1; i <= 3; i++) {
                SseSubscriber.Message m = one.nextEvent(WAIT);
                assertEquals(String.valueOf(i), m.id(), "ids are the hub's seqs of edge-1's log");
                assertTrue(m.data().contains("\"node\":\"edge-1\"") && m.data().contains("\"n\":" + (i - 1)), m.data());
            }
            // Opened once the hub holds those three: "live from now" is what arrives after this.
            SseSubscriber all = SseSubscriber.open(http, hub.port(), TailRequest.FLEET_PATH + "?stream=a");
            assertEquals(200, all.status());
            post(e2, "a", 10, 2);
            post(e1, "a", 3, 1);
            Set<String> ids = new HashSet<>();
            for (int i = 0; i < 3; i++) {
                ids.add(all.nextEvent(WAIT).id());
            }
            assertEquals(Set.of("edge-2:1", "edge-2:2", "edge-1:4"), ids, "every node, live, ids NODE:SEQ");
            last = one.nextEvent(WAIT).id();
            assertEquals("4", last);
            all.close();
        }
        post(e1, "a", 4, 2);
        try (SseSubscriber again =
                SseSubscriber.open(http, hub.port(), TailRequest.FLEET_PATH + "?node=edge-1", "Last-Event-ID", last)) {
            assertEquals("5", again.nextEvent(WAIT).id());
            assertEquals("6", again.nextEvent(WAIT).id());
        }
    }

    @Test
    void whatTheFleetTailCannotServeIsRefusedNamingTheParameter() throws Exception {
        Main.RunningAgent hub = hub();
        HttpResponse<String> unknown = get(hub, TailRequest.FLEET_PATH + "?node=edge-9");
        assertEquals(400, unknown.statusCode(), unknown.body());
        assertTrue(unknown.body().contains("\"field\":\"node\""), unknown.body());
        for (int i = 0; i < 50; i++) {
            assertEquals(
                    400, get(hub, TailRequest.FLEET_PATH + "?node=nobody-" + i).statusCode());
        }
        assertEquals(0, hub.bean(EventTailPath.class).framedNodes(), "nothing kept for nodes the hub refused");
        HttpResponse<String> history = get(hub, TailRequest.FLEET_PATH + "?from_seq=1");
        assertEquals(400, history.statusCode(), history.body());
        assertTrue(history.body().contains("\"field\":\"node\""), history.body());
        Main.RunningAgent plain = edge("edge-1", TOKEN_1, hub.port());
        assertEquals(404, get(plain, TailRequest.FLEET_PATH).statusCode(), "not a hub");
    }
}
