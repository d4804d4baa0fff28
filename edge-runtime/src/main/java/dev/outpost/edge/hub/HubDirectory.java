package dev.outpost.edge.hub;

import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.store.LogFields;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The owners' directory of a Kafka-backed fleet: which hub (its {@code hub.kafka_advertised_url}) owns each shard, as
 * the owners announced it in {@code PREFIX.hubs} when they took the shard (docs/FLEET-KAFKA.md, "A push").
 *
 * <p>Design note. The directory only routes: exactly once rests on the shards' transactional ids, never on it. An
 * entry is written in the owning shard's own transaction, so a fenced hub cannot overwrite its successor's entry; an
 * entry that is stale for a moment (the owner died, the group has not moved the shard yet) sends a forwarded push to a
 * hub that refuses it with 503, and the node retries. Invariants: one thread reads the topic (read_committed, from
 * the beginning, then follows it); {@link #owner} sees the latest entry read; a hub's own announcements are known at
 * once ({@link #announced}) without waiting for the read-back.
 */
final class HubDirectory implements AutoCloseable {
    /** Longest a poll of the directory waits for news. */
    static final long POLL_MILLIS = 200;

    private static final Logger LOG = LoggerFactory.getLogger(HubDirectory.class);

    private final KafkaConsumer<byte[], byte[]> consumer;
    /** Shard number to its owner's URL; null where unknown or the owner cannot be reached. */
    private final AtomicReferenceArray<String> owners;

    private final Thread thread;
    private volatile boolean running = true;

    HubDirectory(OutpostConfig.Kafka config, KafkaTopics topics) {
        this.owners = new AtomicReferenceArray<>(config.shards());
        Properties p = KafkaTopics.readerProperties(config);
        this.consumer = new KafkaConsumer<>(p);
        List<TopicPartition> part = List.of(new TopicPartition(topics.hubs(), 0));
        consumer.assign(part);
        consumer.seekToBeginning(part);
        this.thread = Thread.ofPlatform().name("outpost-hub-directory").daemon().start(this::run);
    }

    /** The URL of the hub that owns {@code shard}, as last announced; null if none can be reached. */
    String owner(int shard) {
        return owners.get(shard);
    }

    /** This hub took {@code shard} and announced it at {@code url} (empty: it cannot be reached). */
    void announced(int shard, String url) {
        owners.set(shard, url.isEmpty() ? null : url);
    }

    private void run() {
        try {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(POLL_MILLIS))) {
                    apply(r.key(), r.value());
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (KafkaException e) {
            LOG.atError()
                    .addKeyValue(LogFields.ADVICE, "check the Kafka cluster, then restart this hub")
                    .log(
                            "hub directory: reading the owners failed ({}); pushes for other hubs' shards get 503",
                            e.toString());
            for (int s = 0; s < owners.length(); s++) {
                owners.set(s, null);
            }
        }
    }

    private void apply(byte[] key, byte[] value) {
        int shard;
        try {
            shard = Integer.parseInt(new String(key, StandardCharsets.US_ASCII));
        } catch (RuntimeException e) {
            return; // not an entry this version writes
        }
        if (shard >= 0 && shard < owners.length()) {
            owners.set(shard, value == null || value.length == 0 ? null : new String(value, StandardCharsets.UTF_8));
        }
    }

    /** The directory record announcing {@code url} (empty: none) as the owner of {@code shard}. */
    static byte[] key(int shard) {
        return Integer.toString(shard).getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] value(String url) {
        return url.isEmpty() ? null : url.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!thread.isAlive()) {
            consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(5)));
        }
    }
}
