package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.outpost.edge.hub.KafkaBroker;
import dev.outpost.edge.sync.FaultProxy;
import dev.outpost.edge.sync.TestFleet;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly once in effect with several hubs (issue #17 point 2, docs/FLEET-KAFKA.md): three hubs with {@code
 * hub.backend: kafka} as child processes behind one round-robin address that also cuts connections at random, edges
 * (unchanged) pushing through it while clients keep writing to them, and hubs SIGKILLed, or paused with SIGSTOP past
 * their session timeout (zombies that wake up fenced), and restarted at random. Afterwards a read_committed consumer
 * of the events topics finds every event the edges acknowledged exactly once, with its node sequence number once, and
 * nothing the edges did not store. The seed is printed; replay with -Doutpost.fleetkill.seed=S.
 */
@Tag("slow")
class FleetKafkaKillTest {
    static final long CHAOS_MILLIS = Long.getLong("outpost.fleetkill.millis", 25_000);
    static final int EDGES = 4;
    static final int HUBS = 3;
    static final int SESSION_TIMEOUT_MILLIS = 1_500;
    private static final Pattern ID = Pattern.compile("\"id\":\"(e[0-9]+-[0-9]+)\"");
    private static final Pattern BACKLOG = Pattern.compile("\"backlog_records\":[1-9]");

    @TempDir
    Path dir;

