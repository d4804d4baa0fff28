package dev.outpost.edge.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.outpost.edge.Main;
import dev.outpost.edge.sync.TestFleet;
import dev.outpost.sync.wire.SyncProtocol;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The load generator's fleet mode against a real hub in this JVM (local backend, admission tight enough that 429s
 * happen): every simulated node's backlog is acknowledged and read back, and the hub counted exactly what the
 * generator counted (pushes, records stored once, 429s). A hub address that answers 429 is waited out, one that
 * answers 503 (as a hub not owning a node's shard does) sends the nodes to the other one.
 */
@Tag("slow") // dozens of simulated nodes against a real hub
@Timeout(120)
class FleetModeTest {
    static final int NODES = 40;
    static final int EVENTS = 60;

    @TempDir
    Path dir;

    final HttpClient http = HttpClient.newHttpClient();

    /** A hub knowing the generated nodes, admitting one push at a time (the others get 429). */
    private Main.RunningAgent hub(TestFleet fleet) throws Exception {
        ByteArrayOutputStream nodes = new ByteArrayOutputStream();
        FleetNodes.printHubNodes(FleetNodes.generate(NODES, 42), new PrintStream(nodes, true, StandardCharsets.UTF_8));
        return fleet.start("hub", """
                node:
                  id: hq
                data:
                  dir: %s
                http:
                  port: 0
                budget:
                  memory: 16GiB
                hub:
                  push_concurrency_max: 1
                %s""".formatted(dir.resolve("hub-data"), nodes.toString(StandardCharsets.UTF_8)), true);
    }

    private static String[] args(String hubs) {
        return new String[] {
            "--mode",
            "fleet",
            "--hubs",
            hubs,
            "--nodes",
            "" + NODES,
            "--events-per-node",
            "" + EVENTS,
            "--high-percent",
            "20",
            "--batch",
            "25",
            "--hub-concurrency",
            "16",
            "--start-jitter-millis",
            "200",
            "--backoff-cap-millis",
            "200",
            "--timeout-seconds",
            "60",
            "--verify",
            "--label",
            "unit_test"
        };
    }

    @Test
    void everyBacklogIsAcknowledgedAndTheHubCountedTheSame() throws Exception {
        try (TestFleet fleet = new TestFleet(dir)) {
            Main.RunningAgent hub = hub(fleet);
            FleetRun.Result r = FleetRun.execute(FleetOptions.parse(args("http://127.0.0.1:" + hub.port())));
            assertTrue(r.ok(), r.summary() + " first error: " + r.tally().firstError);
            assertTrue(r.summary().contains(" nodes_drained=" + NODES + " acknowledged_all=true "), r.summary());
            assertTrue(r.summary().endsWith(" verified=true unverified_nodes=0"), r.summary());
            FleetTally t = r.tally();
            assertEquals(0, t.errors.sum(), t.firstError);
            assertEquals(NODES * EVENTS, t.stored.sum(), "each event stored once: " + r.summary());
            assertEquals(0, t.duplicates.sum());
            System.out.println("FleetModeTest: " + r.summary());
            String m = get(hub.port(), "/metrics");
            assertEquals(t.pushes.sum(), metric(m, "outpost_hub_pushes_total"), "pushes");
            assertEquals(NODES * EVENTS, metric(m, "outpost_hub_records_stored_total"), "records");
            assertEquals(0, metric(m, "outpost_hub_records_duplicate_total"));
            assertEquals(t.throttled.sum(), metric(m, "outpost_hub_pushes_throttled_total"), "429s");
            // Per node: its high events go in batches of their own (20 of every 100), normal ones in batches of 25.
            assertEquals((long) NODES * (1 + 2), t.pushes.sum(), "20 high events in 1 push, 40 normal in 2");
            assertTrue(metric(m, "outpost_hub_node_logs_opened_total") >= NODES, "the local backend opens node logs");
        }
    }

    @Test
    void aHubAnswering429IsWaitedOutAndOneAnswering503SendsTheNodesToAnother() throws Exception {
        HttpServer unavailable = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger throttled = new AtomicInteger();
        Set<String> seen = ConcurrentHashMap.newKeySet();
        unavailable.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.getResponseHeaders().add("Retry-After", "1");
            // A node's first request is told to wait (429: it stays), then it is told this hub cannot (503: it moves).
            boolean first = seen.add(ex.getRequestHeaders().getFirst(SyncProtocol.NODE_HEADER));
            (first ? throttled : refused).incrementAndGet();
            ex.sendResponseHeaders(first ? 429 : 503, -1);
            ex.close();
        });
        unavailable.start();
        try (TestFleet fleet = new TestFleet(dir)) {
            Main.RunningAgent hub = hub(fleet);
            String hubs = "http://127.0.0.1:" + unavailable.getAddress().getPort() + ",http://127.0.0.1:" + hub.port();
            FleetRun.Result r = FleetRun.execute(FleetOptions.parse(args(hubs)));
            assertTrue(r.ok(), r.summary() + " first error: " + r.tally().firstError);
            FleetTally t = r.tally();
            assertEquals(NODES / 2, throttled.get(), "half the nodes start at the refusing hub: " + r.summary());
            assertEquals(refused.get(), t.unavailable.sum(), "every 503 counted");
            assertTrue(t.unavailable.sum() >= NODES / 2, r.summary());
            assertTrue(t.hubSwitches.sum() >= NODES / 2, r.summary());
            assertEquals(0, t.pushesPerHub[0].sum(), "nothing acknowledged by the 503 hub");
            assertEquals(t.pushes.sum(), t.pushesPerHub[1].sum());
            String m = get(hub.port(), "/metrics");
            assertEquals(t.pushes.sum(), metric(m, "outpost_hub_pushes_total"));
            assertEquals(NODES * EVENTS, metric(m, "outpost_hub_records_stored_total"));
            assertEquals(
                    throttled.get() + metric(m, "outpost_hub_pushes_throttled_total"),
                    t.throttled.sum(),
                    "every 429 counted (and waited out), the refusing hub's and the real one's");
        } finally {
            unavailable.stop(0);
        }
    }

    @Test
    void theHubNodesFragmentIsWhatTheNodesFileReads() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        assertEquals(
                0, LoadGenerator.run(new String[] {"--mode", "fleet", "--nodes", "3", "--print-hub-nodes"}, ps, ps));
        String fragment = out.toString(StandardCharsets.UTF_8);
        assertTrue(fragment.startsWith("  nodes:\n    fleet-00000: tok-"), fragment);
        Path yaml = dir.resolve("hub.yaml");
        Files.writeString(yaml, "node:\n  id: hq\nhub:\n  backend: kafka\n" + fragment);
        List<FleetNodes.Identity> read = FleetNodes.read(yaml, 3);
        assertEquals(FleetNodes.generate(3, 42), read);
        assertTrue(read.stream().allMatch(n -> n.token().length() >= 16), "hub tokens are at least 16 characters");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream es = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertEquals(2, LoadGenerator.run(new String[] {"--mode", "fleet", "--nodes", "0"}, es, es));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--nodes must be in [1, "), err.toString());
        assertEquals(2, LoadGenerator.run(new String[] {"--mode", "fleet", "--hubs", "http://10.1.2.3:7070"}, es, es));
        assertEquals(
                2, LoadGenerator.run(new String[] {"--mode", "fleet", "--nodes-file", "x", "--nodes", "1"}, es, es));
    }

    private String get(int port, String path) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    private static long metric(String metrics, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + " ([0-9.eE+]+)$").matcher(metrics);
        assertTrue(m.find(), name + " in " + metrics);
        return (long) Double.parseDouble(m.group(1));
    }
}
