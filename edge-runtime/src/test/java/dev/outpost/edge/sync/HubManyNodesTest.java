package dev.outpost.edge.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.compress.Choice;
import dev.outpost.compress.FrameCodec;
import dev.outpost.edge.Main;
import dev.outpost.edge.config.ConfigLoader;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.sync.wire.PushBatch;
import dev.outpost.sync.wire.SyncProtocol;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hub with many more nodes than it keeps node logs open: 120 nodes push concurrently (each batch
 * over real HTTP in the wire format the edge uses, some sent twice), the hub opens and closes node
 * logs as they come (hub.node_logs_open_max: 6), and in the end holds every node's records exactly
 * once.
 */
@Tag("slow") // many nodes pushing at once: a soak of the hub
class HubManyNodesTest {
    static final int NODES = 120;
    static final int BATCHES = 3;
    static final int RECORDS = 40;

    @TempDir
    Path dir;

    final HttpClient http = HttpClient.newHttpClient();

    static String token(int node) {
        return "token-of-node-" + node + "-0123456789";
    }

    @Test
    void manyNodesPushConcurrentlyAndEachIsStoredExactlyOnce() throws Exception {
        StringBuilder nodes = new StringBuilder();
        for (int n = 0; n < NODES; n++) {
            nodes.append("    n").append(n).append(": ").append(token(n)).append('\n');
        }
        Path cfg = dir.resolve("hub.yaml");
        Files.writeString(cfg, """
                node:
                  id: hq
                data:
                  dir: %s
                http:
                  port: 0
                budget:
                  memory: 16GiB
                hub:
                  node_logs_open_max: 6
                  push_concurrency_max: 8
                  nodes:
                %s""".formatted(dir.resolve("hub-data"), nodes));
        try (Main.RunningAgent hub = Main.start(ConfigLoader.load(cfg).asHub())) {
            ExecutorService pool = Executors.newFixedThreadPool(12);
            List<Future<Integer>> sent = new ArrayList<>();
            for (int n = 0; n < NODES; n++) {
                int node = n;
                sent.add(pool.submit(() -> pushAll(hub.port(), node)));
            }
            int throttled = 0;
            for (Future<Integer> f : sent) {
                throttled += f.get();
            }
            pool.shutdown();
            System.out.println("HubManyNodesTest: " + throttled + " pushes answered 429 and retried");

            String list = get(hub.port(), "/v1/fleet/nodes");
            for (int n = 0; n < NODES; n++) {
                assertTrue(
                        list.contains("{\"node\":\"n" + n
                                + "\",\"seen\":true,\"lanes\":{\"critical\":{\"received_ranges\":0"),
                        list);
                Set<String> ids = new HashSet<>();
                int lines = 0;
                String page = get(hub.port(), "/v1/fleet/events?node=n" + n + "&limit=10000");
                Matcher m = Pattern.compile("\"id\":\"(n\\d+-e\\d+)\"").matcher(page);
                while (m.find()) {
                    lines++;
                    ids.add(m.group(1));
                }
                assertEquals(BATCHES * RECORDS, ids.size(), "node n" + n + ": every record");
                assertEquals(ids.size(), lines, "node n" + n + ": each once");
                String own = "n" + n + "-";
                assertTrue(ids.stream().allMatch(id -> id.startsWith(own)), "only its own records");
            }
            String metrics = get(hub.port(), "/metrics");
            assertTrue(
                    metrics.contains("outpost_hub_records_stored_total " + NODES * BATCHES * RECORDS), "stored once");
            // Node log churn: 120 nodes through 6 open logs reopen them (each push may find its log closed).
            java.util.regex.Matcher opened = Pattern.compile("(?m)^outpost_hub_node_logs_opened_total ([0-9.]+)$")
                    .matcher(metrics);
            assertTrue(opened.find(), "the churn metric is exported");
            long opens = (long) Double.parseDouble(opened.group(1));
            System.out.println("HubManyNodesTest: node logs opened " + opens + " times");
            assertTrue(opens > NODES, "more openings than nodes: logs were closed and opened again, " + opens);
        }
    }

    /** Pushes a node's batches (the second one twice); returns how many 429s it met. */
    int pushAll(int port, int node) throws Exception {
        int throttled = 0;
        FrameCodec codec = new FrameCodec();
        for (int b = 0; b < BATCHES; b++) {
            List<PushBatch.Record> records = new ArrayList<>();
            long from = (long) b * RECORDS + 1;
            for (long seq = from; seq < from + RECORDS; seq++) {
                String json = "{\"stream\":\"t\",\"id\":\"n" + node + "-e" + seq + "\",\"data\":{\"v\":" + seq + "}}";
                records.add(new PushBatch.Record(
                        seq,
                        HybridClock.atMillis(System.currentTimeMillis()),
                        "t",
                        json.getBytes(StandardCharsets.UTF_8)));
            }
            byte[] body = new PushBatch("n" + node, Lane.NORMAL, from, from + RECORDS - 1, records)
                    .encode(codec, Choice.zstd(1, false), null);
            for (int attempt = 0; attempt < (b == 1 ? 2 : 1); attempt++) {
                while (true) {
                    HttpResponse<String> r = http.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/sync/push"))
                                    .header("Authorization", "Bearer " + token(node))
                                    .header(SyncProtocol.NODE_HEADER, "n" + node)
                                    .header("Content-Type", SyncProtocol.PUSH_CONTENT_TYPE)
                                    .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 429) {
                        throttled++;
                        Thread.sleep(20); // a client's back-off after 429, as a node's pusher does
                        continue;
                    }
                    assertEquals(200, r.statusCode(), r.body());
                    break;
                }
            }
        }
        return throttled;
    }

    String get(int port, String path) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }
}
