package dev.outpost.edge.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Main;
import dev.outpost.edge.loadgen.LoadGenerator;
import dev.outpost.edge.sync.TestFleet;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fleet benchmark in miniature (docs/BENCHMARKS.md "Fleet into Kafka"): the load generator's fleet mode drives
 * simulated nodes through two hubs with hub.backend: kafka into a real broker. Every backlog is acknowledged and read
 * back, a node that asked the hub not owning its shard is forwarded (or told 503 and moves to the other), the hubs opened no node log (no churn),
 * their counts add up to the generator's, and a read_committed consumer finds every event once.
 */
@Tag("slow") // a Kafka broker child process and two hubs
@Timeout(240)
class FleetIntoKafkaTest {
    static final int NODES = 30;
    static final int EVENTS = 40;

    @TempDir
    Path dir;

    final HttpClient http = HttpClient.newHttpClient();

    @Test
    void simulatedNodesDrainThroughTwoKafkaHubsEachEventOnce() throws Exception {
        ByteArrayOutputStream fragment = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(fragment, true, StandardCharsets.UTF_8);
        assertEquals(
                0,
                LoadGenerator.run(
                        new String[] {"--mode", "fleet", "--nodes", "" + NODES, "--print-hub-nodes"}, ps, ps));
        try (KafkaBroker broker = KafkaBroker.start(Files.createDirectories(dir.resolve("kafka")));
                TestFleet fleet = new TestFleet(dir)) {
            Main.RunningAgent a = hub(fleet, "hub-a", broker, fragment);
            Main.RunningAgent b = hub(fleet, "hub-b", broker, fragment);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            PrintStream os = new PrintStream(out, true, StandardCharsets.UTF_8);
            int rc = LoadGenerator.run(
                    new String[] {
                        "--mode",
                        "fleet",
                        "--hubs",
                        "http://127.0.0.1:" + a.port() + ",http://127.0.0.1:" + b.port(),
                        "--nodes",
                        "" + NODES,
                        "--events-per-node",
                        "" + EVENTS,
                        "--high-percent",
                        "25",
                        "--start-jitter-millis",
                        "300",
                        "--backoff-cap-millis",
                        "500",
                        "--timeout-seconds",
                        "120",
                        "--verify"
                    },
                    os,
                    os);
            String summary = out.toString(StandardCharsets.UTF_8);
            assertEquals(0, rc, summary);
            assertTrue(summary.contains(" nodes_drained=" + NODES + " acknowledged_all=true "), summary);
            assertTrue(summary.contains(" verified=true "), summary);
            assertTrue(summary.contains(" stored=" + NODES * EVENTS + " duplicates=0 "), summary);
            String ma = get(a.port(), "/metrics");
            String mb = get(b.port(), "/metrics");
            // Half the nodes ask the hub not owning their shard first: it forwards them, or answers 503 and they move.
            assertTrue(
                    value(summary, "unavailable_503")
                                    + metric(ma, "outpost_hub_forwarded_total")
                                    + metric(mb, "outpost_hub_forwarded_total")
                            > 0,
                    summary);
            assertEquals(0, metric(ma, "outpost_hub_node_logs_opened_total"), "no node log on a Kafka hub");
            assertEquals(0, metric(mb, "outpost_hub_node_logs_opened_total"));
            assertEquals(
                    value(summary, "pushes"),
                    metric(ma, "outpost_hub_pushes_total") + metric(mb, "outpost_hub_pushes_total"),
                    "the hubs acknowledged what the generator counted");
            assertEquals(
                    NODES * EVENTS,
                    metric(ma, "outpost_hub_records_stored_total") + metric(mb, "outpost_hub_records_stored_total"));
            List<String> seen = readCommitted(broker, List.of("fleetbench.events.high", "fleetbench.events.normal"));
            assertEquals(NODES * EVENTS, seen.size(), "every event in Kafka");
            assertEquals(NODES * EVENTS, new HashSet<>(seen).size(), "each once");
        }
    }

    private Main.RunningAgent hub(TestFleet fleet, String name, KafkaBroker broker, ByteArrayOutputStream nodes)
            throws Exception {
        return fleet.start(
                name,
                """
                node:
                  id: %s
                data:
                  dir: %s
                http:
                  port: 0
                budget:
                  memory: 16GiB
                hub:
                  backend: kafka
                  kafka_bootstrap_servers: %s
                  kafka_topic_prefix: fleetbench
                  kafka_shards: 4
                  kafka_session_timeout_millis: 3000
                %s""".formatted(
                                name,
                                dir.resolve(name + "-data"),
                                broker.bootstrapServers(),
                                nodes.toString(StandardCharsets.UTF_8)),
                true);
    }

    /** node:seq of every record a read_committed consumer finds in {@code topics}. */
    private static List<String> readCommitted(KafkaBroker broker, List<String> topics) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        List<String> out = new java.util.ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = topics.stream()
                    .flatMap(t -> c.partitionsFor(t).stream().map(i -> new TopicPartition(t, i.partition())))
                    .toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            var ends = c.endOffsets(parts);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (ends.entrySet().stream().anyMatch(e -> c.position(e.getKey()) < e.getValue())) {
                assertTrue(System.nanoTime() < deadline, "read the topics to their end in 60 s");
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    out.add(new String(r.key(), StandardCharsets.UTF_8) + ":"
                            + new String(r.headers().lastHeader("seq").value(), StandardCharsets.UTF_8));
                }
            }
        }
        return out;
    }

    private String get(int port, String path) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    private static long value(String summary, String key) {
        Matcher m = Pattern.compile(" " + key + "=(\\d+)").matcher(summary);
        assertTrue(m.find(), key + " in " + summary);
        return Long.parseLong(m.group(1));
    }

    private static long metric(String metrics, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + " ([0-9.eE+]+)$").matcher(metrics);
        assertTrue(m.find(), name + " in the metrics");
        return (long) Double.parseDouble(m.group(1));
    }
}
