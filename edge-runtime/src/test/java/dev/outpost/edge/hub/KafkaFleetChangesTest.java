package dev.outpost.edge.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.Main;
import dev.outpost.edge.http.Problems;
import dev.outpost.edge.sync.TestFleet;
import dev.outpost.sync.wire.PullPage;
import dev.outpost.sync.wire.SyncProtocol;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #17 point 3 against a real broker ({@link KafkaBroker}) and real hubs in this JVM: fleet changes published at
 * any hub of a fleet are pulled at any other with the same sequence numbers, wake the long polls there, and are served
 * again, at the same numbers, by a restarted hub; memory for them is bounded (507); what reads node logs is refused
 * with 501 naming the topics.
 */
class KafkaFleetChangesTest {
    @TempDir
    static Path dir;

    static KafkaBroker broker;

    private final HttpClient http =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

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

    /** A hub named {@code name} on the fleet of topics {@code prefix}; {@code more}: further hub keys. */
    private static Main.RunningAgent hub(TestFleet fleet, Path data, String name, String prefix, String more)
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
                  kafka_shards: 2
                  kafka_topic_prefix: %s
                %s  nodes:
                    edge-1: %s
                    edge-2: %s
                """.formatted(
                                name,
                                data.resolve(name + "-data"),
                                broker.bootstrapServers(),
                                prefix,
                                more,
                                TestFleet.TOKEN_1,
                                TestFleet.TOKEN_2),
                true);
    }

    private HttpResponse<String> send(Main.RunningAgent a, String method, String path, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.port() + path));
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        b.method(
                method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest pullRequest(Main.RunningAgent hub, String node, String token, long after, long wait) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hub.port() + SyncProtocol.PULL_PATH + "?after="
                        + after + "&wait_millis=" + wait))
                .header(SyncProtocol.NODE_HEADER, node)
                .header("Authorization", "Bearer " + token)
                .timeout(Duration.ofSeconds(60))
                .build();
    }

    /** A pull as a node makes it (its token), answered at once. */
    private String pull(Main.RunningAgent hub, String node, String token, long after) throws Exception {
        HttpResponse<String> r =
                http.send(pullRequest(hub, node, token, after, 0), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    private static PullPage page(String body) {
        return PullPage.parse(body.getBytes(StandardCharsets.UTF_8));
    }

    private static List<Long> seqs(String body) {
        return page(body).changes().stream().map(PullPage.Change::seq).toList();
    }

    private static long published(HttpResponse<String> r) {
        assertEquals(202, r.statusCode(), r.body());
        return dev.outpost.sync.wire.Published.parse(r.body().getBytes(StandardCharsets.UTF_8))
                .seq();
    }

    /**
     * Two hubs on the same topics: a change PUT at one is pulled at the other with the same sequence numbers and
     * cursors; a long poll at one wakes on a change published at the other; a restarted hub serves the same changes at
     * the same numbers; an unchanged edge pulling through the other hub applies the change.
     */
    @Test
    void changesPublishedAtOneHubArePulledAtAnotherWithTheSameCursors() throws Exception {
        Path data = dir.resolve("two");
        Files.createDirectories(data);
        try (TestFleet fleet = new TestFleet(data)) {
            Main.RunningAgent a = hub(fleet, data, "hub-a", "two", "");
            Main.RunningAgent b = hub(fleet, data, "hub-b", "two", "");
            long first = published(send(a, "PUT", "/v1/fleet/state/edge-1/settings/fan", "{\"speed\":1}"));
            long second = published(send(b, "PUT", "/v1/fleet/state/all/settings/mode", "{\"m\":\"eco\"}"));
            assertEquals(1, first, "sequence = offset + 1: after=0 reads from the start");
            assertEquals(2, second);

            String atB = pull(b, "edge-1", TestFleet.TOKEN_1, 0);
            assertEquals(List.of(1L, 2L), seqs(atB), atB);
            assertTrue(atB.contains("\"speed\":1") && atB.contains("\"m\":\"eco\""), atB);
            assertEquals(2, page(atB).next());
            // hub-a reads the change hub-b published from the topic on its own time (publishing waits only for the
            // publishing hub's reader): until then it answers a consistent prefix ({"next":1}), then the same.
            Awaitility.await()
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> page(pull(a, "edge-1", TestFleet.TOKEN_1, 0)).next() == 2);
            String atA = pull(a, "edge-1", TestFleet.TOKEN_1, 0);
            assertEquals(atB, atA, "the same answer, versions included, at either hub");
            assertEquals(List.of(2L), seqs(pull(a, "edge-2", TestFleet.TOKEN_2, 0)), "edge-2 gets what is for all");
            String none = pull(a, "edge-1", TestFleet.TOKEN_1, page(atB).next());
            assertTrue(page(none).changes().isEmpty(), none);
            assertEquals(2, page(none).next(), "a cursor from hub-b is a position at hub-a");

            CompletableFuture<HttpResponse<String>> held = http.sendAsync(
                    pullRequest(b, "edge-1", TestFleet.TOKEN_1, 2, 30_000), HttpResponse.BodyHandlers.ofString());
            assertFalse(held.isDone(), "nothing new: the poll is held");
            long third = published(send(a, "PUT", "/v1/fleet/state/edge-1/settings/fan", "{\"speed\":2}"));
            HttpResponse<String> woken = held.get(20, TimeUnit.SECONDS);
            assertEquals(200, woken.statusCode(), woken.body());
            assertEquals(List.of(third), seqs(woken.body()), "woken by the change published at hub-a");
            assertTrue(woken.body().contains("\"speed\":2"), woken.body());

            String before = pull(b, "edge-1", TestFleet.TOKEN_1, 0);
            assertEquals(List.of(2L, 3L), seqs(before), "the fan's first change was superseded by its second");
            b.close();
            Main.RunningAgent b2 = hub(fleet, data, "hub-b", "two", "");
            assertEquals(before, pull(b2, "edge-1", TestFleet.TOKEN_1, 0), "restarted: same changes, same numbers");
            assertEquals(before, pull(a, "edge-1", TestFleet.TOKEN_1, 0));

            Main.RunningAgent edge = fleet.edge("edge-1", TestFleet.TOKEN_1, b2.port(), "");
            published(send(a, "PUT", "/v1/fleet/state/edge-1/settings/fan", "{\"speed\":3}"));
            Awaitility.await()
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> send(edge, "GET", "/v1/state/settings/fan", null)
                            .body()
                            .contains("\"speed\":3"));
            assertTrue(send(edge, "GET", "/v1/state/settings/mode", null).body().contains("\"m\":\"eco\""));
        }
    }

    /**
     * The broker really compacts the fleet topic (created here to compact at once): a restarted hub that reads the
     * compacted topic serves what the hub before it served from the whole one, at the same numbers; what compaction
     * dropped was superseded by a later change of the same object and target, while a change for one node outlives
     * later ones for all nodes and a configuration change outlives a later one of fewer keys.
     */
    @Test
    void aHubReadingTheCompactedTopicServesWhatItServedBefore() throws Exception {
        Path data = dir.resolve("compact");
        Files.createDirectories(data);
        createCompactingTopic("compact.fleet");
        try (TestFleet fleet = new TestFleet(data)) {
            Main.RunningAgent a = hub(fleet, data, "hub-c", "compact", "");
            published(send(a, "PUT", "/v1/fleet/state/edge-1/settings/fan", "{\"speed\":1}"));
            published(send(a, "PUT", "/v1/fleet/state/all/settings/fan", "{\"speed\":2}"));
            published(
                    send(a, "PUT", "/v1/fleet/config/edge-1", "{\"query.limit_max\":100,\"query.limit_default\":10}"));
            published(send(a, "PUT", "/v1/fleet/config/edge-1", "{\"query.limit_max\":50}"));
            published(send(a, "PUT", "/v1/fleet/state/edge-1/settings/fan", "{\"speed\":3}"));
            String before = pull(a, "edge-1", TestFleet.TOKEN_1, 0);
            assertEquals(List.of(2L, 3L, 4L, 5L), seqs(before), before);
            // A segment is compacted once closed: changes for edge-2 roll it (segment.ms) until the cleaner ran.
            Awaitility.await()
                    .atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> {
                        published(send(a, "PUT", "/v1/fleet/state/edge-2/settings/filler", "{}"));
                        return !offsets("compact.fleet").contains(0L);
                    });
            List<Long> kept = offsets("compact.fleet");
            assertTrue(
                    kept.containsAll(List.of(1L, 2L, 3L, 4L)),
                    "compaction kept what no later change replaced: " + kept);
            String last = pull(a, "edge-1", TestFleet.TOKEN_1, 0);
            assertEquals(page(before).changes(), page(last).changes(), "the fillers were for edge-2");
            a.close();
            Main.RunningAgent again = hub(fleet, data, "hub-c2", "compact", "");
            assertEquals(last, pull(again, "edge-1", TestFleet.TOKEN_1, 0), "the same changes at the same numbers");
        }
    }

    /** A fleet topic that the broker compacts as soon as it can (a new segment every 100 ms, any dirt). */
    private static void createCompactingTopic(String topic) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (Admin admin = Admin.create(p)) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1)
                            .configs(Map.of(
                                    TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                                    TopicConfig.SEGMENT_MS_CONFIG, "100",
                                    TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, "0.01",
                                    TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, "0"))))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        }
    }

    /** The offsets a consumer reading {@code topic} from its beginning finds. */
    private static List<Long> offsets(String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        List<Long> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            while (c.position(tp) < end) {
                c.poll(Duration.ofMillis(200)).forEach(r -> out.add(r.offset()));
            }
        }
        return out;
    }

    /** hub.fleet_changes_bytes_max bounds what a hub holds: publishing past it is 507; replacing gives bytes back. */
    @Test
    void publishingPastTheByteLimitIsRefused() throws Exception {
        Path data = dir.resolve("full");
        Files.createDirectories(data);
        try (TestFleet fleet = new TestFleet(data)) {
            Main.RunningAgent hub = hub(fleet, data, "hub-full", "full", "  fleet_changes_bytes_max: 64KiB\n");
            String big = "{\"pad\":\"" + "x".repeat(40_000) + "\"}";
            published(send(hub, "PUT", "/v1/fleet/state/all/settings/one", big));
            HttpResponse<String> full = send(hub, "PUT", "/v1/fleet/state/all/settings/two", big);
            assertEquals(507, full.statusCode(), full.body());
            assertEquals(
                    Problems.MEDIA_TYPE,
                    full.headers().firstValue("Content-Type").orElseThrow());
            assertTrue(full.body().contains("hub.fleet_changes_bytes_max"), full.body());
            published(send(hub, "PUT", "/v1/fleet/state/all/settings/one", big.replace("x", "y")));
            assertEquals(
                    List.of(2L),
                    seqs(pull(hub, "edge-1", TestFleet.TOKEN_1, 0)),
                    "the refused change was never written; the replaced one is gone");
            String metrics = send(hub, "GET", "/metrics", null).body();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("outpost_hub_fleet_changes_bytes (\\d+)")
                    .matcher(metrics);
            assertTrue(m.find(), metrics);
            long held = Long.parseLong(m.group(1));
            assertTrue(held > 40_000 && held <= 64 * 1024, "one document's change held: " + held);
        }
    }

    /** Fleet queries, the fleet tail and fleet rollups read node logs, which a Kafka hub has not: 501 naming the topics. */
    @Test
    void whatReadsNodeLogsIsRefusedNamingTheTopics() throws Exception {
        Path data = dir.resolve("refuse");
        Files.createDirectories(data);
        try (TestFleet fleet = new TestFleet(data)) {
            Main.RunningAgent hub = hub(fleet, data, "hub-r", "refuse", "");
            for (String path : List.of(
                    "/v1/fleet/events?node=edge-1",
                    "/v1/fleet/events/tail",
                    "/v1/fleet/events/tail?node=edge-1",
                    "/v1/fleet/rollups",
                    "/v1/fleet/rollups/hourly?node=edge-1")) {
                HttpResponse<String> r = send(hub, "GET", path, null);
                assertEquals(501, r.statusCode(), path + ": " + r.body());
                assertEquals(
                        Problems.MEDIA_TYPE,
                        r.headers().firstValue("Content-Type").orElseThrow(),
                        path);
                assertTrue(r.body().contains("\"field\":\"hub.backend\""), path + ": " + r.body());
                assertTrue(r.body().contains("refuse.events.<lane>"), path + ": " + r.body());
            }
        }
    }
}
