package dev.outpost.edge.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Main;
import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.edge.sync.TestFleet;
import dev.outpost.store.AckedRanges;
import dev.outpost.store.Lane;
import dev.outpost.sync.SyncException;
import dev.outpost.sync.wire.PushAck;
import dev.outpost.sync.wire.PushBatch;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hub's Kafka backend against a real broker (a child process, {@link KafkaBroker}): each record once, whatever is
 * resent and across restarts of the hub; a hub whose shards another took writes nothing more; what a read_committed
 * consumer sees carries the node, lane, sequence number and time.
 */
class KafkaPushStoreTest {
    @TempDir
    static Path dir;

    static KafkaBroker broker;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = KafkaBroker.start(dir.resolve("kafka"));
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (broker != null) {
            broker.close();
        }
    }

    private static OutpostConfig.Kafka config(String prefix) {
        return new OutpostConfig.Kafka(
                broker.bootstrapServers(), prefix, 4, 10_000, 2_000, Map.of("linger.ms", "1"), "", false, 1_000);
    }

    private static PushBatch batch(String node, Lane lane, long from, long to) {
        List<PushBatch.Record> records = new ArrayList<>();
        for (long seq = from; seq <= to; seq++) {
            byte[] payload = ("{\"n\":" + seq + "}").getBytes(StandardCharsets.UTF_8);
            records.add(new PushBatch.Record(seq, (1_700_000_000_000L + seq) << 16, "s", payload));
        }
        return new PushBatch(node, lane, from, to, records);
    }

    @Test
    void eachRecordIsWrittenOnceAcrossResendsAndRestarts() throws Exception {
        OutpostConfig.Kafka c = config("once");
        try (KafkaPushStore store = KafkaPushStore.open(c, new LongAdder())) {
            assertAck(store.receive(batch("n1", Lane.NORMAL, 1, 10)), 10, 0);
            assertAck(store.receive(batch("n1", Lane.NORMAL, 1, 10)), 0, 10);
            assertAck(store.receive(batch("n1", Lane.NORMAL, 6, 15)), 5, 5);
            assertAck(store.receive(batch("n2", Lane.NORMAL, 1, 3)), 3, 0);
        }
        try (KafkaPushStore again = KafkaPushStore.open(c, new LongAdder())) {
            // The group may hand the shards over in two rounds while the closed store's leaving is processed.
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> again.owned() == 4);
            assertEquals(
                    List.of(new AckedRanges.Range(1, 15)),
                    again.received("n1", Lane.NORMAL).ranges());
            assertAck(again.receive(batch("n1", Lane.NORMAL, 1, 20)), 5, 15);
            assertTrue(again.received("n1", Lane.HIGH).isEmpty());
        }
        Map<String, List<Long>> seen = readCommitted("once.events.normal");
        assertEquals(range(1, 20), seen.get("n1"), "node n1: every sequence number once, in order");
        assertEquals(range(1, 3), seen.get("n2"));
    }

    /**
     * Two hubs share the shards; one is cut off (stops heartbeating without leaving), the other takes its shards after
     * the session timeout and fences it: the cut-off hub's next write fails, the taker has what it had received, and a
     * read_committed consumer finds every acknowledged event once.
     */
    @Test
    void aHubCutOffLosesItsShardsAndCanWriteNothingMore() throws Exception {
        OutpostConfig.Kafka c = config("fence");
        try (KafkaPushStore a = KafkaPushStore.open(c, new LongAdder());
                KafkaPushStore b = KafkaPushStore.open(c, new LongAdder())) {
            Awaitility.await()
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> a.owned() > 0 && b.owned() > 0 && a.owned() + b.owned() == 4);
            String node = nodeIn(a);
            assertAck(a.receive(batch(node, Lane.HIGH, 1, 5)), 5, 0);
            SyncException elsewhere = assertThrows(SyncException.class, () -> b.receive(batch(node, Lane.HIGH, 1, 5)));
            assertEquals(503, elsewhere.status(), "the shard is a's");
            assertTrue(a.answersFor(node) && !b.answersFor(node));
            a.silence();
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> b.owned() == 4);
            SyncException e = assertThrows(SyncException.class, () -> a.receive(batch(node, Lane.HIGH, 6, 9)));
            assertEquals(503, e.status());
            assertEquals(
                    List.of(new AckedRanges.Range(1, 5)),
                    b.received(node, Lane.HIGH).ranges());
            assertAck(b.receive(batch(node, Lane.HIGH, 1, 9)), 4, 5);
            assertEquals(range(1, 9), readCommitted("fence.events.high").get(node));
        }
    }

    /**
     * Group commit: pushes arriving together for one shard share transactions, and a batch sent twice at the same
     * moment (as an edge does after a timeout) is still written once, whichever round each copy lands in.
     */
    @Test
    void pushesArrivingTogetherShareTransactionsAndEachRecordIsWrittenOnce() throws Exception {
        List<String> nodes = new ArrayList<>();
        for (int i = 0; nodes.size() < 3; i++) {
            if (KafkaPushStore.shardOf("g" + i, 4) == 0) {
                nodes.add("g" + i);
            }
        }
        int batches = 8;
        try (KafkaPushStore store = KafkaPushStore.open(config("group"), new LongAdder());
                ExecutorService pushers = Executors.newVirtualThreadPerTaskExecutor()) {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<PushAck>> acks = new ArrayList<>();
            for (int copy = 0; copy < 2; copy++) {
                for (String node : nodes) {
                    for (int k = 0; k < batches; k++) {
                        PushBatch b = batch(node, Lane.NORMAL, k * 10L + 1, k * 10L + 10);
                        acks.add(pushers.submit(() -> {
                            go.await();
                            return store.receive(b);
                        }));
                    }
                }
            }
            go.countDown();
            int stored = 0;
            for (Future<PushAck> f : acks) {
                PushAck ack = f.get();
                assertEquals(10, ack.stored() + ack.duplicates());
                stored += ack.stored();
            }
            assertEquals(nodes.size() * batches * 10, stored, "each record stored by exactly one of its two copies");
            assertTrue(
                    store.transactions() <= acks.size() / 2,
                    store.transactions() + " transactions for " + acks.size() + " pushes");
        }
        Map<String, List<Long>> seen = readCommitted("group.events.normal");
        for (String node : nodes) {
            assertEquals(
                    range(1, batches * 10L), seen.get(node).stream().sorted().toList(), node);
        }
    }

    /**
     * Forwarding: two hubs share the shards; each edge is pointed at the hub that does not own its shard, which
     * forwards its cursor requests and pushes to the owner. Every event arrives once, and the edges' backlogs drain.
     */
    @Test
    void anEdgeAtTheWrongHubIsServedByTheOwnerThroughIt() throws Exception {
        Path fleetDir = java.nio.file.Files.createDirectories(dir.resolve("forward"));
        try (TestFleet fleet = new TestFleet(fleetDir)) {
            int portA = freePort();
            int portB = freePort();
            Hub a = fleet.start("hub-a", hubYaml(fleetDir, "a", portA), true)
                    .agent()
                    .hub();
            Hub b = fleet.start("hub-b", hubYaml(fleetDir, "b", portB), true)
                    .agent()
                    .hub();
            KafkaPushStore sa = (KafkaPushStore) a.receiver();
            KafkaPushStore sb = (KafkaPushStore) b.receiver();
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> sa.owned() == 2 && sb.owned() == 2);
            Map<String, Integer> wrongPort = new HashMap<>();
            for (String node : List.of("edge-1", "edge-2")) {
                Hub wrong = sa.answersFor(node) ? b : a;
                Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> wrong.ownerUrl(node) != null);
                wrongPort.put(node, wrong == a ? portA : portB);
            }
            Main.RunningAgent e1 = fleet.edge("edge-1", TestFleet.TOKEN_1, wrongPort.get("edge-1"), "");
            Main.RunningAgent e2 = fleet.edge("edge-2", TestFleet.TOKEN_2, wrongPort.get("edge-2"), "");
            HttpClient http = HttpClient.newHttpClient();
            for (Main.RunningAgent edge : List.of(e1, e2)) {
                StringBuilder body = new StringBuilder();
                for (int i = 0; i < 150; i++) {
                    body.append("{\"stream\":\"plant\",\"data\":{\"n\":")
                            .append(i)
                            .append("}}\n");
                }
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.port() + "/v1/events"))
                                .header("Content-Type", "application/x-ndjson")
                                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), r.body());
            }
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> {
                Map<String, List<Long>> seen = readCommitted("fwd.events.normal");
                return seen.getOrDefault("edge-1", List.of()).size() >= 150
                        && seen.getOrDefault("edge-2", List.of()).size() >= 150;
            });
            Map<String, List<Long>> seen = readCommitted("fwd.events.normal");
            for (String node : List.of("edge-1", "edge-2")) {
                assertEquals(range(1, 150), seen.get(node).stream().sorted().toList(), node + ": each event once");
            }
            assertTrue(a.forwardedCount() + b.forwardedCount() >= 2, "the pushes went through the wrong hubs");
            for (int port : List.of(portA, portB)) {
                HttpResponse<String> nodes = http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/fleet/nodes"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, nodes.statusCode(), nodes.body());
                for (String node : List.of("edge-1", "edge-2")) {
                    assertTrue(
                            nodes.body().contains("\"node\":\"" + node + "\",\"seen\":true"),
                            port + ": " + nodes.body());
                }
                for (String node : List.of("edge-1", "edge-2")) {
                    int owner = sa.answersFor(node) ? portA : portB;
                    if (owner != port) {
                        assertTrue(
                                nodes.body().contains("\"hub\":\"http://127.0.0.1:" + owner + "\""),
                                node + " is told of by its owner: " + nodes.body());
                    }
                }
                assertTrue(!nodes.body().contains("hub_unreachable"), nodes.body());
            }
        }
    }

    private static String hubYaml(Path fleetDir, String name, int port) {
        return """
                node:
                  id: hub-%s
                data:
                  dir: %s
                http:
                  port: %d
                budget:
                  memory: 16GiB
                hub:
                  backend: kafka
                  kafka_bootstrap_servers: %s
                  kafka_shards: 4
                  kafka_topic_prefix: fwd
                  kafka_session_timeout_millis: 2000
                  kafka_advertised_url: http://127.0.0.1:%d
                  nodes:
                    edge-1: %s
                    edge-2: %s
                """.formatted(
                        name,
                        fleetDir.resolve("hub-" + name + "-data"),
                        port,
                        broker.bootstrapServers(),
                        port,
                        TestFleet.TOKEN_1,
                        TestFleet.TOKEN_2);
    }

    private static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /**
     * hub.kafka_topics: stream puts each record in its stream's topic, created on first use; a stream past
     * hub.kafka_stream_topics_max is refused with 503 and nothing of its batch is written.
     */
    @Test
    void aTopicPerStreamIsCreatedOnFirstUseUpToItsLimit() throws Exception {
        OutpostConfig.Kafka c = new OutpostConfig.Kafka(
                broker.bootstrapServers(), "per", 4, 10_000, 2_000, Map.of("linger.ms", "1"), "", true, 2);
        List<PushBatch.Record> two = List.of(
                new PushBatch.Record(1, 1L << 16, "temp", "{\"t\":1}".getBytes(StandardCharsets.UTF_8)),
                new PushBatch.Record(2, 2L << 16, "door", "{\"d\":2}".getBytes(StandardCharsets.UTF_8)));
        List<PushBatch.Record> three = List.of(
                new PushBatch.Record(3, 3L << 16, "temp", "{\"t\":3}".getBytes(StandardCharsets.UTF_8)),
                new PushBatch.Record(4, 4L << 16, "noise", "{\"n\":4}".getBytes(StandardCharsets.UTF_8)));
        try (KafkaPushStore store = KafkaPushStore.open(c, new LongAdder())) {
            assertAck(store.receive(new PushBatch("p1", Lane.NORMAL, 1, 2, two)), 2, 0);
            SyncException e = assertThrows(
                    SyncException.class, () -> store.receive(new PushBatch("p1", Lane.NORMAL, 3, 4, three)));
            assertEquals(503, e.status());
            assertTrue(e.getMessage().contains("hub.kafka_stream_topics_max"), e.getMessage());
            assertEquals(
                    List.of(new AckedRanges.Range(1, 2)),
                    store.received("p1", Lane.NORMAL).ranges());
        }
        assertEquals(List.of(1L), readCommitted("per.stream.temp").get("p1"), "seq 3 was refused with its batch");
        assertEquals(List.of(2L), readCommitted("per.stream.door").get("p1"));
    }

    /**
     * A shard whose producer can write no more while the group still gives it to this hub (a transaction that timed
     * out, a cluster restart) is taken again: its pushes get 503 meanwhile, then succeed, each record once.
     */
    @Test
    void aShardWhoseProducerBrokeIsTakenAgain() throws Exception {
        try (KafkaPushStore store = KafkaPushStore.open(config("retake"), new LongAdder())) {
            assertAck(store.receive(batch("r1", Lane.NORMAL, 1, 5)), 5, 0);
            KafkaShard before = store.shardOf("r1");
            before.fenceLocally();
            SyncException e = assertThrows(SyncException.class, () -> store.receive(batch("r1", Lane.NORMAL, 1, 8)));
            assertEquals(503, e.status());
            Awaitility.await()
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> store.shardOf("r1") != null && store.shardOf("r1") != before);
            assertAck(store.receive(batch("r1", Lane.NORMAL, 1, 8)), 3, 5);
        }
        assertEquals(range(1, 8), readCommitted("retake.events.normal").get("r1"));
    }

    /** A node id whose shard {@code store} owns. */
    private static String nodeIn(KafkaPushStore store) {
        for (int i = 0; ; i++) {
            String node = "n" + i;
            if (store.owns(KafkaPushStore.shardOf(node, 4))) {
                return node;
            }
        }
    }

    @Test
    void recordsCarryTheNodeLaneSequenceAndTime() throws Exception {
        long before = System.currentTimeMillis();
        try (KafkaPushStore store = KafkaPushStore.open(config("headers"), new LongAdder())) {
            store.receive(batch("gw-7", Lane.CRITICAL, 41, 41));
        }
        ConsumerRecord<byte[], byte[]> r = all("headers.events.critical").getFirst();
        assertEquals("gw-7", new String(r.key(), StandardCharsets.UTF_8));
        assertEquals("{\"n\":41}", new String(r.value(), StandardCharsets.UTF_8));
        assertEquals("gw-7", header(r, "node"));
        assertEquals("critical", header(r, "lane"));
        assertEquals("41", header(r, "seq"));
        assertEquals(Long.toString((1_700_000_000_000L + 41) << 16), header(r, "hlc"));
        assertEquals(Long.toString(1_700_000_000_041L), header(r, "ingest_time"));
        assertTrue(r.timestamp() >= before, "the hub's write time, which the topic's retention counts from");
    }

    /**
     * Point 1 end to end: an edge, unchanged, pushes to a hub with hub.backend: kafka; every event it ingested arrives
     * in the lane's topic exactly once, and the edge's cursor is acknowledged.
     */
    @Test
    void anEdgePushesThroughAKafkaHubAsItWouldToALocalOne() throws Exception {
        java.nio.file.Files.createDirectories(dir.resolve("fleet"));
        try (TestFleet fleet = new TestFleet(dir.resolve("fleet"))) {
            Main.RunningAgent hub = fleet.hub("  backend: kafka\n  kafka_bootstrap_servers: "
                    + broker.bootstrapServers() + "\n  kafka_shards: 4\n  kafka_topic_prefix: e2e\n");
            Main.RunningAgent edge = fleet.edge("edge-1", TestFleet.TOKEN_1, hub.port(), "");
            HttpClient http = HttpClient.newHttpClient();
            for (int round = 0; round < 5; round++) {
                StringBuilder b = new StringBuilder();
                for (int i = 0; i < 40; i++) {
                    b.append("{\"stream\":\"plant\",\"data\":{\"n\":")
                            .append(round * 40 + i)
                            .append("}}\n");
                }
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.port() + "/v1/events"))
                                .header("Content-Type", "application/x-ndjson")
                                .POST(HttpRequest.BodyPublishers.ofString(b.toString()))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), r.body());
            }
            Awaitility.await()
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> readCommitted("e2e.events.normal")
                                    .getOrDefault("edge-1", List.of())
                                    .size()
                            >= 200);
            List<Long> seqs = readCommitted("e2e.events.normal").get("edge-1");
            assertEquals(200, seqs.size(), "each event once");
            assertEquals(200, new java.util.HashSet<>(seqs).size(), "no sequence number twice");
            HttpResponse<String> nodes = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hub.port() + "/v1/fleet/nodes"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, nodes.statusCode(), nodes.body());
            assertTrue(nodes.body().contains("\"node\":\"edge-1\",\"seen\":true"), nodes.body());
            assertTrue(nodes.body().contains("\"node\":\"edge-2\",\"seen\":false"), nodes.body());
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    private static void assertAck(PushAck ack, int stored, int duplicates) {
        assertEquals(stored, ack.stored(), "stored");
        assertEquals(duplicates, ack.duplicates(), "duplicates");
    }

    private static List<Long> range(long from, long to) {
        List<Long> out = new ArrayList<>();
        for (long s = from; s <= to; s++) {
            out.add(s);
        }
        return out;
    }

    /** The sequence numbers per node a read_committed consumer finds in {@code topic}. */
    private static Map<String, List<Long>> readCommitted(String topic) {
        Map<String, List<Long>> out = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : all(topic)) {
            out.computeIfAbsent(new String(r.key(), StandardCharsets.UTF_8), k -> new ArrayList<>())
                    .add(Long.parseLong(header(r, "seq")));
        }
        return out;
    }

    private static List<ConsumerRecord<byte[], byte[]>> all(String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = c.partitionsFor(topic).stream()
                    .map(i -> new TopicPartition(topic, i.partition()))
                    .toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> ends = c.endOffsets(parts);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (ends.entrySet().stream().anyMatch(e -> c.position(e.getKey()) < e.getValue())) {
                assertTrue(System.nanoTime() < deadline, "read " + topic + " to its end in 30 s");
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }
}