    final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(2))
            .version(HttpClient.Version.HTTP_1_1)
            .build();

    @Test
    void everyAcknowledgedEventIsInKafkaExactlyOnceThroughHubsKilledAtRandom() throws Exception {
        long seed = Long.getLong("outpost.fleetkill.seed", new Random().nextLong());
        System.out.println("FleetKafkaKillTest seed " + seed);
        Random rnd = new Random(seed);
        try (KafkaBroker broker = KafkaBroker.start(dir.resolve("kafka"))) {
            int[] ports = new int[HUBS];
            Path[] configs = new Path[HUBS];
            AgentProcess[] hubs = new AgentProcess[HUBS];
            for (int i = 0; i < HUBS; i++) {
                ports[i] = FaultProxy.stablePort();
                configs[i] = writeHubConfig(i, ports[i], broker.bootstrapServers());
            }
            try (RoundRobinProxy proxy = RoundRobinProxy.start(
                            java.util.Arrays.stream(ports).boxed().toList(), rnd.nextLong(), 100, 1_500);
                    TestFleet edges = new TestFleet(Files.createDirectories(dir.resolve("edges")))) {
                for (int i = 0; i < HUBS; i++) {
                    hubs[i] = AgentProcess.start(configs[i], dir, "hub");
                }
                List<Main.RunningAgent> nodes = new ArrayList<>();
                for (int e = 0; e < EDGES; e++) {
                    nodes.add(edges.edge("edge-" + e, token(e), proxy.port(), ""));
                }
                Map<String, Set<String>> acked = new ConcurrentHashMap<>();
                Map<String, Set<String>> maybe = new ConcurrentHashMap<>();
                AtomicBoolean writing = new AtomicBoolean(true);
                List<Thread> writers = new ArrayList<>();
                for (int e = 0; e < EDGES; e++) {
                    int edge = e;
                    writers.add(Thread.ofVirtual()
                            .start(() -> write(edge, nodes.get(edge).port(), writing, acked, maybe)));
                }
                chaos(rnd, hubs, configs);
                writing.set(false);
                for (Thread w : writers) {
                    w.join(TimeUnit.SECONDS.toMillis(30));
                }
                for (int e = 0; e < EDGES; e++) {
                    awaitDrained(nodes.get(e), "edge-" + e, seed, hubs);
                }
                check(broker.bootstrapServers(), acked, maybe, seed);
                System.out.println("FleetKafkaKillTest: proxy cut " + proxy.cut() + " connections; events acknowledged "
                        + acked.values().stream().mapToInt(Set::size).sum());
            } finally {
                for (AgentProcess h : hubs) {
                    if (h != null) {
                        h.close();
                    }
                }
            }
        }
    }

    private static String token(int edge) {
        return "fleet-kill-token-" + edge + "-0123456789";
    }

    private Path writeHubConfig(int i, int port, String bootstrap) throws Exception {
        StringBuilder nodes = new StringBuilder();
        for (int e = 0; e < EDGES; e++) {
            nodes.append("    edge-").append(e).append(": ").append(token(e)).append('\n');
        }
        Path cfg = dir.resolve("hub-" + i + ".yaml");
        Files.writeString(
                cfg, """
                node:
                  id: hub-%d
                data:
                  dir: %s
                http:
                  port: %d
                hub:
                  backend: kafka
                  kafka_bootstrap_servers: %s
                  kafka_topic_prefix: kill
                  kafka_shards: 8
                  kafka_session_timeout_millis: %d
                  kafka_transaction_timeout_millis: 10000
                  kafka_advertised_url: http://127.0.0.1:%d
                  nodes:
                %s""".formatted(i, dir.resolve("hub-" + i), port, bootstrap, SESSION_TIMEOUT_MILLIS, port, nodes));
        return cfg;
    }

    /** A client of one edge: NDJSON batches of 20 events with unique ids until told to stop. */
    private void write(
            int edge, int port, AtomicBoolean writing, Map<String, Set<String>> acked, Map<String, Set<String>> maybe) {
        String node = "edge-" + edge;
        Set<String> ok = acked.computeIfAbsent(node, k -> ConcurrentHashMap.newKeySet());
        Set<String> unsure = maybe.computeIfAbsent(node, k -> ConcurrentHashMap.newKeySet());
        int n = 0;
        while (writing.get()) {
            List<String> ids = new ArrayList<>();
            StringBuilder body = new StringBuilder();
            for (int i = 0; i < 20; i++, n++) {
                String id = "e" + edge + "-" + n;
                ids.add(id);
                body.append("{\"stream\":\"plant\",\"data\":{\"id\":\"")
                        .append(id)
                        .append("\"}}\n");
            }
            try {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/events"))
                                .timeout(Duration.ofSeconds(10))
                                .header("Content-Type", "application/x-ndjson")
                                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    ok.addAll(ids); // anything else stored nothing of the batch
                }
            } catch (Exception e) {
                unsure.addAll(ids); // the edge may or may not have stored them
            }
            pause(20);
        }
    }

    /** SIGKILL or SIGSTOP (past the session timeout) a random hub every 2-4 s, restarting or resuming it after. */
    private static void chaos(Random rnd, AgentProcess[] hubs, Path[] configs) throws Exception {
        long end = System.currentTimeMillis() + CHAOS_MILLIS;
        while (System.currentTimeMillis() < end) {
            pause(2_000 + rnd.nextInt(2_000));
            int i = rnd.nextInt(hubs.length);
            if (rnd.nextInt(3) == 0) {
                long pid = hubs[i].process.pid();
                signal("STOP", pid);
                pause(SESSION_TIMEOUT_MILLIS + 1_000 + rnd.nextInt(1_000)); // its shards move; it is a zombie
                signal("CONT", pid);
                System.out.println("FleetKafkaKillTest: hub " + i + " paused and resumed");
            } else {
                hubs[i].kill();
                pause(500 + rnd.nextInt(1_500));
                hubs[i] = AgentProcess.start(configs[i], configs[i].getParent(), "hub");
                System.out.println("FleetKafkaKillTest: hub " + i + " killed and restarted");
            }
        }
    }

    private static void signal(String name, long pid) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "kill -" + name + " " + pid);
    }

    private void awaitDrained(Main.RunningAgent edge, String node, long seed, AgentProcess[] hubs) {
        String[] status = {""};
        try {
            Await.atMost(Duration.ofSeconds(120)).until(() -> {
                status[0] = get(edge.port(), "/v1/sync/status");
                return status[0].contains("\"link\":\"connected\"")
                        && !BACKLOG.matcher(status[0]).find();
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            StringBuilder logs = new StringBuilder();
            for (AgentProcess h : hubs) {
                String l = h.log();
                logs.append("\n--- hub log tail:\n").append(l.substring(Math.max(0, l.length() - 3000)));
            }
            fail(node + " did not drain within 120 s, seed " + seed + ": " + status[0] + logs);
        }
    }

    /** Every acknowledged event once, every record an event the edges stored, each node sequence number once. */
    private static void check(
            String bootstrap, Map<String, Set<String>> acked, Map<String, Set<String>> maybe, long seed) {
        Map<String, Set<String>> found = new HashMap<>();
        Set<String> seqs = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> r : readCommitted(bootstrap)) {
            String node = new String(r.key(), StandardCharsets.UTF_8);
            String value = new String(r.value(), StandardCharsets.UTF_8);
            String seq = new String(r.headers().lastHeader("seq").value(), StandardCharsets.US_ASCII);
            String lane = new String(r.headers().lastHeader("lane").value(), StandardCharsets.US_ASCII);
            assertTrue(
                    seqs.add(node + "/" + lane + "/" + seq), "seed " + seed + ": " + node + " seq " + seq + " twice");
            Matcher m = ID.matcher(value);
            assertTrue(m.find(), "seed " + seed + ": a record no edge stored: " + value);
            String id = m.group(1);
            assertTrue(
                    acked.getOrDefault(node, Set.of()).contains(id)
                            || maybe.getOrDefault(node, Set.of()).contains(id),
                    "seed " + seed + ": " + node + " never stored " + id);
            assertTrue(
                    found.computeIfAbsent(node, k -> new HashSet<>()).add(id), "seed " + seed + ": " + id + " twice");
        }
        for (Map.Entry<String, Set<String>> e : acked.entrySet()) {
            Set<String> missing = new HashSet<>(e.getValue());
            missing.removeAll(found.getOrDefault(e.getKey(), Set.of()));
            assertEquals(Set.of(), missing, "seed " + seed + ": acknowledged by " + e.getKey() + " but not in Kafka");
            assertTrue(
                    e.getValue().size() > 100,
                    e.getKey() + " wrote only " + e.getValue().size() + " events");
        }
    }

    private static List<ConsumerRecord<byte[], byte[]>> readCommitted(String bootstrap) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = new ArrayList<>();
            for (String lane : List.of("critical", "high", "normal", "bulk")) {
                c.partitionsFor("kill.events." + lane)
                        .forEach(i -> parts.add(new TopicPartition(i.topic(), i.partition())));
            }
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> ends = c.endOffsets(parts);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (ends.entrySet().stream().anyMatch(e -> c.position(e.getKey()) < e.getValue())) {
                assertTrue(System.nanoTime() < deadline, "read the events topics to their end in 60 s");
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    private String get(int port, String path) throws Exception {
        return http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    /** A client's think time and the chaos schedule's gaps: simulated time, not a wait for a condition. */
    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
