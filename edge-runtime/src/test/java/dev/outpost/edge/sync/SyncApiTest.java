package dev.outpost.edge.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Await;
import dev.outpost.edge.Main;
import dev.outpost.edge.config.ConfigLoader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An edge and a hub, both real agents on loopback in this JVM: push, exactly once, fleet queries, status. */
class SyncApiTest {
    static final String TOKEN = "edge-one-token-0123456789";

    @TempDir
    Path dir;

    final HttpClient http = HttpClient.newHttpClient();
    Main.RunningAgent hub;
    Main.RunningAgent edge;

    @AfterEach
    void stop() {
        if (edge != null) {
            edge.close();
        }
        if (hub != null) {
            hub.close();
        }
    }

    Main.RunningAgent startHub(int port) throws Exception {
        return startHub(port, "");
    }

    Main.RunningAgent startHub(int port, String moreHub) throws Exception {
        Path cfg = dir.resolve("hub.yaml");
        Files.writeString(cfg, """
                node:
                  id: hq
                data:
                  dir: %s
                http:
                  port: %d
                budget:
                  memory: 16GiB
                hub:
                  %s
                  nodes:
                    edge-1: %s
                    edge-2: a-second-node-token-0123
                """.formatted(dir.resolve("hub-data"), port, moreHub.strip(), TOKEN));
        // A hub restarted on its port: the previous server may release the port a moment after close.
        return Await.atMost(Duration.ofSeconds(10))
                .ignoreException(io.micronaut.http.server.exceptions.ServerStartupException.class)
                .until(() -> Main.start(ConfigLoader.load(cfg).asHub()), java.util.Objects::nonNull);
    }

    Main.RunningAgent startEdge(int hubPort, String token) throws Exception {
        return startEdge(hubPort, token, "");
    }

    Main.RunningAgent startEdge(int hubPort, String token, String moreSync) throws Exception {
        Path cfg = dir.resolve("edge.yaml");
        Files.writeString(cfg, """
                node:
                  id: edge-1
                data:
                  dir: %s
                http:
                  port: 0
                budget:
                  memory: 16GiB
                sync:
                  upstream: http://127.0.0.1:%d
                  token: %s
                  backoff_base_millis: 20
                  backoff_cap_millis: 200
                  breaker_open_millis: 300
                  idle_poll_millis: 50
                  %s
                streams:
                  alarms:
                    priority: critical
                  chatter:
                    priority: bulk
                """.formatted(dir.resolve("edge-data"), hubPort, token, moreSync.strip()));
        return Main.start(ConfigLoader.load(cfg));
    }

    HttpResponse<String> send(Main.RunningAgent a, String method, String path, String type, String body)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.port() + path))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (type != null) {
            b.header("Content-Type", type);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    void ingest(Main.RunningAgent a, String stream, int from, int n) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < from + n; i++) {
            sb.append("{\"stream\":\"")
                    .append(stream)
                    .append("\",\"id\":\"e")
                    .append(i)
                    .append("\",\"data\":{\"i\":")
                    .append(i)
                    .append("}}\n");
        }
        HttpResponse<String> r = send(a, "POST", "/v1/events", "application/x-ndjson", sb.toString());
        assertEquals(200, r.statusCode(), r.body());
    }

    /** A GET on the hub, over whatever transport the test uses. */
    @FunctionalInterface
    interface HubGet {
        HttpResponse<String> get(String path) throws Exception;
    }

    /** Event ids per stream on the hub for edge-1, counting duplicates. */
    Map<String, Integer> hubIds() throws Exception {
        return hubIds(path -> send(hub, "GET", path, null, null));
    }

    /** Event ids on the hub for edge-1 with their counts, paging through GET /v1/fleet/events. */
    static Map<String, Integer> hubIds(HubGet hubGet) throws Exception {
        Map<String, Integer> ids = new HashMap<>();
        String cursor = null;
        while (true) {
            HttpResponse<String> r = hubGet.get(
                    "/v1/fleet/events?node=edge-1&limit=10000" + (cursor == null ? "" : "&cursor=" + cursor));
            if (r.statusCode() == 404) {
                return ids;
            }
            assertEquals(200, r.statusCode(), r.body());
            Matcher m = Pattern.compile("\"id\":\"(e\\d+)\"").matcher(r.body());
            while (m.find()) {
                ids.merge(m.group(1), 1, Integer::sum);
            }
            Matcher next = Pattern.compile("\"next_cursor\":\"([^\"]+)\",\"count\":(\\d+)")
                    .matcher(r.body());
            if (!next.find() || next.group(2).equals("0")) {
                return ids;
            }
            cursor = next.group(1);
        }
    }

    Map<String, Integer> awaitHub(int expected, long timeoutMillis) {
        return Await.atMostMillis(timeoutMillis)
                .alias("the hub holds " + expected + " events of edge-1")
                .until(this::hubIds, ids -> ids.size() >= expected);
    }

    @Test
    void pushesEverythingExactlyOnceAndDrainsAfterAnOutage() throws Exception {
        hub = startHub(FaultProxy.stablePort());
        int hubPort = hub.port();
        edge = startEdge(hubPort, TOKEN);
        ingest(edge, "alarms", 0, 10);
        ingest(edge, "readings", 10, 500);
        ingest(edge, "chatter", 510, 300);
        Map<String, Integer> ids = awaitHub(810, 10_000);
        assertEquals(810, ids.size(), "all pushed");
        assertTrue(ids.values().stream().allMatch(c -> c == 1), "exactly once: " + ids);
        String status = send(edge, "GET", "/v1/sync/status", null, null).body();
        assertTrue(status.contains("\"link\":\"connected\""), status);
        assertTrue(status.contains("\"normal\":{\"backlog_records\":0"), status);

        // The hub goes away: ingest and queries on the edge go on, and status says so.
        long outageAt = System.currentTimeMillis();
        hub.close();
        hub = null;
        ingest(edge, "readings", 1000, 2000);
        ingest(edge, "alarms", 3000, 5);
        assertEquals(200, send(edge, "GET", "/v1/events?limit=5", null, null).statusCode());
        status = Await.atMost(Duration.ofSeconds(5))
                .until(
                        () -> send(edge, "GET", "/v1/sync/status", null, null).body(),
                        b -> b.contains("\"link\":\"backing_off\"") || b.contains("\"link\":\"circuit_open\""));
        assertTrue(status.contains("\"last_error\":{"), status);
        assertTrue(status.contains("\"normal\":{\"backlog_records\":2000"), status);
        assertTrue(status.contains("\"critical\":{\"backlog_records\":5"), status);
        assertEquals(2005, metric(send(edge, "GET", "/metrics", null, null).body(), "outpost_data_at_risk_events"));

        // It comes back on the same port: the backlog drains, nothing twice.
        long backAt = System.currentTimeMillis();
        hub = startHub(hubPort);
        ids = awaitHub(2815, 20_000);
        assertEquals(2815, ids.size());
        assertTrue(ids.values().stream().allMatch(c -> c == 1), "exactly once after the outage");
        awaitBody(edge, "/metrics", "outpost_data_at_risk_events 0", 10_000);
        String nodes = send(hub, "GET", "/v1/fleet/nodes", null, null).body();
        assertTrue(nodes.contains("\"node\":\"edge-1\",\"seen\":true"), nodes);
        String m = send(hub, "GET", "/metrics", null, null).body();
        assertTrue(m.contains("outpost_hub_records_stored_total 2005"), "stored after restart: " + m);

        // Fleet queries by time select on when the hub received (indexed); each line also says
        // where and when the node stored the event: the backlog was stored before the hub came back.
        String page = send(
                        hub,
                        "GET",
                        "/v1/fleet/events?node=edge-1&stream=readings&limit=10000&from_time=" + backAt,
                        null,
                        null)
                .body();
        Matcher line = Pattern.compile(
                        "\\{\"seq\":\\d+,\"ingest_time\":(\\d+),\"hlc\":\\d+,\"node_seq\":(\\d+),\"node_ingest_time\":(\\d+),")
                .matcher(page);
        int lines = 0;
        while (line.find()) {
            lines++;
            assertTrue(Long.parseLong(line.group(1)) >= backAt, "received after the hub came back");
            assertTrue(Long.parseLong(line.group(3)) < backAt, "stored by the node during the outage");
            assertTrue(Long.parseLong(line.group(2)) > 810, "node sequence of the backlog");
        }
        assertEquals(2000, lines, page.substring(0, Math.min(500, page.length())));

        // By the node's own time: what it stored before the outage, in pages whose cursor keeps the bound.
        int before = 0;
        String q = "/v1/fleet/events?node=edge-1&stream=readings&limit=100&node_to_time=" + outageAt;
        for (int pages = 0; pages < 100; pages++) {
            page = send(hub, "GET", q, null, null).body();
            Matcher nodeTime = Pattern.compile("\"node_ingest_time\":(\\d+)").matcher(page);
            while (nodeTime.find()) {
                before++;
                assertTrue(Long.parseLong(nodeTime.group(1)) < outageAt);
            }
            Matcher next = Pattern.compile("\"next_cursor\":\"([^\"]+)\",\"count\":(\\d+),\"scanned\":(\\d+)")
                    .matcher(page);
            if (!next.find() || next.group(3).equals("0")) {
                break;
            }
            q = "/v1/fleet/events?node=edge-1&cursor=" + next.group(1);
        }
        assertEquals(500, before, "readings stored before the outage");
    }

    /**
     * After an outage: critical data goes before the rest, and live data written after the link is
     * back reaches the hub while the backlog is still draining behind it. Arrival order at the hub
     * is its own sequence order.
     */
    @Test
    void afterAnOutageCriticalFirstThenLiveBeforeTheBacklog() throws Exception {
        hub = startHub(FaultProxy.stablePort());
        int hubPort = hub.port();
        hub.close();
        hub = null;
        edge = startEdge(hubPort, TOKEN, "  batch_records_max: 200\n");
        for (int i = 0; i < 40; i++) {
            ingest(edge, "readings", i * 500, 500); // 20,000 backlog events, normal lane
        }
        ingest(edge, "alarms", 100_000, 20); // critical, written last
        hub = startHub(hubPort);
        // Live data from now on.
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread live = Thread.ofPlatform().start(() -> {
            int n = 200_000;
            while (!stop.get()) {
                try {
                    ingest(edge, "readings", n++, 1);
                    Thread.sleep(20); // live data: a sensor's pace, by design
                } catch (Exception e) {
                    return;
                }
            }
        });
        try {
            awaitBody(edge, "/v1/sync/status", "\"normal\":{\"backlog_records\":0,", 30_000);
        } finally {
            stop.set(true);
            live.join();
        }
        awaitBody(edge, "/v1/sync/status", "\"normal\":{\"backlog_records\":0,", 10_000);
        // Hub order of arrival.
        java.util.List<Integer> order = new java.util.ArrayList<>();
        String cursor = null;
        do {
            String q = "/v1/fleet/events?node=edge-1&limit=10000" + (cursor == null ? "" : "&cursor=" + cursor);
            String body = send(hub, "GET", q, null, null).body();
            Matcher m = Pattern.compile("\"id\":\"e(\\d+)\"").matcher(body);
            while (m.find()) {
                order.add(Integer.parseInt(m.group(1)));
            }
            Matcher next = Pattern.compile("\"next_cursor\":\"([^\"]+)\",\"count\":(\\d+)")
                    .matcher(body);
            cursor = next.find() && !next.group(2).equals("0") ? next.group(1) : null;
        } while (cursor != null);
        int lastCritical = -1;
        int firstBacklog = Integer.MAX_VALUE;
        int lastBacklog = -1;
        int firstLive = Integer.MAX_VALUE;
        for (int i = 0; i < order.size(); i++) {
            int id = order.get(i);
            if (id >= 100_000 && id < 200_000) {
                lastCritical = i;
            } else if (id < 100_000) {
                firstBacklog = Math.min(firstBacklog, i);
                lastBacklog = i;
            } else {
                firstLive = Math.min(firstLive, i);
            }
        }
        assertEquals(20_020, order.stream().filter(id -> id < 200_000).count(), "the whole backlog arrived");
        assertTrue(lastCritical < firstBacklog, "critical before normal: " + lastCritical + " vs " + firstBacklog);
        assertTrue(
                firstLive < lastBacklog,
                "live data overtook the backlog: first live at " + firstLive + ", last backlog at " + lastBacklog
                        + " of " + order.size());
    }

    /** Hub admission control: beyond hub.push_concurrency_max pushes get 429 with Retry-After, which the edge obeys. */
    @Test
    void theHubAdmitsBoundedPushesAndTheEdgeObeysRetryAfter() throws Exception {
        hub = startHub(0, "  push_concurrency_max: 1\n");
        // A raw pusher keeps the single slot busy with large batches.
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
        java.util.List<Thread> hogs = new java.util.ArrayList<>();
        for (int t = 0; t < 3; t++) {
            int base = t;
            hogs.add(Thread.ofPlatform().start(() -> {
                long seq = 1 + base * 10_000_000L;
                while (!stop.get()) {
                    java.util.List<dev.outpost.sync.wire.PushBatch.Record> rs = new java.util.ArrayList<>();
                    for (int i = 0; i < 5000; i++) {
                        rs.add(new dev.outpost.sync.wire.PushBatch.Record(
                                seq + i, 1, "hog", ("{\"stream\":\"hog\",\"data\":{\"i\":" + i + "}}").getBytes()));
                    }
                    byte[] body = new dev.outpost.sync.wire.PushBatch(
                                    "edge-1", dev.outpost.store.Lane.BULK, seq, seq + 4999, rs)
                            .encode(new dev.outpost.compress.FrameCodec(), dev.outpost.compress.Choice.NONE, null);
                    seq += 5000;
                    try {
                        HttpResponse<String> r = http.send(
                                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hub.port() + "/v1/sync/push"))
                                        .header("Content-Type", dev.outpost.sync.wire.SyncProtocol.PUSH_CONTENT_TYPE)
                                        .header("Authorization", "Bearer " + TOKEN)
                                        .header("X-Outpost-Node", "edge-1")
                                        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() == 429) {
                            assertTrue(r.headers().firstValue("Retry-After").isPresent(), r.body());
                            refused.incrementAndGet();
                        }
                    } catch (Exception e) {
                        return;
                    }
                }
            }));
        }
        try {
            edge = startEdge(hub.port(), TOKEN);
            ingest(edge, "alarms", 0, 50);
            awaitBody(edge, "/metrics", "outpost_sync_records_total 50", 30_000);
            assertTrue(refused.get() > 0, "some pushes were refused by admission control");
        } finally {
            stop.set(true);
            for (Thread h : hogs) {
                h.join();
            }
        }
        String m = send(hub, "GET", "/metrics", null, null).body();
        assertTrue(!m.contains("outpost_hub_pushes_throttled_total 0\n"), m);
    }

    /** sync.bandwidth_bytes_per_second paces the upload. */
    @Test
    void theBandwidthCapPacesTheUpload() throws Exception {
        hub = startHub(FaultProxy.stablePort());
        edge = startEdge(hub.port(), TOKEN, "  bandwidth_bytes_per_second: 4096\n  batch_records_max: 10\n");
        java.util.Random rnd = new java.util.Random(7);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 300; i++) {
            StringBuilder hex = new StringBuilder();
            for (int j = 0; j < 25; j++) {
                hex.append(Long.toHexString(rnd.nextLong()));
            }
            sb.append("{\"stream\":\"readings\",\"id\":\"e")
                    .append(i)
                    .append("\",\"data\":{\"x\":\"")
                    .append(hex)
                    .append("\"}}\n");
        }
        assertEquals(
                200,
                send(edge, "POST", "/v1/events", "application/x-ndjson", sb.toString())
                        .statusCode());
        long t0 = System.nanoTime();
        // Until well past the first second's bucket (the whole upload is ~130 KB: ~30 s at the cap).
        long wire = Await.atMost(Duration.ofSeconds(20))
                .until(
                        () -> metric(send(edge, "GET", "/metrics", null, null).body(), "outpost_sync_wire_bytes_total"),
                        bytes -> bytes > 3 * 4096);
        double seconds = (System.nanoTime() - t0) / 1e9;
        // One second's bucket to start, then 4 KiB/s; one batch (10 events of ~430 bytes) may go past it.
        assertTrue(wire > 4096, "it sends: " + wire);
        assertTrue(wire <= 4096 * (seconds + 1) + 5000, "paced at 4 KiB/s: " + wire + " bytes in " + seconds + " s");
    }

    /** Small live batches of one stream use its trained wire dictionary; the hub gets it first, once. */
    @Test
    void smallBatchesUseTheStreamsWireDictionary() throws Exception {
        hub = startHub(FaultProxy.stablePort());
        int hubPort = hub.port();
        hub.close();
        hub = null;
        edge = startEdge(hubPort, TOKEN);
        java.util.Random r = new java.util.Random(7);
        java.util.function.IntFunction<String> traffic = i -> "{\"stream\":\"traffic\",\"id\":\"e" + i
                + "\",\"data\":{\"source_ip\":\"10.0." + r.nextInt(20) + "." + r.nextInt(255)
                + "\",\"bytes_transferred\":" + r.nextInt(2_000_000) + ",\"protocol\":\""
                + (r.nextBoolean() ? "TCP" : "UDP") + "\"}}\n";
        StringBuilder samples = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
            samples.append(traffic.apply(i));
        }
        assertEquals(
                200,
                send(edge, "POST", "/v1/events", "application/x-ndjson", samples.toString())
                        .statusCode());
        HttpResponse<String> trained =
                send(edge, "POST", "/v1/dictionaries?stream=traffic&samples=2000&bytes=8192", null, null);
        assertEquals(200, trained.statusCode(), trained.body());
        String id = trained.body().replaceAll(".*\"id\":\"([0-9a-f]+)\".*", "$1");
        hub = startHub(hubPort);
        awaitBody(edge, "/metrics", "outpost_sync_records_total 2000", 20_000);
        String before = send(edge, "GET", "/metrics", null, null).body();
        for (int i = 2000; i < 2040; i++) {
            assertEquals(
                    200,
                    send(edge, "POST", "/v1/events", "application/json", traffic.apply(i))
                            .statusCode());
            awaitBody(edge, "/metrics", "outpost_sync_records_total " + (i + 1) + "\n", 10_000); // its own batch
        }
        awaitBody(edge, "/metrics", "outpost_sync_records_total 2040", 20_000);
        String after = send(edge, "GET", "/metrics", null, null).body();
        long wire = metric(after, "outpost_sync_wire_bytes_total") - metric(before, "outpost_sync_wire_bytes_total");
        long raw =
                metric(after, "outpost_sync_payload_bytes_total") - metric(before, "outpost_sync_payload_bytes_total");
        long batches = metric(after, "outpost_sync_batches_total") - metric(before, "outpost_sync_batches_total");
        assertTrue(batches >= 20, "small batches: " + batches);
        // Without a dictionary a one-event batch is stored raw (too small to compress), so the wire
        // would carry the raw JSON plus ~60 bytes of batch and frame headers per batch.
        assertTrue(
                wire < raw,
                "a dictionary pays on small batches: wire " + wire + " vs raw " + raw + " in " + batches + " batches");
        assertTrue(send(hub, "GET", "/v1/dictionaries", null, null).body().contains(id), "the hub has it");
        assertEquals(2040, hubIds().size());
    }

    static long metric(String metrics, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + " (\\d+)").matcher(metrics);
        assertTrue(m.find(), name);
        return Long.parseLong(m.group(1));
    }

    /** Under disk pressure a connected edge retires cycles the hub acknowledged: nothing is lost. */
    @Test
    @Tag("slow") // writes until a 40 MiB disk budget is under pressure
    void diskPressureRetiresSyncedCyclesFirst() throws Exception {
        hub = startHub(FaultProxy.stablePort());
        Path cfg = dir.resolve("edge-small.yaml");
        Files.writeString(cfg, """
                node:
                  id: edge-1
                data:
                  dir: %s
                http:
                  port: 0
                  body_bytes_max: 128KiB
                log:
                  block_bytes: 1MiB
                  roll_cycle: SECONDLY
                  compression: none
                ingest:
                  batch_events_max: 1000
                state:
                  documents_max: 16
                  doc_bytes_max: 64KiB
                budget:
                  memory: 16GiB
                  disk: 40MiB
                sync:
                  upstream: http://127.0.0.1:%d
                  token: %s
                  idle_poll_millis: 20
                """.formatted(dir.resolve("edge-small"), hub.port(), TOKEN));
        edge = Main.start(ConfigLoader.load(cfg));
        int n = 0;
        String log = "";
        long deadline = System.currentTimeMillis() + 60_000;
        while (!log.contains("\"reason\":\"synced\"") && System.currentTimeMillis() < deadline) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 100; i++, n++) {
                sb.append("{\"stream\":\"readings\",\"id\":\"e")
                        .append(n)
                        .append("\",\"data\":{\"pad\":\"")
                        .append(Long.toHexString(System.nanoTime()).repeat(60))
                        .append("\"}}\n");
            }
            HttpResponse<String> r = send(edge, "POST", "/v1/events", "application/x-ndjson", sb.toString());
            assertEquals(200, r.statusCode(), "the hub keeps up, so writes are never refused: " + r.body());
            awaitBody(edge, "/metrics", "outpost_sync_records_total " + n + "\n", 10_000); // the hub has it all
            log = send(edge, "GET", "/v1/retention", null, null).body();
        }
        assertTrue(log.contains("\"reason\":\"synced\""), "synced cycles were retired: " + log);
        assertTrue(!log.contains("\"reason\":\"disk-critical\""), "nothing unsynced was dropped: " + log);
        Matcher unsynced = Pattern.compile("\"unsynced_events\":(\\d+)").matcher(log);
        while (unsynced.find()) {
            assertEquals("0", unsynced.group(1), log);
        }
        Map<String, Integer> ids = awaitHub(n, 20_000);
        assertEquals(n, ids.size(), "the hub has every event, retired ones included");
    }

    String awaitBody(Main.RunningAgent a, String path, String contains, long timeoutMillis) throws Exception {
        String[] body = {""};
        Await.atMostMillis(timeoutMillis).untilAsserted(() -> {
            body[0] = send(a, "GET", path, null, null).body();
            assertTrue(body[0].contains(contains), path + " never contained " + contains + ": " + body[0]);
        });
        return body[0];
    }

    /** State and stream changes flow hub to edge by long poll; conflicts resolve by HLC and keep the loser. */
    @Test
    void pullsChangesAndResolvesConflictsByLastWriterWins() throws Exception {
        hub = startHub(FaultProxy.stablePort());
        int hubPort = hub.port();
        // Published while the edge is away: made at T1.
        HttpResponse<String> r =
                send(hub, "PUT", "/v1/fleet/state/edge-1/settings/fan", "application/json", "{\"speed\":1}");
        assertEquals(202, r.statusCode(), r.body());
        hub.close();
        hub = null;
        edge = startEdge(hubPort, TOKEN);
        // A local change at T2 > T1, while the hub is down.
        assertEquals(
                201,
                send(edge, "PUT", "/v1/state/settings/fan", "application/json", "{\"speed\":2}")
                        .statusCode());
        hub = startHub(hubPort);
        // The edge pulls the older change: it loses, is kept in history and counted.
        awaitBody(edge, "/metrics", "outpost_state_conflicts_lost_total 1", 10_000);
        assertTrue(
                send(edge, "GET", "/v1/state/settings/fan", null, null).body().contains("\"speed\":2"));
        String h =
                send(edge, "GET", "/v1/state/settings/fan/history", null, null).body();
        assertTrue(h.contains("\"lost\":true") && h.contains("\"speed\":1"), h);
        assertTrue(h.contains("\"origin\":\"hq\""), h);
        // A newer change for all nodes wins, and the local version stays in history.
        send(hub, "PUT", "/v1/fleet/state/all/settings/fan", "application/json", "{\"speed\":3}");
        awaitBody(edge, "/v1/state/settings/fan", "\"speed\":3", 10_000);
        h = send(edge, "GET", "/v1/state/settings/fan/history", null, null).body();
        assertTrue(h.contains("\"speed\":2"), h);
        awaitBody(edge, "/metrics", "outpost_state_conflicts_replaced_total 1", 5_000);
        // A stream declared for this node; a delete; a change for another node is not applied.
        send(hub, "PUT", "/v1/fleet/streams/edge-1/vibration", "application/json", "{\"priority\":\"critical\"}");
        awaitBody(edge, "/v1/streams", "vibration", 10_000);
        send(hub, "DELETE", "/v1/fleet/state/edge-1/settings/fan", null, null);
        Await.atMost(Duration.ofSeconds(10))
                .until(() ->
                        send(edge, "GET", "/v1/state/settings/fan", null, null).statusCode() == 404);
        assertEquals(
                400,
                send(hub, "PUT", "/v1/fleet/state/nobody/settings/fan", "application/json", "{}")
                        .statusCode(),
                "unknown target");
        // The pull position survives a restart: nothing is applied twice.
        edge.close();
        edge = startEdge(hubPort, TOKEN);
        // A change published now reaches the edge: its pull ran from the kept position, so that
        // change is the only one it applied since the restart.
        send(hub, "PUT", "/v1/fleet/state/edge-1/settings/probe", "application/json", "{\"p\":1}");
        awaitBody(edge, "/v1/state/settings/probe", "\"p\":1", 10_000);
        String m = send(edge, "GET", "/metrics", null, null).body();
        assertTrue(m.contains("outpost_sync_pulled_changes_total 1\n"), "nothing pulled again: " + m);
    }

    /**
     * Config changes over pull: the hub checks keys and values, the edge applies them live (queries
     * page by the new default, the pusher obeys the new cap), keeps them over a restart, refuses a
     * change that breaks a rule with its own file whole, and an unset brings back the file's value.
     */
    @Test
    void configChangesArePulledAppliedLiveAndKeptOverARestart() throws Exception {
        hub = startHub(FaultProxy.stablePort());
        edge = startEdge(hub.port(), TOKEN, "bandwidth_bytes_per_second: 0\nquery:\n  limit_max: 1000");
        ingest(edge, "readings", 0, 10);
        assertEquals(10, countIds(send(edge, "GET", "/v1/events", null, null).body()));
        String cfg = send(edge, "GET", "/v1/config", null, null).body();
        assertTrue(
                cfg.contains("\"query.limit_default\":{\"value\":1000,\"file_value\":1000,\"source\":\"file\"}"), cfg);

        // The hub checks every key and value before publishing, naming the key at fault.
        HttpResponse<String> bad = send(hub, "PUT", "/v1/fleet/config/all", "application/json", "{\"http.port\":8080}");
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(bad.body().contains("\"field\":\"http.port\"") && bad.body().contains("restart"), bad.body());
        bad = send(hub, "PUT", "/v1/fleet/config/all", "application/json", "{\"query.limit_max\":0}");
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(bad.body().contains("allowed: 1 to 10000000"), bad.body());
        bad = send(hub, "PUT", "/v1/fleet/config/all", "application/json", "{\"no.such\":1}");
        assertTrue(bad.statusCode() == 400 && bad.body().contains("query.limit_default"), bad.body());
        assertEquals(
                400,
                send(hub, "PUT", "/v1/fleet/config/all", "application/json", "{}")
                        .statusCode());

        HttpResponse<String> r = send(
                hub,
                "PUT",
                "/v1/fleet/config/edge-1",
                "application/json",
                "{\"query.limit_default\":3,\"sync.bandwidth_bytes_per_second\":\"64KiB\"}");
        assertEquals(202, r.statusCode(), r.body());
        awaitBody(edge, "/v1/config", "\"query.limit_default\":{\"value\":3,", 10_000);
        assertEquals(3, countIds(send(edge, "GET", "/v1/events", null, null).body()), "pages by the hub's default");
        assertEquals(
                64 * 1024, edge.agent().upstream().pusher().bandwidthBytesPerSecond(), "the pusher obeys the new cap");
        cfg = send(edge, "GET", "/v1/config", null, null).body();
        assertTrue(cfg.contains("\"source\":\"hub\",\"hub\":\"hq\""), cfg);

        // Above this edge's own query.limit_max: the hub cannot know it; the edge refuses it whole.
        send(
                hub,
                "PUT",
                "/v1/fleet/config/all",
                "application/json",
                "{\"query.limit_default\":5000,\"sync.bandwidth_bytes_per_second\":1}");
        awaitBody(edge, "/v1/config", "\"last_refusal\":{", 10_000);
        cfg = send(edge, "GET", "/v1/config", null, null).body();
        assertTrue(cfg.contains("\"key\":\"query.limit_default\"") && cfg.contains("query.limit_max (1000)"), cfg);
        assertEquals(
                64 * 1024, edge.agent().upstream().pusher().bandwidthBytesPerSecond(), "nothing of a refused change");
        awaitBody(edge, "/metrics", "outpost_sync_pulled_changes_failed_total 1", 5_000);

        // Kept over a restart, without pulling the change again.
        edge.close();
        edge = startEdge(hub.port(), TOKEN, "bandwidth_bytes_per_second: 0\nquery:\n  limit_max: 1000");
        assertEquals(3, countIds(send(edge, "GET", "/v1/events", null, null).body()));
        assertEquals(64 * 1024, edge.agent().upstream().pusher().bandwidthBytesPerSecond());

        // A config change for another node is not applied; null brings back the file's value.
        r = send(hub, "PUT", "/v1/fleet/config/edge-2", "application/json", "{\"query.limit_default\":7}");
        assertEquals(202, r.statusCode(), r.body());
        r = send(
                hub,
                "PUT",
                "/v1/fleet/config/edge-1",
                "application/json",
                "{\"query.limit_default\":null,\"sync.bandwidth_bytes_per_second\":null}");
        assertEquals(202, r.statusCode(), r.body());
        awaitBody(edge, "/v1/config", "\"query.limit_default\":{\"value\":1000,", 10_000);
        assertEquals(10, countIds(send(edge, "GET", "/v1/events", null, null).body()));
        assertEquals(0, edge.agent().upstream().pusher().bandwidthBytesPerSecond());
    }

    static int countIds(String ndjson) {
        Matcher m = Pattern.compile("\"id\":\"e\\d+\"").matcher(ndjson);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    @Test
    void aWrongTokenIsRefusedAndCountedAsAFailure() throws Exception {
        hub = startHub(FaultProxy.stablePort());
        edge = startEdge(hub.port(), "not-the-right-token-000");
        ingest(edge, "readings", 0, 3);
        awaitBody(edge, "/v1/sync/status", "401", 5_000);
        assertEquals(0, hubIds().size());
        HttpResponse<String> r = send(hub, "POST", "/v1/sync/push", "application/vnd.outpost.push-batch", "x");
        assertEquals(401, r.statusCode(), r.body());
    }
}
